"""The composer's recipients by default: reply-all to the message answered, without the desk's
own addresses, each address once; or the requester alone. Service and page (no JavaScript)."""
from __future__ import annotations

import re

import pytest

from helpdesk.extensions import db
from helpdesk.mail.intake import process_inbound
from helpdesk.models import Ticket
from helpdesk.services.tickets import reply_defaults
from receipts_plugin.models import Mailbox
from tests.helpers import login, make_agent, make_department, make_reply, make_ticket


@pytest.fixture
def plugins():
    return ["receipts", "tracking"]  # the receipts address and its return paths are the desk's own too


@pytest.fixture
def desk(app):
    app.config.update(IMAP_USERNAME="help@desk.example.test", RECEIPTS_ADDRESS="receipts@desk.example.test")
    support = make_department("Support", "support@example.test")
    make_department("Billing", "Billing@Example.test")
    db.session.add(Mailbox(name="bounces", host="imap.example.test", username="bounces@desk.example.test"))
    db.session.commit()
    return support, make_agent("sam@example.test", [support])


def mail(headers: str, message_id: str = "first@customer.test") -> Ticket:
    raw = f"{headers}\r\nSubject: Export\r\nMessage-ID: <{message_id}>\r\n\r\nThe export is empty.\r\n".encode()
    return db.session.get(Ticket, process_inbound(raw, "test").ticket_id)


def test_reply_all_keeps_everyone_on_the_mail_but_the_desk_and_its_bcc(desk):
    ticket = mail("From: Alice Martin <alice@customer.test>\r\n"
                  "To: support@example.test, Bob Chen <bob@customer.test>, billing@example.test\r\n"
                  "Cc: carol@customer.test, RECEIPTS+token123@desk.example.test, bounces+x.y@desk.example.test, "
                  "Bob <BOB@customer.test>, help@desk.example.test, support+sales@example.test, Alice <ALICE@customer.test>\r\n"
                  "Bcc: secret@customer.test")
    draft = reply_defaults(ticket)
    assert draft.to == "Alice Martin <alice@customer.test>, Bob Chen <bob@customer.test>"
    assert draft.cc == "carol@customer.test"
    assert draft.bcc == ""
    assert reply_defaults(ticket, requester_only=True).to == "Alice Martin <alice@customer.test>"
    assert reply_defaults(ticket, requester_only=True).cc == ""


def test_the_latest_mail_is_answered_and_its_sender_is_on_to(desk):
    """A colleague copied earlier writes in: the reply goes to the requester and to them."""
    ticket = mail("From: Alice <alice@customer.test>\r\nTo: support@example.test\r\nCc: dave@customer.test")
    mail(f"From: Dave <dave@customer.test>\r\nTo: support@example.test, eve@customer.test\r\n"
         f"Cc: frank@customer.test\r\nIn-Reply-To: <first@customer.test>", "second@customer.test")
    draft = reply_defaults(db.session.get(Ticket, ticket.id))
    assert draft.to == "Alice <alice@customer.test>, Dave <dave@customer.test>, eve@customer.test"
    assert draft.cc == "frank@customer.test"


def test_without_any_mail_the_latest_reply_is_answered_never_its_bcc(desk):
    support, sam = desk
    ticket = make_ticket(sam, support, requester="Alice <alice@customer.test>")  # a phone call: no mail behind it
    assert reply_defaults(ticket).to == "Alice <alice@customer.test>" and reply_defaults(ticket).cc == ""
    make_reply(ticket, sam, to="alice@customer.test, Bob <bob@customer.test>", cc="carol@customer.test, sales@example.test",
               bcc="boss@customer.test")
    make_reply(ticket, sam, to="alice@customer.test", cc="dave@customer.test")
    draft = reply_defaults(db.session.get(Ticket, ticket.id))
    assert draft.to == "Alice <alice@customer.test>" and draft.cc == "dave@customer.test"


def test_the_page_offers_reply_all_and_requester_only_without_javascript(desk, client):
    support, sam = desk
    ticket = mail("From: Alice <alice@customer.test>\r\nTo: support@example.test, bob@customer.test\r\n"
                  "Cc: carol@customer.test")
    login(client, sam)
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert 'name="to" type="text" value="Alice &lt;alice@customer.test&gt;, bob@customer.test"' in page
    assert 'name="cc" type="text" value="carol@customer.test"' in page
    assert re.search(r'data-reply-mode="all" aria-current="true">Reply all</a>', page)
    link = re.search(r'<a href="([^"]+)" data-reply-mode="requester">Reply to requester only</a>', page).group(1)
    only = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert 'name="to" type="text" value="Alice &lt;alice@customer.test&gt;"' in only
    assert 'name="cc" type="text" value=""' in only
    assert 'data-reply-mode="requester" aria-current="true"' in only
