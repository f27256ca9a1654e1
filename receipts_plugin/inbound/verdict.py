"""What a correlated report means: its stored row's outcome and reason, and the events it
records. Pure: data in, data out (the time "now" is passed in, so a chunk has one)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..reports import RecipientLine, Report
from ..trust import Doubt
from ..vocabulary import RECEIPT_REPORT_KINDS, REPORT_KINDS, UNVERIFIED, EventKind, EventSource, Outcome, ReportKind
from .consequences import EventInput
from .correlate import Correlation, Match, SentMessage, SentRecipient

_DELIVERED_ACTIONS = ("delivered", "relayed", "expanded")
_MDN_DISPOSITIONS = ("displayed", "deleted", "dispatched", "processed", "denied", "failed")


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a report's correlation means for its stored row, and the matches that become events."""

    outcome: Outcome
    reason: str | None = None
    method: str | None = None
    message: SentMessage | None = None
    matches: tuple[Match, ...] = ()
    doubts: tuple[Doubt, ...] = ()


def verdict(report: Report, correlation: Correlation | None) -> Verdict:
    """The stored row's outcome and reason (``correlation`` is None for what is no report)."""
    if report.kind not in REPORT_KINDS or correlation is None:
        return Verdict(Outcome.IGNORED, "not a delivery report or read receipt" if report.kind == ReportKind.NONE
                       else f"{report.kind}: kept")
    found = dict(method=correlation.method, message=correlation.message)
    if correlation.suspect:
        return Verdict(Outcome.SUSPECT, correlation.suspect, **found)
    doubts = tuple(correlation.doubts)
    unverified = "; ".join(f"unverified for {d.recipient.address}: {d.why}" for d in doubts)
    if not correlation.matches:
        if doubts:
            return Verdict(Outcome.SUSPECT, unverified, doubts=doubts, **found)
        return Verdict(Outcome.UNMATCHED, "no message of ours matches this report" if correlation.message is None
                       else "the report names no recipient of the matched message", **found)
    reasons = [unverified] if doubts else []
    if correlation.unmatched:
        reasons.append("not recipients of the message: " + ", ".join(r.recipient or "?" for r in correlation.unmatched))
    return Verdict(Outcome.PARTIAL if reasons else Outcome.MATCHED, "; ".join(reasons) or None,
                   matches=tuple(correlation.matches), doubts=doubts, **found)


def report_events(report: Report, judged: Verdict, identity: str, now: datetime) -> list[EventInput]:
    """The events a judged report records, one per recipient line with a known kind: what
    it says of the recipients it may mark, and ``unverified-`` events for the others (which
    nothing counts; they show in the recipient's history, saying why)."""
    trusted = [_event(report, match.recipient, match.result, identity, now) for match in judged.matches]
    unverified = [_event(report, d.recipient, d.result, identity, now, d) for d in judged.doubts]
    return [event for event in (*trusted, *unverified) if event is not None]


def _event(report: Report, recipient: SentRecipient, result: RecipientLine, identity: str, now: datetime,
           doubted: Doubt | None = None) -> EventInput | None:
    kind, source = event_kind(report, result)
    if kind is None:
        return None
    detail = report.mdn.reporting_ua if report.mdn else None
    if doubted is not None:
        kind, detail = UNVERIFIED + kind, doubted.why
    # When it happened: the recipient's last attempt, else when the report was written. The
    # per-message Arrival-Date is when *our* mail reached the reporting server, not the outcome.
    at = plausible_time(result.last_attempt_date or report.date or result.arrival_date, recipient, now)
    return EventInput(recipient=recipient, kind=kind, source=source, key=f"{identity}:{kind}", at=at,
                      status_code=result.status, reason=result.reason, diagnostic=result.diagnostic,
                      remote_mta=result.remote_mta, hard=result.hard, detail=detail)


def event_kind(report: Report, result: RecipientLine) -> tuple[EventKind | None, EventSource]:
    """The state machine's event kind for one recipient line of a report, and its source."""
    if report.kind in RECEIPT_REPORT_KINDS:
        disposition = (report.mdn.disposition if report.mdn else None) or "displayed"
        if report.kind == ReportKind.READ_NOTICE:
            return (EventKind.READ_NOTICE_NOT_READ if disposition == "deleted" else EventKind.READ_NOTICE,
                    EventSource.READ_NOTICE)
        if disposition == "deleted" and report.mdn.action_mode == "automatic-action":
            return EventKind.MDN_REJECTED, EventSource.MDN  # no person deleted it: a filter did (a Sieve reject, RFC 5429)
        return (EventKind(f"mdn-{disposition}") if disposition in _MDN_DISPOSITIONS else None), EventSource.MDN
    source = EventSource.DSN if report.kind == ReportKind.DSN else EventSource.BOUNCE
    action = (result.action or "").lower()
    if action in _DELIVERED_ACTIONS:
        return EventKind.DSN_DELIVERED, source
    if action == "delayed":
        return EventKind.DSN_DELAYED, source
    # The status class decides whether it is final: a 5.x.x failure bounced, whatever its
    # reason class (Sisimai calls some "soft" because the address may work again later).
    status_class = (result.status or "")[:1]
    temporary = status_class == "4" or (status_class != "5" and result.hard is False)
    return (EventKind.BOUNCE_SOFT if temporary else EventKind.DSN_FAILED), source


def plausible_time(value: datetime | None, recipient: SentRecipient, now: datetime) -> datetime:
    """A report's own date, unless it is missing or impossible (long before we sent, or in the
    future). Never before our relay accepted the mail: report dates have whole seconds and
    clocks drift, and a history must not show a delivery before the sending."""
    message = recipient.message
    sent = recipient.accepted_at or message.sent_at or message.created_at
    if value is None or value.tzinfo is None or value > now + timedelta(hours=1) or value < sent - timedelta(hours=1):
        return now
    return max(value, sent)


def dedupe_identity(report: Report, raw: bytes) -> str:
    """The report's own identity, widened by what tells two look-alike reports apart."""
    if report.kind == ReportKind.NONE and not report.message_id:
        return hashlib.sha256(raw).hexdigest()
    extra = "|".join([*report.verp_local_parts, report.original.message_id or ""])
    return hashlib.sha256(f"{report.identity}|{extra}".encode()).hexdigest()


def summarise(report: Report) -> str:
    """The stored row's summary of what the parser read (shown on the report's page)."""
    lines = [f"kind: {report.kind}"]
    for result in report.recipients:
        lines.append(" ".join(f"{k}={v}" for k, v in (
            ("recipient", result.recipient), ("action", result.action), ("status", result.status),
            ("reason", result.reason), ("hard", result.hard)) if v is not None))
    if report.mdn:
        lines.append(f"disposition: {report.mdn.raw_disposition or report.mdn.disposition}")
    return "\n".join(lines)[:4000]
