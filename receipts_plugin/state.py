"""Per-recipient delivery status from events, and a reply's check-mark state. Pure functions.

A recipient's status is a function of the *set* of its events: order and repetition do not
matter (events are deduplicated by ``key``; times are combined with min/max). The status is
the highest-ranked fact we hold:

    read > deleted (unread) > rejected > bounced > delivered > failed > delayed > sent > unknown

- read: an MDN ``displayed`` or a plain "Read:" notice. A read after a bounce keeps both
  facts (``bounced_at`` stays) and shows read: somebody read it, so it arrived.
- deleted: an MDN ``deleted`` sent on a person's action, or a "Not read:" notice; below read, so
  displayed-then-deleted is read.
- rejected: an MDN ``deleted`` sent automatically, i.e. a mail filter threw the mail away
  unread (Sieve ``reject``, RFC 5429, whose MDN carries the filter's reason). The recipient's
  server had accepted it, so a delivery report may say "delivered" first: rejected outranks it.
  A problem on the reply like a bounce (it reached no person), though the address works.
- bounced: a permanent failure reported after sending (DSN failed, non-standard bounce). It
  outranks delivered because a relay's "delivered/relayed" is often followed by a bounce from
  the next hop, which is the newer truth.
- delivered: a DSN delivered/relayed/expanded, or any MDN (a receipt implies delivery; an MDN
  ``denied`` also means the recipient declined to confirm reading: ``receipt_declined``).
- failed: our relay refused the recipient at send time (the mail never left); ranks below
  delivered because later evidence of delivery (after a retry) is the newer truth.
- delayed: a DSN delayed, or a temporary (4.x.x) bounce; the sender's server keeps trying.
- sent: our relay accepted it. Open-tracking image fetches and downloads are no events here at all (the tracking
  plugin keeps them in its own table), so they never change the status.

A reply whose recipients our relay has not accepted yet (all unknown or refused, not all
refused) is "not sent yet", never "sent": queued for a retry, or only written to the outbox.
"""
from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from .explanations import explain_reason, missing_receipt_reasons

__all__ = ["DeliveryEvent", "Problem", "RecipientState", "RecipientStatus", "RecipientView", "ReplyState",
           "ReplyStateKind", "explain_reason", "fold", "missing_receipt_reasons", "reply_state"]


class RecipientStatus(str, enum.Enum):
    UNKNOWN = "unknown"
    SENT = "sent"
    DELAYED = "delayed"
    FAILED = "failed"
    DELIVERED = "delivered"
    BOUNCED = "bounced"
    REJECTED = "rejected"
    DELETED = "deleted"
    READ = "read"


#: Ranking, lowest first (see the module docstring).
RANK = {status: rank for rank, status in enumerate(RecipientStatus)}

READ_KINDS = frozenset({"mdn-displayed", "read-notice"})
DELETED_KINDS = frozenset({"mdn-deleted", "read-notice-not-read"})
RECEIPT_KINDS = READ_KINDS | DELETED_KINDS | {"mdn-dispatched", "mdn-processed", "mdn-denied", "mdn-failed"}
DELIVERED_KINDS = RECEIPT_KINDS | {"dsn-delivered"}
BOUNCED_KINDS = frozenset({"dsn-failed"})
REJECTED_KINDS = frozenset({"mdn-rejected"})
DELAYED_KINDS = frozenset({"dsn-delayed", "bounce-soft"})
PROBLEM_KINDS = BOUNCED_KINDS | REJECTED_KINDS | DELAYED_KINDS | {"smtp-refused"}
STATUS_OF_KIND = {
    **{k: RecipientStatus.READ for k in READ_KINDS},
    **{k: RecipientStatus.DELETED for k in DELETED_KINDS},
    **{k: RecipientStatus.REJECTED for k in REJECTED_KINDS},
    **{k: RecipientStatus.BOUNCED for k in BOUNCED_KINDS},
    **{k: RecipientStatus.DELIVERED for k in DELIVERED_KINDS - READ_KINDS - DELETED_KINDS},
    "smtp-refused": RecipientStatus.FAILED,
    **{k: RecipientStatus.DELAYED for k in DELAYED_KINDS},
    "smtp-accepted": RecipientStatus.SENT,
}


@dataclass(frozen=True, slots=True)
class DeliveryEvent:
    kind: str
    at: datetime
    key: str
    status_code: str | None = None
    reason: str | None = None
    diagnostic: str | None = None
    remote_mta: str | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str
    at: datetime
    status_code: str | None
    reason: str | None
    diagnostic: str | None
    remote_mta: str | None


@dataclass(frozen=True, slots=True)
class RecipientState:
    status: RecipientStatus
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    first_read_at: datetime | None = None
    last_read_at: datetime | None = None
    bounced_at: datetime | None = None
    failed_at: datetime | None = None
    receipt_declined: bool = False
    latest_problem: Problem | None = None
    events_applied: int = 0


def _sort_key(event: DeliveryEvent) -> tuple:
    return (event.at, event.kind, event.key, event.status_code or "", event.reason or "", event.diagnostic or "")


def _first(events: list[DeliveryEvent], kinds: frozenset[str] | set[str]) -> datetime | None:
    return min((e.at for e in events if e.kind in kinds), default=None)


def fold(events: Iterable[DeliveryEvent]) -> RecipientState:
    """The recipient's state from all its events (order and duplicates do not matter)."""
    unique: dict[str, DeliveryEvent] = {}
    for event in sorted(events, key=_sort_key):
        unique.setdefault(event.key, event)  # same key twice: the earliest, deterministically
    ordered = sorted(unique.values(), key=_sort_key)
    status = max((STATUS_OF_KIND[e.kind] for e in ordered if e.kind in STATUS_OF_KIND),
                 key=RANK.__getitem__, default=RecipientStatus.UNKNOWN)
    problems = [e for e in ordered if e.kind in PROBLEM_KINDS]
    latest = problems[-1] if problems else None
    return RecipientState(
        status=status,
        sent_at=_first(ordered, {"smtp-accepted"}),
        delivered_at=_first(ordered, DELIVERED_KINDS),
        first_read_at=_first(ordered, READ_KINDS),
        last_read_at=max((e.at for e in ordered if e.kind in READ_KINDS), default=None),
        bounced_at=_first(ordered, BOUNCED_KINDS),
        failed_at=_first(ordered, {"smtp-refused"}),
        receipt_declined=any(e.kind == "mdn-denied" for e in ordered),
        latest_problem=Problem(latest.kind, latest.at, latest.status_code, latest.reason, latest.diagnostic,
                               latest.remote_mta) if latest else None,
        events_applied=len(ordered),
    )


class ReplyStateKind(str, enum.Enum):
    NONE = "none"  # receipts were not asked for this reply: show nothing
    NOT_SENT = "not-sent"  # our relay has accepted it for nobody yet (queued, outbox): never a false "sent"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"  # one recipient, who read it
    READ_BY_CC = "read-by-cc"
    READ_BY_TO = "read-by-to"
    READ_BY_ALL = "read-by-all"
    BOUNCED = "bounced"
    FAILED = "failed"


#: A recipient's status, as the panel names it (one table, shared with the check marks' labels).
STATUS_LABELS = {
    RecipientStatus.UNKNOWN: "Not sent yet", RecipientStatus.SENT: "Sent", RecipientStatus.FAILED: "Failed",
    RecipientStatus.DELAYED: "Delayed", RecipientStatus.DELIVERED: "Delivered", RecipientStatus.READ: "Read",
    RecipientStatus.DELETED: "Deleted unread", RecipientStatus.BOUNCED: "Bounced", RecipientStatus.REJECTED: "Rejected",
}
LABELS = {
    ReplyStateKind.NONE: "", ReplyStateKind.NOT_SENT: STATUS_LABELS[RecipientStatus.UNKNOWN],
    ReplyStateKind.SENT: STATUS_LABELS[RecipientStatus.SENT],
    ReplyStateKind.DELIVERED: STATUS_LABELS[RecipientStatus.DELIVERED],
    ReplyStateKind.READ: STATUS_LABELS[RecipientStatus.READ],
    ReplyStateKind.READ_BY_CC: "Read by a CC/BCC recipient",
    ReplyStateKind.READ_BY_TO: "Read by a To recipient", ReplyStateKind.READ_BY_ALL: "Read by all",
    ReplyStateKind.BOUNCED: STATUS_LABELS[RecipientStatus.BOUNCED],
    ReplyStateKind.FAILED: STATUS_LABELS[RecipientStatus.FAILED],
}
CHECKS = {ReplyStateKind.DELIVERED: 1, ReplyStateKind.READ: 2, ReplyStateKind.READ_BY_CC: 2,
          ReplyStateKind.READ_BY_TO: 2, ReplyStateKind.READ_BY_ALL: 2}
ROLE_NAMES = {"to": "To", "cc": "CC", "bcc": "BCC"}
DEAD = frozenset({RecipientStatus.BOUNCED, RecipientStatus.FAILED, RecipientStatus.REJECTED})  # reached nobody
ARRIVED = frozenset({RecipientStatus.DELIVERED, RecipientStatus.DELETED, RecipientStatus.READ})
NOT_LEFT = frozenset({RecipientStatus.UNKNOWN, RecipientStatus.FAILED})  # statuses of mail that never left


@dataclass(frozen=True, slots=True)
class RecipientView:
    role: str  # "to" | "cc" | "bcc"
    status: RecipientStatus
    address: str = ""


@dataclass(frozen=True, slots=True)
class ReplyState:
    state: ReplyStateKind
    label: str
    tooltip: str
    checks: int
    highlight: bool
    partial_problem: bool
    problem_count: int
    recipient_count: int = 0
    #: Shown after the label: "1 of 4 read" for a partial read, "2 of 3" for Delivered.
    counts: str = ""


def _kind(recipients: Sequence[RecipientView]) -> ReplyStateKind:
    statuses = [r.status for r in recipients]
    if all(s is RecipientStatus.FAILED for s in statuses):
        return ReplyStateKind.FAILED
    if all(s in DEAD for s in statuses):
        return ReplyStateKind.BOUNCED
    if all(s in NOT_LEFT for s in statuses):
        return ReplyStateKind.NOT_SENT
    if len(recipients) == 1:
        status = statuses[0]
        return (ReplyStateKind.READ if status is RecipientStatus.READ
                else ReplyStateKind.DELIVERED if status in ARRIVED else ReplyStateKind.SENT)
    if all(s is RecipientStatus.READ for s in statuses):
        return ReplyStateKind.READ_BY_ALL
    if any(r.status is RecipientStatus.READ and r.role == "to" for r in recipients):
        return ReplyStateKind.READ_BY_TO
    if any(r.status is RecipientStatus.READ for r in recipients):
        return ReplyStateKind.READ_BY_CC
    if any(r.status in ARRIVED and r.role in ("to", "cc") for r in recipients):
        return ReplyStateKind.DELIVERED
    return ReplyStateKind.SENT


def _who(recipients: Sequence[RecipientView]) -> str:
    return ", ".join(f"{r.address or 'a recipient'} ({ROLE_NAMES.get(r.role, r.role)})" for r in recipients)


def _tooltip(kind: ReplyStateKind, recipients: Sequence[RecipientView]) -> str:
    """The label, then who read it, who got it and who did not, by address and role."""
    total = len(recipients)
    read = [r for r in recipients if r.status is RecipientStatus.READ]
    arrived = [r for r in recipients if r.status in ARRIVED]
    dead = [r for r in recipients if r.status in DEAD]
    parts = [f"{LABELS[kind]}."]
    if read:
        parts.append(f"Read by {len(read)} of {total}: {_who(read)}.")
    if arrived and kind not in (ReplyStateKind.READ, ReplyStateKind.READ_BY_ALL):
        parts.append(f"Delivered to {len(arrived)} of {total}: {_who(arrived)}.")
    if dead:
        parts.append(f"Not delivered to {len(dead)} of {total}: {', '.join(r.address or '?' for r in dead)}.")
    if kind is ReplyStateKind.SENT:
        parts.append("Our server sent it; no delivery report or read receipt has arrived yet.")
    if kind is ReplyStateKind.NOT_SENT:
        parts.append("Our mail server has not accepted it yet: it waits for another attempt, "
                     "or was only written to the outbox folder.")
    return " ".join(parts)


def _counts(kind: ReplyStateKind, recipients: Sequence[RecipientView]) -> str:
    """What the label needs besides its words to be read without a tooltip (on touch): how
    many of several recipients read or got it, where that is not all or none."""
    total = len(recipients)
    if total < 2:
        return ""
    if kind in (ReplyStateKind.READ_BY_TO, ReplyStateKind.READ_BY_CC):
        return f"{sum(r.status is RecipientStatus.READ for r in recipients)} of {total} read"
    if kind is ReplyStateKind.DELIVERED:
        return f"{sum(r.status in ARRIVED for r in recipients)} of {total}"
    return ""


def reply_state(recipients: Sequence[RecipientView], tracked: bool) -> ReplyState:
    """The check-mark state of one reply, exactly as the product spec's table says."""
    if not tracked or not recipients:
        return ReplyState(ReplyStateKind.NONE, "", "", 0, False, False, 0)
    kind = _kind(recipients)
    problems = sum(r.status in DEAD for r in recipients)
    return ReplyState(
        state=kind, label=LABELS[kind], tooltip=_tooltip(kind, recipients), checks=CHECKS.get(kind, 0),
        highlight=kind in (ReplyStateKind.READ, ReplyStateKind.READ_BY_ALL),
        partial_problem=0 < problems < len(recipients), problem_count=problems, recipient_count=len(recipients),
        counts=_counts(kind, recipients))
