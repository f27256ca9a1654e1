"""Run callbacks (usually signal sends) only once the current transaction has committed.

The callbacks run after the commit has finished, not inside SQLAlchemy's ``after_commit``
event: there the session is still in its committed state and cannot emit SQL, so a signal
receiver could not read or write the database. At the end of the committed transaction
the session is free again; a receiver's query starts a new transaction, which the receiver
commits (or rolls back) itself.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from ..extensions import db

_PENDING = "helpdesk_after_commit"
_COMMITTED = "helpdesk_after_commit_ready"


def after_commit(callback: Callable[[], None]) -> None:
    """Call ``callback`` after the session's next successful commit; drop it on rollback.

    The callback may use ``db.session`` (it runs in a fresh transaction of its own)."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback before any SQL still forgets the callback
    session.info.setdefault(_PENDING, []).append(callback)


@event.listens_for(Session, "after_commit")
def _mark_committed(session: Session) -> None:
    """The commit succeeded: the callbacks may run once the transaction has ended."""
    ready = session.info.pop(_PENDING, [])
    if ready:
        session.info.setdefault(_COMMITTED, []).extend(ready)


@event.listens_for(Session, "after_transaction_end")
def _run_after_commit(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:  # a savepoint or inner transaction: wait for the outermost
        return
    callbacks = session.info.pop(_COMMITTED, [])
    for callback in callbacks:
        callback()


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction was rolled back
        session.info.pop(_PENDING, None)
