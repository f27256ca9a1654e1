"""Tickets and their threads: opening, replying, notes, status, and the ticket list."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from types import EllipsisType

from flask import current_app
from markupsafe import Markup
from sqlalchemy import Select, func, or_, select, tuple_

from ..extensions import db
from ..mail.addresses import (
    Address,
    AddressError,
    header_addresses,
    is_own_address,
    normalise,
    own_address_set,
    parse_address_list,
)
from ..mail.compose import new_message_id, reply_subject, thread_references
from ..models import (
    Agent,
    Attachment,
    Channel,
    Department,
    Message,
    MessageDirection,
    MessageRecipient,
    RecipientRole,
    SendState,
    Ticket,
    TicketEventKind,
    TicketPriority,
    TicketStatus,
    utcnow,
)
from ..plugins import plugin_own_addresses
from ..signals import message_created, ticket_created
from . import assignment, history
from ..text import one_line, safe_filename
from .access import can_use_department, restrict_tickets
from .contacts import get_or_create_contact, undeliverable_among
from .errors import ValidationError
from .events import after_commit
from .search import search_tickets
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
    #: Search results only: ticket id -> the highlighted snippet of its best-matching message.
    snippets: dict[int, Markup] = field(default_factory=dict)
    #: With ``with_view_counts`` (and no search): how many tickets each view holds, as
    #: :func:`view_counts` gives them, from the same statement as ``total``.
    view_counts: dict[str, int] | None = None


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


#: The ticket list's views: whose tickets it shows (``assignee`` of :func:`list_tickets`).
VIEWS = {"mine": "Mine", "unassigned": "Unassigned", "": "All"}


def is_assignee_filter(value: str) -> bool:
    """A view of :data:`VIEWS` or an agent's id (what ``assignee`` of :func:`list_tickets` takes)."""
    return value in VIEWS or value.isdigit()


def _assignee_condition(agent: Agent, assignee: str, column=Ticket.assignee_id):
    """``mine``, ``unassigned``, an agent's id, or anything else for everyone's (on
    ``column``: the tickets' assignee, or a subquery's)."""
    if assignee == "mine":
        return column == agent.id
    if assignee == "unassigned":
        return column.is_(None)
    if assignee.isdigit():
        return column == int(assignee)
    return None


def _filtered(agent: Agent, department_id: int | None, status: TicketStatus | None, attention: bool) -> Select:
    query = restrict_tickets(select(Ticket), agent)
    if department_id:
        query = query.where(Ticket.department_id == department_id)
    if status:
        query = query.where(Ticket.status == status)
    if attention:
        query = query.where(Ticket.attention.is_not(None))
    return query


def view_counts(agent: Agent, department_id: int | None = None, status: TicketStatus | None = None,
                attention: bool = False) -> dict[str, int]:
    """How many tickets each view (:data:`VIEWS`) holds under the other filters, in one query."""
    return _counts(_filtered(agent, department_id, status, attention), agent)[1]


def _counts(query: Select, agent: Agent, assignee: str = "") -> tuple[int, dict[str, int]]:
    """How many tickets of ``query`` the ``assignee`` filter keeps, and each view's count
    (:data:`VIEWS`) in ``query``: one statement."""
    tickets = query.subquery()
    condition = _assignee_condition(agent, assignee, tickets.c.assignee_id)
    total = func.count() if condition is None else func.count().filter(condition)
    row = db.session.execute(select(
        total, func.count(), func.count().filter(tickets.c.assignee_id == agent.id),
        func.count().filter(tickets.c.assignee_id.is_(None)))).one()
    return row[0], {"": row[1], "mine": row[2], "unassigned": row[3]}


def list_tickets(agent: Agent, department_id: int | None = None, status: TicketStatus | None = None,
                 page: int = 1, per_page: int | None = None, after: str | None = None,
                 before: str | None = None, search: str = "", attention: bool = False,
                 assignee: str = "", with_view_counts: bool = False) -> TicketPage:
    """A page of the tickets ``agent`` may see, most recently updated first; ``search``
    narrows it to its matches, best first (:func:`helpdesk.services.search.search_tickets`),
    ``attention`` to the tickets flagged for an agent's attention (a reply bounced for
    everyone), ``assignee`` to a view (``mine``, ``unassigned``) or one agent's tickets (their id).

    The pager's links give a position, ``after`` the last ticket shown or ``before`` the
    first (keyset pagination): the page is read through the (updated_at, id) index, as cheap
    at page 400 as at page 1, and does not shift when tickets change meanwhile. ``page`` only
    numbers it; alone (an old link) it is read by OFFSET. ``with_view_counts``: the views'
    counts too (not for a search), counted with the total."""
    per_page = per_page or int(current_app.config["TICKETS_PER_PAGE"])
    filtered = _filtered(agent, department_id, status, attention)
    query = filtered
    if (condition := _assignee_condition(agent, assignee)) is not None:
        query = query.where(condition)
    if search.strip():
        return _search_page(query, search, max(page, 1), per_page)
    counts = None
    if with_view_counts:
        total, counts = _counts(filtered, agent, assignee)
    else:
        total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    query = query.options(db.joinedload(Ticket.requester), db.joinedload(Ticket.department),
                          db.joinedload(Ticket.assignee)).limit(per_page)
    key, newest_first = tuple_(Ticket.updated_at, Ticket.id), (Ticket.updated_at.desc(), Ticket.id.desc())
    if (position := _parse_position(after)) is not None:
        tickets = db.session.scalars(query.where(key < position).order_by(*newest_first)).all()
    elif (position := _parse_position(before)) is not None:
        tickets = db.session.scalars(query.where(key > position).order_by(Ticket.updated_at, Ticket.id)).all()[::-1]
    else:
        tickets = db.session.scalars(query.order_by(*newest_first).offset((page - 1) * per_page)).all()
    return TicketPage(list(tickets), page, pages, total,
                      newer=list_position(tickets[0]) if tickets and page > 1 else None,
                      older=list_position(tickets[-1]) if tickets and page < pages else None, view_counts=counts)


def _search_page(query: Select, text: str, page: int, per_page: int) -> TicketPage:
    """A page of search results, best first (numbered pages: a rank has no position)."""
    results = search_tickets(query, text, per_page, (page - 1) * per_page)
    pages = max(1, math.ceil(results.total / per_page))
    if page > pages and results.total:
        return _search_page(query, text, pages, per_page)
    return TicketPage(results.tickets, min(page, pages), pages, results.total, snippets=results.snippets)


def thread_messages(ticket_id: int) -> list[Message]:
    """A ticket's messages in order, with recipients, attachments and authors in a fixed
    number of queries (the thread page must not cost a query per message)."""
    return list(db.session.scalars(
        select(Message).where(Message.ticket_id == ticket_id).order_by(Message.created_at, Message.id)
        .options(db.selectinload(Message.recipients), db.selectinload(Message.attachments),
                 db.joinedload(Message.author), db.joinedload(Message.ticket))))


def outbound_messages(ticket_id: int) -> list[Message]:
    """A ticket's replies with their recipients: what their sending states are drawn from."""
    return list(db.session.scalars(
        select(Message).where(Message.ticket_id == ticket_id, Message.direction == MessageDirection.OUTBOUND)
        .order_by(Message.created_at, Message.id).options(db.selectinload(Message.recipients))))


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
    assignment.auto_assign(ticket, now)
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
    The worker sends it (:func:`helpdesk.mail.outgoing.hand_over`); storing first means a
    relay outage or a stopped worker never loses a reply."""
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
    assignment.take_on_reply(ticket, agent)
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


def update_ticket(ticket: Ticket, actor: Agent, status: TicketStatus | None = None,
                  priority: TicketPriority | None = None, department_id: int | None = None,
                  assignee_id: int | None | EllipsisType = ...) -> None:
    """The sidebar's changes, each written to the ticket's history: status, priority, a move
    to another department (which drops an assignee who does not work there) and the assignee
    (``None``: nobody; ``...``: as it is). Nothing is saved unless all of it is valid."""
    department = ticket.department
    if department_id is not None and department_id != ticket.department_id:
        department = db.session.get(Department, department_id)
        if department is None:
            raise ValidationError({"department": ["Unknown department."]})
    reassign = assignee_id is not ... and assignee_id != ticket.assignee_id
    assignee = assignment.check_assignee(department.id, assignee_id) if reassign else None
    for kind, attribute, value in ((TicketEventKind.STATUS, "status", status),
                                   (TicketEventKind.PRIORITY, "priority", priority)):
        if value is not None and value is not getattr(ticket, attribute):
            history.record(ticket, kind, actor, getattr(ticket, attribute).value, value.value)
            setattr(ticket, attribute, value)
    assignment.move(ticket, department, actor)
    if reassign:
        assignment.set_assignee(ticket, assignee, actor)
    ticket.updated_at = utcnow()
    db.session.commit()


def clear_attention(ticket: Ticket) -> None:
    """An agent has dealt with what flagged the ticket (e.g. a reply that bounced for everyone)."""
    ticket.attention = None
    db.session.commit()


def desk_addresses() -> frozenset[str]:
    """Every address the desk itself receives mail at: its departments', the support
    mailbox's, and those plugins name (receipts, return paths); see :func:`is_own_address`."""
    return own_address_set([*db.session.scalars(select(Department.email)),
                            str(current_app.config.get("IMAP_USERNAME") or ""),
                            *plugin_own_addresses(current_app)])


def _answered(thread: Sequence[Message]) -> Message | None:
    """The message a reply answers: the latest inbound mail (not a request an agent typed in
    for a caller, which has no mail behind it), else the latest reply."""
    mails = (m for m in reversed(thread) if m.direction is MessageDirection.INBOUND and (m.message_id or m.raw_sha256))
    replies = (m for m in reversed(thread) if m.direction is MessageDirection.OUTBOUND)
    return next(mails, None) or next(replies, None)


def reply_defaults(ticket: Ticket, messages: Sequence[Message] | None = None,
                   requester_only: bool = False) -> ReplyDraft:
    """Who a reply goes to by default: reply-all to the message it answers (:func:`_answered`).
    To: the requester, that message's sender and its other To addresses; Cc: its Cc. Never
    its Bcc, never the desk's own addresses, each address once (any case). With
    ``requester_only``, To the requester alone. ``messages``: the thread in order, when the
    caller has it already (else ``ticket.messages`` is loaded)."""
    requester = Address(ticket.requester.email, ticket.requester.name)
    answered = None if requester_only else _answered(ticket.messages if messages is None else messages)
    if answered is None:
        return ReplyDraft(to=str(requester))
    if answered.direction is MessageDirection.INBOUND:
        to = [Address(normalise(answered.from_address), answered.from_name), *header_addresses([answered.to_header])]
        cc = header_addresses([answered.cc_header])
    else:
        to, cc = ([Address(r.address, r.name) for r in answered.recipients_with_role(role)]
                  for role in (RecipientRole.TO, RecipientRole.CC))
    own, seen = desk_addresses(), {requester.email}

    def others(addresses: list[Address]) -> str:
        kept = [a for a in addresses if not (a.email in seen or is_own_address(a.email, own) or seen.add(a.email))]
        return ", ".join(str(a) for a in kept)

    more_to = others(to)
    return ReplyDraft(to=", ".join(filter(None, [str(requester), more_to])), cc=others(cc))
