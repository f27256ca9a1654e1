"""Run callbacks (usually signal sends) only once the current transaction has committed.

The callbacks run when ``commit()`` returns (see :class:`helpdesk.extensions.Session`), so
they may query and commit in turn."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import AFTER_COMMIT_READY, db

_KEY = "helpdesk_after_commit"


def after_commit(callback: Callable[[], None]) -> None:
    """Call ``callback`` after the session's next successful commit; drop it on rollback."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback before any SQL still forgets the callback
    session.info.setdefault(_KEY, []).append(callback)


@event.listens_for(Session, "after_commit")
def _ready_after_commit(session: Session) -> None:
    session.info.setdefault(AFTER_COMMIT_READY, []).extend(session.info.pop(_KEY, []))


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction was rolled back
        session.info.pop(_KEY, None)
