"""The receipts plugin's tables (its own Alembic branch, ``receipts``)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from helpdesk.plugin_api import db, Department, Message, MessageRecipient, UTCDateTime, utcnow


class DepartmentSettings(db.Model):
    """Per-department read receipts switch. No row means off."""

    __tablename__ = "receipts_department_settings"

    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True)
    receipts_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    department: Mapped[Department] = relationship()


class TrackedMessage(db.Model):
    """An outbound message for which receipts were asked (so its state is shown)."""

    __tablename__ = "receipts_tracked_messages"

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    #: RFC 3461 ENVID we gave the relay; comes back as Original-Envelope-Id.
    envid: Mapped[str] = mapped_column(String(100), unique=True)
    per_recipient: Mapped[bool] = mapped_column(Boolean, default=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    message: Mapped[Message] = relationship()


class StoredReport(db.Model):
    """Every report (or report-like mail) the plugin saw, with what it matched.

    Unique by the report's own identity and by where it was read from (mailbox, UIDVALIDITY,
    UID), so reading the same mail twice records nothing new."""

    __tablename__ = "receipts_reports"
    __table_args__ = (
        UniqueConstraint("mailbox_id", "uidvalidity", "uid", name="uq_receipts_reports_mailbox_uid"),
        Index("ix_receipts_reports_outcome_received", "outcome", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    identity: Mapped[str] = mapped_column(String(64), unique=True)
    raw_sha256: Mapped[str] = mapped_column(String(64))
    #: The mail as received, written in the same transaction as the row (no file to write and
    #: flush per report). None for reports recorded before receipts_0005: theirs is the stored
    #: file named by ``raw_sha256``. Loaded only when asked for.
    raw: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    size: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(200))
    mailbox_id: Mapped[int | None] = mapped_column(ForeignKey("receipts_mailboxes.id", ondelete="SET NULL"))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20))
    #: matched | partial | unmatched | suspect | ignored | quarantined
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    method: Mapped[str | None] = mapped_column(String(40))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"), index=True)
    subject: Mapped[str] = mapped_column(String(998), default="")
    from_address: Mapped[str] = mapped_column(String(320), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reprocessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryEventRow(db.Model):
    """Append-only history of what happened to one recipient of one outbound message."""

    __tablename__ = "receipts_events"
    __table_args__ = (UniqueConstraint("recipient_id", "key", name="uq_receipts_events_recipient_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("message_recipients.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_code: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(40))
    diagnostic: Mapped[str | None] = mapped_column(Text)
    remote_mta: Mapped[str | None] = mapped_column(String(500))
    detail: Mapped[str | None] = mapped_column(Text)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("receipts_reports.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[StoredReport | None] = relationship()


class RecipientStatusRow(db.Model):
    """The current state of one recipient, recomputed from its events (never edited by hand)."""

    __tablename__ = "receipts_recipient_status"

    recipient_id: Mapped[int] = mapped_column(ForeignKey("message_recipients.id", ondelete="CASCADE"),
                                              primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    receipt_declined: Mapped[bool] = mapped_column(Boolean, default=False)
    problem_kind: Mapped[str | None] = mapped_column(String(40))
    problem_status: Mapped[str | None] = mapped_column(String(32))
    problem_reason: Mapped[str | None] = mapped_column(String(40))
    problem_diagnostic: Mapped[str | None] = mapped_column(Text)
    problem_remote_mta: Mapped[str | None] = mapped_column(String(500))
    problem_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    recipient: Mapped[MessageRecipient] = relationship()


class Mailbox(db.Model):
    """A mailbox the poller watches for reports (the support inbox or a dedicated one)."""

    __tablename__ = "receipts_mailboxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer, default=993)
    security: Mapped[str] = mapped_column(String(10), default="ssl")  # ssl | starttls | none
    username: Mapped[str] = mapped_column(String(320))
    #: Either a password (kept in the database) or the path of a file holding it.
    password: Mapped[str | None] = mapped_column(Text)
    password_file: Mapped[str | None] = mapped_column(String(500))
    cafile: Mapped[str | None] = mapped_column(String(500))
    verify_cert: Mapped[bool] = mapped_column(Boolean, default=True)
    folder: Mapped[str] = mapped_column(String(255), default="INBOX")
    processed_folder: Mapped[str | None] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Health, written by each poll.
    last_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_outcome: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    total_fetched: Mapped[int] = mapped_column(Integer, default=0)
    total_matched: Mapped[int] = mapped_column(Integer, default=0)
    total_unmatched: Mapped[int] = mapped_column(Integer, default=0)
    total_quarantined: Mapped[int] = mapped_column(Integer, default=0)
