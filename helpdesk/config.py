"""Configuration: safe defaults, then the instance folder's config.py, then ``HELPDESK_*`` variables.

Every key can be set as an environment variable with the ``HELPDESK_`` prefix
(``HELPDESK_SMTP_HOST=mail.example.com``); values are parsed as JSON when they can be,
so ``HELPDESK_SMTP_PORT=587`` is a number. A key ending in ``_FILE`` names a file whose
contents become the key without the suffix (``HELPDESK_SMTP_PASSWORD_FILE=/run/secrets/smtp``),
so secrets need not sit in the environment.
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

DEFAULTS: dict[str, Any] = {
    # Database: SQLite in the instance folder unless DATABASE_URL says otherwise.
    "DATABASE_URL": None,
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    # Plugins loaded from the helpdesk.plugins entry-point group; anything else is refused.
    # Empty by default: the core runs alone; wsgi.py and make run switch the receipts plugin on.
    "PLUGINS": [],
    # Outgoing mail. With no SMTP_HOST, mail is written to OUTBOX_DIR as .eml files.
    "SMTP_HOST": None,
    "SMTP_PORT": 25,
    "SMTP_SECURITY": "none",  # none | starttls | ssl
    "SMTP_USERNAME": None,
    "SMTP_PASSWORD": None,
    "SMTP_CAFILE": None,
    "SMTP_VERIFY_CERT": True,
    "SMTP_TIMEOUT": 30,
    "OUTBOX_DIR": None,
    "MAIL_DOMAIN": "helpdesk.localhost",
    # Where agents and recipients reach the web app; links in emails are built from it.
    # Required in production; debug and testing fall back to DEV_BASE_URL.
    "BASE_URL": None,
    # Replies are queued and sent by the worker, which looks for new ones this often; the web
    # request waits at most SEND_WAIT_SECONDS for its answer (reading the database, never SMTP).
    "SEND_INTERVAL_SECONDS": 2,
    "SEND_WAIT_SECONDS": 3,
    "SEND_RETRY_BASE_SECONDS": 60,
    "SEND_RETRY_MAX_SECONDS": 3600,
    "SEND_MAX_ATTEMPTS": 48,
    # Incoming mail (the support mailbox).
    "IMAP_HOST": None,
    "IMAP_PORT": 993,
    "IMAP_SECURITY": "ssl",  # ssl | starttls | none (only when explicitly chosen)
    "IMAP_USERNAME": None,
    "IMAP_PASSWORD": None,
    "IMAP_CAFILE": None,
    "IMAP_FOLDER": "INBOX",
    "IMAP_PROCESSED_FOLDER": None,  # None: flag processed mail \Seen + $Processed instead of moving it
    "IMAP_BATCH_SIZE": 50,
    "IMAP_MAX_MESSAGE_BYTES": 25 * 1024 * 1024,
    "FETCH_INTERVAL_SECONDS": 60,
    # Files.
    "ATTACHMENT_DIR": None,
    "MAX_ATTACHMENT_BYTES": 20 * 1024 * 1024,
    "MAX_CONTENT_LENGTH": 50 * 1024 * 1024,
    # Ticket references in subjects: "[HD-1042] Printer on fire".
    "TICKET_PREFIX": "HD",
    "TICKETS_PER_PAGE": 25,
    # Sessions.
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    # A session ends at the latest this many days after sign-in, remembered ("Keep me signed
    # in") or not; signing out ends it at once (helpdesk.services.sessions).
    "SESSION_LIFETIME_DAYS": 30,
    "WTF_CSRF_TIME_LIMIT": None,
    # The scheduler runs only in the worker process (``flask worker``), never in web workers.
    "SCHEDULER_ENABLED": False,
}

SECRET_FILE_KEYS = ("SECRET_KEY", "DATABASE_URL", "SMTP_PASSWORD", "IMAP_PASSWORD")
DEV_BASE_URL = "http://127.0.0.1:5000"


class ConfigError(RuntimeError):
    """A setting the app cannot start without is missing or wrong; the message says which and how to fix it."""


def load_config(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Fill ``app.config`` in order of precedence: defaults < instance file < environment < overrides."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("HELPDESK")
    if "SECRET_KEY" in os.environ and "SECRET_KEY" not in (overrides or {}):
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    if overrides:
        app.config.update(overrides)
    _read_secret_files(app)
    _derive_paths(app)
    _require_base_url(app)


def read_secret(path: str | Path) -> str:
    """A secret kept in a file (a password, a key), without the newline editors add."""
    return Path(path).read_text().strip()


def _read_secret_files(app: Flask) -> None:
    for key in SECRET_FILE_KEYS:
        path = app.config.get(f"{key}_FILE")
        if path:
            app.config[key] = read_secret(path)


def _derive_paths(app: Flask) -> None:
    instance = Path(app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        url = app.config.get("DATABASE_URL") or f"sqlite:///{instance / 'helpdesk.sqlite3'}"
        if url.startswith("postgres://"):  # Heroku-style URLs
            url = "postgresql://" + url[len("postgres://"):]
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(days=float(app.config["SESSION_LIFETIME_DAYS"]))
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config["SESSION_COOKIE_SECURE"])
    app.config["OUTBOX_DIR"] = app.config["OUTBOX_DIR"] or str(instance / "outbox")
    app.config["ATTACHMENT_DIR"] = app.config["ATTACHMENT_DIR"] or str(instance / "attachments")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance)


def _require_base_url(app: Flask) -> None:
    """Links in sent mail (downloads, the open image) start with BASE_URL: a silent default
    would send every recipient links to a host and port nobody reaches."""
    if app.config.get("BASE_URL"):
        return
    if app.debug or app.testing:
        app.config["BASE_URL"] = DEV_BASE_URL
        return
    raise ConfigError(
        "HELPDESK_BASE_URL is not set. Links in the mail the desk sends (downloads, the open image) are built "
        "from it, so set it to the address people reach the desk at, e.g. "
        "HELPDESK_BASE_URL=https://support.example.com (make run sets it to the address it serves; "
        f"debug and testing use {DEV_BASE_URL}).")


def _instance_secret(instance: Path) -> str:
    """A random key kept in the instance folder, so sessions and signed links survive restarts."""
    key_file = instance / "secret_key"
    if key_file.exists():
        return read_secret(key_file)
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
