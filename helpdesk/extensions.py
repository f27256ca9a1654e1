"""Flask extensions, created once here and bound to an app in :func:`helpdesk.create_app`."""
import os
import sqlite3

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine, MetaData, event, make_url, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so Alembic can drop and alter them on every engine.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite in WAL mode: the web and worker processes read while another writes, and a
    commit costs no fsync (``synchronous=NORMAL``); :func:`make_durable` syncs where it
    matters. Other engines are left alone."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def make_durable() -> None:
    """Make everything committed so far survive a power loss, before an irreversible step
    outside the database (moving mail that was processed off the IMAP server). SQLite with
    ``synchronous=NORMAL`` syncs its WAL file before each checkpoint; other engines already
    synced at commit."""
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("PRAGMA wal_checkpoint(PASSIVE)"))
        db.session.commit()


def is_database_outage(error: BaseException) -> bool:
    """The database, not the data, failed: a lost connection (a restart), a busy SQLite file.
    Work that hits this is retried later, never quarantined as if the mail were at fault."""
    return isinstance(error, OperationalError) or (isinstance(error, DBAPIError) and error.connection_invalidated)


def create_private_sqlite_file(url: str) -> None:
    """Create a new SQLite database file readable by its owner only (0600, like the secret
    key): it holds every ticket and password hash. SQLite gives its -wal and -shm files the
    database file's mode. Other engines, in-memory databases and existing files are left alone."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    if parsed.database.startswith("file:"):
        return  # a URI filename: its options are the caller's
    try:
        os.close(os.open(parsed.database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
