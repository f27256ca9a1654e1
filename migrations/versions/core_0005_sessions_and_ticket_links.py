"""Signed-in sessions kept server-side (signing out ends every copy of a session's cookies);
a ticket's link to the thread a stranger's mail answered; indexes to scope contacts.

Revision ID: core_0005
Revises: core_0004
Create Date: 2026-11-24 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'core_0005'
down_revision = 'core_0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agent_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_agent_sessions_agent_id_agents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_sessions')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_agent_sessions_key_hash'))
    )
    with op.batch_alter_table('agent_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_sessions_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_sessions_expires_at'), ['expires_at'], unique=False)

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('linked_ticket_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_tickets_linked_ticket_id'), ['linked_ticket_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_tickets_linked_ticket_id_tickets'), 'tickets',
                                    ['linked_ticket_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_messages_contact_id'), ['contact_id'], unique=False)

    with op.batch_alter_table('message_recipients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_recipients_contact_id'), ['contact_id'], unique=False)


def downgrade():
    with op.batch_alter_table('message_recipients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_recipients_contact_id'))

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_contact_id'))

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tickets_linked_ticket_id_tickets'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_tickets_linked_ticket_id'))
        batch_op.drop_column('linked_ticket_id')

    with op.batch_alter_table('agent_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_sessions_expires_at'))
        batch_op.drop_index(batch_op.f('ix_agent_sessions_agent_id'))

    op.drop_table('agent_sessions')
