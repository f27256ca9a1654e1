"""Download links: each recipient gets their own signed, expiring link per attached file.

Per-recipient sending makes per-recipient bodies possible, so alice's copy carries links
that name alice (signed, so they cannot be changed into bob's) and nothing about anyone
else. Opening a link needs no sign-in; it serves the file as an attachment and records a
download event for that recipient and file. A link that is malformed, tampered with,
expired, or revoked by an agent (all of a reply's links, or one recipient's) gets a page
saying so, never the file.
"""
from __future__ import annotations

import enum
import html
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from helpdesk.plugin_api import (Agent, Attachment, db, external_url, file_size, Message, MessageRecipient,
                                 ValidationError)

from receipts_plugin.plugin_api import make_link_token, read_link_token

from .events import FetchKind, FetchSource, record_fetch
from .models import LinkOptions, LinkRevocation, MessageTracking
from .pixel import Fetch, FetchVerdict, classify_request

DOWNLOAD_PURPOSE = "download"
DEFAULT_LINK_DAYS = 30
MAX_LINK_DAYS = 365


class LinkProblem(str, enum.Enum):
    INVALID = "invalid"  # malformed, tampered with, or naming things that do not belong together
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class LinkedFile:
    attachment_id: int
    filename: str
    size: int


@dataclass(frozen=True, slots=True)
class DownloadCheck:
    """What a download link leads to: the file and whose link it is, or the problem."""

    attachment: Attachment | None = None
    recipient: MessageRecipient | None = None
    problem: LinkProblem | None = None


def download_token(secret: str, message_id: int, recipient_id: int, attachment_id: int,
                   expires_at: datetime) -> str:
    return make_link_token(secret, DOWNLOAD_PURPOSE, (message_id, recipient_id, attachment_id), expires_at)


def check_download(token: str, now: datetime) -> DownloadCheck:
    """Whether ``token`` may fetch a file now, and which file for which recipient."""
    check = read_link_token(current_app.config["SECRET_KEY"], DOWNLOAD_PURPOSE, token, now)
    if check.error == "expired":
        return DownloadCheck(problem=LinkProblem.EXPIRED)
    if not check.ok or len(check.payload) != 3:
        return DownloadCheck(problem=LinkProblem.INVALID)
    message_id, recipient_id, attachment_id = check.payload
    recipient = db.session.get(MessageRecipient, recipient_id)
    attachment = db.session.get(Attachment, attachment_id)
    if recipient is None or attachment is None or not (recipient.message_id == attachment.message_id == message_id):
        return DownloadCheck(problem=LinkProblem.INVALID)
    tracking = db.session.get(MessageTracking, message_id)
    if (tracking is not None and tracking.links_revoked_at is not None) or db.session.get(LinkRevocation, recipient_id):
        return DownloadCheck(problem=LinkProblem.REVOKED)
    return DownloadCheck(attachment=attachment, recipient=recipient)


def record_download(check: DownloadCheck, fetch: Fetch, now: datetime) -> FetchVerdict:
    """A download event for the link's recipient and file, one for every fetch, each
    classified on its own like an image fetch (link scanners follow links too). Mail gateways
    fetch a link seconds after delivery, and the recipient opens it a little later: one event
    a fetch means the person's download is never folded into the scanner's. Does not commit."""
    verdict = classify_request(check.recipient, fetch, now)
    detail = json.dumps({"attachment_id": check.attachment.id, "filename": check.attachment.filename,
                         "automated": verdict.automated, "rule": verdict.rule, "label": verdict.label})
    record_fetch(check.recipient, FetchKind.DOWNLOAD, FetchSource.LINK,
                 f"download:{check.attachment.id}:{uuid.uuid4().hex}", now, detail)
    return verdict


def revoke_links(message: Message, agent: Agent, now: datetime) -> bool:
    """Withdraw every download link of ``message``; False if it has none or they already are. Commits."""
    tracking = db.session.get(MessageTracking, message.id)
    if tracking is None or not tracking.links_revocable:
        return False
    tracking.links_revoked_at, tracking.links_revoked_by_id = now, agent.id
    db.session.commit()
    return True


def revoke_recipient_links(message: Message, recipient: MessageRecipient, agent: Agent, now: datetime) -> bool:
    """Withdraw one recipient's download links of ``message``, the others keeping theirs;
    False if the reply has no links left to withdraw or that recipient is not one of its own
    or already lost theirs. Commits."""
    tracking = db.session.get(MessageTracking, message.id)
    if (tracking is None or not tracking.links_revocable or recipient.message_id != message.id
            or db.session.get(LinkRevocation, recipient.id) is not None):
        return False
    db.session.add(LinkRevocation(recipient_id=recipient.id, message_id=message.id, revoked_at=now,
                                  revoked_by_id=agent.id))
    db.session.commit()
    return True


def links_block(files: list[LinkedFile], urls: list[str], expires_at: datetime) -> tuple[str, str]:
    """The text and HTML that list one recipient's links."""
    until = f"{expires_at:%d %B %Y}"
    text_lines = [f"Files for you (personal download links, valid until {until}):"]
    text_lines += [f"- {f.filename} ({file_size(f.size)}): {url}" for f, url in zip(files, urls)]
    items = "".join(f'<li><a href="{html.escape(url)}">{html.escape(f.filename)}</a> ({file_size(f.size)})</li>'
                    for f, url in zip(files, urls))
    rich = (f'<div class="helpdesk-files"><p>Files for you (personal download links, valid until {until}):</p>'
            f"<ul>{items}</ul></div>")
    return "\n".join(text_lines), rich


def download_urls(message_id: int, recipient_id: int, files: list[LinkedFile], expires_at: datetime) -> list[str]:
    secret = current_app.config["SECRET_KEY"]
    return [external_url("receipts_tracking.download",
                         token=download_token(secret, message_id, recipient_id, f.attachment_id, expires_at))
            for f in files]


def link_options(department_id: int) -> LinkOptions:
    """The department's link options, or the defaults (links instead of files, 30 days)."""
    return db.session.get(LinkOptions, department_id) or LinkOptions(
        department_id=department_id, keep_attachments=False, link_days=DEFAULT_LINK_DAYS)


def save_link_options(department_id: int, keep_attachments: bool, link_days: int | None) -> LinkOptions:
    """Validate and save how a department's links work (applies to replies sent from now on). Commits."""
    if link_days is None or not 1 <= link_days <= MAX_LINK_DAYS:
        raise ValidationError({"link_days": [f"Links stay valid for 1 to {MAX_LINK_DAYS} days."]})
    options = db.session.get(LinkOptions, department_id)
    if options is None:
        options = LinkOptions(department_id=department_id)
        db.session.add(options)
    options.keep_attachments, options.link_days = keep_attachments, link_days
    db.session.commit()
    return options
