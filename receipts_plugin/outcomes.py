"""What follows from new events beyond the recipient's status: the contact's undeliverable
mark after a hard bounce (and its lifting when mail reaches the address later), and the
ticket's flag (and reopening) when a reply bounced or was refused for every recipient (from
reports, and from our relay's answers). Plugins' own listeners (notifications) hang off
``reply_outcome``."""
from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from blinker import Namespace
from flask import current_app
from sqlalchemy import select

from helpdesk.plugin_api import (after_commit, db, mark_all_undeliverable, Message, MessageRecipient, record_reached,
                                 TicketStatus)

from .explanations import explain_reason
from .models import RecipientStatusRow
from .state import DEAD, DELIVERED_KINDS

_signals = Namespace()
reply_outcome = _signals.signal("receipts-reply-outcome", doc="""
Sent after a commit in which recipients of outbound messages changed status (once for a
report, once for a poller's batch of reports). Keyword argument: ``outcomes``, a list of
(message, the changed MessageRecipient rows), one per message.
""")

BOUNCED_FOR_EVERYONE = "A reply bounced for every recipient"
_DEAD = {status.value for status in DEAD}


def after_events(message: Message | None, changed: Sequence[MessageRecipient], inputs: Sequence) -> None:
    if message is None or not changed:
        return
    mark_all_undeliverable(hard_bounces(inputs, changed))
    record_reached(proofs_of_delivery(inputs, changed))
    statuses = {row.recipient_id: row.status for row in db.session.scalars(
        select(RecipientStatusRow).where(RecipientStatusRow.message_id == message.id))}
    flag_if_dead_for_everyone(message, statuses)
    announce([(message, changed)])


def hard_bounces(inputs: Sequence, changed: Collection[MessageRecipient]) -> list[tuple[str, str, datetime]]:
    """The undeliverable marks (address, reason, when) that new permanent failures call for."""
    return [(item.recipient.address, undeliverable_reason(item), item.at) for item in inputs
            if item.kind == "dsn-failed" and item.hard is not False and item.recipient in changed]


def proofs_of_delivery(inputs: Sequence, changed: Collection[MessageRecipient]) -> list[tuple[str, datetime]]:
    """(address, when) of new events showing the mail reached the recipient: a delivery
    report, or any receipt (only a recipient's own system sends one)."""
    return [(item.recipient.address, item.at) for item in inputs
            if item.kind in DELIVERED_KINDS and item.recipient in changed]


def flag_if_dead_for_everyone(message: Message, statuses: Mapping[int, str]) -> None:
    """Flag (and maybe reopen) the ticket when ``statuses`` (recipient id to status) say the
    reply bounced or was refused for every recipient."""
    if message.recipients and all(statuses.get(r.id) in _DEAD for r in message.recipients):
        ticket = message.ticket
        ticket.attention = BOUNCED_FOR_EVERYONE
        if ticket.department.reopen_on_bounce and ticket.status is not TicketStatus.OPEN:
            ticket.status = TicketStatus.OPEN


def announce(outcomes: Sequence[tuple[Message, Sequence[MessageRecipient]]]) -> None:
    """Send ``reply_outcome`` for these (message, changed recipients) once the current
    transaction has committed, the messages read again together first (one query, where each
    receiver's first look would otherwise cost one per message)."""
    app = current_app._get_current_object()
    outcomes = [(message, list(changed)) for message, changed in outcomes]
    ids = [message.id for message, _ in outcomes]  # read now: after the commit each would cost a query

    def send() -> None:
        db.session.execute(select(Message).where(Message.id.in_(ids)).execution_options(populate_existing=True)).all()
        reply_outcome.send(app, outcomes=outcomes)

    after_commit(send)


def undeliverable_reason(item) -> str:
    """What the contact's mark says, for agents: the code, its meaning, the server's words."""
    code = f"{item.status_code} " if item.status_code else ""
    said = f" The server said: {item.diagnostic}" if item.diagnostic else ""
    return f"{code}{explain_reason(item.reason, item.status_code)}{said}"[:2000]
