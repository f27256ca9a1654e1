"""Shared fixtures: a fresh app per test on SQLite (default) or PostgreSQL.

Set HELPDESK_TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/test) to run the
whole suite on PostgreSQL. The schema is built once per run through the real Alembic
migrations (core and plugin branches); each test starts from empty tables.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask import g
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from helpdesk import create_app
from helpdesk.extensions import db

pytest_plugins = ["tests.mailstack.fixtures"]

ALL_PLUGINS = ["receipts", "tracking"]


def database_url(tmp_root: Path) -> str:
    return os.environ.get("HELPDESK_TEST_DATABASE_URL") or f"sqlite:///{tmp_root / 'test.sqlite3'}"


def reset_schema(url: str) -> None:
    """Drop everything, so the run starts from the migrations alone."""
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):  # a WAL left beside a new file would be replayed into it
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        return
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def base_config(url: str, root: Path, plugins: list[str]) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": url,
        "PLUGINS": plugins,
        "ALLOW_TEST_DOMAINS": True,
        "MAIL_DOMAIN": "desk.example.test",
        "OUTBOX_DIR": str(root / "outbox"),
        "ATTACHMENT_DIR": str(root / "files"),
        "SECRETS_DIR": str(root / "secrets"),
        "SMTP_HOST": None,
        "IMAP_HOST": None,
        "LOG_LEVEL": "WARNING",
    }


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("db")
    url = database_url(root)
    reset_schema(url)
    app = create_app(base_config(url, root, ALL_PLUGINS))
    with app.app_context():
        upgrade(revision="heads")
        db.engine.dispose()
    return url


def empty_tables() -> None:
    tables = db.metadata.sorted_tables
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in reversed(tables):
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def plugins() -> list[str]:
    """Core tests run with no plugin; plugin tests override this fixture."""
    return []


@pytest.fixture
def app_config(migrated_database, tmp_path, plugins) -> dict:
    return base_config(migrated_database, tmp_path, plugins)


class FreshRequestClient(FlaskClient):
    """Tests hold an app context open, which Flask then shares with every request; empty ``g``
    (the signed-in agent, the CSRF token) so each request starts as in production."""

    def open(self, *args, **kwargs):
        g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    app.test_client_class = FreshRequestClient
    with app.app_context():
        empty_tables()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole run (the browser and acceptance tests alike): Playwright's
    sync API allows only one at a time in a process."""
    from tests.browser.conftest import chromium

    with chromium() as browser:
        yield browser
