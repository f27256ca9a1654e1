"""The schema comes only from migrations: upgrading an empty database equals the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect

from helpdesk import create_app
from helpdesk.extensions import db
from helpdesk.models.search import described_by_the_models
from tests.conftest import ALL_PLUGINS, base_config, reset_schema


def test_upgrade_heads_on_an_empty_database_matches_the_models(migrated_database):
    """The session database was built by ``upgrade heads`` alone (core and plugin branches)."""
    app = create_app(base_config(migrated_database, __import__("pathlib").Path("/tmp"), ALL_PLUGINS))
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                               "include_object": described_by_the_models})
        assert compare_metadata(context, db.metadata) == []
        assert "alembic_version" in inspect(connection).get_table_names()
    with app.app_context():
        db.engine.dispose()


def test_core_migrations_alone_build_the_core_tables(tmp_path):
    url = f"sqlite:///{tmp_path / 'core.sqlite3'}"
    reset_schema(url)
    app = create_app(base_config(url, tmp_path, []))
    with app.app_context():
        upgrade(revision="heads")
        tables = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert {"tickets", "messages", "message_recipients", "agents", "departments", "contacts",
            "inbound_records", "mailbox_checkpoints", "leases", "attachments"} <= tables


def test_search_and_assignment_migrations_go_down_and_up_again_over_existing_data(tmp_path):
    """core_0007 indexes what is already there (FTS5 'rebuild'; PostgreSQL computes the
    generated columns), and both revisions can be taken back."""
    from flask_migrate import downgrade

    from helpdesk.demo import DEMO_ADMIN, load_demo
    from helpdesk.models import Agent
    from helpdesk.services.tickets import list_tickets

    url = f"sqlite:///{tmp_path / 'updown.sqlite3'}"
    app = create_app(base_config(url, tmp_path, []))
    with app.app_context():
        upgrade(revision="heads")
        load_demo(6)
        downgrade(revision="core_0004")
        names = set(inspect(db.engine).get_table_names())
        assert "ticket_events" not in names and not any(n.startswith("messages_fts") for n in names)
        upgrade(revision="heads")
        admin = db.session.scalar(db.select(Agent).where(Agent.email == DEMO_ADMIN))
        assert list_tickets(admin, search="blocking our team").total == 6
        db.session.remove()
        db.engine.dispose()


def _own_database(tmp_path, name: str):
    """A database of the test's own for up-and-down runs: a SQLite file, or on PostgreSQL a
    schema of its own in HELPDESK_TEST_DATABASE_URL (the session's schema stays untouched)."""
    import os

    from sqlalchemy import create_engine, text

    url = os.environ.get("HELPDESK_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path / f'{name}.sqlite3'}", lambda: None
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {name}"))

    def drop() -> None:
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        engine.dispose()

    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{name}", drop


def _rows(sql: str, **params) -> list[tuple]:
    return [tuple(row) for row in db.session.execute(db.text(sql), params)]


def test_tracking_moves_out_of_the_receipts_tables_and_back_in_either_order(tmp_path):
    """receipts_0004 and tracking_0001: the switches and the fetches move to the tracking
    tables whichever branch runs first (or if tracking comes later), and back on the way down."""
    from flask_migrate import downgrade

    from receipts_plugin.models import DeliveryEventRow
    from receipts_plugin.settings import save_switches
    from receipts_plugin.tracking.models import TrackingEvent, TrackingSettings
    from tests.helpers import make_agent, make_department, make_reply, make_ticket

    url, drop = _own_database(tmp_path, "tracking_round_trip")
    app = create_app(base_config(url, tmp_path, ALL_PLUGINS))
    try:
        with app.app_context():
            upgrade(revision="heads")
            support = make_department()
            agent = make_agent(departments=[support])
            reply = make_reply(make_ticket(agent, support), agent)
            alice = reply.recipients[0]
            save_switches({support.id})
            db.session.add(TrackingSettings(department_id=support.id, open_tracking=True, download_links=False))
            for kind, source, key in (("pixel-open", "pixel", "open:1:person"), ("download", "link", "download:1:x")):
                db.session.add(TrackingEvent(recipient_id=alice.id, message_id=reply.id, kind=kind, source=source,
                                             key=key, at=reply.created_at, detail="{}"))
            db.session.add(DeliveryEventRow(recipient_id=alice.id, message_id=reply.id, kind="smtp-accepted",
                                            source="smtp", key="smtp:smtp-accepted", at=reply.created_at))
            db.session.commit()
            department_id, recipient_id = support.id, alice.id
            db.session.remove()

            def before_the_split() -> None:
                assert _rows("SELECT receipts_enabled, open_tracking, download_links FROM receipts_department_settings "
                             "WHERE department_id = :d", d=department_id) in ([(True, True, False)], [(1, 1, 0)])
                assert _rows("SELECT kind, key FROM receipts_events WHERE recipient_id = :r ORDER BY kind",
                             r=recipient_id) == [("download", "download:1:x"), ("pixel-open", "open:1:person"),
                                                 ("smtp-accepted", "smtp:smtp-accepted")]

            def after_the_split() -> None:
                names = set(inspect(db.engine).get_table_names())
                assert "receipts_moved_tracking_switches" not in names
                columns = {c["name"] for c in inspect(db.engine).get_columns("receipts_department_settings")}
                assert not {"open_tracking", "download_links"} & columns
                assert _rows("SELECT open_tracking, download_links FROM tracking_department_settings "
                             "WHERE department_id = :d", d=department_id) in ([(True, False)], [(1, 0)])
                assert _rows("SELECT kind, source, key FROM tracking_events WHERE recipient_id = :r ORDER BY kind",
                             r=recipient_id) == [("download", "link", "download:1:x"),
                                                 ("pixel-open", "pixel", "open:1:person")]
                assert _rows("SELECT kind FROM receipts_events WHERE recipient_id = :r",
                             r=recipient_id) == [("smtp-accepted",)]
                db.session.remove()

            after_the_split()
            downgrade(revision="receipts_0003")  # the data goes back into the receipts tables
            before_the_split()
            downgrade(revision="tracking@base")
            assert not {"tracking_events", "tracking_department_settings"} & set(inspect(db.engine).get_table_names())
            db.session.remove()

            upgrade(revision="receipts_0004")  # receipts first, tracking not (yet) there: nothing is lost
            assert _rows("SELECT department_id, open_tracking FROM receipts_moved_tracking_switches") in (
                [(department_id, True)], [(department_id, 1)])
            assert len(_rows("SELECT id FROM receipts_events WHERE recipient_id = :r", r=recipient_id)) == 3
            db.session.remove()
            upgrade(revision="heads")
            after_the_split()

            downgrade(revision="receipts_0003")
            downgrade(revision="tracking@base")
            upgrade(revision="tracking@head")  # tracking first, then receipts
            upgrade(revision="heads")
            after_the_split()

            with db.engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                       "include_object": described_by_the_models})
                assert compare_metadata(context, db.metadata) == []
            db.session.remove()
            db.engine.dispose()
    finally:
        drop()


def test_taking_back_raw_copies_in_rows_writes_them_to_files_first(tmp_path):
    """receipts_0005 keeps a report's raw mail in its row; its downgrade loses none of them."""
    from flask_migrate import downgrade

    from helpdesk.services.storage import read_bytes
    from receipts_plugin.inbound.pipeline import ingest
    from receipts_plugin.models import StoredReport

    url = f"sqlite:///{tmp_path / 'raw.sqlite3'}"
    app = create_app(base_config(url, tmp_path, ALL_PLUGINS))
    with app.app_context():
        upgrade(revision="heads")
        raw = b"From: someone@customer.test\r\nSubject: not a report\r\n\r\nhello\r\n"
        digest = db.session.get(StoredReport, ingest(raw, "test").report_id).raw_sha256
        db.session.remove()
        downgrade(revision="receipts_0004")
        assert "raw" not in {column["name"] for column in inspect(db.engine).get_columns("receipts_reports")}
        assert read_bytes(digest) == raw
        upgrade(revision="heads")
        db.session.remove()
        db.engine.dispose()
