"""Watched mailboxes, as admins configure them."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from helpdesk.plugin_api import db, SECRET_FILE_KEYS, ValidationError

from .models import Mailbox


@dataclass
class MailboxInput:
    name: str
    host: str
    port: int | None
    security: str
    username: str
    password: str = ""
    password_file: str = ""
    cafile: str = ""
    verify_cert: bool = True
    folder: str = "INBOX"
    processed_folder: str = ""
    enabled: bool = True
    allow_plain: bool = False

    @classmethod
    def from_form(cls, form) -> "MailboxInput":
        return cls(**{name: getattr(form, name).data for name in cls.__dataclass_fields__})


class SecretFileRefused(PermissionError):
    """A mailbox's password or CA file is not a readable file in the secrets directory."""


def secrets_dir() -> Path:
    """Where mailbox password and CA files must be (``HELPDESK_SECRETS_DIR``, default
    ``instance/secrets``): a mailbox form that could name any file would read the app's own
    secrets and send them, as a password, to a server of the form filler's choosing."""
    return Path(current_app.config.get("SECRETS_DIR") or Path(current_app.instance_path) / "secrets")


def refused_message() -> str:
    """One answer for every refused path, so that it tells nothing about the file system."""
    return f"Give the name of a readable file in the secrets directory ({secrets_dir()})."


def _own_secret_files() -> set[Path]:
    """The app's own secret files (its key, database URL, relay passwords): never a mailbox's,
    even when someone keeps them in the secrets directory."""
    config = current_app.config
    named = [config.get(f"{key}_FILE") for key in SECRET_FILE_KEYS]
    return {Path(path).resolve() for path in [*named, Path(current_app.instance_path) / "secret_key"] if path}


def secret_file(name: str) -> Path:
    """The file ``name`` designates inside the secrets directory (relative to it, or
    absolute), with symlinks and '..' resolved; :class:`SecretFileRefused` for anything else."""
    try:
        directory = secrets_dir().resolve()
        path = (directory / name.strip()).resolve()
        if (path.is_relative_to(directory) and path != directory and path.is_file() and os.access(path, os.R_OK)
                and path not in _own_secret_files()):
            return path
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL in the name...
        pass
    raise SecretFileRefused(refused_message())


def _check_secret_file(errors: dict[str, list[str]], field: str, name: str) -> None:
    try:
        secret_file(name)
    except SecretFileRefused as refused:
        errors[field] = [str(refused)]


def is_support_intake(data: MailboxInput) -> bool:
    """The folder the core's intake reads (``IMAP_HOST``/``IMAP_USERNAME``/``IMAP_FOLDER``)."""
    config = current_app.config
    return bool(config.get("IMAP_HOST")) and (
        (data.host or "").strip().lower() == str(config["IMAP_HOST"]).lower()
        and (data.username or "").strip().lower() == str(config.get("IMAP_USERNAME") or "").lower()
        and (data.folder or "").strip() == config.get("IMAP_FOLDER", "INBOX"))


def watched_addresses() -> list[str]:
    """The watched mailboxes' user names that are addresses (the desk's own, for replies)."""
    return [name for name in db.session.scalars(select(Mailbox.username)) if "@" in name]


def save_mailbox(mailbox: Mailbox | None, data: MailboxInput) -> Mailbox:
    errors: dict[str, list[str]] = {}
    name = (data.name or "").strip()
    if not name:
        errors["name"] = ["A name is required."]
    elif db.session.scalar(select(Mailbox).where(Mailbox.name == name)) not in (None, mailbox):
        errors["name"] = [f"A mailbox named {name!r} already exists."]
    if not (data.host or "").strip():
        errors["host"] = ["The IMAP server's host name is required."]
    if data.security not in ("ssl", "starttls", "none"):
        errors["security"] = ["Choose a connection security."]
    elif data.security == "none" and not data.allow_plain:
        errors["allow_plain"] = ["An unencrypted connection sends the password in clear text; tick the box to allow it."]
    if not (data.username or "").strip():
        errors["username"] = ["The user name is required."]
    has_password = bool(data.password) or bool(mailbox and mailbox.password)
    if data.password_file:
        _check_secret_file(errors, "password_file", data.password_file)
    elif not has_password:
        errors["password"] = ["Give a password or a password file."]
    if data.cafile:
        _check_secret_file(errors, "cafile", data.cafile)
    if not (data.folder or "").strip():
        errors["folder"] = ["Name the folder to read (usually INBOX)."]
    elif is_support_intake(data):
        errors["folder"] = ["The help desk's intake already reads this folder, and hands every report in it "
                            "to the receipts plugin; watching it here too would take customers' mail away "
                            "from the intake. Use a dedicated mailbox (e.g. bounces@) or another folder."]
    if errors:
        raise ValidationError(errors)
    mailbox = mailbox or Mailbox()
    mailbox.name, mailbox.host, mailbox.security = name, data.host.strip(), data.security
    mailbox.port = data.port or (993 if data.security == "ssl" else 143)
    mailbox.username = data.username.strip()
    if data.password:
        mailbox.password = data.password
    mailbox.password_file = (data.password_file or "").strip() or None
    if mailbox.password_file:
        mailbox.password = None
    mailbox.cafile, mailbox.verify_cert = (data.cafile or "").strip() or None, data.verify_cert
    mailbox.folder, mailbox.processed_folder = data.folder.strip(), (data.processed_folder or "").strip() or None
    mailbox.enabled = data.enabled
    mailbox.failures, mailbox.retry_at = 0, None  # a changed configuration is tried at once
    db.session.add(mailbox)
    db.session.commit()
    return mailbox
