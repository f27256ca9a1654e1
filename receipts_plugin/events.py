"""Recording delivery events and recomputing each recipient's status from all of them.

Events are append-only and unique per (recipient, key), so recording the same report twice
adds nothing; the status is always ``fold`` of the full event set, so it does not depend on
the order in which reports arrived.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from helpdesk.plugin_api import db, MessageRecipient

from .models import DeliveryEventRow, RecipientStatusRow, StoredReport
from .state import DeliveryEvent, RecipientState, fold


@dataclass(frozen=True, slots=True)
class EventInput:
    recipient: MessageRecipient
    kind: str
    source: str
    key: str
    at: datetime
    status_code: str | None = None
    reason: str | None = None
    diagnostic: str | None = None
    remote_mta: str | None = None
    detail: str | None = None
    report: StoredReport | None = None
    #: The report's verdict on the address itself (Sisimai's hard bounce): True means it is
    #: dead (unknown user, no such domain), False that it may work again (mailbox full, policy).
    hard: bool | None = None


def record_events(inputs: Iterable[EventInput]) -> list[MessageRecipient]:
    """Add the events not yet recorded and refresh the touched recipients' status.

    Does not commit. Returns the recipients whose events changed."""
    changed: dict[int, MessageRecipient] = {}
    for item in inputs:
        exists = db.session.scalar(select(DeliveryEventRow.id).where(
            DeliveryEventRow.recipient_id == item.recipient.id, DeliveryEventRow.key == item.key[:200]))
        if exists is not None:
            continue
        row = DeliveryEventRow(**event_values(item), report=item.report)
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:  # recorded concurrently by another worker
            continue
        changed[item.recipient.id] = item.recipient
    for recipient in changed.values():
        refresh_status(recipient)
    return list(changed.values())


def event_values(item: EventInput) -> dict:
    """An event's columns (its report aside), cut to the columns' sizes."""
    return dict(recipient_id=item.recipient.id, message_id=item.recipient.message_id, kind=item.kind,
                source=item.source, key=item.key[:200], at=item.at, status_code=item.status_code,
                reason=item.reason, diagnostic=(item.diagnostic or "")[:4000] or None,
                remote_mta=(item.remote_mta or "")[:500] or None, detail=item.detail)


def events_of(recipient_id: int) -> list[DeliveryEventRow]:
    return list(db.session.scalars(select(DeliveryEventRow).where(DeliveryEventRow.recipient_id == recipient_id)
                                   .order_by(DeliveryEventRow.at, DeliveryEventRow.id)))


#: The event columns the state machine reads (for loading them without whole rows).
STATE_COLUMNS = tuple(field.name for field in fields(DeliveryEvent))


def as_event(row: DeliveryEventRow) -> DeliveryEvent:
    return DeliveryEvent(**{name: getattr(row, name) for name in STATE_COLUMNS})


def state_event(values: Mapping) -> DeliveryEvent:
    """The state machine's event from a mapping of column values (a row's, or ``event_values``)."""
    return DeliveryEvent(**{name: values[name] for name in STATE_COLUMNS})


def refresh_status(recipient: MessageRecipient) -> RecipientState:
    state = fold(as_event(row) for row in events_of(recipient.id))
    row = db.session.get(RecipientStatusRow, recipient.id)
    if row is None:
        row = RecipientStatusRow(recipient_id=recipient.id, message_id=recipient.message_id)
        db.session.add(row)
    for column, value in status_values(state).items():
        setattr(row, column, value)
    return state


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
