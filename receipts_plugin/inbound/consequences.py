"""What new events change, computed as data (:func:`consequences`, pure) and then written in
one call (:func:`apply`): the events themselves, each touched recipient's status (``fold`` of
all its events, so the order reports arrive in does not matter), the contact's undeliverable
mark after a hard bounce (and its lifting when mail reaches the address later), the ticket's
flag (and reopening) when a reply bounced or was refused for every recipient, and the
``reply_outcome`` signal after the commit (notifications hang off it).

Events are append-only and unique per (recipient, key): recording the same report twice adds
nothing. Everything that writes events goes through here: the inbound pipeline (reports) and our
relay's answers (:mod:`..sending`). The tracking plugin's image fetches and downloads are not
delivery events: they go to its own table and never recompute a status.
"""
from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime

from flask import current_app
from sqlalchemy import Insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from helpdesk.plugin_api import (after_commit, db, mark_all_undeliverable, Message, MessageRecipient, record_reached,
                                 TicketStatus, utcnow)

from ..explanations import explain_reason
from ..models import DeliveryEventRow, RecipientStatusRow
from ..signals import reply_outcome
from ..state import DEAD, DELIVERED_KINDS, DeliveryEvent, RecipientState, fold
from ..vocabulary import EventKind
from .correlate import SentMessage, SentRecipient

BOUNCED_FOR_EVERYONE = "A reply bounced for every recipient"


@dataclass(frozen=True, slots=True)
class EventInput:
    #: The row (our relay's answer), or what a report's correlation read of it.
    recipient: MessageRecipient | SentRecipient
    kind: str
    source: str
    key: str
    at: datetime
    status_code: str | None = None
    reason: str | None = None
    diagnostic: str | None = None
    remote_mta: str | None = None
    detail: str | None = None
    #: The report's verdict on the address itself (Sisimai's hard bounce): True means it is
    #: dead (unknown user, no such domain), False that it may work again (mailbox full, policy).
    hard: bool | None = None


@dataclass(frozen=True, slots=True)
class Group:
    """The events one report (or one relay answer) brings about one message."""

    message: Message | SentMessage | None
    events: Sequence[EventInput]
    report_id: int | None = None


@dataclass
class Known:
    """What the database holds of the touched recipients: their events, and the statuses of
    every recipient of their messages (by recipient id). Loaded by :func:`load_known`."""

    history: dict[int, list[DeliveryEvent]]
    statuses: dict[int, str]


@dataclass
class Consequences:
    """Everything :func:`apply` writes."""

    rows: list[dict] = field(default_factory=list)
    states: dict[int, RecipientState] = field(default_factory=dict)
    recipients: dict[int, MessageRecipient | SentRecipient] = field(default_factory=dict)
    has_status_row: set[int] = field(default_factory=set)
    marks: list[tuple[str, str, datetime]] = field(default_factory=list)
    reached: list[tuple[str, datetime]] = field(default_factory=list)
    dead_for_everyone: list[Message | SentMessage] = field(default_factory=list)
    announced: dict[Message | SentMessage, dict[int, MessageRecipient | SentRecipient]] = field(default_factory=dict)


#: The event columns the state machine reads (for loading them without whole rows).
STATE_COLUMNS = tuple(f.name for f in fields(DeliveryEvent))


def consequences(groups: Iterable[Group], known: Known, follow: bool = True) -> Consequences:
    """What recording ``groups`` in order changes, as one-by-one recording would: an event
    already known is skipped; after each group its recipients' statuses are folded and (with
    ``follow``) the contact marks, the ticket flag and the announcement are judged."""
    history = {rid: list(events) for rid, events in known.history.items()}
    statuses = dict(known.statuses)
    keys = {(rid, event.key) for rid, events in history.items() for event in events}
    result = Consequences(has_status_row=set(known.statuses))
    for group in groups:
        changed: dict[int, MessageRecipient | SentRecipient] = {}
        new: list[EventInput] = []
        for event in group.events:
            values = event_values(event)
            if (event.recipient.id, values["key"]) in keys:
                continue
            keys.add((event.recipient.id, values["key"]))
            result.rows.append({**values, "report_id": group.report_id})
            history.setdefault(event.recipient.id, []).append(state_event(values))
            changed[event.recipient.id] = event.recipient
            new.append(event)
        for recipient_id, recipient in changed.items():
            result.states[recipient_id] = fold(history[recipient_id])
            result.recipients[recipient_id] = recipient
            statuses[recipient_id] = result.states[recipient_id].status.value
        if not changed or not follow or group.message is None:
            continue
        result.marks += [(e.recipient.address, undeliverable_reason(e), e.at) for e in new
                         if e.kind == EventKind.DSN_FAILED and e.hard is not False]
        result.reached += [(e.recipient.address, e.at) for e in new if e.kind in DELIVERED_KINDS]
        if _dead_for_everyone(group.message, statuses):
            result.dead_for_everyone.append(group.message)
        result.announced.setdefault(group.message, {}).update(changed)
    return result


def _dead_for_everyone(message: Message | SentMessage, statuses: Mapping[int, str]) -> bool:
    return bool(message.recipients) and all(statuses.get(r.id) in DEAD for r in message.recipients)


def apply(result: Consequences) -> None:
    """Write ``result`` (a handful of statements whatever its size; does not commit) and queue
    ``reply_outcome`` for after the commit."""
    if result.rows:
        db.session.execute(_insert_new_events(), result.rows)
    _write_statuses(result)
    mark_all_undeliverable(result.marks)
    record_reached(result.reached)
    for message in result.dead_for_everyone:
        ticket = db.session.get(Message, message.id).ticket
        ticket.attention = BOUNCED_FOR_EVERYONE
        if ticket.department.reopen_on_bounce and ticket.status is not TicketStatus.OPEN:
            ticket.status = TicketStatus.OPEN
    if result.announced:
        announce([(message, list(changed.values())) for message, changed in result.announced.items()])


def load_known(recipients: Iterable[MessageRecipient]) -> Known:
    """The events of these recipients and the statuses of their messages' recipients (two queries)."""
    by_id = {r.id: r for r in recipients}
    history: defaultdict[int, list[DeliveryEvent]] = defaultdict(list)
    statuses: dict[int, str] = {}
    if by_id:
        columns = [getattr(DeliveryEventRow, name) for name in STATE_COLUMNS]
        for row in db.session.execute(select(DeliveryEventRow.recipient_id, *columns)
                                      .where(DeliveryEventRow.recipient_id.in_(by_id))):
            history[row.recipient_id].append(state_event(row._mapping))
        statuses = dict(db.session.execute(
            select(RecipientStatusRow.recipient_id, RecipientStatusRow.status)
            .where(RecipientStatusRow.message_id.in_({r.message_id for r in by_id.values()}))).all())
    return Known(dict(history), statuses)


def lock_recipients(recipients: Iterable[MessageRecipient]) -> None:
    """Hold these recipients' rows until the transaction ends (PostgreSQL ``FOR UPDATE``, in
    id order, so two writers sharing recipients wait for each other instead of deadlocking).
    Another process recording events for them at the same moment (the sender with our relay's
    answer, the poller with a bounce that came back within milliseconds, another worker) then
    reads what this one committed: otherwise each folded a history without the other's event,
    and the second's status row insert failed (or its update hid the other's bounce). SQLite
    has one writer at a time, and a writer whose snapshot is stale is refused (busy), so it
    needs none."""
    ids = sorted({r.id for r in recipients})
    if ids and db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(MessageRecipient.id).where(MessageRecipient.id.in_(ids))
                           .order_by(MessageRecipient.id).with_for_update())


def record(groups: Sequence[Group], follow: bool = True) -> list[MessageRecipient]:
    """Compute and apply the consequences of ``groups`` (does not commit); the recipients whose
    events changed. ``follow=False`` records events and statuses only."""
    recipients = [event.recipient for group in groups for event in group.events]
    lock_recipients(recipients)
    known = load_known(recipients)
    result = consequences(groups, known, follow)
    apply(result)
    return list(result.recipients.values())


def record_events(inputs: Sequence[EventInput], message: Message | None = None) -> list[MessageRecipient]:
    """Record events from outside a report (our relay's answer); with
    ``message``, what follows for its contacts and ticket too. Does not commit."""
    return record([Group(message, inputs)], follow=message is not None)


def event_values(item: EventInput) -> dict:
    """An event's columns (its report aside), cut to the columns' sizes."""
    return dict(recipient_id=item.recipient.id, message_id=item.recipient.message_id, kind=str(item.kind),
                source=str(item.source), key=item.key[:200], at=item.at, status_code=item.status_code,
                reason=item.reason, diagnostic=(item.diagnostic or "")[:4000] or None,
                remote_mta=(item.remote_mta or "")[:500] or None, detail=item.detail)


def state_event(values: Mapping) -> DeliveryEvent:
    """The state machine's event from a mapping of column values (a row's, or ``event_values``)."""
    return DeliveryEvent(**{name: values[name] for name in STATE_COLUMNS})


def status_values(state: RecipientState) -> dict:
    """The status row's columns for ``state`` (the recipient's ids aside)."""
    problem = state.latest_problem
    return dict(status=state.status.value, sent_at=state.sent_at, delivered_at=state.delivered_at,
                first_read_at=state.first_read_at, last_read_at=state.last_read_at, bounced_at=state.bounced_at,
                failed_at=state.failed_at, receipt_declined=state.receipt_declined,
                problem_kind=problem.kind if problem else None,
                problem_status=problem.status_code if problem else None,
                problem_reason=problem.reason if problem else None,
                problem_diagnostic=problem.diagnostic if problem else None,
                problem_remote_mta=problem.remote_mta if problem else None,
                problem_at=problem.at if problem else None)


def bulk_insert(model: type) -> Insert:
    """A bulk INSERT of ``model`` rows that sends None as NULL, so that rows with and without
    a value stay in one multi-row statement (the ORM leaves None out by default, splitting them)."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model).execution_options(render_nulls=True)


def _insert_new_events() -> Insert:
    """Events in bulk; one recorded meanwhile by another worker (a concurrent fetch) is skipped."""
    return bulk_insert(DeliveryEventRow).on_conflict_do_nothing(index_elements=["recipient_id", "key"])


def _write_statuses(result: Consequences) -> None:
    """Update the status rows that exist and insert the others: two statements."""
    if not result.states:
        return
    now = utcnow()
    rows = [{"recipient_id": rid, "message_id": result.recipients[rid].message_id, **status_values(state),
             "updated_at": now} for rid, state in result.states.items()]
    if updates := [row for row in rows if row["recipient_id"] in result.has_status_row]:
        db.session.execute(update(RecipientStatusRow), updates)
    if inserts := [row for row in rows if row["recipient_id"] not in result.has_status_row]:
        db.session.execute(bulk_insert(RecipientStatusRow), inserts)


def announce(outcomes: Sequence[tuple[Message | SentMessage, Sequence[MessageRecipient | SentRecipient]]]) -> None:
    """Send ``reply_outcome`` for these (message, changed recipients) once the current
    transaction has committed, as rows: the messages read again together first (one query,
    where each receiver's first look would otherwise cost one per message), the recipients'
    rows (all of them in one query) only when a receiver first looks at one."""
    app = current_app._get_current_object()
    wanted = [(message.id, [recipient.id for recipient in changed]) for message, changed in outcomes]

    @functools.cache
    def recipient_rows() -> dict[int, MessageRecipient]:
        ids = {recipient_id for _, recipient_ids in wanted for recipient_id in recipient_ids}
        return {row.id: row for row in db.session.scalars(select(MessageRecipient).where(MessageRecipient.id.in_(ids)))}

    def send() -> None:
        messages = {message.id: message for message in db.session.scalars(
            select(Message).where(Message.id.in_([message_id for message_id, _ in wanted]))
            .execution_options(populate_existing=True))}
        reply_outcome.send(app, outcomes=[(messages[message_id], _RowsWhenRead(recipient_ids, recipient_rows))
                                          for message_id, recipient_ids in wanted if message_id in messages])

    after_commit(send)


class _RowsWhenRead(Sequence):
    """The rows of these recipients, read (with the others' of the same announcement, in one
    query) only when first looked at: most receivers never look."""

    def __init__(self, ids: list[int], rows: Callable[[], dict[int, MessageRecipient]]) -> None:
        self._ids, self._rows, self._read = ids, rows, None

    def _list(self) -> list[MessageRecipient]:
        if self._read is None:
            rows = self._rows()
            self._read = [rows[i] for i in self._ids if i in rows]  # a row deleted meanwhile is left out
        return self._read

    def __len__(self) -> int:
        return len(self._list())

    def __getitem__(self, index):
        return self._list()[index]


def undeliverable_reason(item: EventInput) -> str:
    """What the contact's mark says, for agents: the code, its meaning, the server's words."""
    code = f"{item.status_code} " if item.status_code else ""
    said = f" The server said: {item.diagnostic}" if item.diagnostic else ""
    return f"{code}{explain_reason(item.reason, item.status_code)}{said}"[:2000]
