"""Download links, open tracking and agent notifications

Revision ID: receipts_0002
Revises: receipts_0001
Create Date: 2026-11-23 16:22:51.040736

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'receipts_0002'
down_revision = 'receipts_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('receipts_link_options',
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('keep_attachments', sa.Boolean(), nullable=False),
    sa.Column('link_days', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_receipts_link_options_department_id_departments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('department_id', name=op.f('pk_receipts_link_options'))
    )
    op.create_table('receipts_notification_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('mail_message_id', sa.String(length=200), nullable=False),
    sa.Column('covers_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_receipts_notification_batches_agent_id_agents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipts_notification_batches')),
    sa.UniqueConstraint('agent_id', 'key', name='uq_receipts_notification_batches_agent_key'),
    sa.UniqueConstraint('mail_message_id', name=op.f('uq_receipts_notification_batches_mail_message_id'))
    )
    with op.batch_alter_table('receipts_notification_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipts_notification_batches_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_receipts_notification_batches_sent_at'), ['sent_at'], unique=False)

    op.create_table('receipts_notification_preferences',
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('notify_read', sa.Boolean(), nullable=False),
    sa.Column('notify_bounce', sa.Boolean(), nullable=False),
    sa.Column('delivery', sa.String(length=10), nullable=False),
    sa.Column('digest_days', sa.Integer(), nullable=False),
    sa.Column('digest_anchor', sa.Date(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_receipts_notification_preferences_agent_id_agents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('agent_id', name=op.f('pk_receipts_notification_preferences'))
    )
    op.create_table('receipts_message_tracking',
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('download_links', sa.Boolean(), nullable=False),
    sa.Column('keep_attachments', sa.Boolean(), nullable=False),
    sa.Column('open_tracking', sa.Boolean(), nullable=False),
    sa.Column('links_expire_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('links_revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('links_revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['links_revoked_by_id'], ['agents.id'], name=op.f('fk_receipts_message_tracking_links_revoked_by_id_agents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_receipts_message_tracking_message_id_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id', name=op.f('pk_receipts_message_tracking'))
    )
    op.create_table('receipts_notification_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('happened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('discarded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_receipts_notification_items_agent_id_agents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['batch_id'], ['receipts_notification_batches.id'], name=op.f('fk_receipts_notification_items_batch_id_receipts_notification_batches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_receipts_notification_items_message_id_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['message_recipients.id'], name=op.f('fk_receipts_notification_items_recipient_id_message_recipients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipts_notification_items')),
    sa.UniqueConstraint('agent_id', 'key', name='uq_receipts_notification_items_agent_key')
    )
    with op.batch_alter_table('receipts_notification_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipts_notification_items_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index('ix_receipts_notification_items_pending', ['batch_id', 'discarded_at'], unique=False)


def downgrade():
    with op.batch_alter_table('receipts_notification_items', schema=None) as batch_op:
        batch_op.drop_index('ix_receipts_notification_items_pending')
        batch_op.drop_index(batch_op.f('ix_receipts_notification_items_agent_id'))

    op.drop_table('receipts_notification_items')
    op.drop_table('receipts_message_tracking')
    op.drop_table('receipts_notification_preferences')
    with op.batch_alter_table('receipts_notification_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipts_notification_batches_sent_at'))
        batch_op.drop_index(batch_op.f('ix_receipts_notification_batches_agent_id'))

    op.drop_table('receipts_notification_batches')
    op.drop_table('receipts_link_options')
