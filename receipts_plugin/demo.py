"""Demo read info for ``make run``: receipts on for two departments, replies whose recipients
were delivered, read, delayed, bounced or rejected by a mail filter, so every check-mark state
shows, and two reports for the health page's "need a look" list (one about mail we never sent,
one receipt from a stranger). Every report goes through the real intake and keeps its raw copy,
so the panel's "raw report" links work."""
from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta
from email.utils import formataddr

from flask import Flask
from sqlalchemy import select

from helpdesk.plugin_api import db, Department, Message, MessageDirection, MessageRecipient, Ticket

from .inbound.consequences import EventInput, record_events
from .inbound.pipeline import Origin, ingest, read_mail, record
from .models import TrackedMessage
from .report_mail import FILTER, mdn, postfix_dsn
from .sending import receipt_address, verp_address
from .settings import save_switches

#: What became of a recipient's copy, drawn per recipient: the reports its servers and mail
#: client sent back, in order (an empty list: nothing heard yet).
OUTCOMES = [
    ["delivered"],
    ["delivered", "read"],
    ["read"],
    ["delayed"],
    ["bounced"],
    ["delivered", "rejected"],
    [],
]
CUSTOMER_HOST, CUSTOMER_DOMAIN = "mx.customer.example", "customer.example"
FILTER_WORDS = "I do not accept mail from addresses I do not know. Please call the office instead."


def demo_report(app: Flask, reply: Message, recipient: MessageRecipient, outcome: str, at: datetime) -> bytes:
    """The report a real server or mail client would send about ``recipient``'s copy: a
    delivery report to its VERP address, a person's read receipt to the copy's own receipt
    address (its Disposition-Notification-To), a mail filter's rejection to the return path."""
    to, address = verp_address(app, reply.id, recipient.id), recipient.address
    if outcome == "delivered":
        return postfix_dsn(to=to, recipient=address, action="delivered", status="2.0.0", date=at,
                           host=CUSTOMER_HOST, domain=CUSTOMER_DOMAIN)
    if outcome == "delayed":
        return postfix_dsn(to=to, recipient=address, action="delayed", status="4.4.1", date=at, host=CUSTOMER_HOST,
                           domain=CUSTOMER_DOMAIN, diagnostic="smtp; 421 4.4.1 connection timed out")
    if outcome == "bounced":
        return postfix_dsn(to=to, recipient=address, date=at, host=CUSTOMER_HOST, domain=CUSTOMER_DOMAIN,
                           diagnostic=f"smtp; 550 5.1.1 <{address}>: Recipient address rejected: User unknown")
    sender = formataddr((recipient.name, address))
    if outcome == "read":
        return mdn(sender=sender, final_recipient=address, original_message_id=reply.message_id,
                   to=receipt_address(app, reply.id, recipient.id), date=at)
    return mdn(sender=f"Postmaster <postmaster@{address.partition('@')[2]}>", final_recipient=address,
               original_message_id=reply.message_id, disposition="deleted", to=to, date=at, mode=FILTER,
               text=f"Your message to <{address}> was automatically rejected:\r\n{FILTER_WORDS}")


#: A bounce about mail the desk never sent (someone forged our address): kept as unmatched.
UNMATCHED_BOUNCE = (
    "From: MAILER-DAEMON@mx.elsewhere.example (Mail Delivery System)\r\nTo: support@example.com\r\n"
    "Subject: Undelivered Mail Returned to Sender\r\nDate: Mon, 16 Nov 2026 08:12:00 +0000\r\n"
    "Message-ID: <demo-unmatched@mx.elsewhere.example>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
    "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\r\n"
    "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.elsewhere.example\r\n\r\n"
    "Final-Recipient: rfc822; someone@elsewhere.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
    "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n"
    "--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <never-sent-by-us@example.com>\r\n"
    "From: support@example.com\r\nSubject: Cheap watches\r\n\r\n--B--\r\n").encode()

#: A read receipt for a real reply, from an address that was not among its recipients (the
#: mail was forwarded): kept as suspect, it marks nobody read.
STRANGERS_RECEIPT = (
    "From: stranger@forwarded.example\r\nTo: support@example.com\r\nSubject: Read: your reply\r\n"
    "Date: Mon, 16 Nov 2026 09:30:00 +0000\r\nMessage-ID: <demo-suspect@forwarded.example>\r\nMIME-Version: 1.0\r\n"
    'Content-Type: multipart/report; report-type=disposition-notification; boundary="M"\r\n\r\n'
    "--M\r\nContent-Type: text/plain\r\n\r\nYour message was displayed.\r\n\r\n"
    "--M\r\nContent-Type: message/disposition-notification\r\n\r\nReporting-UA: forwarded.example; Mail 1.0\r\n"
    "Final-Recipient: rfc822;stranger@forwarded.example\r\nOriginal-Message-ID: <{message_id}>\r\n"
    "Disposition: manual-action/MDN-sent-manually; displayed\r\n\r\n--M--\r\n")


def load_receipts_demo(app: Flask, seed: int = 11) -> None:
    """Receipts on for Support and Billing; each of their replies accepted by the relay, then
    the reports about it fed to the real intake, so every event keeps its raw report."""
    rng = random.Random(seed)
    departments = db.session.scalars(select(Department).where(Department.name.in_(("Support", "Billing")))).all()
    save_switches({d.id for d in departments})
    replies = db.session.scalars(
        select(Message).join(Ticket).where(Ticket.department_id.in_([d.id for d in departments]),
                                           Message.direction == MessageDirection.OUTBOUND)
        .order_by(Message.id)).all()
    reports = []
    for reply in replies:
        db.session.add(TrackedMessage(message_id=reply.id, envid=f"hd{reply.id}.{secrets.token_hex(6)}"))
        accepted = [EventInput(r, "smtp-accepted", "smtp", "demo:smtp", reply.created_at, status_code="250")
                    for r in reply.recipients]
        record_events(accepted, reply)
        for recipient in reply.recipients:
            at = reply.created_at
            for outcome in rng.choice(OUTCOMES):
                at += timedelta(minutes=rng.randint(1, 240))
                reports.append(demo_report(app, reply, recipient, outcome, at))
    db.session.commit()
    record([read_mail(raw, Origin("demo")) for raw in reports])  # the poller's way: one chunk
    if replies:
        ingest(UNMATCHED_BOUNCE, "demo")
        ingest(STRANGERS_RECEIPT.replace("{message_id}", replies[-1].message_id).encode(), "demo")


def connect(app: Flask) -> None:
    from helpdesk.plugin_api import demo_data_loaded

    demo_data_loaded.connect(load_receipts_demo, app, weak=False)
