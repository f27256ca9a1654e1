"""Replies with a story, through the real services; only the SMTP round trip is skipped (the
relay's acceptance is announced as the core announces it).

- ``report_on``: a sent reply to To, CC, BCC and an unknown address receives a bounce, a
  delivery report and a read receipt (the view and browser tests).
- ``busy_thread``: many tracked replies, each with many recipients in every role and a
  realistic mix of delivery events (the query-count test and bench/thread_page.py)."""
from __future__ import annotations

from datetime import timedelta

from helpdesk.extensions import db
from helpdesk.mail.transport import RecipientResult
from helpdesk.models import Agent, Channel, Department, Message, Ticket, utcnow
from helpdesk.services.tickets import ReplyDraft, open_ticket, post_reply
from helpdesk.signals import message_sent
from receipts_plugin.inbound.consequences import EventInput, record_events
from receipts_plugin.inbound.pipeline import ingest
from receipts_plugin.models import TrackedMessage
from receipts_plugin.sending import receipt_address, verp_address
from tests.receipts.builders import mdn, postfix_dsn

def relay_accepts(app, message: Message) -> None:
    """What the core announces after our relay accepted every recipient (the real receiver runs)."""
    results = [RecipientResult(r.address, True, code=250, response="2.0.0 Ok: queued") for r in message.recipients]
    message_sent.send(app, message=message, results=results, transport="smtp")


def receipt_to(app, reply: Message, address: str) -> str:
    """The Disposition-Notification-To of ``address``'s copy of ``reply``: where that
    recipient's mail program sends its receipt."""
    return receipt_address(app, reply.id, next(r.id for r in reply.recipients if r.address == address))


class AcceptingRelay:
    """A stand-in SMTP relay that accepts every recipient (for pages that must look sent)."""

    name = "smtp"

    def deliver(self, mail, plan) -> list[RecipientResult]:
        return [RecipientResult(r, True, code=250, response="2.0.0 Ok: queued") for r in plan.recipients]


def report_on(app, reply: Message) -> tuple[dict, dict, dict]:
    """After the relay accepted ``reply``: nobody@ bounced (5.1.1), bob's server said
    delivered (each to their return path, with the ENVID), alice read it (Thunderbird MDN, to
    her receipt address); carol's side is silent.
    Returns the report times, the raw reports and the ingest results, by name."""
    base = reply.created_at.replace(second=0, microsecond=0)
    times = {"bounced": base + timedelta(minutes=5), "delivered": base + timedelta(minutes=6),
             "read": base + timedelta(minutes=20)}
    by_address = {r.address: r for r in reply.recipients}
    envid = db.session.get(TrackedMessage, reply.id).envid
    raws = {
        "bounce": postfix_dsn(to=verp_address(app, reply.id, by_address["nobody@customer.test"].id),
                              recipient="nobody@customer.test", date=times["bounced"]),
        "delivered": postfix_dsn(to=verp_address(app, reply.id, by_address["bob@customer.test"].id),
                                 recipient="bob@customer.test", action="delivered", status="2.0.0", envid=envid,
                                 date=times["delivered"]),
        "read": mdn(sender="Alice <alice@customer.test>", final_recipient="alice@customer.test",
                    original_message_id=reply.message_id, date=times["read"],
                    to=receipt_to(app, reply, "alice@customer.test")),
    }
    outcomes = {name: ingest(raw, "test") for name, raw in raws.items()}
    assert {r.outcome for r in outcomes.values()} == {"matched"}
    return times, raws, outcomes


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
