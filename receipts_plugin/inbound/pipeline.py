"""The one write path for received mail: :func:`record_chunk` records 1..N mails in one
transaction, and :func:`record` wraps it in the one fallback policy.

A mail is parsed once (:func:`read_mail`), then the chunk goes through stages that return
data: which mails are recorded already (one query), :func:`.correlate.correlate` against one
prefetch for the whole chunk, the pure :func:`.verdict.verdict`, the reports' rows inserted in
bulk, the pure :func:`.consequences.consequences` of their events applied in one call, one
commit. The poller, the support-inbox handler, the CLI and reprocessing all come here.

The fallback policy (:func:`record`): a chunk that fails is recorded again mail by mail, from
the mails already parsed; a mail that still fails is quarantined with its reason; a database
outage stops at once, leaving what is not recorded to be read again. A mail's raw copy is kept
in its report's row, written in the same transaction (no file per report to write and flush).
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from helpdesk.plugin_api import db, is_database_outage, read_bytes, utcnow

from ..models import StoredReport
from ..reports import Report, parse_report
from ..trust import sender_check
from ..vocabulary import REPORT_KINDS, Outcome, ReportKind
from . import consequences
from .correlate import PrefetchedLookup, correlate
from .verdict import dedupe_identity, report_events, summarise, verdict

log = logging.getLogger(__name__)


class IngestDeferred(RuntimeError):
    """The database is away: leave the mail where it is, to be read again."""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a mail was read from."""

    source: str
    mailbox_id: int | None = None
    uidvalidity: int | None = None
    uid: int | None = None


@dataclass(frozen=True, slots=True)
class Mail:
    """A received mail, parsed (once), with where it came from. ``stored`` is set when an
    already recorded report is processed again (:func:`reapply`)."""

    raw: bytes
    report: Report
    identity: str
    origin: Origin
    stored: StoredReport | None = None


@dataclass(frozen=True, slots=True)
class IngestResult:
    outcome: Outcome
    kind: str
    report_id: int | None = None


@dataclass
class Recorded:
    """What :func:`record` did: one result per mail, in order (fewer when ``stopped``)."""

    results: list[IngestResult] = field(default_factory=list)
    #: Why it stopped early (the rest was not recorded and is to be read again), else None.
    stopped: str | None = None


def read_mail(raw: bytes, origin: Origin, report: Report | None = None) -> Mail:
    """The one parse of a mail (``report`` when the caller parsed it already)."""
    report = report or parse_report(raw)
    return Mail(raw, report, dedupe_identity(report, raw), origin)


def ingest(raw: bytes, source: str, mailbox_id: int | None = None, uidvalidity: int | None = None,
           uid: int | None = None, report: Report | None = None) -> IngestResult:
    """Record one mail (a chunk of one, under the fallback policy); idempotent; commits.
    Raises :class:`IngestDeferred` when it could not be recorded for now."""
    origin = Origin(source, mailbox_id, uidvalidity, uid)
    try:
        mail = read_mail(raw, origin, report)
    except Exception as exc:  # noqa: BLE001 - a mail the parser chokes on is kept, not lost
        return quarantine(origin, raw, failure_reason(exc))
    done = record([mail])
    if done.stopped:
        raise IngestDeferred(done.stopped)
    return done.results[0]


def reapply(stored: StoredReport) -> str:
    """Parse and apply a stored report again (a fixed parser, or its message arrived later).

    Events already recorded are keyed by the report and are not added twice. Commits."""
    raw = raw_copy(stored)
    origin = Origin(stored.source, stored.mailbox_id, stored.uidvalidity, stored.uid)
    report = parse_report(raw)
    return record_chunk([Mail(raw, report, stored.identity, origin, stored)])[0].outcome


def raw_copy(stored: StoredReport) -> bytes:
    """The mail a report was read from: in its row, or (recorded before receipts_0005) in the
    file its SHA-256 names."""
    return stored.raw if stored.raw is not None else read_bytes(stored.raw_sha256)


def record(mails: Sequence[Mail]) -> Recorded:
    """:func:`record_chunk` under the fallback policy (see the module's docstring). Commits."""
    done = Recorded()
    if not mails:
        return done
    try:
        done.results = record_chunk(mails)
        return done
    except Exception as exc:  # noqa: BLE001 - mail by mail, so that only the mail at fault is quarantined
        db.session.rollback()
        if len(mails) == 1 or is_database_outage(exc):
            _failed(done, mails[0], exc)
            return done
        log.warning("a chunk of %d mails could not be recorded together (%s: %s); mail by mail now",
                    len(mails), type(exc).__name__, exc)
    for mail in mails:  # parsed already: nothing is parsed twice
        try:
            done.results += record_chunk([mail])
        except Exception as exc:  # noqa: BLE001 - one bad mail never stops the rest
            db.session.rollback()
            if _failed(done, mail, exc):
                break
    return done


def _failed(done: Recorded, mail: Mail, exc: Exception) -> bool:
    """After recording ``mail`` raised ``exc``: quarantine it with its reason (False), or say in
    ``done`` why everything stops here (True: the database is away)."""
    if is_database_outage(exc):
        done.stopped = f"database unavailable: {type(exc).__name__}"
        return True
    log.error("mail from %s (uid %s) could not be recorded", mail.origin.source, mail.origin.uid, exc_info=exc)
    try:
        done.results.append(quarantine(mail.origin, mail.raw, failure_reason(exc)))
    except Exception as again:
        db.session.rollback()
        if not is_database_outage(again):
            raise
        done.stopped = f"database unavailable: {type(again).__name__}"
        return True
    return False


def failure_reason(exc: Exception) -> str:
    """A quarantined mail's reason when processing it raised ``exc``."""
    return f"processing failed: {type(exc).__name__}: {exc}"


def quarantine(origin: Origin, raw: bytes, reason: str) -> IngestResult:
    """Keep a mail that cannot be recorded as a report, with why; commits."""
    db.session.rollback()
    identity = hashlib.sha256(b"quarantine:" + raw).hexdigest()
    duplicate = IngestResult(Outcome.DUPLICATE, ReportKind.UNKNOWN)
    if db.session.scalar(select(StoredReport.id).where(StoredReport.identity == identity)) is not None:
        return duplicate
    row = StoredReport(identity=identity, raw_sha256=hashlib.sha256(raw).hexdigest(), raw=raw, size=len(raw),
                       source=origin.source[:200], mailbox_id=origin.mailbox_id, uidvalidity=origin.uidvalidity,
                       uid=origin.uid, kind=ReportKind.UNKNOWN, outcome=Outcome.QUARANTINED, reason=reason[:2000])
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:  # this UID was already recorded (a poll cut short after its commit)
        db.session.rollback()
        return duplicate
    return IngestResult(Outcome.QUARANTINED, ReportKind.UNKNOWN, row.id)


def record_chunk(mails: Sequence[Mail]) -> list[IngestResult]:
    """Record ``mails`` idempotently in one transaction and commit; their results, in order
    (as if recorded one by one: a copy of an earlier mail of the chunk is a duplicate). On an
    exception nothing is recorded: the caller rolls back (:func:`record` does)."""
    slots, new = _sort_out(mails)
    if new:
        now = utcnow()
        lookup = PrefetchedLookup.for_reports(item.mail.report for item in new if item.mail.report.kind in REPORT_KINDS)
        for item in new:
            _judge(item, lookup, now)
        _insert_reports(new)
        consequences.apply(consequences.consequences(
            [consequences.Group(item.message, item.events, item.report_id) for item in new],
            consequences.load_known(event.recipient for item in new for event in item.events)))
    try:
        db.session.commit()
    except IntegrityError:  # the same report recorded concurrently
        db.session.rollback()
        if len(mails) > 1:
            raise
        return [IngestResult(Outcome.DUPLICATE, mails[0].report.kind)]
    return [_result(slot) for slot in slots]


@dataclass
class _New:
    """A mail of the chunk that is no duplicate, and what recording it takes."""

    mail: Mail
    row: dict = field(default_factory=dict)
    message: object = None
    events: list = field(default_factory=list)
    report_id: int | None = None


def _sort_out(mails: Sequence[Mail]) -> tuple[list[IngestResult | tuple[_New, bool]], list[_New]]:
    """Per mail, in order: its result when it was recorded before, else the new report it is
    (``(new, False)``) or a copy of (``(new, True)``). A reprocessed mail is always new."""
    recorded = _recorded([m for m in mails if m.stored is None])
    slots: list[IngestResult | tuple[_New, bool]] = []
    new: list[_New] = []
    by_identity: dict[str, _New] = {}
    for mail in mails:
        origin = mail.origin
        earlier = None if mail.stored is not None else (
            recorded.get(mail.identity) or recorded.get((origin.mailbox_id, origin.uidvalidity, origin.uid)))
        if earlier is not None:
            slots.append(IngestResult(Outcome.DUPLICATE, earlier[1], earlier[0]))
        elif mail.identity in by_identity:
            slots.append((by_identity[mail.identity], True))
        else:
            by_identity[mail.identity] = _New(mail)
            new.append(by_identity[mail.identity])
            slots.append((new[-1], False))
    return slots, new


def _recorded(mails: Sequence[Mail]) -> dict[object, tuple[int, str]]:
    """(id, kind) of the reports already recorded with a mail's identity (keyed by the
    identity) or from its mail (keyed by (mailbox, UIDVALIDITY, UID)); one query."""
    if not mails:
        return {}
    condition = StoredReport.identity.in_([m.identity for m in mails])
    uids = [m.origin.uid for m in mails if m.origin.mailbox_id is not None and m.origin.uid is not None]
    if uids:
        mailboxes = {m.origin.mailbox_id for m in mails if m.origin.mailbox_id is not None}
        condition = condition | (StoredReport.mailbox_id.in_(mailboxes) & StoredReport.uid.in_(uids))
    recorded: dict[object, tuple[int, str]] = {}
    for row in db.session.execute(select(StoredReport.id, StoredReport.kind, StoredReport.identity,
                                         StoredReport.mailbox_id, StoredReport.uidvalidity, StoredReport.uid)
                                  .where(condition).order_by(StoredReport.id)):
        recorded.setdefault(row.identity, (row.id, row.kind))
        if row.uid is not None:
            recorded.setdefault((row.mailbox_id, row.uidvalidity, row.uid), (row.id, row.kind))
    return recorded


def _judge(item: _New, lookup: PrefetchedLookup, now) -> None:
    """Correlate one mail of the chunk and fill in its row and events."""
    mail, report = item.mail, item.mail.report
    correlation = correlate(report, lookup, sender_check(mail.raw)) if report.kind in REPORT_KINDS else None
    judged = verdict(report, correlation)
    reason = judged.reason
    if mail.stored is not None and correlation is None:
        reason = None  # reprocessed into no report: kept without a reason, as first recorded
    item.row = dict(identity=mail.identity, raw_sha256=hashlib.sha256(mail.raw).hexdigest(), raw=mail.raw,
                    size=len(mail.raw), source=mail.origin.source[:200], mailbox_id=mail.origin.mailbox_id,
                    uidvalidity=mail.origin.uidvalidity, uid=mail.origin.uid, kind=report.kind,
                    subject=(report.subject or "")[:998], from_address=(report.from_addr or "")[:320],
                    summary=summarise(report), outcome=judged.outcome, reason=reason, method=judged.method,
                    message_id=judged.message.id if judged.message else None)
    item.message = judged.message
    item.events = report_events(report, judged, mail.identity, now)


def _insert_reports(new: list[_New]) -> None:
    """Insert the new reports in one statement (update a reprocessed one) and learn their ids."""
    fresh = [item for item in new if item.mail.stored is None]
    if fresh:
        db.session.execute(consequences.bulk_insert(StoredReport), [item.row for item in fresh])
        # Their ids by their (unique) identities: one query, where INSERT ... RETURNING in
        # parameter order takes a statement per row on SQLite.
        ids = dict(db.session.execute(select(StoredReport.identity, StoredReport.id)
                                      .where(StoredReport.identity.in_([item.mail.identity for item in fresh]))).all())
        for item in fresh:
            item.report_id = ids[item.mail.identity]
    for item in new:
        stored = item.mail.stored
        if stored is not None:
            for column in ("kind", "summary", "outcome", "reason", "method", "message_id"):
                setattr(stored, column, item.row[column])
            stored.reprocessed_at = utcnow()
            item.report_id = stored.id


def _result(slot: IngestResult | tuple[_New, bool]) -> IngestResult:
    if isinstance(slot, IngestResult):
        return slot
    item, copy = slot
    return IngestResult(Outcome.DUPLICATE if copy else item.row["outcome"], item.mail.report.kind, item.report_id)
