"""The tracking plugin's own tables: its department switches and its events

tracking_department_settings takes the open_tracking and download_links switches that were
columns of receipts_department_settings, and tracking_events the image fetches and downloads
that were receipt events. The two branches may run in either order (see receipts_0004): this
one copies the switches from the receipts columns while they are still there, or from the
receipts_moved_tracking_switches table receipts_0004 kept them in, and moves any fetches
still in receipts_events.

Revision ID: tracking_0001
Revises: 
Create Date: 2026-12-04 04:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'tracking_0001'
down_revision = None
branch_labels = ('tracking',)
depends_on = 'receipts_0003'

FETCH_KINDS = "('pixel-open', 'pixel-automated', 'download')"
HOLDING = "receipts_moved_tracking_switches"  # where receipts_0004 keeps the switches when it ran first
EVENT_COLUMNS = "recipient_id, message_id, kind, source, key, at, detail, recorded_at"


def upgrade():
    op.create_table('tracking_department_settings',
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('open_tracking', sa.Boolean(), nullable=False),
    sa.Column('download_links', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_tracking_department_settings_department_id_departments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('department_id', name=op.f('pk_tracking_department_settings'))
    )
    op.create_table('tracking_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_tracking_events_message_id_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['message_recipients.id'], name=op.f('fk_tracking_events_recipient_id_message_recipients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_events')),
    sa.UniqueConstraint('recipient_id', 'key', name='uq_tracking_events_recipient_key')
    )
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracking_events_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tracking_events_recipient_id'), ['recipient_id'], unique=False)

    inspector = sa.inspect(op.get_bind())
    if "open_tracking" in {c["name"] for c in inspector.get_columns("receipts_department_settings")}:
        source = "receipts_department_settings"
    else:
        source = HOLDING if HOLDING in inspector.get_table_names() else None
    if source:
        op.execute("INSERT INTO tracking_department_settings (department_id, open_tracking, download_links, updated_at) "
                   f"SELECT department_id, open_tracking, download_links, updated_at FROM {source}")
    if source == HOLDING:
        op.drop_table(HOLDING)
    op.execute(f"INSERT INTO tracking_events ({EVENT_COLUMNS}) SELECT {EVENT_COLUMNS} FROM receipts_events "
               f"WHERE kind IN {FETCH_KINDS}")
    op.execute(f"DELETE FROM receipts_events WHERE kind IN {FETCH_KINDS}")


def downgrade():
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tracking_events_recipient_id'))
        batch_op.drop_index(batch_op.f('ix_tracking_events_message_id'))
    op.drop_table('tracking_events')
    op.drop_table('tracking_department_settings')
