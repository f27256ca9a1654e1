"""From a received report to recorded events: parse, store, correlate, check trust, apply.

Correlation, most trusted first: our signed VERP token (the report was addressed to
``bounces+TOKEN@``); ENVID + ORCPT; Original-Message-ID or the returned original's
Message-ID with the Final-Recipient; In-Reply-To/References. A report that matches nothing
is kept as ``unmatched``; a receipt from or for nobody of that message as ``suspect``.
Correlation only finds whom a report speaks of: whether it may mark them is :mod:`.trust`'s
call (their signed token, or an authenticated sender); what it may not is recorded as
unverified, and the report kept as ``suspect``.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from flask import current_app
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from helpdesk.plugin_api import (db, Message, MessageDirection, MessageRecipient, read_bytes, StorageError,
                                 store_bytes, utcnow)

from .events import EventInput, record_events
from .models import StoredReport, TrackedMessage
from .outcomes import after_events
from .reports import Report, RecipientResult, parse_report
from .tokens import read_verp_token
from .trust import UNVERIFIED, Doubt, SenderCheck, doubt, sender_check

if TYPE_CHECKING:
    from .bulk import ReportBatch

REPORT_KINDS = ("dsn", "bounce", "mdn", "read-notice")
_DELIVERED_ACTIONS = ("delivered", "relayed", "expanded")


class IngestDeferred(RuntimeError):
    """The report could not be stored (e.g. disk full): leave the mail where it is."""


@dataclass(frozen=True, slots=True)
class Match:
    recipient: MessageRecipient
    result: RecipientResult


@dataclass
class Correlation:
    message: Message | None = None
    method: str | None = None
    matches: list[Match] = field(default_factory=list)
    unmatched: list[RecipientResult] = field(default_factory=list)
    suspect: str | None = None
    #: Recipients the report speaks of without evidence bound to them (see :mod:`.trust`).
    doubts: list[Doubt] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class IngestResult:
    outcome: str  # matched | partial | unmatched | suspect | ignored | quarantined | duplicate
    kind: str
    report_id: int | None = None


def dedupe_identity(report: Report, raw: bytes) -> str:
    """The report's own identity, widened by what tells two look-alike reports apart."""
    if report.kind == "none" and not report.message_id:
        return hashlib.sha256(raw).hexdigest()
    extra = "|".join([*report.verp_local_parts, report.original.message_id or ""])
    return hashlib.sha256(f"{report.identity}|{extra}".encode()).hexdigest()


def ingest(raw: bytes, source: str, mailbox_id: int | None = None, uidvalidity: int | None = None,
           uid: int | None = None, report: Report | None = None, batch: ReportBatch | None = None) -> IngestResult:
    """Record one received mail as a report and apply it; idempotent; commits.

    With ``batch``, the mail is only parsed and staged (outcome ``staged``): ``batch.record()``
    then records it with the rest of its batch, in a handful of queries and one commit."""
    report = report or parse_report(raw)
    identity = dedupe_identity(report, raw)
    if batch is not None:
        batch.stage(StagedMail(raw, report, identity, source, mailbox_id, uidvalidity, uid))
        return IngestResult("staged", report.kind)
    seen = already_recorded(identity, mailbox_id, uidvalidity, uid)
    if seen is not None:
        return IngestResult("duplicate", seen.kind, seen.id)
    try:
        digest = store_bytes(raw)
    except StorageError as exc:
        raise IngestDeferred(str(exc)) from exc
    stored = StoredReport(**StagedMail(raw, report, identity, source, mailbox_id, uidvalidity, uid).row(digest))
    db.session.add(stored)
    if report.kind in REPORT_KINDS:
        apply_report(report, stored, raw)
    else:
        stored.reason = judge(report, None).reason
    try:
        db.session.commit()
    except IntegrityError:  # the same report recorded concurrently
        db.session.rollback()
        return IngestResult("duplicate", report.kind)
    return IngestResult(stored.outcome, report.kind, stored.id)


@dataclass(frozen=True, slots=True)
class StagedMail:
    """A received mail, parsed, with where it was read from: what a StoredReport row is made of."""

    raw: bytes
    report: Report
    identity: str
    source: str
    mailbox_id: int | None = None
    uidvalidity: int | None = None
    uid: int | None = None

    def row(self, digest: str) -> dict:
        """The StoredReport's columns before correlation (outcome ``ignored`` until judged)."""
        report = self.report
        return dict(identity=self.identity, raw_sha256=digest, size=len(self.raw), source=self.source[:200],
                    mailbox_id=self.mailbox_id, uidvalidity=self.uidvalidity, uid=self.uid, kind=report.kind,
                    outcome="ignored", subject=(report.subject or "")[:998],
                    from_address=(report.from_addr or "")[:320], summary=summarise(report))


def already_recorded(identity: str, mailbox_id: int | None, uidvalidity: int | None,
                     uid: int | None) -> StoredReport | None:
    """The report recorded from the same mail (mailbox, UIDVALIDITY, UID) or with the same
    identity (the same report delivered twice, or read again after UIDVALIDITY changed)."""
    same = StoredReport.identity == identity
    if mailbox_id is not None and uid is not None:
        same = or_(same, and_(StoredReport.mailbox_id == mailbox_id, StoredReport.uidvalidity == uidvalidity,
                              StoredReport.uid == uid))
    return db.session.scalars(select(StoredReport).where(same).limit(1)).first()


def reapply(stored: StoredReport) -> str:
    """Parse and apply a stored report again (a fixed parser, or its message arrived later).

    Events already recorded are keyed by the report and are not added twice. Commits."""
    raw = read_bytes(stored.raw_sha256)
    report = parse_report(raw)
    stored.kind, stored.summary, stored.reason = report.kind, summarise(report), None
    stored.reprocessed_at = utcnow()
    if report.kind in REPORT_KINDS:
        apply_report(report, stored, raw)
    else:
        stored.outcome = "ignored"
    db.session.commit()
    return stored.outcome


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a report's correlation means for its stored row, and the matches that become events."""

    outcome: str
    reason: str | None = None
    method: str | None = None
    message: Message | None = None
    matches: tuple[Match, ...] = ()
    doubts: tuple[Doubt, ...] = ()


def judge(report: Report, correlation: Correlation | None) -> Verdict:
    """The stored row's outcome and reason (``correlation`` is None for what is no report)."""
    if report.kind not in REPORT_KINDS or correlation is None:
        return Verdict("ignored", "not a delivery report or read receipt" if report.kind == "none"
                       else f"{report.kind}: kept")
    found = dict(method=correlation.method, message=correlation.message)
    if correlation.suspect:
        return Verdict("suspect", correlation.suspect, **found)
    doubts = tuple(correlation.doubts)
    unverified = "; ".join(f"unverified for {d.recipient.address}: {d.why}" for d in doubts)
    if not correlation.matches:
        if doubts:
            return Verdict("suspect", unverified, doubts=doubts, **found)
        return Verdict("unmatched", "no message of ours matches this report" if correlation.message is None
                       else "the report names no recipient of the matched message", **found)
    reasons = [unverified] if doubts else []
    if correlation.unmatched:
        reasons.append("not recipients of the message: " + ", ".join(r.recipient or "?" for r in correlation.unmatched))
    return Verdict("partial" if reasons else "matched", "; ".join(reasons) or None,
                   matches=tuple(correlation.matches), doubts=doubts, **found)


def apply_report(report: Report, stored: StoredReport, raw: bytes) -> None:
    """Correlate, weigh the evidence and record events (does not commit)."""
    verdict = judge(report, correlate(report, sender=sender_check(raw)))
    stored.message_id = verdict.message.id if verdict.message else None
    stored.method = verdict.method
    stored.outcome, stored.reason = verdict.outcome, verdict.reason
    inputs = report_events(report, verdict, stored.identity, stored)
    if not inputs:
        return
    changed = record_events(inputs)
    after_events(verdict.message, changed, inputs)


def report_events(report: Report, verdict: Verdict, identity: str,
                  stored: StoredReport | None = None) -> list[EventInput]:
    """The events a judged report records, one per recipient line with a known kind: what
    it says of the recipients it may mark, and ``unverified-`` events for the others (which
    nothing counts; they show in the recipient's history, saying why)."""
    trusted = [_event(report, match.recipient, match.result, identity, stored) for match in verdict.matches]
    unverified = [_event(report, d.recipient, d.result, identity, stored, d) for d in verdict.doubts]
    return [event for event in (*trusted, *unverified) if event is not None]


def _event(report: Report, recipient: MessageRecipient, result: RecipientResult, identity: str,
           stored: StoredReport | None, doubted: Doubt | None = None) -> EventInput | None:
    kind, source = event_kind(report, result)
    if kind is None:
        return None
    detail = report.mdn.reporting_ua if report.mdn else None
    if doubted is not None:
        kind, detail = UNVERIFIED + kind, doubted.why
    # When it happened: the recipient's last attempt, else when the report was written. The
    # per-message Arrival-Date is when *our* mail reached the reporting server, not the outcome.
    at = _plausible_time(result.last_attempt_date or report.date or result.arrival_date, recipient)
    return EventInput(recipient=recipient, kind=kind, source=source, key=f"{identity}:{kind}", at=at,
                      status_code=result.status, reason=result.reason, diagnostic=result.diagnostic,
                      remote_mta=result.remote_mta, report=stored, hard=result.hard, detail=detail)


def event_kind(report: Report, result: RecipientResult) -> tuple[str | None, str]:
    """The state machine's event kind for one recipient line of a report, and its source."""
    if report.kind in ("mdn", "read-notice"):
        disposition = (report.mdn.disposition if report.mdn else None) or "displayed"
        if report.kind == "read-notice":
            return ("read-notice-not-read" if disposition == "deleted" else "read-notice"), "read-notice"
        if disposition == "deleted" and report.mdn.action_mode == "automatic-action":
            return "mdn-rejected", "mdn"  # no person deleted it: a filter did (a Sieve reject, RFC 5429)
        return (f"mdn-{disposition}" if disposition in
                ("displayed", "deleted", "dispatched", "processed", "denied", "failed") else None), "mdn"
    source = "dsn" if report.kind == "dsn" else "bounce"
    action = (result.action or "").lower()
    if action in _DELIVERED_ACTIONS:
        return "dsn-delivered", source
    if action == "delayed":
        return "dsn-delayed", source
    # The status class decides whether it is final: a 5.x.x failure bounced, whatever its
    # reason class (Sisimai calls some "soft" because the address may work again later).
    status_class = (result.status or "")[:1]
    temporary = status_class == "4" or (status_class != "5" and result.hard is False)
    return ("bounce-soft" if temporary else "dsn-failed"), source


def _plausible_time(value: datetime | None, recipient: MessageRecipient) -> datetime:
    """A report's own date, unless it is missing or impossible (long before we sent, or in the
    future). Never before our relay accepted the mail: report dates have whole seconds and
    clocks drift, and a history must not show a delivery before the sending."""
    now = utcnow()
    message = recipient.message
    sent = recipient.accepted_at or message.sent_at or message.created_at
    if value is None or value.tzinfo is None or value > now + timedelta(hours=1) or value < sent - timedelta(hours=1):
        return now
    return max(value, sent)


class Lookup(Protocol):
    """What correlation asks of the database: one query per question, or a batch's prefetch."""

    def recipient(self, recipient_id: int) -> MessageRecipient | None: ...

    def tracked(self, envid: str) -> Message | None: ...

    def outbound(self, message_id: str) -> Message | None: ...


class DatabaseLookup:
    """Each answer is a query of its own: right for one report at a time."""

    def recipient(self, recipient_id: int) -> MessageRecipient | None:
        return db.session.get(MessageRecipient, recipient_id)

    def tracked(self, envid: str) -> Message | None:
        tracked = db.session.scalar(select(TrackedMessage).where(TrackedMessage.envid == envid))
        return tracked.message if tracked else None

    def outbound(self, message_id: str) -> Message | None:
        return db.session.scalar(select(Message).where(Message.message_id == message_id,
                                                       Message.direction == MessageDirection.OUTBOUND))


class PrefetchedLookup:
    """Everything the correlation of some reports may ask, loaded with three IN queries (the
    messages with their recipients), then answered from memory."""

    def __init__(self, recipients: dict[int, MessageRecipient], tracked: dict[str, Message],
                 outbound: dict[str, Message]) -> None:
        self._recipients, self._tracked, self._outbound = recipients, tracked, outbound

    @classmethod
    def for_reports(cls, reports: Iterable[Report]) -> PrefetchedLookup:
        secret = current_app.config["SECRET_KEY"]
        recipient_ids: set[int] = set()
        envids: set[str] = set()
        message_ids: set[str] = set()
        for report in reports:
            recipient_ids.update(ids[1] for part in report.verp_local_parts
                                 if (ids := read_verp_token(secret, part)) is not None)
            if report.envid:
                envids.add(report.envid)
            message_ids.update(key for key in map(_message_key, _message_id_candidates(report)) if key)
        with_recipients = selectinload(Message.recipients)
        recipients = {r.id: r for r in db.session.scalars(
            select(MessageRecipient).where(MessageRecipient.id.in_(recipient_ids))
            .options(joinedload(MessageRecipient.message).selectinload(Message.recipients)))} if recipient_ids else {}
        tracked = {envid: message for envid, message in db.session.execute(
            select(TrackedMessage.envid, Message).join(Message, Message.id == TrackedMessage.message_id)
            .where(TrackedMessage.envid.in_(envids)).options(with_recipients))} if envids else {}
        outbound = {m.message_id: m for m in db.session.scalars(
            select(Message).where(Message.message_id.in_(message_ids),
                                  Message.direction == MessageDirection.OUTBOUND).options(with_recipients))
                    } if message_ids else {}
        return cls(recipients, tracked, outbound)

    def recipient(self, recipient_id: int) -> MessageRecipient | None:
        return self._recipients.get(recipient_id)

    def tracked(self, envid: str) -> Message | None:
        return self._tracked.get(envid)

    def outbound(self, message_id: str) -> Message | None:
        return self._outbound.get(message_id)


def correlate(report: Report, lookup: Lookup | None = None, sender: SenderCheck | None = None) -> Correlation:
    """The message and recipients the report is about; those it names without evidence bound
    to them (:func:`.trust.doubt`; ``sender`` tells whether its From is authenticated) are
    moved from ``matches`` to ``doubts``."""
    lookup = lookup or DatabaseLookup()
    for method in (_by_token, _by_envid, _by_message_id, _by_thread_headers):
        correlation = method(report, lookup)
        if correlation is not None:
            if report.kind in ("mdn", "read-notice") and method is not _by_token:
                _check_receipt_trust(report, correlation)
            _weigh(report, correlation, sender or (lambda: None))
            return correlation
    return Correlation()


def _weigh(report: Report, correlation: Correlation, sender: SenderCheck) -> None:
    matches, correlation.matches = correlation.matches, []
    for match in matches:
        why = doubt(report, correlation.method, match.recipient, sender)
        if why is None:
            correlation.matches.append(match)
        else:
            correlation.doubts.append(Doubt(match.recipient, match.result, why))


def _addresses(result: RecipientResult) -> list[str]:
    return [a.lower() for a in (result.original_recipient, result.recipient) if a]


def _receipt_addresses(report: Report) -> list[str]:
    """Who a receipt speaks for: its Final-Recipient and Original-Recipient, else its sender."""
    mdn = report.mdn
    named = [mdn.final_recipient, mdn.original_recipient] if mdn else []
    return [a.lower() for a in (*named, report.from_addr) if a]


def _match_by_address(message: Message, report: Report, method: str) -> Correlation:
    by_address = {r.address: r for r in message.recipients}
    correlation = Correlation(message=message, method=method)
    receipt_senders = _receipt_addresses(report) if report.kind in ("mdn", "read-notice") else []
    for result in report.recipients:
        candidates = [*_addresses(result), *receipt_senders]
        recipient = next((by_address[a] for a in candidates if a in by_address), None)
        if recipient is not None:
            correlation.matches.append(Match(recipient, result))
        else:
            correlation.unmatched.append(result)
    return correlation


def _by_token(report: Report, lookup: Lookup) -> Correlation | None:
    secret = current_app.config["SECRET_KEY"]
    for local_part in report.verp_local_parts:
        ids = read_verp_token(secret, local_part)
        if ids is None:
            continue
        recipient = lookup.recipient(ids[1])
        if recipient is None or recipient.message_id != ids[0]:
            continue
        results = report.recipients or (RecipientResult(recipient=recipient.address, action="failed"),)
        # The token names the recipient: forwarding may have changed the final address.
        return Correlation(message=recipient.message, method="verp-token",
                           matches=[Match(recipient, results[0])], unmatched=list(results[1:]))
    return None


def _by_envid(report: Report, lookup: Lookup) -> Correlation | None:
    if not report.envid:
        return None
    message = lookup.tracked(report.envid)
    return _match_by_address(message, report, "envid") if message else None


def _message_key(candidate: str | None) -> str | None:
    """A Message-ID as we store it (without angle brackets), or None."""
    return candidate.strip("<> ") if candidate else None


def _message_id_candidates(report: Report) -> tuple[str | None, ...]:
    """Every Message-ID the report may be about, in the order correlation tries them."""
    original = report.original
    return (report.original_message_id, original.message_id, original.in_reply_to, *reversed(original.references))


def _outbound(lookup: Lookup, candidate: str | None) -> Message | None:
    key = _message_key(candidate)
    return lookup.outbound(key) if key else None


def _by_message_id(report: Report, lookup: Lookup) -> Correlation | None:
    for candidate, method in ((report.original_message_id, "original-message-id"),
                              (report.original.message_id, "returned-headers")):
        message = _outbound(lookup, candidate)
        if message is not None:
            return _match_by_address(message, report, method)
    return None


def _by_thread_headers(report: Report, lookup: Lookup) -> Correlation | None:
    for candidate in (report.original.in_reply_to, *reversed(report.original.references)):
        message = _outbound(lookup, candidate)
        if message is not None:
            return _match_by_address(message, report, "references")
    return None


def _check_receipt_trust(report: Report, correlation: Correlation) -> None:
    """A receipt is trusted only from (or naming) a recipient of the message it is about."""
    if correlation.message is None:
        return
    recipients = {r.address for r in correlation.message.recipients}
    if not set(_receipt_addresses(report)) & recipients:
        correlation.matches.clear()
        correlation.suspect = (f"receipt from {report.from_addr or 'an unknown sender'} names "
                               f"{(report.mdn.final_recipient if report.mdn else None) or 'no recipient'}, "
                               "who did not receive this message")


def summarise(report: Report) -> str:
    lines = [f"kind: {report.kind}"]
    for result in report.recipients:
        lines.append(" ".join(f"{k}={v}" for k, v in (
            ("recipient", result.recipient), ("action", result.action), ("status", result.status),
            ("reason", result.reason), ("hard", result.hard)) if v is not None))
    if report.mdn:
        lines.append(f"disposition: {report.mdn.raw_disposition or report.mdn.disposition}")
    return "\n".join(lines)[:4000]
