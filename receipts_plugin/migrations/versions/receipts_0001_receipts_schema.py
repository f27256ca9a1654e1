"""Receipts plugin schema: department switches, tracked messages, reports, events, recipient status, mailboxes.

Revision ID: receipts_0001
Revises: 
Create Date: 2026-11-23 15:38:35.198084

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'receipts_0001'
down_revision = None
branch_labels = ('receipts',)
depends_on = "core_0001"


def upgrade():
    op.create_table('receipts_mailboxes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('security', sa.String(length=10), nullable=False),
    sa.Column('username', sa.String(length=320), nullable=False),
    sa.Column('password', sa.Text(), nullable=True),
    sa.Column('password_file', sa.String(length=500), nullable=True),
    sa.Column('cafile', sa.String(length=500), nullable=True),
    sa.Column('verify_cert', sa.Boolean(), nullable=False),
    sa.Column('folder', sa.String(length=255), nullable=False),
    sa.Column('processed_folder', sa.String(length=255), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('last_poll_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_outcome', sa.Text(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('retry_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('total_fetched', sa.Integer(), nullable=False),
    sa.Column('total_matched', sa.Integer(), nullable=False),
    sa.Column('total_unmatched', sa.Integer(), nullable=False),
    sa.Column('total_quarantined', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipts_mailboxes')),
    sa.UniqueConstraint('name', name=op.f('uq_receipts_mailboxes_name'))
    )
    op.create_table('receipts_department_settings',
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('receipts_enabled', sa.Boolean(), nullable=False),
    sa.Column('open_tracking', sa.Boolean(), nullable=False),
    sa.Column('download_links', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_receipts_department_settings_department_id_departments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('department_id', name=op.f('pk_receipts_department_settings'))
    )
    op.create_table('receipts_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identity', sa.String(length=64), nullable=False),
    sa.Column('raw_sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('mailbox_id', sa.Integer(), nullable=True),
    sa.Column('uidvalidity', sa.BigInteger(), nullable=True),
    sa.Column('uid', sa.BigInteger(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('method', sa.String(length=40), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=998), nullable=False),
    sa.Column('from_address', sa.String(length=320), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reprocessed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['mailbox_id'], ['receipts_mailboxes.id'], name=op.f('fk_receipts_reports_mailbox_id_receipts_mailboxes'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_receipts_reports_message_id_messages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipts_reports')),
    sa.UniqueConstraint('identity', name=op.f('uq_receipts_reports_identity')),
    sa.UniqueConstraint('mailbox_id', 'uidvalidity', 'uid', name='uq_receipts_reports_mailbox_uid')
    )
    with op.batch_alter_table('receipts_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipts_reports_message_id'), ['message_id'], unique=False)
        batch_op.create_index('ix_receipts_reports_outcome_received', ['outcome', 'received_at'], unique=False)

    op.create_table('receipts_tracked_messages',
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('envid', sa.String(length=100), nullable=False),
    sa.Column('per_recipient', sa.Boolean(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_receipts_tracked_messages_message_id_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id', name=op.f('pk_receipts_tracked_messages')),
    sa.UniqueConstraint('envid', name=op.f('uq_receipts_tracked_messages_envid'))
    )
    op.create_table('receipts_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_code', sa.String(length=32), nullable=True),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('diagnostic', sa.Text(), nullable=True),
    sa.Column('remote_mta', sa.String(length=500), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_receipts_events_message_id_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['message_recipients.id'], name=op.f('fk_receipts_events_recipient_id_message_recipients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['receipts_reports.id'], name=op.f('fk_receipts_events_report_id_receipts_reports'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipts_events')),
    sa.UniqueConstraint('recipient_id', 'key', name='uq_receipts_events_recipient_key')
    )
    with op.batch_alter_table('receipts_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipts_events_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_receipts_events_recipient_id'), ['recipient_id'], unique=False)

    op.create_table('receipts_recipient_status',
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('bounced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('receipt_declined', sa.Boolean(), nullable=False),
    sa.Column('problem_kind', sa.String(length=40), nullable=True),
    sa.Column('problem_status', sa.String(length=32), nullable=True),
    sa.Column('problem_reason', sa.String(length=40), nullable=True),
    sa.Column('problem_diagnostic', sa.Text(), nullable=True),
    sa.Column('problem_remote_mta', sa.String(length=500), nullable=True),
    sa.Column('problem_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_receipts_recipient_status_message_id_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['message_recipients.id'], name=op.f('fk_receipts_recipient_status_recipient_id_message_recipients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('recipient_id', name=op.f('pk_receipts_recipient_status'))
    )
    with op.batch_alter_table('receipts_recipient_status', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipts_recipient_status_message_id'), ['message_id'], unique=False)



def downgrade():
    with op.batch_alter_table('receipts_recipient_status', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipts_recipient_status_message_id'))

    op.drop_table('receipts_recipient_status')
    with op.batch_alter_table('receipts_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipts_events_recipient_id'))
        batch_op.drop_index(batch_op.f('ix_receipts_events_message_id'))

    op.drop_table('receipts_events')
    op.drop_table('receipts_tracked_messages')
    with op.batch_alter_table('receipts_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_receipts_reports_outcome_received')
        batch_op.drop_index(batch_op.f('ix_receipts_reports_message_id'))

    op.drop_table('receipts_reports')
    op.drop_table('receipts_department_settings')
    op.drop_table('receipts_mailboxes')
