"""Demo read info for ``make run``: receipts on for two departments, replies whose recipients
were delivered, read, delayed or bounced, so every check-mark state shows, and two reports for
the health page's "need a look" list (one about mail we never sent, one receipt from a
stranger), recorded through the real intake."""
from __future__ import annotations

import random
import secrets
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Department, Message, MessageDirection, Ticket

from .events import EventInput, record_events
from .ingest import ingest
from .models import TrackedMessage
from .outcomes import after_events
from .settings import save_switches

#: (event kinds after "accepted", details) drawn per recipient; None = nothing heard yet.
OUTCOMES = [
    (["dsn-delivered"], {}),
    (["dsn-delivered", "mdn-displayed"], {}),
    (["mdn-displayed"], {}),
    (["dsn-delayed"], {"status_code": "4.4.1", "reason": "expired", "diagnostic": "connection timed out"}),
    (["dsn-failed"], {"status_code": "5.1.1", "reason": "userunknown",
                      "diagnostic": "smtp; 550 5.1.1 <{address}>: Recipient address rejected: User unknown"}),
    ([], {}),
]

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
    rng = random.Random(seed)
    departments = db.session.scalars(select(Department).where(Department.name.in_(("Support", "Billing")))).all()
    save_switches({d.id for d in departments})
    replies = db.session.scalars(
        select(Message).join(Ticket).where(Ticket.department_id.in_([d.id for d in departments]),
                                           Message.direction == MessageDirection.OUTBOUND)
        .order_by(Message.id)).all()
    for reply in replies:
        db.session.add(TrackedMessage(message_id=reply.id, envid=f"hd{reply.id}.{secrets.token_hex(6)}"))
        inputs = []
        for recipient in reply.recipients:
            kinds, details = rng.choice(OUTCOMES)
            at = reply.created_at
            inputs.append(EventInput(recipient, "smtp-accepted", "smtp", "demo:smtp", at, status_code="250"))
            for kind in kinds:
                at += timedelta(minutes=rng.randint(1, 240))
                inputs.append(EventInput(
                    recipient, kind, "mdn" if kind.startswith("mdn") else "dsn", f"demo:{kind}", at,
                    status_code=details.get("status_code"), reason=details.get("reason"),
                    diagnostic=details.get("diagnostic", "").format(address=recipient.address) or None,
                    remote_mta="dns; mx.customer.example" if kind.startswith("dsn") else None))
        after_events(reply, record_events(inputs), inputs)
    db.session.commit()
    if replies:
        ingest(UNMATCHED_BOUNCE, "demo")
        ingest(STRANGERS_RECEIPT.replace("{message_id}", replies[-1].message_id).encode(), "demo")


def connect(app: Flask) -> None:
    from helpdesk.signals import demo_data_loaded

    demo_data_loaded.connect(load_receipts_demo, app, weak=False)
