"""What agents see: per-recipient read info and each reply's check-mark state.

Everything here is read-only and batched: a thread's states cost a fixed number of queries
however many replies and recipients it has."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from helpdesk.plugin_api import db, Message, MessageDirection, MessageRecipient, Ticket

from .explanations import explain_problem
from .models import DeliveryEventRow, DepartmentSettings, RecipientStatusRow, TrackedMessage
from .settings import enabled_department_ids
from .state import RecipientStatus, RecipientView, ReplyState, missing_receipt_reasons, reply_state
from .tracking.pixel import read_detail
from .vocabulary import UNVERIFIED


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
    events: tuple[DeliveryEventRow, ...] = ()


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


PROBLEM_LABELS = {"dsn-failed": "Bounced", "bounce-soft": "Temporary failure", "dsn-delayed": "Delayed",
                  "smtp-refused": "Refused by our mail server", "mdn-rejected": "Rejected by a mail filter"}
EVENT_LABELS = {
    "smtp-accepted": "Accepted by our mail server", "smtp-refused": "Refused by our mail server",
    "dsn-delivered": "Delivery report: delivered", "dsn-delayed": "Delivery report: delayed",
    "dsn-failed": "Bounced (permanent failure)", "bounce-soft": "Bounced (temporary failure)",
    "mdn-displayed": "Read receipt: displayed", "mdn-deleted": "Read receipt: deleted without being read",
    "mdn-rejected": "Receipt: rejected by the recipient's mail filter, unread",
    "mdn-dispatched": "Receipt: sent on elsewhere", "mdn-processed": "Receipt: processed (not shown to a person)",
    "mdn-denied": "Receipt: the recipient declined to confirm reading",
    "mdn-failed": "Receipt: the recipient's system failed to confirm",
    "read-notice": "Read notice", "read-notice-not-read": "Notice: not read",
    "pixel-open": "Opened (estimate)", "pixel-automated": "Image fetched by an automated service (not an open)",
    "download": "File downloaded",
}
#: What a report said of a recipient without evidence bound to them: shown, counted nowhere.
EVENT_LABELS.update({f"{UNVERIFIED}{kind}": f"Not counted, unverified: {label[0].lower()}{label[1:]}"
                     for kind, label in list(EVENT_LABELS.items())
                     if kind.startswith(("dsn-", "bounce-", "mdn-", "read-notice"))})


def event_label(event: DeliveryEventRow) -> str:
    """One line of a recipient's history. A download says which file and whether the fetch
    looked automated (and why); an image fetch by an automated service says which."""
    label = EVENT_LABELS.get(event.kind, event.kind)
    if event.kind not in ("download", "pixel-automated"):
        return label
    detail = read_detail(event.detail)
    reason = detail.get("label") or "an automated service"
    if event.kind == "pixel-automated":
        return f"{label}: {reason}"
    filename = detail.get("filename") or "a file"
    if detail.get("automated"):
        return f"{filename} fetched by an automated client, not a person: {reason}"
    return f"{label}: {filename} (by a person, an estimate)"
