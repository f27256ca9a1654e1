"""Inbound mail: new tickets, threading, dedupe, machine-sent mail, and quarantine."""
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from helpdesk.extensions import db
from helpdesk.mail.intake import process_inbound, quarantine_oversize
from helpdesk.models import InboundRecord, Message, MessageDirection, Ticket, TicketStatus
from helpdesk.services.storage import read_bytes
from helpdesk.signals import message_received
from helpdesk.services.tickets import linked_tickets
from tests.helpers import login, make_agent, make_department, make_reply

SOURCE = "test"


def mail(subject="Help with my order", sender="Alice <alice@customer.test>", to="support@example.test",
         body="My order #42 did not arrive.", **headers) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = headers.pop("message_id", make_msgid(domain="customer.test"))
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return bytes(message)


@pytest.fixture
def support(app):
    department = make_department("Support", "support@example.test")
    make_department("Billing", "billing@example.test")
    return department


def test_new_mail_opens_a_ticket_with_contact_and_attachment(support):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Alice <alice@customer.test>", support.email, "Broken"
    message["Message-ID"] = "<first@customer.test>"
    message.set_content("See the photo.")
    message.add_attachment(b"\x89PNG fake", maintype="image", subtype="png", filename="photo.png")
    result = process_inbound(bytes(message), SOURCE)
    assert result.outcome == "ticket"
    ticket = db.session.get(Ticket, result.ticket_id)
    first = ticket.messages[0]
    assert (ticket.subject, ticket.requester.email, ticket.requester.name) == ("Broken", "alice@customer.test", "Alice")
    assert ticket.department is support and ticket.channel.value == "email"
    assert first.text_body.strip() == "See the photo." and first.message_id == "first@customer.test"
    assert [(a.filename, a.content_type) for a in first.attachments] == [("photo.png", "image/png")]
    assert read_bytes(first.attachments[0].sha256) == b"\x89PNG fake"


def test_mail_to_another_department_address_goes_there(support):
    result = process_inbound(mail(to="billing@example.test"), SOURCE)
    assert db.session.get(Ticket, result.ticket_id).department.name == "Billing"


def test_the_same_message_id_twice_creates_nothing_twice(support):
    raw = mail(message_id="<dup@customer.test>")
    assert process_inbound(raw, SOURCE).outcome == "ticket"
    assert process_inbound(raw, SOURCE).outcome == "duplicate"
    assert db.session.query(Ticket).count() == 1 and db.session.query(InboundRecord).count() == 1


def test_a_reply_joins_the_thread_by_in_reply_to(support):
    agent = make_agent(departments=[support])
    first = process_inbound(mail(), SOURCE)
    ticket = db.session.get(Ticket, first.ticket_id)
    ours = make_reply(ticket, agent)
    answer = process_inbound(mail(subject="Re: whatever", In_Reply_To=f"<{ours.message_id}>"), SOURCE)
    assert (answer.outcome, answer.ticket_id) == ("thread", ticket.id)
    assert ticket.status is TicketStatus.OPEN  # reopened from pending by the customer's answer


def test_broken_references_still_thread_by_subject_reference(support):
    first = process_inbound(mail(), SOURCE)
    answer = process_inbound(mail(subject=f"Re: [HD-{first.ticket_id}] Help", References="<garbage"), SOURCE)
    assert (answer.outcome, answer.ticket_id) == ("thread", first.ticket_id)


def test_a_stranger_cannot_join_a_ticket_by_its_subject_reference(support):
    first = process_inbound(mail(), SOURCE)
    other = process_inbound(mail(subject=f"[HD-{first.ticket_id}] hijack", sender="mallory@evil.test"), SOURCE)
    assert other.outcome == "ticket" and other.ticket_id != first.ticket_id
    assert db.session.get(Ticket, other.ticket_id).linked_ticket_id == first.ticket_id


def test_a_stranger_naming_a_threads_message_id_gets_a_new_ticket_linked_to_it(support):
    """Every recipient, forwardee and later reader of a thread has its Message-IDs: they join
    it only if they take part in the ticket."""
    agent = make_agent(departments=[support])
    first = process_inbound(mail(), SOURCE)
    ticket = db.session.get(Ticket, first.ticket_id)
    ours = make_reply(ticket, agent)
    stranger = process_inbound(mail(subject="Re: Help with my order", sender="mallory@evil.test",
                                    to="billing@example.test", In_Reply_To=f"<{ours.message_id}>"), SOURCE)
    assert stranger.outcome == "ticket" and stranger.ticket_id != ticket.id
    kept_apart = db.session.get(Ticket, stranger.ticket_id)
    assert kept_apart.linked_ticket_id == ticket.id and kept_apart.department is support  # the thread's department
    assert [m.from_address for m in ticket.messages] == ["alice@customer.test", "support@example.test"]
    assert ticket.status is TicketStatus.PENDING  # not reopened by a stranger


def test_people_on_the_ticket_join_by_headers(support):
    agent = make_agent(departments=[support])
    first = process_inbound(mail(Cc="Carol <carol@customer.test>"), SOURCE)
    ticket = db.session.get(Ticket, first.ticket_id)
    ours = make_reply(ticket, agent, to="alice@customer.test", cc="bob@customer.test")
    for sender in ("bob@customer.test", "carol@customer.test", "alice@customer.test"):  # a recipient; on Cc; requester
        answer = process_inbound(mail(sender=sender, References=f"<{ours.message_id}>"), SOURCE)
        assert (answer.outcome, answer.ticket_id) == ("thread", ticket.id), sender


def test_both_linked_tickets_show_the_link(support, client):
    agent = make_agent(departments=[support])
    first = process_inbound(mail(message_id="<m1@customer.test>"), SOURCE)
    stranger = process_inbound(mail(sender="mallory@evil.test", In_Reply_To="<m1@customer.test>"), SOURCE)
    login(client, agent)
    original = client.get(f"/tickets/{first.ticket_id}").get_data(as_text=True)
    assert f'href="/tickets/{stranger.ticket_id}">HD-{stranger.ticket_id}</a>' in original
    assert "opened by a mail from mallory@evil.test answering this ticket" in original
    kept_apart = client.get(f"/tickets/{stranger.ticket_id}").get_data(as_text=True)
    assert f'href="/tickets/{first.ticket_id}">HD-{first.ticket_id}</a>' in kept_apart
    assert "was answered by this ticket" in kept_apart
    elsewhere = db.session.get(Ticket, stranger.ticket_id)
    elsewhere.department = db.session.scalar(db.select(type(support)).filter_by(name="Billing"))
    db.session.commit()
    assert linked_tickets(db.session.get(Ticket, first.ticket_id)) == []  # only its own department's


@pytest.mark.parametrize("headers, reason", [
    ({"Auto_Submitted": "auto-replied"}, "Auto-Submitted: auto-replied"),
    ({"X_Autoreply": "yes"}, "X-Autoreply header"),
    ({"Precedence": "bulk"}, "Precedence: bulk"),
    ({"X_Auto_Response_Suppress": "All"}, "X-Auto-Response-Suppress header"),
])
def test_auto_replies_never_open_tickets(support, headers, reason):
    result = process_inbound(mail(subject="Out of office", **headers), SOURCE)
    assert (result.outcome, result.reason) == ("ignored", reason)
    assert db.session.query(Ticket).count() == 0


def test_a_delivery_report_never_opens_a_ticket(support):
    report = (b"From: MAILER-DAEMON@example.test\r\nTo: support@example.test\r\nSubject: Undelivered Mail\r\n"
              b"Message-ID: <r1@example.test>\r\nMIME-Version: 1.0\r\n"
              b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
              b"--b\r\nContent-Type: text/plain\r\n\r\nsorry\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n"
              b"Reporting-MTA: dns; x\r\n\r\nFinal-Recipient: rfc822; nobody@customer.test\r\nAction: failed\r\n"
              b"Status: 5.1.1\r\n--b--\r\n")
    result = process_inbound(report, SOURCE)
    assert (result.outcome, result.reason) == ("ignored", "delivery report")


def test_read_notice_and_customer_subjects(support):
    assert process_inbound(mail(subject="Gelesen: Ihre Anfrage"), SOURCE).outcome == "ignored"
    # A customer writing about an undelivered parcel is a person, not a bounce.
    assert process_inbound(mail(subject="My parcel was undelivered"), SOURCE).outcome == "ticket"


def test_receivers_can_claim_a_message(app, support):
    def claim(sender, mail, raw):
        return "receipts: delivery report" if "claim me" in mail.subject else None

    with message_received.connected_to(claim, app):
        claimed = process_inbound(mail(subject="please claim me"), SOURCE)
        normal = process_inbound(mail(subject="normal"), SOURCE)
    assert (claimed.outcome, claimed.reason) == ("claimed", "receipts: delivery report")
    assert normal.outcome == "ticket"


def test_our_own_mail_coming_back_is_ignored(support):
    result = process_inbound(mail(sender="support@example.test"), SOURCE)
    assert result.outcome == "ignored" and "loop" in result.reason


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"\x00\x01\x02 garbage without headers"])
def test_garbage_is_quarantined_with_a_reason_and_kept(support, raw):
    result = process_inbound(raw, SOURCE)
    assert result.outcome == "quarantined" and result.reason
    record = db.session.get(InboundRecord, result.record_id)
    assert read_bytes(record.raw_sha256) == raw


def test_mail_without_sender_is_quarantined(support):
    raw = b"Subject: no from\r\nMessage-ID: <nf@x.test>\r\n\r\nbody\r\n"
    result = process_inbound(raw, SOURCE)
    assert result.outcome == "quarantined" and "no sender" in result.reason


def test_malformed_mail_still_becomes_a_readable_ticket(support):
    raw = (b"From: =?utf-8?q?J=C3=BCrgen?= <jurgen@customer.test>\r\n"
           b"To: support@example.test\r\nSubject: =?bogus-charset?Q?Gr=FC=DFe?= und \xc3\xa4rger\r\n"
           b"Message-ID: <mal@customer.test>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/alternative; boundary=zz\r\n\r\n"
           b"--zz\r\nContent-Type: text/plain; charset=x-made-up\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
           b"Caf=E9 =C3=A9t=C3=A9 broken=ZZ\r\n"
           b"--zz\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p onclick=\"evil()\">Hi<script>alert(1)</script></p>\r\n")
    result = process_inbound(raw, SOURCE)
    assert result.outcome == "ticket"
    message = db.session.get(Ticket, result.ticket_id).messages[0]
    assert message.from_name == "Jürgen"
    assert "ärger" in message.subject
    assert "broken" in message.text_body
    assert "<script" not in message.html_body and "onclick" not in message.html_body and "Hi" in message.html_body


def test_html_only_mail_gets_a_text_version(support):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "bob@customer.test", support.email, "html"
    message.set_content("<div>Hello<br>there &amp; you</div>", subtype="html")
    result = process_inbound(bytes(message), SOURCE)
    stored = db.session.get(Ticket, result.ticket_id).messages[0]
    assert stored.text_body == "Hello\nthere & you"


def test_oversize_mail_is_quarantined_from_its_headers(support):
    header = b"From: big@customer.test\r\nSubject: huge video\r\nMessage-ID: <big@customer.test>\r\n"
    result = quarantine_oversize(header, 90_000_000, 25_000_000, SOURCE)
    record = db.session.get(InboundRecord, result.record_id)
    assert result.outcome == "quarantined" and "too large: 90000000 bytes" in record.reason
    assert (record.from_address, record.subject) == ("big@customer.test", "huge video")
    assert db.session.query(Message).filter_by(direction=MessageDirection.INBOUND).count() == 0


def test_a_database_outage_defers_the_mail_instead_of_quarantining_it(support, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from helpdesk.mail import intake

    def database_gone(*args, **kwargs):
        raise OperationalError("INSERT ...", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(intake, "_route", database_gone)
    with pytest.raises(intake.IntakeDeferred, match="database unavailable"):
        process_inbound(mail(), SOURCE)
    assert db.session.query(InboundRecord).count() == 0  # nothing quarantined: it stays on the server


def test_remote_images_are_removed_from_html_mail_and_the_page_says_so(support, client):
    """A tracking pixel or a remote logo would tell the sender when an agent read the mail."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "alice@customer.test", support.email, "Newsletter"
    message.set_content("Hello")
    message.add_alternative('<p>Hello <img src="https://tracker.example/p.gif?u=1" alt="Logo">'
                            '<img src="//cdn.example/x.png"> <a href="https://customer.test/help">help</a></p>',
                            subtype="html")
    result = process_inbound(bytes(message), SOURCE)
    [stored] = db.session.get(Ticket, result.ticket_id).messages
    assert "tracker.example" not in stored.html_body and "cdn.example" not in stored.html_body
    assert '<img alt="Logo">' in stored.html_body and 'href="https://customer.test/help"' in stored.html_body
    login(client, make_agent(departments=[support]))
    page = client.get(f"/tickets/{result.ticket_id}").get_data(as_text=True)
    assert "images from the web were removed" in " ".join(page.split())
