"""Watched mailboxes, as admins configure them."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.services.errors import ValidationError

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
        if not Path(data.password_file).is_file():
            errors["password_file"] = [f"No readable file at {data.password_file}."]
    elif not has_password:
        errors["password"] = ["Give a password or a password file."]
    if data.cafile and not Path(data.cafile).is_file():
        errors["cafile"] = [f"No readable file at {data.cafile}."]
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
    mailbox.password_file = data.password_file or None
    if mailbox.password_file:
        mailbox.password = None
    mailbox.cafile, mailbox.verify_cert = data.cafile or None, data.verify_cert
    mailbox.folder, mailbox.processed_folder = data.folder.strip(), (data.processed_folder or "").strip() or None
    mailbox.enabled = data.enabled
    mailbox.failures, mailbox.retry_at = 0, None  # a changed configuration is tried at once
    db.session.add(mailbox)
    db.session.commit()
    return mailbox
