"""The ticket list's order (updated_at, id): its pages are read through this index.

Revision ID: core_0003
Revises: core_0002
Create Date: 2026-11-23 17:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'core_0003'
down_revision = 'core_0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_updated_id', ['updated_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_updated_id')
