"""Run callbacks (usually signal sends) only once the current transaction has committed."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db

_KEY = "helpdesk_after_commit"


def after_commit(callback: Callable[[], None]) -> None:
    """Call ``callback`` after the session's next successful commit; drop it on rollback."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback before any SQL still forgets the callback
    session.info.setdefault(_KEY, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    callbacks = session.info.pop(_KEY, [])
    for callback in callbacks:
        callback()


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction was rolled back
        session.info.pop(_KEY, None)
