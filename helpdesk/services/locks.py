"""Named locks that hold across processes and hosts: one poller per mailbox, one sender per
queue. PostgreSQL: a session-level advisory lock on a dedicated connection (released by
the server if the process dies). Other engines: a lease row with an expiry, renewed while
held, which another process may take over once it has expired, or at once when its holder
was a process on this host that no longer exists (a worker killed mid-poll does not block
the next one for the whole lease time).
"""
from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from ..extensions import db, is_database_outage
from ..models import Lease, utcnow

HOST = socket.gethostname()
_holders: dict[int, str] = {}  # by pid


def holder_name() -> str:
    """This process's name on a lease, ``host:pid:random``; made anew in a forked child (a
    pre-forking server, say), so each process holds, and is judged dead or alive, on its own.
    The same in every thread, even when several ask at once (a worker's IDLE watchers start
    together): a lease taken under one name and released under another would stay held."""
    pid = os.getpid()
    return _holders.get(pid) or _holders.setdefault(pid, f"{HOST}:{pid}:{uuid.uuid4().hex[:8]}")


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class Lock:
    """A held lock; ``renew()`` extends a lease (no-op for advisory locks)."""

    def __init__(self, name: str, ttl: timedelta) -> None:
        self.name, self.ttl = name, ttl

    def renew(self, now: datetime | None = None) -> bool:
        if db.engine.dialect.name == "postgresql":
            return True
        now = now or utcnow()
        renewed = db.session.execute(update(Lease).where(Lease.name == self.name, Lease.holder == holder_name())
                                     .values(expires_at=now + self.ttl)).rowcount
        db.session.commit()
        return renewed == 1


@contextmanager
def exclusive(name: str, ttl: timedelta = timedelta(minutes=5), now: datetime | None = None) -> Iterator[Lock | None]:
    """``with exclusive("poll:box") as lock:`` -- ``lock`` is None when someone else holds it."""
    if db.engine.dialect.name == "postgresql":
        with _advisory(name) as held:
            yield Lock(name, ttl) if held else None
        return
    if not _take_lease(name, ttl, now or utcnow()):
        yield None
        return
    try:
        yield Lock(name, ttl)
    finally:
        db.session.rollback()
        db.session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder_name()))
        db.session.commit()


@contextmanager
def _advisory(name: str) -> Iterator[bool]:
    key = advisory_key(name)
    with db.engine.connect() as connection:
        held = bool(connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        connection.commit()
        try:
            yield held
        finally:
            if held:
                try:
                    connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    connection.commit()
                except DBAPIError as exc:
                    if not is_database_outage(exc):
                        raise
                    # The server lost this connection (a restart): it released the lock with it.


def _take_lease(name: str, ttl: timedelta, now: datetime) -> bool:
    """Insert the lease, or take it over if it expired; atomic on every engine."""
    try:
        db.session.execute(insert(Lease).values(name=name, holder=holder_name(), expires_at=now + ttl))
        db.session.commit()
        return True
    except IntegrityError:
        db.session.rollback()
    taken = db.session.execute(update(Lease).where(Lease.name == name, Lease.expires_at < now)
                               .values(holder=holder_name(), expires_at=now + ttl)).rowcount
    db.session.commit()
    if taken == 1:
        return True
    holder = db.session.scalar(select(Lease.holder).where(Lease.name == name))
    db.session.commit()
    if holder is None or not holder_is_gone(holder):
        return False
    # Compare-and-set on the dead holder's name: of two takers only one wins.
    taken = db.session.execute(update(Lease).where(Lease.name == name, Lease.holder == holder)
                               .values(holder=holder_name(), expires_at=now + ttl)).rowcount
    db.session.commit()
    return taken == 1


def holder_is_gone(holder: str) -> bool:
    """True only when ``holder`` was a process on this host that has since ended; a holder on
    another host (or one we cannot judge) keeps its lease until it expires."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != HOST or not pid_text.isdigit() or holder == holder_name():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False
