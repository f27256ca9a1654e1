"""A report's raw mail is kept in its row, not in a file of its own

Writing and flushing a file per report was a third of a poll's time; the row is written in the
batch's transaction anyway. Reports recorded before keep their files (``raw`` stays NULL and
``raw_sha256`` names the file). The downgrade writes the raw copies kept in rows to files by
their SHA-256 (what ``raw_sha256`` already names) before it drops the column: nothing is lost.

Revision ID: receipts_0005
Revises: receipts_0004
Create Date: 2026-12-04 18:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'receipts_0005'
down_revision = 'receipts_0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('receipts_reports') as batch_op:
        batch_op.add_column(sa.Column('raw', sa.LargeBinary(), nullable=True))


def downgrade():
    from helpdesk.plugin_api import store_bytes  # each file flushed as it is written

    for (raw,) in op.get_bind().execute(sa.text("SELECT raw FROM receipts_reports WHERE raw IS NOT NULL")):
        store_bytes(bytes(raw))
    with op.batch_alter_table('receipts_reports') as batch_op:
        batch_op.drop_column('raw')
