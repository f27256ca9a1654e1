"""The plugin's vocabulary, defined once: report kinds, what became of a received mail, event
kinds and sources. ``StrEnum`` members equal their strings, so rows, templates and the pure
``reports/`` package (which speaks plain strings) compare with them unchanged."""
from __future__ import annotations

from enum import StrEnum


class ReportKind(StrEnum):
    """What the parser made of a received mail (``reports.Report.kind``)."""

    DSN = "dsn"
    BOUNCE = "bounce"
    MDN = "mdn"
    READ_NOTICE = "read-notice"
    AUTO_REPLY = "auto-reply"
    FEEDBACK = "feedback"
    NONE = "none"
    #: A quarantined mail: it could not be read or recorded.
    UNKNOWN = "unknown"


#: The kinds that speak of our recipients and become events.
REPORT_KINDS = frozenset({ReportKind.DSN, ReportKind.BOUNCE, ReportKind.MDN, ReportKind.READ_NOTICE})
#: The kinds that are receipts (a person's or their system's answer), not delivery reports.
RECEIPT_REPORT_KINDS = frozenset({ReportKind.MDN, ReportKind.READ_NOTICE})
#: What the support inbox hands to the plugin instead of making a ticket of it.
CLAIMED_KINDS = REPORT_KINDS | {ReportKind.FEEDBACK}


class Outcome(StrEnum):
    """What recording a received mail came to (``StoredReport.outcome``)."""

    MATCHED = "matched"
    PARTIAL = "partial"
    UNMATCHED = "unmatched"
    SUSPECT = "suspect"
    IGNORED = "ignored"
    QUARANTINED = "quarantined"
    DUPLICATE = "duplicate"


class EventKind(StrEnum):
    """A delivery event's kind: what the state machine (:mod:`..state`) folds."""

    SMTP_ACCEPTED = "smtp-accepted"
    SMTP_REFUSED = "smtp-refused"
    DSN_DELIVERED = "dsn-delivered"
    DSN_DELAYED = "dsn-delayed"
    DSN_FAILED = "dsn-failed"
    BOUNCE_SOFT = "bounce-soft"
    MDN_DISPLAYED = "mdn-displayed"
    MDN_DELETED = "mdn-deleted"
    MDN_DISPATCHED = "mdn-dispatched"
    MDN_PROCESSED = "mdn-processed"
    MDN_DENIED = "mdn-denied"
    MDN_FAILED = "mdn-failed"
    MDN_REJECTED = "mdn-rejected"
    READ_NOTICE = "read-notice"
    READ_NOTICE_NOT_READ = "read-notice-not-read"


class EventSource(StrEnum):
    """Where an event came from (``DeliveryEventRow.source``)."""

    SMTP = "smtp"
    DSN = "dsn"
    BOUNCE = "bounce"
    MDN = "mdn"
    READ_NOTICE = "read-notice"


#: The prefix of an event a report stated without evidence bound to its recipient (:mod:`..trust`).
UNVERIFIED = "unverified-"
