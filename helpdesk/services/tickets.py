"""Tickets and their threads: opening, replying, notes, status, and the ticket list."""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import Select, func, or_, select, tuple_

from ..extensions import db
from ..mail.addresses import Address, AddressError, header_addresses, parse_address_list
from ..mail.compose import new_message_id, reply_subject, thread_references
from ..models import (
    Agent,
    Attachment,
    Channel,
    Contact,
    Department,
    Message,
    MessageDirection,
    MessageRecipient,
    RecipientRole,
    SendState,
    Ticket,
    TicketPriority,
    TicketStatus,
    utcnow,
)
from ..signals import message_created, ticket_created
from ..text import one_line, safe_filename
from .access import can_use_department, restrict_tickets
from .contacts import get_or_create_contact, undeliverable_among
from .errors import ValidationError
from .events import after_commit
from .storage import StorageError, store_bytes


@dataclass(frozen=True, slots=True)
class UploadedFile:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class TicketPage:
    tickets: list[Ticket]
    page: int
    pages: int
    total: int
    #: Positions for the pager's links: before the first ticket shown, after the last.
    newer: str | None = None
    older: str | None = None


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def list_position(ticket: Ticket) -> str:
    """A ticket's place in the list (newest first), for a link: ``<updated_at in µs>.<id>``."""
    return f"{(ticket.updated_at - _EPOCH) // _MICROSECOND}.{ticket.id}"


def _parse_position(text: str | None) -> tuple[datetime, int] | None:
    micros, _, ticket_id = (text or "").partition(".")
    if not (micros.isdigit() and ticket_id.isdigit()):
        return None
    return _EPOCH + int(micros) * _MICROSECOND, int(ticket_id)


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its own % and _ taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def matching(query: Select, text: str) -> Select:
    """Tickets whose reference or number (``HD-42``, ``42``), subject, or requester's address
    or name contains ``text`` (any case)."""
    text = text.strip().strip("[]").strip()
    if not text:
        return query
    pattern = _like(text)
    requesters = select(Contact.id).where(or_(Contact.email.ilike(pattern, escape="\\"),
                                              Contact.name.ilike(pattern, escape="\\")))
    conditions = [Ticket.subject.ilike(pattern, escape="\\"), Ticket.requester_id.in_(requesters)]
    prefix = re.escape(current_app.config["TICKET_PREFIX"])
    if number := re.fullmatch(rf"(?:{prefix}-)?(\d{{1,9}})", text, re.IGNORECASE):
        conditions.append(Ticket.id == int(number.group(1)))
    return query.where(or_(*conditions))


def list_tickets(agent: Agent, department_id: int | None = None, status: TicketStatus | None = None,
                 page: int = 1, per_page: int | None = None, after: str | None = None,
                 before: str | None = None, search: str = "", attention: bool = False) -> TicketPage:
    """A page of the tickets ``agent`` may see, most recently updated first; ``search``
    narrows it (see :func:`matching`), ``attention`` to the tickets flagged for an agent's
    attention (a reply bounced for everyone).

    The pager's links give a position, ``after`` the last ticket shown or ``before`` the
    first (keyset pagination): the page is read through the (updated_at, id) index, as cheap
    at page 400 as at page 1, and does not shift when tickets change meanwhile. ``page`` only
    numbers it; alone (an old link) it is read by OFFSET."""
    per_page = per_page or int(current_app.config["TICKETS_PER_PAGE"])
    query = restrict_tickets(select(Ticket), agent)
    if department_id:
        query = query.where(Ticket.department_id == department_id)
    if status:
        query = query.where(Ticket.status == status)
    if attention:
        query = query.where(Ticket.attention.is_not(None))
    query = matching(query, search)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    query = query.options(db.joinedload(Ticket.requester), db.joinedload(Ticket.department)).limit(per_page)
    key, newest_first = tuple_(Ticket.updated_at, Ticket.id), (Ticket.updated_at.desc(), Ticket.id.desc())
    if (position := _parse_position(after)) is not None:
        tickets = db.session.scalars(query.where(key < position).order_by(*newest_first)).all()
    elif (position := _parse_position(before)) is not None:
        tickets = db.session.scalars(query.where(key > position).order_by(Ticket.updated_at, Ticket.id)).all()[::-1]
    else:
        tickets = db.session.scalars(query.order_by(*newest_first).offset((page - 1) * per_page)).all()
    return TicketPage(list(tickets), page, pages, total,
                      newer=list_position(tickets[0]) if tickets and page > 1 else None,
                      older=list_position(tickets[-1]) if tickets and page < pages else None)


def thread_messages(ticket_id: int) -> list[Message]:
    """A ticket's messages in order, with recipients, attachments and authors in a fixed
    number of queries (the thread page must not cost a query per message)."""
    return list(db.session.scalars(
        select(Message).where(Message.ticket_id == ticket_id).order_by(Message.created_at, Message.id)
        .options(db.selectinload(Message.recipients), db.selectinload(Message.attachments),
                 db.joinedload(Message.author), db.joinedload(Message.ticket))))


def linked_tickets(ticket: Ticket) -> list[Ticket]:
    """The tickets linked to ``ticket`` either way (see ``Ticket.linked_ticket_id``), of its
    department: whoever may see ``ticket`` may see them (a linked ticket is opened in the
    department of the one it names)."""
    return list(db.session.scalars(
        select(Ticket).where(or_(Ticket.id == ticket.linked_ticket_id, Ticket.linked_ticket_id == ticket.id),
                             Ticket.department_id == ticket.department_id)
        .options(db.joinedload(Ticket.requester)).order_by(Ticket.id)))


def _store_attachments(message: Message, files: Sequence[UploadedFile]) -> None:
    limit = int(current_app.config["MAX_ATTACHMENT_BYTES"])
    too_big = [f.filename for f in files if len(f.data) > limit]
    if too_big:
        raise ValidationError({"attachments": [
            f"{name} is larger than {limit // (1024 * 1024)} MB" for name in too_big]})
    for upload in files:
        try:
            digest = store_bytes(upload.data)
        except StorageError as exc:
            raise ValidationError({"attachments": [
                f"{upload.filename} could not be saved ({exc.strerror}); nothing was saved, try again later."]}) from exc
        message.attachments.append(Attachment(
            filename=safe_filename(upload.filename), content_type=one_line(upload.content_type)[:255],
            size=len(upload.data), sha256=digest))


def _announce(ticket: Ticket, message: Message, new_ticket_source: str | None) -> None:
    app = current_app._get_current_object()
    if new_ticket_source:
        after_commit(lambda: ticket_created.send(app, ticket=ticket, message=message, source=new_ticket_source))
    after_commit(lambda: message_created.send(app, message=message, ticket=ticket))


def open_ticket(agent: Agent, department_id: int, requester: str, subject: str, body: str,
                channel: Channel = Channel.WEB, priority: TicketPriority = TicketPriority.NORMAL,
                files: Sequence[UploadedFile] = ()) -> Ticket:
    """A ticket an agent records for a customer (phone call, walk-in, web form)."""
    errors: dict[str, list[str]] = {}
    department = db.session.get(Department, department_id)
    if department is None or not can_use_department(agent, department_id):
        errors["department"] = ["Choose one of your departments."]
    try:
        addresses = parse_address_list(requester)
        if len(addresses) != 1:
            errors["requester"] = ["Give exactly one requester address."]
    except AddressError as exc:
        errors["requester"] = [str(exc)]
    if not subject.strip():
        errors["subject"] = ["A subject is required."]
    if not body.strip():
        errors["body"] = ["Describe the request."]
    if errors:
        raise ValidationError(errors)
    contact = get_or_create_contact(addresses[0].email, addresses[0].name)
    now = utcnow()
    ticket = Ticket(subject=subject.strip()[:500], department=department, requester=contact, channel=channel,
                    priority=priority, created_at=now, updated_at=now)
    message = Message(ticket=ticket, direction=MessageDirection.INBOUND, contact=contact,
                      from_address=contact.email, from_name=contact.name, subject=ticket.subject,
                      text_body=body, created_at=now)
    db.session.add_all([ticket, message])
    try:
        _store_attachments(message, files)
    except ValidationError:
        db.session.rollback()
        raise
    _announce(ticket, message, channel.value)
    db.session.commit()
    return ticket


def _reply_parent(ticket: Ticket) -> Message | None:
    """The newest message with a Message-ID, preferring the customer's, to thread under."""
    with_ids = [m for m in ticket.messages if m.message_id and m.direction is not MessageDirection.NOTE]
    inbound = [m for m in with_ids if m.direction is MessageDirection.INBOUND]
    return (inbound or with_ids or [None])[-1]


@dataclass
class ReplyDraft:
    to: str
    cc: str = ""
    bcc: str = ""
    body: str = ""
    files: Sequence[UploadedFile] = field(default_factory=tuple)
    status: TicketStatus | None = None
    #: The agent saw the warning that some recipients' mail failed permanently, and sends anyway.
    send_to_undeliverable: bool = False


def _parse_recipients(draft: ReplyDraft) -> dict[RecipientRole, list[Address]]:
    errors: dict[str, list[str]] = {}
    parsed: dict[RecipientRole, list[Address]] = {}
    for role, text in ((RecipientRole.TO, draft.to), (RecipientRole.CC, draft.cc), (RecipientRole.BCC, draft.bcc)):
        try:
            parsed[role] = parse_address_list(text)
        except AddressError as exc:
            errors[role.value] = [str(exc)]
    if not errors and not parsed[RecipientRole.TO]:
        errors["to"] = ["Add at least one To recipient."]
    if not draft.body.strip():
        errors["body"] = ["Write a reply."]
    if errors:
        raise ValidationError(errors)
    seen: set[str] = set()
    for role in (RecipientRole.TO, RecipientRole.CC, RecipientRole.BCC):  # each address once, first role wins
        parsed[role] = [a for a in parsed[role] if not (a.email in seen or seen.add(a.email))]
    marked = undeliverable_among(sorted(seen))
    if marked and not draft.send_to_undeliverable:
        raise ValidationError({"send_anyway": [
            f"Mail to {', '.join(c.email for c in marked)} failed permanently before. "
            "Check the address, or tick “Send anyway”."]})
    return parsed


def post_reply(ticket: Ticket, agent: Agent, draft: ReplyDraft) -> Message:
    """Store an agent's reply with its recipients, queued for sending (not yet sent).

    A recipient whose contact is marked undeliverable (mail to it failed permanently) is
    refused unless ``draft.send_to_undeliverable`` says the agent chose to send anyway.
    The caller then asks :func:`helpdesk.mail.outgoing.send_message` for the first
    attempt; storing first means a relay outage never loses a reply."""
    recipients = _parse_recipients(draft)
    config = current_app.config
    now = utcnow()
    parent = _reply_parent(ticket)
    in_reply_to, references = thread_references(parent)
    message = Message(
        ticket=ticket, direction=MessageDirection.OUTBOUND, author=agent,
        from_address=ticket.department.email, from_name=ticket.department.name,
        subject=reply_subject(ticket, config["TICKET_PREFIX"]),
        message_id=new_message_id(ticket.id, config["MAIL_DOMAIN"]),
        in_reply_to=in_reply_to, references=references, text_body=draft.body,
        created_at=now, send_state=SendState.QUEUED)
    db.session.add(message)
    for role, addresses in recipients.items():
        for address in addresses:
            contact = get_or_create_contact(address.email, address.name)
            message.recipients.append(MessageRecipient(role=role, address=address.email,
                                                       name=address.name or contact.name, contact=contact))
    try:
        _store_attachments(message, draft.files)
    except ValidationError:
        db.session.rollback()
        raise
    ticket.updated_at = now
    ticket.status = draft.status or (TicketStatus.PENDING if ticket.status is TicketStatus.OPEN else ticket.status)
    _announce(ticket, message, None)
    db.session.commit()
    return message


def add_note(ticket: Ticket, agent: Agent, body: str) -> Message:
    if not body.strip():
        raise ValidationError({"body": ["Write a note."]})
    now = utcnow()
    message = Message(ticket=ticket, direction=MessageDirection.NOTE, author=agent, from_address=agent.email,
                      from_name=agent.name, text_body=body, created_at=now)
    db.session.add(message)
    ticket.updated_at = now
    _announce(ticket, message, None)
    db.session.commit()
    return message


def update_ticket(ticket: Ticket, status: TicketStatus | None = None, priority: TicketPriority | None = None) -> None:
    if status is not None:
        ticket.status = status
    if priority is not None:
        ticket.priority = priority
    ticket.updated_at = utcnow()
    db.session.commit()


def clear_attention(ticket: Ticket) -> None:
    """An agent has dealt with what flagged the ticket (e.g. a reply that bounced for everyone)."""
    ticket.attention = None
    db.session.commit()


def reply_defaults(ticket: Ticket, messages: Sequence[Message] | None = None) -> ReplyDraft:
    """Who a reply goes to by default: the requester, and whoever else was on To or Cc of the
    customer's last mail (reply-all), without our own department addresses. ``messages``: the
    thread in order, when the caller has it already (else ``ticket.messages`` is loaded)."""
    thread = ticket.messages if messages is None else messages
    last_inbound = next((m for m in reversed(thread) if m.direction is MessageDirection.INBOUND), None)
    ours = {email.lower() for email in db.session.scalars(select(Department.email))} | {ticket.requester.email}
    others = header_addresses([last_inbound.to_header, last_inbound.cc_header]) if last_inbound else []
    cc = ", ".join(str(a) for a in others if a.email not in ours)
    return ReplyDraft(to=ticket.requester.display, cc=cc)
