"""Run callbacks (usually signal sends) only once the current transaction has committed.

Callbacks run after the committed transaction has ended, so they (signal receivers) may
query, write and commit; their own after-commit callbacks run after their commit."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db

_KEY = "helpdesk_after_commit"
_READY = "helpdesk_after_commit_ready"


def after_commit(callback: Callable[[], None]) -> None:
    """Call ``callback`` after the session's next successful commit; drop it on rollback."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback before any SQL still forgets the callback
    session.info.setdefault(_KEY, []).append(callback)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    # No SQL may be emitted here (the transaction is committed but not closed yet), and
    # receivers usually need the database: run them once the transaction has ended.
    session.info.setdefault(_READY, []).extend(session.info.pop(_KEY, []))


@event.listens_for(Session, "after_transaction_end")
def _run_after_commit(session: Session, transaction) -> None:
    if transaction.parent is not None:
        return
    callbacks = session.info.pop(_READY, [])
    for callback in callbacks:  # each may use the session, commit, and queue callbacks of its own
        callback()


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction was rolled back
        session.info.pop(_KEY, None)
