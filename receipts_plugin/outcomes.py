"""What follows from new events beyond the recipient's status: the contact's undeliverable
mark after a hard bounce, and the ticket's flag (and reopening) when a reply bounced or was
refused for every recipient (from reports, and from our relay's answers). Plugins' own listeners (notifications) hang off ``reply_outcome``."""
from __future__ import annotations

from collections.abc import Sequence

from blinker import Namespace
from flask import current_app
from sqlalchemy import select

from helpdesk.models import Message, MessageRecipient, TicketStatus
from helpdesk.services.contacts import mark_undeliverable
from helpdesk.services.events import after_commit

from .explanations import explain_reason
from .models import RecipientStatusRow
from .state import RecipientStatus

_signals = Namespace()
reply_outcome = _signals.signal("receipts-reply-outcome", doc="""
Sent after commit when recipients of an outbound message changed status.
Keyword arguments: ``message`` and ``recipients`` (the changed MessageRecipient rows).
""")

BOUNCED_FOR_EVERYONE = "A reply bounced for every recipient"
_DEAD = {RecipientStatus.BOUNCED.value, RecipientStatus.FAILED.value}


def after_events(message: Message | None, changed: Sequence[MessageRecipient], inputs: Sequence) -> None:
    if message is None or not changed:
        return
    from helpdesk.extensions import db

    for item in inputs:
        if item.kind == "dsn-failed" and item.hard is not False and item.recipient in changed:
            mark_undeliverable(item.recipient.address, undeliverable_reason(item), item.at)
    statuses = {row.recipient_id: row.status for row in db.session.scalars(
        select(RecipientStatusRow).where(RecipientStatusRow.message_id == message.id))}
    if message.recipients and all(statuses.get(r.id) in _DEAD for r in message.recipients):
        ticket = message.ticket
        ticket.attention = BOUNCED_FOR_EVERYONE
        if ticket.department.reopen_on_bounce and ticket.status is not TicketStatus.OPEN:
            ticket.status = TicketStatus.OPEN
    app = current_app._get_current_object()
    after_commit(lambda: reply_outcome.send(app, message=message, recipients=list(changed)))


def undeliverable_reason(item) -> str:
    """What the contact's mark says, for agents: the code, its meaning, the server's words."""
    code = f"{item.status_code} " if item.status_code else ""
    said = f" The server said: {item.diagnostic}" if item.diagnostic else ""
    return f"{code}{explain_reason(item.reason, item.status_code)}{said}"[:2000]
