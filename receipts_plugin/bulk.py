"""Recording a batch of received reports at once: the poller's fast path.

One report at a time (:func:`.ingest.ingest`) costs some twenty queries and a commit. A
batch does the same work with a handful of statements whatever its size: which reports are
already recorded (one IN query on identities and UIDs), what they correlate with (three IN
queries, :class:`.ingest.PrefetchedLookup`), the reports and their events inserted in bulk,
the touched recipients' events read once and their statuses written in bulk, one commit.

The result is that of recording the reports one by one in the batch's order: the same rows,
and the same side effects (a hard bounce marks the contact; a reply dead for everyone flags
its ticket, judged after each report as the one-by-one path judges it). ``reply_outcome`` is
sent once per message after the commit, naming every recipient the batch changed.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Insert, insert, select, update

from helpdesk.plugin_api import (db, mark_all_undeliverable, Message, MessageRecipient, record_reached, store_bytes,
                                 utcnow)

from .events import STATE_COLUMNS, EventInput, event_values, state_event, status_values
from .ingest import REPORT_KINDS, IngestResult, PrefetchedLookup, StagedMail, correlate, judge, report_events
from .models import DeliveryEventRow, RecipientStatusRow, StoredReport
from .outcomes import announce, flag_if_dead_for_everyone, hard_bounces, proofs_of_delivery
from .state import DeliveryEvent, RecipientState, fold
from .trust import sender_check


@dataclass
class _New:
    """A staged mail that is no duplicate, and what recording it takes."""

    mail: StagedMail
    digest: str = ""
    row: dict = field(default_factory=dict)
    message: Message | None = None
    events: list[EventInput] = field(default_factory=list)
    report_id: int | None = None


class ReportBatch:
    """Mails staged by :func:`.ingest.ingest` (``batch=``), recorded together by :meth:`record`."""

    def __init__(self) -> None:
        self.staged: list[StagedMail] = []

    def stage(self, mail: StagedMail) -> None:
        self.staged.append(mail)

    def record(self) -> list[IngestResult]:
        """Record the staged mails, idempotently, and commit; their results, in order. On an
        exception (a StorageError, say) nothing is recorded: the caller rolls back, and may go
        one by one."""
        slots, new = self._sort_out()
        if new:
            for item in new:
                item.digest = store_bytes(item.mail.raw)
            _judge(new)
            db.session.execute(_insert(StoredReport), [item.row for item in new])
            # Their ids by their (unique) identities: one query, where INSERT ... RETURNING in
            # parameter order takes a statement per row on SQLite.
            ids = dict(db.session.execute(select(StoredReport.identity, StoredReport.id)
                                          .where(StoredReport.identity.in_([item.mail.identity for item in new]))).all())
            for item in new:
                item.report_id = ids[item.mail.identity]
            _apply_events(new)
        db.session.commit()
        return [_result(slot) for slot in slots]

    def _sort_out(self) -> tuple[list[IngestResult | tuple[_New, bool]], list[_New]]:
        """Per staged mail, in order: its result when it was recorded before, else the new
        report it is (``(new, False)``) or a copy of (``(new, True)``)."""
        recorded = _recorded(self.staged)
        slots: list[IngestResult | tuple[_New, bool]] = []
        new: list[_New] = []
        by_identity: dict[str, _New] = {}
        for mail in self.staged:
            earlier = recorded.get(mail.identity) or recorded.get((mail.mailbox_id, mail.uidvalidity, mail.uid))
            if earlier is not None:
                slots.append(IngestResult("duplicate", earlier[1], earlier[0]))
            elif mail.identity in by_identity:
                slots.append((by_identity[mail.identity], True))
            else:
                by_identity[mail.identity] = _New(mail)
                new.append(by_identity[mail.identity])
                slots.append((new[-1], False))
        return slots, new


def _insert(model: type) -> Insert:
    """A bulk INSERT of ``model`` rows that sends None as NULL, so that rows with and without
    a value stay in one multi-row statement (the ORM leaves None out by default, splitting them)."""
    return insert(model).execution_options(render_nulls=True)


def _result(slot: IngestResult | tuple[_New, bool]) -> IngestResult:
    if isinstance(slot, IngestResult):
        return slot
    item, copy = slot
    return IngestResult("duplicate" if copy else item.row["outcome"], item.mail.report.kind, item.report_id)


def _recorded(staged: list[StagedMail]) -> dict[object, tuple[int, str]]:
    """(id, kind) of the reports already recorded with a staged mail's identity (keyed by the
    identity) or from its mail (keyed by (mailbox, UIDVALIDITY, UID)); one query."""
    condition = StoredReport.identity.in_([m.identity for m in staged])
    uids = [m.uid for m in staged if m.mailbox_id is not None and m.uid is not None]
    if uids:
        mailboxes = {m.mailbox_id for m in staged if m.mailbox_id is not None}
        condition = condition | (StoredReport.mailbox_id.in_(mailboxes) & StoredReport.uid.in_(uids))
    recorded: dict[object, tuple[int, str]] = {}
    for row in db.session.execute(select(StoredReport.id, StoredReport.kind, StoredReport.identity,
                                         StoredReport.mailbox_id, StoredReport.uidvalidity, StoredReport.uid)
                                  .where(condition).order_by(StoredReport.id)):
        recorded.setdefault(row.identity, (row.id, row.kind))
        if row.uid is not None:
            recorded.setdefault((row.mailbox_id, row.uidvalidity, row.uid), (row.id, row.kind))
    return recorded


def _judge(new: list[_New]) -> None:
    """Correlate the new reports (three IN queries in all) and fill in their rows and events."""
    lookup = PrefetchedLookup.for_reports(item.mail.report for item in new if item.mail.report.kind in REPORT_KINDS)
    for item in new:
        report = item.mail.report
        correlation = correlate(report, lookup, sender_check(item.mail.raw)) if report.kind in REPORT_KINDS else None
        verdict = judge(report, correlation)
        item.row = {**item.mail.row(item.digest), "outcome": verdict.outcome, "reason": verdict.reason,
                    "method": verdict.method, "message_id": verdict.message.id if verdict.message else None}
        item.message = verdict.message
        item.events = report_events(report, verdict, item.mail.identity)


def _apply_events(new: list[_New]) -> None:
    """Insert the events not recorded yet; after each report, as the one-by-one path does,
    fold its recipients' statuses and apply what follows (contacts, ticket); then write the
    touched recipients' statuses and queue the ``reply_outcome`` signals."""
    recipients = {event.recipient.id: event.recipient for item in new for event in item.events}
    if not recipients:
        return
    history = _histories(recipients)
    recorded_keys = {(recipient_id, event.key) for recipient_id, events in history.items() for event in events}
    statuses = _statuses_of_messages({r.message_id for r in recipients.values()})
    states: dict[int, RecipientState] = {}
    rows: list[dict] = []
    marks: list[tuple] = []
    reached: list[tuple] = []
    announced: dict[Message, dict[int, MessageRecipient]] = {}
    for item in new:
        changed: dict[int, MessageRecipient] = {}
        for event in item.events:
            values = event_values(event)
            if (event.recipient.id, values["key"]) in recorded_keys:
                continue
            recorded_keys.add((event.recipient.id, values["key"]))
            rows.append({**values, "report_id": item.report_id})
            history[event.recipient.id].append(state_event(values))
            changed[event.recipient.id] = event.recipient
        if not changed:
            continue
        for recipient_id in changed:
            states[recipient_id] = fold(history[recipient_id])
            statuses[recipient_id] = states[recipient_id].status.value
        marks += hard_bounces(item.events, changed.values())
        reached += proofs_of_delivery(item.events, changed.values())
        flag_if_dead_for_everyone(item.message, statuses)
        announced.setdefault(item.message, {}).update(changed)
    if rows:
        db.session.execute(_insert(DeliveryEventRow), rows)
    _write_statuses(states, recipients)
    mark_all_undeliverable(marks)
    record_reached(reached)
    announce([(message, list(changed.values())) for message, changed in announced.items()])


def _histories(recipients: dict[int, MessageRecipient]) -> defaultdict[int, list[DeliveryEvent]]:
    """Every recorded event of these recipients, by recipient id (one query)."""
    columns = [getattr(DeliveryEventRow, name) for name in STATE_COLUMNS]
    history: defaultdict[int, list[DeliveryEvent]] = defaultdict(list)
    for row in db.session.execute(select(DeliveryEventRow.recipient_id, *columns)
                                  .where(DeliveryEventRow.recipient_id.in_(recipients))):
        history[row.recipient_id].append(state_event(row._mapping))
    return history


def _statuses_of_messages(message_ids: set[int]) -> dict[int, str]:
    """Recipient id to status, for every recipient of these messages that has one."""
    rows = db.session.execute(select(RecipientStatusRow.recipient_id, RecipientStatusRow.status)
                              .where(RecipientStatusRow.message_id.in_(message_ids)))
    return {recipient_id: status for recipient_id, status in rows}


def _write_statuses(states: dict[int, RecipientState], recipients: dict[int, MessageRecipient]) -> None:
    """Update the status rows that exist and insert the others: two statements."""
    if not states:
        return
    existing = set(db.session.scalars(select(RecipientStatusRow.recipient_id)
                                      .where(RecipientStatusRow.recipient_id.in_(states))))
    now = utcnow()
    rows = [{"recipient_id": recipient_id, "message_id": recipients[recipient_id].message_id,
             **status_values(state), "updated_at": now} for recipient_id, state in states.items()]
    if updates := [row for row in rows if row["recipient_id"] in existing]:
        db.session.execute(update(RecipientStatusRow), updates)
    if inserts := [row for row in rows if row["recipient_id"] not in existing]:
        db.session.execute(_insert(RecipientStatusRow), inserts)
