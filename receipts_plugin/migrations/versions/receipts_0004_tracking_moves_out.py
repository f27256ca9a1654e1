"""Tracking is a plugin of its own: its switches and its events leave the receipts tables

The open_tracking and download_links switches move to tracking_department_settings, and the
image fetches and downloads (pixel-open, pixel-automated, download) from receipts_events to
tracking_events, both tables of the tracking branch. The two branches may run in either
order in one ``upgrade heads``, and the tracking branch may come later or never: when the
tracking tables exist (tracking_0001 ran first) this one moves the data into them; when they
do not, it keeps the switches that were on in receipts_moved_tracking_switches and leaves the
fetches in receipts_events, and tracking_0001 takes both when it runs. Nothing is lost
either way, and the downgrade puts everything back.

Revision ID: receipts_0004
Revises: receipts_0003
Create Date: 2026-12-04 04:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'receipts_0004'
down_revision = 'receipts_0003'
branch_labels = None
depends_on = None

FETCH_KINDS = "('pixel-open', 'pixel-automated', 'download')"
HOLDING = "receipts_moved_tracking_switches"  # the switches, until tracking_0001 takes them
EVENT_COLUMNS = "recipient_id, message_id, kind, source, key, at, detail, recorded_at"


def _tables() -> set[str]:
    return set(sa.inspect(op.get_bind()).get_table_names())


def upgrade():
    tables = _tables()
    if "tracking_department_settings" in tables:  # tracking_0001 ran first: hand the data over
        op.execute("INSERT INTO tracking_department_settings (department_id, open_tracking, download_links, updated_at) "
                   "SELECT department_id, open_tracking, download_links, updated_at FROM receipts_department_settings r "
                   "WHERE NOT EXISTS (SELECT 1 FROM tracking_department_settings t "
                   "WHERE t.department_id = r.department_id)")
    if "tracking_events" in tables:
        op.execute(f"INSERT INTO tracking_events ({EVENT_COLUMNS}) SELECT {EVENT_COLUMNS} FROM receipts_events e "
                   f"WHERE e.kind IN {FETCH_KINDS} AND NOT EXISTS (SELECT 1 FROM tracking_events t "
                   "WHERE t.recipient_id = e.recipient_id AND t.key = e.key)")
        op.execute(f"DELETE FROM receipts_events WHERE kind IN {FETCH_KINDS}")
    else:
        op.execute(f"CREATE TABLE {HOLDING} AS SELECT department_id, open_tracking, download_links, updated_at "
                   "FROM receipts_department_settings WHERE open_tracking OR download_links")
    with op.batch_alter_table('receipts_department_settings', schema=None) as batch_op:
        batch_op.drop_column('download_links')
        batch_op.drop_column('open_tracking')


def downgrade():
    with op.batch_alter_table('receipts_department_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('open_tracking', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('download_links', sa.Boolean(), nullable=False, server_default=sa.false()))
    tables = _tables()
    for source in ("tracking_department_settings", HOLDING):  # the switches come back where they were
        if source not in tables:
            continue
        op.execute("INSERT INTO receipts_department_settings (department_id, receipts_enabled, open_tracking, "
                   f"download_links, updated_at) SELECT department_id, false, false, false, updated_at FROM {source} t "
                   "WHERE NOT EXISTS (SELECT 1 FROM receipts_department_settings r "
                   "WHERE r.department_id = t.department_id)")
        for column in ("open_tracking", "download_links"):
            op.execute(f"UPDATE receipts_department_settings SET {column} = COALESCE((SELECT t.{column} "
                       f"FROM {source} t WHERE t.department_id = receipts_department_settings.department_id), false)")
    if HOLDING in tables:
        op.drop_table(HOLDING)
    if "tracking_events" in tables:  # and the fetches become receipt events again
        op.execute(f"INSERT INTO receipts_events ({EVENT_COLUMNS}) SELECT {EVENT_COLUMNS} FROM tracking_events t "
                   "WHERE NOT EXISTS (SELECT 1 FROM receipts_events e "
                   "WHERE e.recipient_id = t.recipient_id AND e.key = t.key)")
        op.execute("DELETE FROM tracking_events")
