"""Demo read info for ``make run``: receipts on for two departments, and replies whose
recipients were delivered, read, delayed or bounced, so every check-mark state shows."""
from __future__ import annotations

import random
import secrets
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Department, Message, MessageDirection, Ticket

from .events import EventInput, record_events
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


def connect(app: Flask) -> None:
    from helpdesk.signals import demo_data_loaded

    demo_data_loaded.connect(load_receipts_demo, app, weak=False)
