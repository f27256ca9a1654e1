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
