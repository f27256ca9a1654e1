"""Busy threads for the query-count test and bench/thread_page.py: many tracked replies, each
with many recipients in every role, and a realistic mix of delivery events.

Goes through the real services (``post_reply``, ``record_events``); only the SMTP round trip
is skipped (the relay's acceptance is recorded as the ``message_sent`` receiver would)."""
from __future__ import annotations

from datetime import timedelta

from helpdesk.extensions import db
from helpdesk.models import Agent, Channel, Department, Ticket, utcnow
from helpdesk.services.tickets import ReplyDraft, open_ticket, post_reply
from receipts_plugin.events import EventInput, record_events
from receipts_plugin.models import TrackedMessage

#: What happens to the n-th recipient of each reply, after our relay accepted it.
FATES = (
    ("mdn-displayed", None, None),  # read
    ("dsn-delivered", "2.0.0", None),  # delivered
    ("dsn-failed", "5.1.1", "userunknown"),  # bounced
    (None, None, None),  # nothing heard yet: sent
    ("dsn-delayed", "4.2.2", "mailboxfull"),  # delayed
)


def busy_thread(agent: Agent, department: Department, replies: int, recipients: int,
                domain: str = "customer.test") -> Ticket:
    """A ticket with ``replies`` tracked replies of ``recipients`` recipients (To, CC, BCC)."""
    ticket = open_ticket(agent, department.id, f"requester@{domain}", f"Busy thread {replies}x{recipients}",
                         "Hello", Channel.EMAIL)
    for n in range(replies):
        addresses = [f"person{i}@{domain}" for i in range(recipients)]
        third = max(1, recipients // 3)
        reply = post_reply(ticket, agent, ReplyDraft(
            to=", ".join(addresses[:third]), cc=", ".join(addresses[third:2 * third]),
            bcc=", ".join(addresses[2 * third:]), body=f"Reply {n}"))
        db.session.add(TrackedMessage(message_id=reply.id, envid=f"bench{reply.id}.{n}"))
        sent = utcnow()
        events = []
        for i, recipient in enumerate(reply.recipients):
            events.append(EventInput(recipient=recipient, kind="smtp-accepted", source="smtp", key="smtp:accepted",
                                     at=sent, status_code="250"))
            kind, status, reason = FATES[(i + n) % len(FATES)]
            if kind:
                events.append(EventInput(recipient=recipient, kind=kind, source=kind.split("-")[0],
                                         key=f"report:{reply.id}:{i}", at=sent + timedelta(minutes=i + 1),
                                         status_code=status, reason=reason,
                                         diagnostic=f"{status} from the remote server" if status else None))
        record_events(events)
        db.session.commit()
    return ticket
