"""What agents see: per-recipient read info and each reply's check-mark state.

Everything here is read-only and batched: a thread's states cost a fixed number of queries
however many replies and recipients it has."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from helpdesk.plugin_api import db, Message, MessageDirection, MessageRecipient, Ticket

from .explanations import explain_problem
from .models import DeliveryEventRow, DepartmentSettings, RecipientStatusRow, TrackedMessage
from .settings import enabled_department_ids
from .signals import history_requested
from .state import RecipientStatus, RecipientView, ReplyState, missing_receipt_reasons, reply_state
from .vocabulary import UNVERIFIED, EventKind


@dataclass(frozen=True, slots=True)
class HistoryLine:
    """A line another plugin adds to a recipient's history (``history_requested``): shown
    like a delivery event, with the plugin's own words; it never changes a status."""

    at: datetime
    kind: str
    source: str
    label: str
    detail: str | None = None
    status_code: str | None = None
    reason: str | None = None
    diagnostic: str | None = None
    report_id: int | None = None


@dataclass(frozen=True, slots=True)
class RecipientInfo:
    id: int
    role: str
    address: str
    name: str
    status: str
    sent_at: datetime | None
    delivered_at: datetime | None
    first_read_at: datetime | None
    last_read_at: datetime | None
    bounced_at: datetime | None
    receipt_declined: bool
    problem: dict | None
    explanation: str | None
    events: tuple[DeliveryEventRow | HistoryLine, ...] = ()


@dataclass(frozen=True, slots=True)
class MessageReadInfo:
    message: Message
    state: ReplyState
    recipients: tuple[RecipientInfo, ...]
    #: Receipts were asked for this reply (False: sent before they were on for its department).
    tracked: bool = True
    missing_receipt_reasons: tuple[str, ...] = field(default_factory=tuple)


def _status_rows(message_ids: Sequence[int]) -> dict[int, RecipientStatusRow]:
    if not message_ids:
        return {}
    return {row.recipient_id: row for row in db.session.scalars(
        select(RecipientStatusRow).where(RecipientStatusRow.message_id.in_(message_ids)))}


def _statuses(message_ids: Sequence[int]) -> dict[int, RecipientStatus]:
    """Each recipient's status alone (what check marks need): no full rows, no ORM objects."""
    if not message_ids:
        return {}
    return {recipient_id: RecipientStatus(status) for recipient_id, status in db.session.execute(
        select(RecipientStatusRow.recipient_id, RecipientStatusRow.status)
        .where(RecipientStatusRow.message_id.in_(message_ids)))}


def _tracked_ids(message_ids: Sequence[int]) -> set[int]:
    if not message_ids:
        return set()
    return set(db.session.scalars(select(TrackedMessage.message_id).where(TrackedMessage.message_id.in_(message_ids))))


def _status_of(row: RecipientStatusRow | None) -> RecipientStatus:
    return RecipientStatus(row.status) if row is not None else RecipientStatus.UNKNOWN


def states_for(messages: Sequence[Message], enabled: set[int] | None = None) -> dict[int, ReplyState]:
    """Check-mark state of each outbound message whose department shows receipts.

    Messages of departments with receipts off are left out (nothing is shown for them).
    Recipients must be loaded with the messages (``selectinload``) to keep queries flat.
    ``enabled``: the departments with receipts on, when the caller has them already."""
    enabled = enabled_department_ids() if enabled is None else enabled
    return _states({m.id: [(r.id, r.role.value, r.address) for r in m.recipients] for m in messages
                    if m.direction is MessageDirection.OUTBOUND and m.ticket.department_id in enabled})


def _states(recipients: dict[int, list[tuple[int, str, str]]]) -> dict[int, ReplyState]:
    """The state of each message from its recipients' (id, role, address): two queries."""
    ids = list(recipients)
    statuses, tracked = _statuses(ids), _tracked_ids(ids)
    unknown = RecipientStatus.UNKNOWN
    return {message_id: reply_state([RecipientView(role, statuses.get(recipient_id, unknown), address)
                                     for recipient_id, role, address in rows], message_id in tracked)
            for message_id, rows in recipients.items()}


def list_column(ticket_ids: Sequence[int]) -> tuple[bool, dict[int, tuple[int, ReplyState]]]:
    """The ticket list's 'Last reply' column in one query of plain columns: whether it is
    shown (some ticket's department has receipts on) and (message id, state) of each such
    ticket's newest outbound message (by time, then id)."""
    if not ticket_ids:
        return False, {}
    newest = (select(Message.id.label("message_id"), Message.ticket_id.label("ticket_id"),
                     func.row_number().over(partition_by=Message.ticket_id,
                                            order_by=(Message.created_at.desc(), Message.id.desc())).label("rank"))
              .where(Message.ticket_id.in_(ticket_ids), Message.direction == MessageDirection.OUTBOUND).subquery())
    rows = db.session.execute(
        select(Ticket.id, newest.c.message_id, MessageRecipient.id, MessageRecipient.role, MessageRecipient.address,
               RecipientStatusRow.status, TrackedMessage.message_id)
        .select_from(Ticket)
        .join(DepartmentSettings, (DepartmentSettings.department_id == Ticket.department_id)
              & DepartmentSettings.receipts_enabled.is_(True))
        .outerjoin(newest, (newest.c.ticket_id == Ticket.id) & (newest.c.rank == 1))
        .outerjoin(MessageRecipient, MessageRecipient.message_id == newest.c.message_id)
        .outerjoin(RecipientStatusRow, RecipientStatusRow.recipient_id == MessageRecipient.id)
        .outerjoin(TrackedMessage, TrackedMessage.message_id == newest.c.message_id)
        .where(Ticket.id.in_(ticket_ids)).order_by(MessageRecipient.id)).all()
    latest: dict[int, tuple[int, bool, list[RecipientView]]] = {}
    unknown = RecipientStatus.UNKNOWN
    for ticket_id, message_id, recipient_id, role, address, status, tracked in rows:
        if message_id is None:
            continue  # no reply yet: an empty cell
        _, _, views = latest.setdefault(ticket_id, (message_id, tracked is not None, []))
        if recipient_id is not None:
            views.append(RecipientView(role.value, RecipientStatus(status) if status else unknown, address))
    return bool(rows), {ticket_id: (message_id, reply_state(views, tracked))
                        for ticket_id, (message_id, tracked, views) in latest.items()}


def _problem(row: RecipientStatusRow | None) -> dict | None:
    if row is None or row.problem_kind is None:
        return None
    return {"kind": row.problem_kind, "status_code": row.problem_status, "reason": row.problem_reason,
            "diagnostic": row.problem_diagnostic, "remote_mta": row.problem_remote_mta, "at": row.problem_at}


def message_read_info(message: Message) -> MessageReadInfo | None:
    """The Thread Read Info panel's content, or None when receipts are off for the department."""
    if message.direction is not MessageDirection.OUTBOUND or \
            message.ticket.department_id not in enabled_department_ids():
        return None
    rows = _status_rows([message.id])
    events = defaultdict(list)
    for event in db.session.scalars(select(DeliveryEventRow).where(DeliveryEventRow.message_id == message.id)
                                    .order_by(DeliveryEventRow.at, DeliveryEventRow.id)):
        events[event.recipient_id].append(event)
    for _, lines in history_requested.send(current_app._get_current_object(), message=message,
                                           recipients=list(message.recipients)):
        for recipient_id, extra in (lines or {}).items():
            events[recipient_id] = sorted([*events[recipient_id], *extra], key=lambda e: e.at)  # stable
    recipients = []
    for r in message.recipients:
        row = rows.get(r.id)
        problem = _problem(row)
        recipients.append(RecipientInfo(
            id=r.id, role=r.role.value, address=r.address, name=r.name, status=_status_of(row).value,
            sent_at=row.sent_at if row else None, delivered_at=row.delivered_at if row else None,
            first_read_at=row.first_read_at if row else None, last_read_at=row.last_read_at if row else None,
            bounced_at=row.bounced_at if row else None, receipt_declined=bool(row and row.receipt_declined),
            problem=problem,
            explanation=explain_problem(problem["kind"], problem["reason"], problem["status_code"]) if problem else None,
            events=tuple(events[r.id])))
    tracked = db.session.get(TrackedMessage, message.id) is not None
    state = reply_state([RecipientView(i.role, RecipientStatus(i.status), i.address) for i in recipients], tracked)
    return MessageReadInfo(message, state, tuple(recipients), tracked,
                           tuple(missing_receipt_reasons()) if tracked else ())


PROBLEM_LABELS = {EventKind.DSN_FAILED: "Bounced", EventKind.BOUNCE_SOFT: "Temporary failure",
                  EventKind.DSN_DELAYED: "Delayed", EventKind.SMTP_REFUSED: "Refused by our mail server",
                  EventKind.MDN_REJECTED: "Rejected by a mail filter"}
EVENT_LABELS = {
    EventKind.SMTP_ACCEPTED: "Accepted by our mail server", EventKind.SMTP_REFUSED: "Refused by our mail server",
    EventKind.DSN_DELIVERED: "Delivery report: delivered", EventKind.DSN_DELAYED: "Delivery report: delayed",
    EventKind.DSN_FAILED: "Bounced (permanent failure)", EventKind.BOUNCE_SOFT: "Bounced (temporary failure)",
    EventKind.MDN_DISPLAYED: "Read receipt: displayed", EventKind.MDN_DELETED: "Read receipt: deleted without being read",
    EventKind.MDN_REJECTED: "Receipt: rejected by the recipient's mail filter, unread",
    EventKind.MDN_DISPATCHED: "Receipt: sent on elsewhere", EventKind.MDN_PROCESSED: "Receipt: processed (not shown to a person)",
    EventKind.MDN_DENIED: "Receipt: the recipient declined to confirm reading",
    EventKind.MDN_FAILED: "Receipt: the recipient's system failed to confirm",
    EventKind.READ_NOTICE: "Read notice", EventKind.READ_NOTICE_NOT_READ: "Notice: not read",
}
#: What a report said of a recipient without evidence bound to them: shown, counted nowhere.
EVENT_LABELS.update({f"{UNVERIFIED}{kind}": f"Not counted, unverified: {label[0].lower()}{label[1:]}"
                     for kind, label in list(EVENT_LABELS.items())
                     if kind.startswith(("dsn-", "bounce-", "mdn-", "read-notice"))})


def event_label(event: DeliveryEventRow | HistoryLine) -> str:
    """One line of a recipient's history: a delivery event's words, or the line another
    plugin added with its own."""
    if isinstance(event, HistoryLine):
        return event.label
    return EVENT_LABELS.get(event.kind, event.kind)
