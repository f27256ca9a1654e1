"""Departments, agents and contacts."""
from __future__ import annotations

import enum
import hashlib
from datetime import datetime, time

from flask_login import UserMixin
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table, Text, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..mail.addresses import mailbox_text
from .base import UTCDateTime, str_enum, utcnow


class AgentRole(enum.Enum):
    ADMIN = "admin"
    AGENT = "agent"


agent_departments = Table(
    "agent_departments",
    db.metadata,
    Column("agent_id", ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True),
)


class Department(db.Model):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    #: The From address of replies sent for this department's tickets.
    email: Mapped[str] = mapped_column(String(320))
    #: Reopen a ticket when a reply on it bounced for every recipient.
    reopen_on_bounce: Mapped[bool] = mapped_column(Boolean, default=False)
    #: New tickets go in turn to the department's active agents who are within their working hours.
    auto_assign: Mapped[bool] = mapped_column(Boolean, default=False)
    #: A reply on an unassigned ticket assigns it to the agent who replied.
    assign_on_reply: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Round-robin's place, kept here so that it survives restarts: the id of the agent who got
    #: the last ticket (the next one goes to the next id in turn).
    last_assigned_agent_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agents: Mapped[list[Agent]] = relationship(
        secondary=agent_departments, back_populates="departments", order_by="Agent.name"
    )

    def __repr__(self) -> str:
        return f"<Department {self.name}>"


class Agent(UserMixin, db.Model):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[AgentRole] = mapped_column(str_enum(AgentRole, "agent_role"), default=AgentRole.AGENT)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: IANA zone name; times in the UI and digests are shown in it.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    work_start: Mapped[time] = mapped_column(Time, default=time(9, 0))
    work_end: Mapped[time] = mapped_column(Time, default=time(17, 0))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    departments: Mapped[list[Department]] = relationship(
        secondary=agent_departments, back_populates="agents", order_by=Department.name
    )

    @property
    def is_admin(self) -> bool:
        return self.role is AgentRole.ADMIN

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive agents cannot sign in
        return self.active

    #: The key of the signed-in session this object was loaded for (not stored; see
    #: :mod:`helpdesk.services.sessions`).
    session_key = ""

    def get_id(self) -> str:
        """What a signed-in session and its remember cookie name (Flask-Login): the id, a
        fingerprint of the password hash, so a new password signs out every session of the old
        one, and the session's key, so signing out ends this session wherever it was copied."""
        return f"{self.id}:{self.password_fingerprint}:{self.session_key}"

    @property
    def password_fingerprint(self) -> str:
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:20]

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<Agent {self.email}>"


class AgentSession(db.Model):
    """One signed-in browser. Only the hash of its key is stored; the key itself travels in
    the session cookie (and the remember cookie), so deleting the row ends the session for
    every copy of those cookies."""

    __tablename__ = "agent_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Contact(db.Model):
    """Someone who writes to the desk or receives its replies (stored lower-case)."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set when mail to this address failed permanently (a hard bounce or an SMTP 5xx).
    undeliverable_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undeliverable_reason: Mapped[str | None] = mapped_column(Text)
    #: The newest proof that mail reached this address (a delivery report, a receipt): a
    #: failure dated before it marks nothing, and one after it is lifted by it.
    reached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def display(self) -> str:
        return mailbox_text(self.name, self.email)

    def __repr__(self) -> str:
        return f"<Contact {self.email}>"
