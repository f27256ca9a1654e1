"""Download links withdrawn for one recipient of a reply

Revision ID: receipts_0003
Revises: receipts_0002
Create Date: 2026-11-23 22:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'receipts_0003'
down_revision = 'receipts_0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('receipts_link_revocations',
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_receipts_link_revocations_message_id_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['message_recipients.id'], name=op.f('fk_receipts_link_revocations_recipient_id_message_recipients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['agents.id'], name=op.f('fk_receipts_link_revocations_revoked_by_id_agents'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('recipient_id', name=op.f('pk_receipts_link_revocations'))
    )
    with op.batch_alter_table('receipts_link_revocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipts_link_revocations_message_id'), ['message_id'], unique=False)


def downgrade():
    with op.batch_alter_table('receipts_link_revocations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipts_link_revocations_message_id'))

    op.drop_table('receipts_link_revocations')
