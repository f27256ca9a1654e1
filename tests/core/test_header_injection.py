"""Line breaks and NUL in text that becomes a mail header: forms refuse them, composing
flattens whatever was stored anyway, and a reply that cannot be composed fails alone."""
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from helpdesk.extensions import db
from helpdesk.mail.outgoing import send_due
from helpdesk.models import Agent, AgentRole, Department, Message, SendState, Ticket
from helpdesk.text import one_line
from tests.helpers import login, make_agent, make_department, make_reply, make_ticket, post_form

INJECTION = "Hello\r\nBcc: mallory@evil.test\x07"  # (PostgreSQL stores no NUL; see the NUL test below)


@pytest.fixture
def desk(app):
    support = make_department("Support", "support@example.test")
    agent = make_agent("agent@example.test", [support])
    admin = make_agent("admin@example.test", role=AgentRole.ADMIN)
    return support, agent, admin


def outbox_mails(app):
    return [message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))]


@pytest.mark.parametrize("value", ["two\r\nlines", "nul\x00", "bell\x07", "next line\x85", "separator\u2028"])
def test_one_line_fields_refuse_control_characters_with_a_field_error(app, client, desk, value):
    support, agent, admin = desk
    login(client, admin)
    cases = [
        ("/tickets/new", {"department": support.id, "requester": "ann@customer.test", "subject": value,
                          "body": "b", "channel": "phone", "priority": "normal"}, "subject"),
        ("/admin/departments/new", {"name": value, "email": "new@example.test"}, "name"),
        (f"/admin/agents/{agent.id}", {"name": value, "email": agent.email, "role": "agent", "timezone": "UTC",
                                       "department_ids": [support.id], "active": "y"}, "name"),
    ]
    for path, form, field in cases:
        response = post_form(client, path, form, page=path)
        page = response.get_data(as_text=True)
        assert response.status_code == 400, path
        assert f'id="{field}-error">Use one line of text' in page, path
    assert db.session.query(Ticket).count() == 0
    assert db.session.query(Department).count() == 1
    db.session.expire_all()
    assert db.session.get(Agent, agent.id).name == "Agent"


def test_multi_line_text_keeps_line_breaks_but_refuses_nul(app, client, desk):
    support, agent, _ = desk
    ticket = make_ticket(agent, support)
    login(client, agent)
    page = f"/tickets/{ticket.id}"
    refused = post_form(client, f"/tickets/{ticket.id}/note", {"note": "one\x00two"}, page=page)
    assert refused.status_code == 400 and 'id="note-error">Remove the NUL character' in refused.get_data(as_text=True)
    assert post_form(client, f"/tickets/{ticket.id}/note", {"note": "line one\r\nline two"}, page=page).status_code == 302
    assert [m.text_body for m in db.session.get(Ticket, ticket.id).messages][-1] == "line one\r\nline two"


def test_inbound_text_loses_its_nul_characters_on_every_database(app, desk):
    from helpdesk.mail.intake import process_inbound

    raw = (b"From: alice@customer.test\r\nTo: support@example.test\r\nSubject: nul\r\n"
           b"Message-ID: <nul@customer.test>\r\n\r\nbefore\x00after\r\n")
    result = process_inbound(raw, "test")
    assert result.outcome == "ticket"
    assert db.session.get(Ticket, result.ticket_id).messages[0].text_body.strip() == "beforeafter"


def test_composing_flattens_control_characters_stored_in_header_text(app, desk):
    """Stored before forms refused them, or by another path: the reply still goes out, to
    exactly its recipients, with every header on one line and no NUL."""
    support, agent, _ = desk
    support.name = "Support\r\nBcc: mallory@evil.test"
    db.session.commit()
    ticket = make_ticket(agent, support, subject=INJECTION)
    reply = make_reply(ticket, agent, to="alice@customer.test")
    reply.recipients[0].name = "Alice\r\nCc: mallory@evil.test"
    db.session.commit()
    [report] = send_due()
    assert report.state is SendState.OUTBOX
    [raw] = [p.read_bytes() for p in Path(app.config["OUTBOX_DIR"]).glob("*.eml")]
    assert b"\x07" not in raw
    [mail] = outbox_mails(app)
    assert mail["X-Outbox-Envelope-To"] == "alice@customer.test"
    assert mail["Bcc"] is None and mail["Cc"] is None and "mallory" not in str(mail["X-Outbox-Envelope-To"])
    assert mail["Subject"] == f"Re: [HD-{ticket.id}] Hello Bcc: mallory@evil.test"
    assert mail["From"].addresses[0].display_name == "Support Bcc: mallory@evil.test"
    assert [a.addr_spec for a in mail["To"].addresses] == ["alice@customer.test"]


def test_a_reply_that_cannot_be_composed_fails_alone_and_the_job_goes_on(app, client, desk):
    support, agent, _ = desk
    broken = make_department("Broken", "broken@example.test")
    agent.departments.append(broken)
    db.session.commit()
    bad = make_reply(make_ticket(agent, broken), agent)
    broken.email = "broken@example.test\r\nBcc: mallory@evil.test"  # stored by some other path
    db.session.commit()
    bad.from_address = broken.email
    db.session.commit()
    good = make_reply(make_ticket(agent, support), agent)
    reports = {r.message_id: r.state for r in send_due()}
    assert reports == {bad.id: SendState.FAILED, good.id: SendState.OUTBOX}
    db.session.expire_all()
    failed = db.session.get(Message, bad.id)
    assert failed.send_attempts == 1 and failed.next_attempt_at is None
    assert failed.last_error.startswith("could not be composed: the From address")
    assert [m["Message-ID"] for m in outbox_mails(app)] == [f"<{good.message_id}>"]
    assert send_due() == []  # not retried for ever
    login(client, agent)
    page = client.get(f"/tickets/{failed.ticket_id}").get_data(as_text=True)
    assert "Failed: could not be composed: the From address" in page


def test_a_nul_in_stored_header_text_never_goes_out(app):
    """SQLite keeps a NUL that PostgreSQL refuses; composed from such a message, the email has none."""
    from helpdesk.mail.compose import build_email
    from helpdesk.models import MessageRecipient, RecipientRole, utcnow

    message = Message(from_address="support@example.test", subject="Hello\x00Bcc: x", message_id="m@desk.test",
                      references="<a@x.test>\x00", text_body="hi", created_at=utcnow())
    message.recipients.append(MessageRecipient(role=RecipientRole.TO, address="alice@customer.test", name="Al\x00ice"))
    raw = build_email(message, "Support\x00").as_bytes()
    assert b"\x00" not in raw and b"Subject: Hello Bcc: x" in raw


def test_one_line_keeps_ordinary_text_and_flattens_control_runs():
    assert one_line("  Printer on fire  ") == "Printer on fire"
    assert one_line("a\r\n\tb\x00c") == "a b c"
    assert one_line("Jörg — ünïcode") == "Jörg — ünïcode"


def test_an_inbound_message_id_with_a_control_character_is_not_kept():
    """Such an id would go out again in a reply's References."""
    from helpdesk.mail.inbound import message_ids

    assert message_ids("<good@x.test> <bad\x00id@x.test>") == ["good@x.test"]
    assert message_ids("bare\x01@x.test") == []


def test_an_uploaded_file_name_is_sanitised_like_an_inbound_one(app, client, desk):
    """Kept, downloaded and mailed without its folders: ``../../../../etc/passwd`` cannot
    name a path anywhere."""
    import io

    from helpdesk.models import Attachment
    from tests.helpers import csrf_token

    support, agent, _ = desk
    ticket = make_ticket(agent, support)
    login(client, agent)
    form = {"to": "alice@customer.test", "body": "see file", "status": "", "csrf_token": csrf_token(client, "/"),
            "attachments": (io.BytesIO(b"root:x:0:0"), "../../../../etc/passwd")}
    assert client.post(f"/tickets/{ticket.id}/reply", data=form, content_type="multipart/form-data").status_code == 302
    attachment = db.session.scalars(db.select(Attachment)).one()
    assert attachment.filename == "_.._.._.._etc_passwd"
    [mail] = outbox_mails(app)
    assert [part.get_filename() for part in mail.iter_attachments()] == ["_.._.._.._etc_passwd"]
    attachment.filename = "..\\..\\boot.ini"  # stored before names were sanitised
    db.session.commit()
    disposition = client.get(f"/attachments/{attachment.id}").headers["Content-Disposition"]
    assert "/" not in disposition and "\\" not in disposition and "_.._boot.ini" in disposition
