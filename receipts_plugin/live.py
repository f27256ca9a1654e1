"""Live updates for an open thread: a change marker per ticket that the page asks for every few
seconds. A short question holds no server thread between questions, where a stream would hold
one per open page for as long as it stays open."""
from __future__ import annotations

from sqlalchemy import func, select

from helpdesk.plugin_api import db, Message

from .models import RecipientStatusRow


def change_marker(ticket_id: int) -> str:
    """Changes whenever any recipient status of the ticket's replies is written."""
    count, latest = db.session.execute(
        select(func.count(RecipientStatusRow.recipient_id), func.max(RecipientStatusRow.updated_at))
        .join(Message, Message.id == RecipientStatusRow.message_id).where(Message.ticket_id == ticket_id)).one()
    return f"{count}:{latest.isoformat() if latest else ''}"
