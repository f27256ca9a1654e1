"""Signed-in sessions, kept server-side so that signing out really ends them.

A session cookie (and a remember cookie) names ``<agent id>:<password fingerprint>:<key>``
(:meth:`helpdesk.models.Agent.get_id`). The database keeps only a hash of the key, with
the time the session ends. A session is valid while its row exists, has not expired, the
agent is active and the password is the one it was opened with; so signing out (the row is
deleted) refuses every copy of that browser's cookies, "Sign out everywhere" deletes all of
the agent's rows, and a new password ends every session opened with the old one.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select

from ..extensions import db
from ..models import Agent, AgentSession, utcnow


def lifetime() -> timedelta:
    """How long a session lasts at most, remembered or not: ``SESSION_LIFETIME_DAYS``, which
    the configuration also gives the remember cookie (``REMEMBER_COOKIE_DURATION``)."""
    return current_app.config["REMEMBER_COOKIE_DURATION"]


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start_session(agent: Agent, now: datetime | None = None) -> None:
    """Open a session for ``agent`` (a sign-in) and give ``agent`` its key, for
    :meth:`~helpdesk.models.Agent.get_id`. Expired sessions of everyone are dropped. Commits."""
    now = now or utcnow()
    db.session.execute(delete(AgentSession).where(AgentSession.expires_at <= now))
    key = secrets.token_urlsafe(32)
    db.session.add(AgentSession(agent_id=agent.id, key_hash=_hash(key), created_at=now, expires_at=now + lifetime()))
    db.session.commit()
    agent.session_key = key


def agent_for(identity: str, now: datetime | None = None) -> Agent | None:
    """The agent a cookie's identity names, if that session is still valid (one query)."""
    agent_id, fingerprint, key = (identity.split(":", 2) + ["", ""])[:3]
    if not (agent_id.isdigit() and key):
        return None
    agent = db.session.scalar(
        select(Agent).join(AgentSession, AgentSession.agent_id == Agent.id)
        .where(Agent.id == int(agent_id), AgentSession.key_hash == _hash(key),
               AgentSession.expires_at > (now or utcnow())))
    if agent is None or not agent.active or not hmac.compare_digest(agent.password_fingerprint, fingerprint):
        return None
    agent.session_key = key
    return agent


def end_session(agent: Agent) -> None:
    """Sign out the session ``agent`` was loaded for. Commits."""
    db.session.execute(delete(AgentSession).where(AgentSession.key_hash == _hash(agent.session_key)))
    db.session.commit()


def end_all_sessions(agent: Agent, keep_current: bool = False) -> int:
    """Sign ``agent`` out everywhere (but in the current session, with ``keep_current``);
    how many sessions ended. Commits."""
    query = delete(AgentSession).where(AgentSession.agent_id == agent.id)
    if keep_current:
        query = query.where(AgentSession.key_hash != _hash(agent.session_key))
    ended = db.session.execute(query).rowcount
    db.session.commit()
    return ended


def open_sessions(agent: Agent, now: datetime | None = None) -> list[AgentSession]:
    """The agent's sessions that have not expired, newest first."""
    return list(db.session.scalars(select(AgentSession).where(
        AgentSession.agent_id == agent.id, AgentSession.expires_at > (now or utcnow()))
        .order_by(AgentSession.created_at.desc(), AgentSession.id.desc())))


def is_current(agent: Agent, row: AgentSession) -> bool:
    return bool(agent.session_key) and hmac.compare_digest(row.key_hash, _hash(agent.session_key))
