"""Ticket and reply services, without HTTP."""
import pytest

from helpdesk.extensions import db
from helpdesk.models import Contact, DeliveryState, Message, MessageDirection, RecipientRole, SendState, TicketStatus
from helpdesk.services.contacts import mark_undeliverable
from helpdesk.services.errors import ValidationError
from helpdesk.services.tickets import ReplyDraft, UploadedFile, list_tickets, open_ticket, post_reply
from tests.helpers import make_agent, make_department, make_reply, make_ticket


@pytest.fixture
def desk(app):
    support = make_department("Support")
    billing = make_department("Billing")
    agent = make_agent("sam@example.test", [support])
    return support, billing, agent


def test_open_ticket_creates_contact_and_first_message(desk):
    support, _, agent = desk
    ticket = make_ticket(agent, support, requester="Alice Doe <Alice@Customer.test>")
    assert ticket.requester.email == "alice@customer.test"
    assert ticket.requester.name == "Alice Doe"
    assert [m.direction for m in ticket.messages] == [MessageDirection.INBOUND]
    assert ticket.messages[0].text_body == "It is on fire."


def test_open_ticket_reports_every_bad_field_and_saves_nothing(desk):
    support, billing, agent = desk
    with pytest.raises(ValidationError) as error:
        open_ticket(agent, billing.id, "not-an-address", "", " ")
    assert set(error.value.errors) == {"department", "requester", "subject", "body"}
    assert "not-an-address" in error.value.errors["requester"][0]
    assert db.session.query(Contact).count() == 0


def test_reply_records_each_recipient_with_its_role_once(desk):
    support, _, agent = desk
    ticket = make_ticket(agent, support)
    message = make_reply(ticket, agent, to="alice@customer.test, Bob <bob@customer.test>",
                         cc="carol@customer.test; bob@customer.test", bcc="dave@customer.test")
    roles = [(r.address, r.role) for r in message.recipients]
    assert roles == [("alice@customer.test", RecipientRole.TO), ("bob@customer.test", RecipientRole.TO),
                     ("carol@customer.test", RecipientRole.CC), ("dave@customer.test", RecipientRole.BCC)]
    assert message.send_state is SendState.QUEUED
    assert all(r.delivery_state is DeliveryState.PENDING for r in message.recipients)
    assert message.subject == f"Re: [HD-{ticket.id}] Printer on fire"
    assert message.message_id.endswith("@desk.example.test")
    assert ticket.status is TicketStatus.PENDING


def test_reply_threads_under_the_customers_last_message(desk):
    support, _, agent = desk
    ticket = make_ticket(agent, support)
    first = make_reply(ticket, agent)
    second = make_reply(ticket, agent)
    assert second.in_reply_to == first.message_id
    assert second.references.split() == [f"<{first.message_id}>"]


def test_reply_with_bad_addresses_names_each_and_stores_nothing(desk):
    support, _, agent = desk
    ticket = make_ticket(agent, support)
    with pytest.raises(ValidationError) as error:
        post_reply(ticket, agent, ReplyDraft(to="alice@customer.test", cc="bob@", bcc="x y z", body="hi"))
    assert set(error.value.errors) == {"cc", "bcc"}
    assert db.session.query(Message).filter_by(direction=MessageDirection.OUTBOUND).count() == 0


def test_attachment_over_the_limit_is_refused(desk, app):
    support, _, agent = desk
    app.config["MAX_ATTACHMENT_BYTES"] = 10
    ticket = make_ticket(agent, support)
    with pytest.raises(ValidationError) as error:
        post_reply(ticket, agent, ReplyDraft(to="alice@customer.test", body="hi",
                                             files=[UploadedFile("big.bin", "application/octet-stream", b"x" * 11)]))
    assert "big.bin" in error.value.errors["attachments"][0]
    assert db.session.query(Message).filter_by(direction=MessageDirection.OUTBOUND).count() == 0


def test_list_tickets_is_limited_to_the_agents_departments_and_paged(desk):
    support, billing, agent = desk
    admin = make_agent("admin@example.test", role=__import__("helpdesk.models", fromlist=["AgentRole"]).AgentRole.ADMIN)
    for n in range(5):
        make_ticket(agent, support, subject=f"support {n}")
    make_ticket(admin, billing, subject="billing only")
    page = list_tickets(agent, per_page=2)
    assert (page.total, page.pages, len(page.tickets)) == (5, 3, 2)
    assert all(t.department_id == support.id for t in page.tickets)
    assert list_tickets(admin).total == 6
    assert list_tickets(agent, department_id=billing.id).total == 0


def test_reply_defaults_to_reply_all_without_our_own_addresses(desk):
    from helpdesk.mail.intake import process_inbound
    from helpdesk.models import Ticket
    from helpdesk.services.tickets import reply_defaults

    support, _, _ = desk
    raw = (b"From: Alice <alice@customer.test>\r\nTo: support@example.test, Bob <bob@customer.test>\r\n"
           b"Cc: carol@customer.test, alice@customer.test\r\nSubject: hi\r\nMessage-ID: <ra@customer.test>\r\n\r\nhello\r\n")
    ticket = db.session.get(Ticket, process_inbound(raw, "test").ticket_id)
    draft = reply_defaults(ticket)  # issue 15: the other To addresses stay on To, the Cc on Cc
    assert draft.to == "Alice <alice@customer.test>, Bob <bob@customer.test>"
    assert draft.cc == "carol@customer.test"


def test_a_full_disk_refuses_the_reply_cleanly(desk, app, tmp_path):
    support, _, agent = desk
    ticket = make_ticket(agent, support)
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the attachment folder should be")
    app.config["ATTACHMENT_DIR"] = str(blocked)
    with pytest.raises(ValidationError) as error:
        post_reply(ticket, agent, ReplyDraft(to="alice@customer.test", body="hi",
                                             files=[UploadedFile("a.txt", "text/plain", b"data")]))
    assert "could not be saved" in error.value.errors["attachments"][0]
    assert db.session.query(Message).filter_by(direction=MessageDirection.OUTBOUND).count() == 0


def test_a_reply_to_an_undeliverable_address_needs_the_agents_confirmation(desk):
    support, _, agent = desk
    ticket = make_ticket(agent, support)
    db.session.add(Contact(email="gone@customer.test"))
    mark_undeliverable("gone@customer.test", "5.1.1 no such user")
    db.session.commit()
    draft = ReplyDraft(to="alice@customer.test", bcc="Gone <GONE@customer.test>", body="Hello")
    with pytest.raises(ValidationError) as error:
        post_reply(ticket, agent, draft)
    assert list(error.value.errors) == ["send_anyway"]
    assert "gone@customer.test failed permanently" in error.value.errors["send_anyway"][0]
    assert db.session.query(Message).filter_by(direction=MessageDirection.OUTBOUND).count() == 0
    draft.send_to_undeliverable = True
    reply = post_reply(ticket, agent, draft)
    assert [r.address for r in reply.recipients] == ["alice@customer.test", "gone@customer.test"]
