"""Inbound mail becomes a ticket, joins a thread, is claimed by a plugin, or is set aside.

Every mail that reaches :func:`process_inbound` ends in exactly one recorded outcome, and
its raw bytes are kept, so nothing is lost: ``ticket`` (new ticket), ``thread`` (added to
one), ``claimed`` (a plugin took it, e.g. a delivery report), ``ignored`` (machine-sent:
an auto-reply or report; never answered), ``quarantined`` (unreadable or refused, with the
reason) or ``duplicate`` (already seen, nothing done).
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db, is_database_outage
from ..models import (
    Attachment,
    Channel,
    Department,
    InboundRecord,
    Message,
    MessageDirection,
    MessageRecipient,
    Ticket,
    TicketStatus,
    utcnow,
)
from ..services import assignment
from ..services.contacts import get_or_create_contact
from ..services.events import after_commit
from ..services.storage import StorageError, store_bytes
from ..signals import message_created, message_received, ticket_created
from .automatic import automatic_reason
from .addresses import header_addresses
from .inbound import InboundMail, parse_inbound

log = logging.getLogger(__name__)


class IntakeDeferred(RuntimeError):
    """The mail could not be recorded at all (e.g. disk full): leave it on the server."""


@dataclass(frozen=True, slots=True)
class IntakeResult:
    outcome: str
    reason: str = ""
    ticket_id: int | None = None
    record_id: int | None = None


def process_inbound(raw: bytes, source: str) -> IntakeResult:
    """Handle one received mail end to end and commit; see the module docstring."""
    digest = hashlib.sha256(raw).hexdigest()
    try:
        mail = parse_inbound(raw)
    except Exception as exc:  # noqa: BLE001 - any parse failure is a quarantine reason
        return _quarantine(raw, digest, source, f"unreadable mail: {exc}")
    dedupe_key = mail.message_id or f"sha256:{digest}"
    existing = db.session.scalar(select(InboundRecord).where(InboundRecord.dedupe_key == dedupe_key))
    if existing is not None:
        return IntakeResult("duplicate", f"already handled as {existing.outcome}", existing.ticket_id, existing.id)
    try:
        _keep_raw(raw)
        return _route(mail, raw, digest, dedupe_key, source)
    except IntegrityError:  # another process recorded the same mail first
        db.session.rollback()
        return IntakeResult("duplicate", "handled concurrently")
    except IntakeDeferred:
        db.session.rollback()
        raise
    except Exception as exc:  # noqa: BLE001 - never stop the intake on one bad mail
        db.session.rollback()
        if is_database_outage(exc):
            raise IntakeDeferred(f"database unavailable: {type(exc).__name__}") from exc
        log.exception("inbound mail from %s could not be processed", source)
        return _quarantine(raw, digest, source, f"processing failed: {type(exc).__name__}: {exc}",
                           dedupe_key, mail)


def _keep_raw(raw: bytes) -> str:
    try:
        return store_bytes(raw)
    except StorageError as exc:
        raise IntakeDeferred(str(exc)) from exc


def _route(mail: InboundMail, raw: bytes, digest: str, dedupe_key: str, source: str) -> IntakeResult:
    app = current_app._get_current_object()
    record = InboundRecord(dedupe_key=dedupe_key[:998], raw_sha256=digest, size=len(raw), source=source[:200],
                           outcome="", from_address=mail.sender.email if mail.sender else "",
                           subject=mail.subject)
    claims = [str(result) for _, result in message_received.send(app, mail=mail, raw=raw) if result]
    if claims:
        record.outcome, record.reason = "claimed", claims[0][:2000]
    elif reason := automatic_reason(mail):
        record.outcome, record.reason = "ignored", reason
    elif mail.sender is None:
        record.outcome, record.reason = "quarantined", "no sender address in From, Sender or Return-Path"
    elif _is_our_own(mail):
        record.outcome, record.reason = "ignored", "sent by one of our own department addresses (loop guard)"
    else:
        message, new_ticket = _add_to_thread(mail, digest)
        record.outcome = "ticket" if new_ticket else "thread"
        record.ticket_id, record.message_id = message.ticket.id, message.id
    db.session.add(record)
    db.session.commit()
    return IntakeResult(record.outcome, record.reason or "", record.ticket_id, record.id)


def _quarantine(raw: bytes, digest: str, source: str, reason: str, dedupe_key: str | None = None,
                mail: InboundMail | None = None) -> IntakeResult:
    _keep_raw(raw)
    record = InboundRecord(dedupe_key=(dedupe_key or f"sha256:{digest}")[:998], raw_sha256=digest, size=len(raw),
                           source=source[:200], outcome="quarantined", reason=reason[:2000],
                           from_address=mail.sender.email if mail and mail.sender else "",
                           subject=mail.subject if mail else "")
    db.session.add(record)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return IntakeResult("duplicate", "already quarantined")
    return IntakeResult("quarantined", reason, None, record.id)


def _is_our_own(mail: InboundMail) -> bool:
    sender = mail.sender.email if mail.sender else ""
    return db.session.scalar(select(func.count()).select_from(Department).where(
        func.lower(Department.email) == sender)) > 0


def _referenced_tickets(mail: InboundMail) -> list[Ticket]:
    """The tickets this mail says it answers: by In-Reply-To/References, then by "[HD-12]"
    in the subject."""
    found: list[Ticket] = []
    ids = [*mail.in_reply_to, *reversed(mail.references)]
    if ids:
        ticket_id = db.session.scalar(select(Message.ticket_id).where(Message.message_id.in_(ids)).limit(1))
        if ticket_id is not None:
            found.append(db.session.get(Ticket, ticket_id))
    prefix = re.escape(current_app.config["TICKET_PREFIX"])
    match = re.search(rf"\[{prefix}-(\d+)\]", mail.subject, re.I)
    if match and (ticket := db.session.get(Ticket, int(match.group(1)))) is not None and ticket not in found:
        found.append(ticket)
    return found


def _find_ticket(mail: InboundMail) -> tuple[Ticket | None, Ticket | None]:
    """(the thread to join, the ticket to link a new one to). A mail joins a ticket it answers
    only when its sender takes part in it: anyone can copy a thread's Message-ID or reference,
    so a stranger's answer opens a new ticket, linked to the one it named."""
    referenced = _referenced_tickets(mail)
    for ticket in referenced:
        if _takes_part(ticket, mail.sender.email):
            return ticket, None
    return None, (referenced[0] if referenced else None)


def _takes_part(ticket: Ticket, address: str) -> bool:
    """The address is the ticket's requester, sent or received one of its messages, or was on
    To or Cc of mail the customer sent it."""
    if ticket.requester.email == address:
        return True
    if db.session.scalar(
            select(func.count()).select_from(Message).outerjoin(MessageRecipient)
            .where(Message.ticket_id == ticket.id,
                   or_(Message.from_address == address, MessageRecipient.address == address))) > 0:
        return True
    copied = db.session.execute(select(Message.to_header, Message.cc_header).where(
        Message.ticket_id == ticket.id, Message.direction == MessageDirection.INBOUND)).all()
    return address in {a.email for a in header_addresses([header for row in copied for header in row])}


def _department_for(mail: InboundMail) -> Department:
    addresses = {a.email for a in [*mail.to, *mail.cc]} | set(mail.delivered_to)
    departments = list(db.session.scalars(select(Department).order_by(Department.id)))
    if not departments:
        raise RuntimeError("no department exists to receive mail; create one first")
    for department in departments:
        if department.email.lower() in addresses:
            return department
    default = current_app.config.get("DEFAULT_DEPARTMENT")
    return next((d for d in departments if d.name == default), departments[0])


def _add_to_thread(mail: InboundMail, digest: str) -> tuple[Message, bool]:
    sender = mail.sender
    contact = get_or_create_contact(sender.email, sender.name)
    ticket, linked = _find_ticket(mail)
    now = utcnow()
    new_ticket = ticket is None
    if new_ticket:
        ticket = Ticket(subject=(mail.subject or "(no subject)")[:500],
                        department=linked.department if linked else _department_for(mail), linked_ticket=linked,
                        requester=contact, channel=Channel.EMAIL, created_at=now, updated_at=now)
        db.session.add(ticket)
    elif ticket.status in (TicketStatus.PENDING, TicketStatus.RESOLVED, TicketStatus.CLOSED):
        ticket.status = TicketStatus.OPEN  # the customer answered: it needs us again
    ticket.updated_at = now
    message = Message(
        ticket=ticket, direction=MessageDirection.INBOUND, contact=contact, from_address=sender.email,
        from_name=sender.name[:200], to_header=", ".join(str(a) for a in mail.to),
        cc_header=", ".join(str(a) for a in mail.cc), subject=mail.subject, message_id=mail.message_id,
        in_reply_to=mail.in_reply_to[0] if mail.in_reply_to else None,
        references=" ".join(f"<{r}>" for r in mail.references), text_body=mail.text, html_body=mail.html,
        created_at=now, raw_sha256=digest)
    db.session.add(message)
    limit = int(current_app.config["MAX_ATTACHMENT_BYTES"])
    for upload in mail.files:
        if len(upload.data) > limit:
            message.text_body += f"\n\n[Attachment {upload.filename} ({len(upload.data)} bytes) exceeded the limit; " \
                                 f"it is kept in the raw mail.]"
            continue
        try:
            digest_file = store_bytes(upload.data)
        except StorageError as exc:
            raise IntakeDeferred(str(exc)) from exc
        message.attachments.append(Attachment(filename=upload.filename, content_type=upload.content_type[:255],
                                              size=len(upload.data), sha256=digest_file))
    db.session.flush()
    app = current_app._get_current_object()
    if new_ticket:
        assignment.auto_assign(ticket, now)
        after_commit(lambda: ticket_created.send(app, ticket=ticket, message=message, source="email"))
    after_commit(lambda: message_created.send(app, message=message, ticket=ticket))
    return message, new_ticket


def quarantine_oversize(header: bytes, size: int, limit: int, source: str) -> IntakeResult:
    """A mail too large to download: record its headers and why; the mail stays on the server."""
    mail = None
    try:
        mail = parse_inbound(header + b"\r\n")
    except Exception:  # noqa: BLE001 - headers we cannot read are still recorded
        pass
    digest = hashlib.sha256(header).hexdigest()
    key = f"oversize:{mail.message_id}" if mail and mail.message_id else None
    reason = f"too large: {size} bytes, the limit is {limit} (headers kept; the mail is left on the server)"
    return _quarantine(header, digest, source, reason, key, mail)
