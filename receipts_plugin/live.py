"""Live updates for an open thread: a change marker per ticket, streamed as Server-Sent Events."""
from __future__ import annotations

import time
from collections.abc import Iterator

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import Message

from .models import RecipientStatusRow

STREAM_SECONDS = 50
CHECK_EVERY = 2.0


def change_marker(ticket_id: int) -> str:
    """Changes whenever any recipient status of the ticket's replies is written."""
    count, latest = db.session.execute(
        select(func.count(RecipientStatusRow.recipient_id), func.max(RecipientStatusRow.updated_at))
        .join(Message, Message.id == RecipientStatusRow.message_id).where(Message.ticket_id == ticket_id)).one()
    return f"{count}:{latest.isoformat() if latest else ''}"


def live_updates(ticket_id: int, seconds: float = STREAM_SECONDS, check_every: float = CHECK_EVERY) -> Iterator[str]:
    marker = change_marker(ticket_id)
    db.session.remove()  # do not hold a connection while waiting
    yield "retry: 3000\n\n"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(check_every)
        current = change_marker(ticket_id)
        db.session.remove()
        if current != marker:
            marker = current
            yield f"event: read-info\ndata: {current}\n\n"
        else:
            yield ": keep-alive\n\n"
