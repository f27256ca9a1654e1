"""Asking for receipts as a reply goes out, and recording what our relay said.

Connected to the core's ``message_before_send`` and ``message_sent`` signals."""
from __future__ import annotations

import secrets
from email.message import EmailMessage

from flask import Flask

from helpdesk.plugin_api import Channel, db, DeliveryPlan, DsnRequest, Message, Personaliser, RecipientResult, utcnow

from .inbound.consequences import EventInput, record_events
from .models import TrackedMessage
from .settings import receipts_enabled
from .signals import receipts_requested
from .tokens import make_verp_token
from .vocabulary import EventKind, EventSource


def receipts_address(app: Flask) -> str:
    """Where read receipts (MDNs) are sent: the dedicated receipts mailbox."""
    return app.config.get("RECEIPTS_ADDRESS") or f"receipts@{app.config['MAIL_DOMAIN']}"


def _token_address(app: Flask, base: str, message_id: int, recipient_id: int) -> str:
    local, _, domain = base.partition("@")
    return f"{local}+{make_verp_token(app.config['SECRET_KEY'], message_id, recipient_id)}@{domain}"


def verp_address(app: Flask, message_id: int, recipient_id: int) -> str:
    """``bounces+TOKEN@domain``: a bounce to it names its message and recipient, signed."""
    return _token_address(app, app.config.get("RECEIPTS_BOUNCE_ADDRESS") or receipts_address(app), message_id,
                          recipient_id)


def receipt_address(app: Flask, message_id: int, recipient_id: int) -> str:
    """``receipts+TOKEN@domain``: the Disposition-Notification-To of one recipient's copy, so
    that a receipt sent to it is bound to that recipient (the same signed token as the return
    path; by default the very same address, which RFC 8098 clients like to see)."""
    return _token_address(app, receipts_address(app), message_id, recipient_id)


def receipt_requester(app: Flask, message: Message) -> Personaliser:
    """Puts each recipient's own receipt address in their copy's Disposition-Notification-To."""
    addresses = {r.address: receipt_address(app, message.id, r.id) for r in message.recipients}

    def personalise(mail: EmailMessage, address: str) -> None:
        del mail["Disposition-Notification-To"]
        mail["Disposition-Notification-To"] = addresses[address]

    return personalise


def wants_receipts(message: Message) -> bool:
    ticket = message.ticket
    return ticket.channel is Channel.EMAIL and receipts_enabled(ticket.department_id)


def on_before_send(app: Flask, message: Message, plan: DeliveryPlan) -> None:
    if not wants_receipts(message):
        return
    tracked = db.session.get(TrackedMessage, message.id)
    if tracked is None:  # the first attempt decides; retries reuse the same ENVID
        tracked = TrackedMessage(message_id=message.id, envid=f"hd{message.id}.{secrets.token_hex(6)}",
                                 per_recipient=bool(app.config.get("RECEIPTS_PER_RECIPIENT", True)))
        db.session.add(tracked)
    plan.headers["Disposition-Notification-To"] = receipts_address(app)
    plan.dsn = DsnRequest(envid=tracked.envid, notify="SUCCESS,FAILURE,DELAY", ret="HDRS")
    if tracked.per_recipient:
        plan.per_recipient = True
        for recipient in message.recipients:
            if recipient.address in plan.recipients:
                plan.envelope_senders[recipient.address] = verp_address(app, message.id, recipient.id)
        plan.personalisers.append(receipt_requester(app, message))
    receipts_requested.send(app, message=message, plan=plan)  # tracking adds its links and image


def on_sent(app: Flask, message: Message, results: list[RecipientResult], transport: str) -> None:
    """Record the relay's answer per recipient (for every outbound message, tracked or not)."""
    if transport != "smtp":
        return
    by_address = {r.address: r for r in message.recipients}
    inputs = []
    for result in results:
        recipient = by_address.get(result.address)
        if recipient is None or (not result.accepted and result.temporary):
            continue
        kind = EventKind.SMTP_ACCEPTED if result.accepted else EventKind.SMTP_REFUSED
        at = (recipient.accepted_at if result.accepted else recipient.last_attempt_at) or utcnow()  # the attempt's time
        inputs.append(EventInput(recipient=recipient, kind=kind, source=EventSource.SMTP, key=f"smtp:{kind}", at=at,
                                 status_code=str(result.code) if result.code else None,
                                 diagnostic=result.summary or None))
    if inputs:
        record_events(inputs, message)  # refused for everyone: the ticket is flagged
        db.session.commit()


def connect(app: Flask) -> None:
    from helpdesk.plugin_api import message_before_send, message_sent

    message_before_send.connect(on_before_send, app, weak=False)
    message_sent.connect(on_sent, app, weak=False)
