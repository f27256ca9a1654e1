"""What the benchmarks that run a desk against the real mail stack share: a throw-away
database (a SQLite file, or a PostgreSQL database created for the run and dropped after it),
the app on it, and the watched receipts mailbox."""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from flask import Flask
from sqlalchemy.engine import make_url

from helpdesk import create_app
from helpdesk.extensions import db
from receipts_plugin.models import Mailbox
from tests.helpers import stack_cafile
from tests.mailstack import MailStack
from tests.receipts.poller_support import BOUNCES

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"


def postgres_url(database: str) -> str:
    """The URL of ``database``: a name on the local server, or a postgresql:// URL as given."""
    return database if "://" in database else f"{PG_SERVER}/{database}"


def _on_server(url: str, statement: str) -> None:
    """Run ``statement`` (CREATE/DROP DATABASE) on the server of ``url``, from its postgres database."""
    parsed = make_url(url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(parsed.render_as_string(hide_password=False), autocommit=True) as connection:
        connection.execute(statement)


def recreate_database(url: str) -> None:
    name = make_url(url).database
    _on_server(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _on_server(url, f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    _on_server(url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


@contextmanager
def bench_desk(database: str | None, prefix: str, **config) -> Iterator[tuple[Flask, str]]:
    """The app on a throw-away database (``database``: a PostgreSQL name or URL, else SQLite)
    and work folder, with ``config`` on top of what every bench needs; all removed at the end.
    Yields the app and its database URL."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    database_url = postgres_url(database) if database else f"sqlite:///{work / 'bench.sqlite3'}"
    if database:
        recreate_database(database_url)
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench", "ALLOW_TEST_DOMAINS": True,
                      "OUTBOX_DIR": str(work / "outbox"), "ATTACHMENT_DIR": str(work / "files"),
                      "SECRETS_DIR": str(work / "secrets"), "RECEIPTS_ADDRESS": BOUNCES, "LOG_LEVEL": "WARNING",
                      "BASE_URL": "http://127.0.0.1:5000", **config})
    try:
        yield app, database_url
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if database:
            drop_database(database_url)
        shutil.rmtree(work, ignore_errors=True)


def watched_mailbox(stack: MailStack) -> Mailbox:
    """The receipts mailbox on the stack's Dovecot, stored (in an app context)."""
    mailbox = Mailbox(name="bounces", host=stack.imap_host, port=stack.imaps_port, username=BOUNCES,
                      password=stack.password, cafile=stack_cafile(stack), processed_folder="Processed")
    db.session.add(mailbox)
    db.session.commit()
    return mailbox
