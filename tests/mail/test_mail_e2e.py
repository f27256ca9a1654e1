"""Mail in and out through a real Postfix and Dovecot."""
from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from helpdesk.extensions import db
from helpdesk.mail.fetch import fetch_support_mailbox
from helpdesk.mail.outgoing import send_due, send_message
from helpdesk.models import DeliveryState, InboundRecord, Message, MessageDirection, SendState, Ticket
from tests.helpers import make_reply

pytestmark = pytest.mark.mailstack


def customer_mail(subject="Printer on fire", sender="Alice <alice@customer.test>", body="Help!", **headers):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "support@example.test", subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def fetch():
    report = fetch_support_mailbox()
    assert report.skipped is None, report.skipped
    return report.stats


def ticket_from_a_customer(stack, **mail) -> Ticket:
    """A customer writes in; the intake opens the ticket."""
    stack.send(customer_mail(**mail))
    stack.wait_for("support@example.test", "ALL")
    fetch()
    return db.session.scalars(db.select(Ticket)).one()


def test_customer_mail_becomes_a_ticket(stack, desk):
    mail = customer_mail(body="The printer is on fire.")
    mail.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="invoice.pdf")
    stack.send(mail)
    stack.wait_for("support@example.test", ["SUBJECT", "Printer on fire"])
    stats = fetch()
    assert stats.outcomes == {"ticket": 1}
    ticket = db.session.scalars(db.select(Ticket)).one()
    first = ticket.messages[0]
    assert (ticket.subject, ticket.requester.email, ticket.requester.name) == ("Printer on fire", "alice@customer.test", "Alice")
    assert first.text_body.strip() == "The printer is on fire."
    assert [a.filename for a in first.attachments] == ["invoice.pdf"]
    # Processed mail was moved away, and a second fetch finds nothing new.
    assert stack.fetch_all("support@example.test") == []
    assert len(stack.fetch_all("support@example.test", "Processed")) == 1
    assert fetch().outcomes == {}


def test_reply_to_to_cc_and_bcc_reaches_each_once_without_disclosing_bcc(stack, desk):
    support, agent = desk
    ticket = ticket_from_a_customer(stack)
    reply = make_reply(ticket, agent, to="Alice <alice@customer.test>", cc="bob@customer.test",
                       bcc="carol@customer.test", body="On our way.")
    assert send_message(reply.id).state is SendState.SENT
    assert {r.delivery_state for r in reply.recipients} == {DeliveryState.ACCEPTED}
    for user in ("alice", "bob", "carol"):
        stack.wait_for(f"{user}@customer.test", ["SUBJECT", f"[HD-{ticket.id}]"])
    stack.settle()
    for user in ("alice", "bob", "carol"):
        copies = stack.fetch_all(f"{user}@customer.test")
        assert len(copies) == 1, user
        mail = message_from_bytes(copies[0], policy=policy.default)
        assert mail["Message-ID"] == f"<{reply.message_id}>"
        assert mail["In-Reply-To"] == f"<{ticket.messages[0].message_id}>"
        assert mail["From"].addresses[0].addr_spec == "support@example.test"
        assert mail["Subject"] == f"Re: [HD-{ticket.id}] Printer on fire"
        assert mail["Bcc"] is None
        visible = str(mail["To"]) + str(mail["Cc"])
        assert "carol" not in visible and "alice@customer.test" in visible and "bob@customer.test" in visible


def test_customer_replies_join_the_thread_even_with_broken_references(stack, desk):
    support, agent = desk
    ticket = ticket_from_a_customer(stack)
    reply = make_reply(ticket, agent)
    send_message(reply.id)
    stack.wait_for("alice@customer.test", "ALL")
    threaded = customer_mail(subject="Re: Printer", In_Reply_To=f"<{reply.message_id}>", body="Thanks")
    broken = customer_mail(subject=f"Re: [HD-{ticket.id}] Printer", References="<<<broken", body="Again")
    stack.send(threaded)
    stack.send(broken)
    stack.wait_for("support@example.test", ["SUBJECT", f"[HD-{ticket.id}]"])
    stack.settle()
    assert fetch().outcomes == {"thread": 2}
    assert db.session.query(Ticket).count() == 1
    answers = [m.text_body.strip() for m in ticket.messages if m.direction is MessageDirection.INBOUND][1:]
    assert sorted(answers) == ["Again", "Thanks"]  # Postfix may deliver the two in either order


def test_a_real_bounce_does_not_become_a_ticket(stack, desk):
    support, agent = desk
    ticket = ticket_from_a_customer(stack)
    reply = make_reply(ticket, agent, to="nobody@customer.test")
    send_message(reply.id)
    stack.wait_for("support@example.test", ["SUBJECT", "Undelivered Mail Returned to Sender"])
    stats = fetch()
    assert stats.outcomes == {"ignored": 1}
    record = db.session.scalars(db.select(InboundRecord).where(InboundRecord.outcome == "ignored")).one()
    assert record.reason == "delivery report"
    assert db.session.query(Ticket).count() == 1


def test_a_real_vacation_reply_is_ignored_and_never_answered(stack, desk):
    support, agent = desk
    stack.set_vacation("alice@customer.test", "Out of office", "Back on Monday.")
    ticket = ticket_from_a_customer(stack, sender="Dave <dave@customer.test>")
    reply = make_reply(ticket, agent, to="dave@customer.test", cc="alice@customer.test")
    send_message(reply.id)
    stack.wait_for("support@example.test", ["SUBJECT", "Out of office"])
    stats = fetch()
    assert stats.outcomes == {"ignored": 1}
    record = db.session.scalars(db.select(InboundRecord).where(InboundRecord.outcome == "ignored")).one()
    assert record.reason.startswith("Auto-Submitted: auto-replied")
    outbound = db.session.scalars(db.select(Message).where(Message.direction == MessageDirection.OUTBOUND)).all()
    assert outbound == [reply]  # the desk sent nothing back
    stack.settle()
    assert len(stack.fetch_all("alice@customer.test")) == 1


def test_relay_down_queues_the_reply_then_sends_it_once(stack, desk):
    support, agent = desk
    ticket = ticket_from_a_customer(stack)
    reply = make_reply(ticket, agent, to="alice@customer.test")
    stack.stop_postfix()
    try:
        report = send_message(reply.id)
        assert report.state is SendState.QUEUED
        assert reply.last_error == "connection refused by the relay"
        assert send_due() == []  # backing off
    finally:
        stack.start_postfix()
    reports = send_due(reply.next_attempt_at)
    assert [r.state for r in reports] == [SendState.SENT]
    assert send_due(reply.next_attempt_at) == []
    stack.wait_for("alice@customer.test", ["SUBJECT", f"[HD-{ticket.id}]"])
    stack.settle()
    assert len(stack.fetch_all("alice@customer.test")) == 1
