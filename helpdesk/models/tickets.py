"""Tickets and their threads: messages, recipients, attachments, and the intake log."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..mail.addresses import mailbox_text
from .base import UTCDateTime, str_enum, utcnow
from .people import Agent, Contact, Department


class TicketStatus(enum.Enum):
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"


class TicketPriority(enum.Enum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Channel(enum.Enum):
    EMAIL = "email"
    WEB = "web"
    PHONE = "phone"


class MessageDirection(enum.Enum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    NOTE = "note"


class SendState(enum.Enum):
    """Where an outbound message is on its way out."""

    QUEUED = "queued"  # stored, waiting for (another) attempt
    SENT = "sent"  # the relay accepted it for every recipient that it did not refuse
    FAILED = "failed"  # refused for every recipient, or retries exhausted
    OUTBOX = "outbox"  # no SMTP configured: written to the outbox folder, not sent


class RecipientRole(enum.Enum):
    TO = "to"
    CC = "cc"
    BCC = "bcc"


class DeliveryState(enum.Enum):
    """What our relay said about one recipient of an outbound message."""

    PENDING = "pending"  # not attempted yet, or deferred (4xx) and waiting for a retry
    ACCEPTED = "accepted"
    REFUSED = "refused"  # permanent (5xx) refusal, or retries exhausted
    OUTBOX = "outbox"


class TicketEventKind(enum.Enum):
    """What a :class:`TicketEvent` changed."""

    ASSIGNEE = "assignee"
    DEPARTMENT = "department"
    STATUS = "status"
    PRIORITY = "priority"


class Ticket(db.Model):
    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_department_status_updated", "department_id", "status", "updated_at"),
                      Index("ix_tickets_updated_id", "updated_at", "id"),  # the ticket list's order and pages
                      Index("ix_tickets_assignee_updated", "assignee_id", "updated_at"))  # Mine, and by assignee

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(500))
    status: Mapped[TicketStatus] = mapped_column(str_enum(TicketStatus, "ticket_status"), default=TicketStatus.OPEN)
    priority: Mapped[TicketPriority] = mapped_column(
        str_enum(TicketPriority, "ticket_priority"), default=TicketPriority.NORMAL
    )
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "ticket_channel"), default=Channel.EMAIL)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    #: The ticket whose thread this one's first mail answered although its sender took no part
    #: in it (a stranger's mail naming that thread's Message-ID, or its reference): kept apart,
    #: and linked, shown on both.
    linked_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    #: Why the ticket needs attention (e.g. "A reply bounced for every recipient"); None when fine.
    attention: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped[Department] = relationship()
    requester: Mapped[Contact] = relationship()
    assignee: Mapped[Agent | None] = relationship()
    linked_ticket: Mapped[Ticket | None] = relationship(remote_side=[id])
    messages: Mapped[list[Message]] = relationship(
        back_populates="ticket", order_by="(Message.created_at, Message.id)", cascade="all, delete-orphan"
    )
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="(TicketEvent.at, TicketEvent.id)", cascade="all, delete-orphan"
    )

    def reference(self, prefix: str) -> str:
        return f"{prefix}-{self.id}"


class TicketEvent(db.Model):
    """One change to a ticket (its assignee, department, status or priority): the ticket's
    history. Names are kept as they were then, so the history reads the same after an agent
    or department is renamed or removed."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Who made the change; None when the desk did (round-robin assignment).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    kind: Mapped[TicketEventKind] = mapped_column(str_enum(TicketEventKind, "ticket_event_kind"))
    old_value: Mapped[str | None] = mapped_column(String(200))
    new_value: Mapped[str | None] = mapped_column(String(200))
    #: Why, when not simply an agent's choice: "round-robin", "reply" (took it by replying),
    #: "moved" (unassigned by a move to a department the assignee is not in).
    reason: Mapped[str | None] = mapped_column(String(40))

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    actor: Mapped[Agent | None] = relationship()


class Message(db.Model):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    direction: Mapped[MessageDirection] = mapped_column(str_enum(MessageDirection, "message_direction"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    from_address: Mapped[str] = mapped_column(String(320))
    from_name: Mapped[str] = mapped_column(String(200), default="")
    #: Inbound only: the To and Cc headers as received (outbound keeps MessageRecipient rows).
    to_header: Mapped[str] = mapped_column(Text, default="")
    cc_header: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(String(998), default="")
    #: RFC 5322 Message-ID without angle brackets; ours are made once and kept for retries.
    message_id: Mapped[str | None] = mapped_column(String(998), unique=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    references: Mapped[str] = mapped_column(Text, default="")
    text_body: Mapped[str] = mapped_column(Text, default="")
    #: Sanitised at intake, so rendering never sees unsafe markup.
    html_body: Mapped[str | None] = mapped_column(Text)
    auto_submitted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: Content hash of the raw mail kept in file storage (inbound mail and sent copies).
    raw_sha256: Mapped[str | None] = mapped_column(String(64))

    # Outbound delivery bookkeeping.
    send_state: Mapped[SendState | None] = mapped_column(str_enum(SendState, "send_state"), index=True)
    send_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    author: Mapped[Agent | None] = relationship()
    contact: Mapped[Contact | None] = relationship()
    recipients: Mapped[list[MessageRecipient]] = relationship(
        back_populates="message", order_by="MessageRecipient.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", order_by="Attachment.id", cascade="all, delete-orphan"
    )

    @property
    def is_outbound(self) -> bool:
        return self.direction is MessageDirection.OUTBOUND

    @property
    def has_hidden_images(self) -> bool:
        """The HTML had images, which are not shown: remote ones were removed at intake
        (:func:`helpdesk.mail.inbound.sanitise_html`), inline ones are listed as attachments."""
        return "<img" in (self.html_body or "")

    def recipients_with_role(self, role: RecipientRole) -> list[MessageRecipient]:
        return [r for r in self.recipients if r.role is role]


class MessageRecipient(db.Model):
    """One recipient of an outbound message, with its role and what our relay said."""

    __tablename__ = "message_recipients"
    __table_args__ = (UniqueConstraint("message_id", "address", name="uq_message_recipients_message_address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    role: Mapped[RecipientRole] = mapped_column(str_enum(RecipientRole, "recipient_role"))
    address: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    delivery_state: Mapped[DeliveryState] = mapped_column(
        str_enum(DeliveryState, "delivery_state"), default=DeliveryState.PENDING
    )
    smtp_code: Mapped[int | None] = mapped_column(Integer)
    smtp_response: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    message: Mapped[Message] = relationship(back_populates="recipients")
    contact: Mapped[Contact | None] = relationship()

    @property
    def display(self) -> str:
        return mailbox_text(self.name, self.address)


class Attachment(db.Model):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255), default="application/octet-stream")
    size: Mapped[int] = mapped_column(Integer)
    #: Files are stored by content hash; identical files are kept once.
    sha256: Mapped[str] = mapped_column(String(64))

    message: Mapped[Message] = relationship(back_populates="attachments")


class InboundRecord(db.Model):
    """Every inbound mail the desk saw, and what became of it (ticket, thread, claimed,
    ignored, quarantined). Its unique key makes the same mail arriving twice a no-op."""

    __tablename__ = "inbound_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Message-ID when the mail has one, else "sha256:<hash of the raw bytes>".
    dedupe_key: Mapped[str] = mapped_column(String(998), unique=True)
    raw_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(200))  # e.g. "imap:support@example.test/INBOX"
    outcome: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    from_address: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(String(998), default="")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MailboxCheckpoint(db.Model):
    """How far an IMAP folder has been read: (UIDVALIDITY, last UID), shared by all readers."""

    __tablename__ = "mailbox_checkpoints"

    key: Mapped[str] = mapped_column(String(500), primary_key=True)
    uidvalidity: Mapped[int | None] = mapped_column(db.BigInteger)
    last_uid: Mapped[int] = mapped_column(db.BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Lease(db.Model):
    """A named lock with an expiry, for engines without advisory locks (SQLite)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoginFailure(db.Model):
    """A failed sign-in, kept for the throttling window (shared by all web processes)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    remote_addr: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
