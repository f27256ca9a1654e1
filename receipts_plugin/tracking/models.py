"""Tables of the tracking plugin: its switches and its events (its own Alembic branch,
``tracking``), and the download links, message tracking and notification tables that date
from before it was a plugin of its own (created by receipts_0002 and _0003, hence their names).

What a reply went out with is decided at its first send attempt and kept
(:class:`MessageTracking`), so retries and the panel agree. Notifications go through an
outbox: one :class:`NotificationItem` per fact (unique per agent), grouped into
:class:`NotificationBatch` rows, one per email; a batch's ``sent_at`` is the marker that
keeps a restarted worker from sending it again.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.plugin_api import Agent, db, Department, Message, MessageRecipient, UTCDateTime, utcnow


class TrackingSettings(db.Model):
    """A department's tracking switches (off by default, for privacy). No row means both off."""

    __tablename__ = "tracking_department_settings"

    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True)
    open_tracking: Mapped[bool] = mapped_column(Boolean, default=False)
    download_links: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    department: Mapped[Department] = relationship()


class TrackingEvent(db.Model):
    """One fetch of a recipient's tracking image or download link. Append-only and unique per
    (recipient, key); no delivery event, so recording one recomputes no status."""

    __tablename__ = "tracking_events"
    __table_args__ = (UniqueConstraint("recipient_id", "key", name="uq_tracking_events_recipient_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("message_recipients.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # pixel-open | pixel-automated | download
    source: Mapped[str] = mapped_column(String(20))  # pixel | link
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: JSON: the fetch's verdict (automated, rule, label) and, for a download, the file.
    detail: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LinkOptions(db.Model):
    """How a department's download links work (the on/off switch is ``TrackingSettings.download_links``)."""

    __tablename__ = "receipts_link_options"

    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True)
    #: False: links instead of the attached files; True: links beside them.
    keep_attachments: Mapped[bool] = mapped_column(Boolean, default=False)
    link_days: Mapped[int] = mapped_column(Integer, default=30)

    department: Mapped[Department] = relationship()


class MessageTracking(db.Model):
    """Download links and the open-tracking image of one reply, as decided at its first attempt."""

    __tablename__ = "receipts_message_tracking"

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    download_links: Mapped[bool] = mapped_column(Boolean, default=False)
    keep_attachments: Mapped[bool] = mapped_column(Boolean, default=False)
    open_tracking: Mapped[bool] = mapped_column(Boolean, default=False)
    links_expire_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    links_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    links_revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    message: Mapped[Message] = relationship()
    links_revoked_by: Mapped[Agent | None] = relationship()

    @property
    def links_revocable(self) -> bool:
        """The reply went out with download links, and an agent has not withdrawn them all."""
        return self.download_links and self.links_revoked_at is None


class LinkRevocation(db.Model):
    """One recipient's download links of a reply, withdrawn by an agent (a CC sent by mistake,
    say) while the other recipients keep theirs."""

    __tablename__ = "receipts_link_revocations"

    recipient_id: Mapped[int] = mapped_column(ForeignKey("message_recipients.id", ondelete="CASCADE"),
                                              primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))

    revoked_by: Mapped[Agent | None] = relationship()


class NotificationPreferences(db.Model):
    """What an agent wants to be told. No row means everything off."""

    __tablename__ = "receipts_notification_preferences"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    notify_read: Mapped[bool] = mapped_column(Boolean, default=False)
    notify_bounce: Mapped[bool] = mapped_column(Boolean, default=False)
    #: "immediate" or "digest" (read notifications; bounces are always immediate).
    delivery: Mapped[str] = mapped_column(String(10), default="immediate")
    digest_days: Mapped[int] = mapped_column(Integer, default=1)
    #: The agent's local date the N-day digest cycle counts from (set when the cycle changes).
    digest_anchor: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    agent: Mapped[Agent] = relationship()


class NotificationBatch(db.Model):
    """One notification email (a single item, or a digest). Unique per agent and key, so the
    same digest day or item is never put into two emails."""

    __tablename__ = "receipts_notification_batches"
    __table_args__ = (UniqueConstraint("agent_id", "key", name="uq_receipts_notification_batches_agent_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    #: "item:<item id>" for an immediate email, "digest:<agent's local date>" for a digest.
    key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))  # immediate | digest
    #: Made once, so a resend (see the README's at-least-once window) has the same Message-ID.
    mail_message_id: Mapped[str] = mapped_column(String(200), unique=True)
    covers_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    agent: Mapped[Agent] = relationship()
    items: Mapped[list[NotificationItem]] = relationship(
        back_populates="batch", order_by="(NotificationItem.happened_at, NotificationItem.id)")


class NotificationItem(db.Model):
    """One thing to tell an agent: a recipient read their reply, or it bounced for everyone.

    Unique per agent and fact (``read:<recipient id>``, ``bounce:<message id>``): the same
    receipt reported twice makes one item."""

    __tablename__ = "receipts_notification_items"
    __table_args__ = (UniqueConstraint("agent_id", "key", name="uq_receipts_notification_items_agent_key"),
                      Index("ix_receipts_notification_items_pending", "batch_id", "discarded_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # read | bounce
    key: Mapped[str] = mapped_column(String(100))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("message_recipients.id", ondelete="CASCADE"))
    #: When it happened (the read time the receipt gives); shown in the email.
    happened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When the desk learned it (the clock of the receiver); digests are cut by this time.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("receipts_notification_batches.id", ondelete="CASCADE"))
    #: Set instead of sending when the agent turned this kind of notification off meanwhile.
    discarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    message: Mapped[Message] = relationship()
    recipient: Mapped[MessageRecipient | None] = relationship()
    batch: Mapped[NotificationBatch | None] = relationship(back_populates="items")
