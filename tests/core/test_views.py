"""Pages through the test client: sign-in, CSRF, department isolation, per-field errors."""
import re

import pytest

from helpdesk.extensions import db
from helpdesk.models import AgentRole, Message, MessageDirection, Ticket
from tests.helpers import csrf_token, login, make_agent, make_department, make_ticket, post_form


@pytest.fixture
def desk(app):
    support = make_department("Support")
    billing = make_department("Billing")
    sam = make_agent("sam@example.test", [support])
    bea = make_agent("bea@example.test", [billing])
    admin = make_agent("admin@example.test", role=AgentRole.ADMIN)
    return {"support": support, "billing": billing, "sam": sam, "bea": bea, "admin": admin}


def test_pages_need_sign_in(client, desk):
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/api/v1/tickets").status_code == 401


def test_every_page_names_its_icon_so_browsers_ask_for_no_missing_favicon(client):
    page = client.get("/login").get_data(as_text=True)
    icon = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
    assert icon, "no icon link in the page head"
    response = client.get(icon.group(1))
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"


def test_sign_in_with_wrong_password_shows_the_error(client, desk):
    token = csrf_token(client)
    response = client.post("/login", data={"email": "sam@example.test", "password": "nope", "csrf_token": token})
    assert response.status_code == 400
    assert "Wrong email or password." in response.get_data(as_text=True)


def test_sign_in_and_out(client, desk):
    login(client, desk["sam"])
    assert "Sam" in client.get("/").get_data(as_text=True)
    response = post_form(client, "/logout", {})
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_post_without_csrf_token_is_rejected(client, desk):
    login(client, desk["sam"])
    ticket = make_ticket(desk["sam"], desk["support"])
    response = client.post(f"/tickets/{ticket.id}/reply", data={"to": "alice@customer.test", "body": "hi"})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    assert db.session.query(Message).filter_by(direction=MessageDirection.OUTBOUND).count() == 0


def test_login_without_csrf_token_is_rejected(client, desk):
    response = client.post("/login", data={"email": "sam@example.test", "password": "x"})
    assert response.status_code == 400


def test_agent_sees_only_their_departments_tickets(client, desk):
    own = make_ticket(desk["sam"], desk["support"], subject="Support question")
    other = make_ticket(desk["bea"], desk["billing"], subject="Billing question")
    login(client, desk["sam"])
    listing = client.get("/").get_data(as_text=True)
    assert "Support question" in listing and "Billing question" not in listing
    assert client.get(f"/tickets/{own.id}").status_code == 200
    assert client.get(f"/tickets/{other.id}").status_code == 404
    assert client.get(f"/api/v1/tickets/{other.id}").status_code == 404
    assert post_form(client, f"/tickets/{other.id}/reply", {"to": "x@customer.test", "body": "hi"}).status_code == 404
    attachment_page = client.get(f"/tickets/{own.id}")
    assert attachment_page.status_code == 200


def test_admin_pages_are_admin_only(client, desk):
    login(client, desk["sam"])
    assert client.get("/admin/").status_code == 403
    assert client.get("/admin/agents").status_code == 403
    client2 = client.application.test_client()
    login(client2, desk["admin"])
    assert client2.get("/admin/agents").status_code == 200


def test_reply_form_shows_each_bad_field(client, desk):
    ticket = make_ticket(desk["sam"], desk["support"])
    login(client, desk["sam"])
    response = post_form(client, f"/tickets/{ticket.id}/reply",
                         {"to": "alice@customer.test", "cc": "bob@@customer.test", "bcc": "carol", "body": "hi", "status": ""},
                         page=f"/tickets/{ticket.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'id="cc-error">bob@@customer.test: ', page)
    assert re.search(r'id="bcc-error">carol: ', page)
    assert 'value="alice@customer.test"' in page  # what was typed is kept
    assert db.session.query(Message).filter_by(direction=MessageDirection.OUTBOUND).count() == 0


def test_reply_without_smtp_goes_to_the_outbox_and_says_so(client, desk, app, tmp_path):
    ticket = make_ticket(desk["sam"], desk["support"])
    login(client, desk["sam"])
    response = post_form(client, f"/tickets/{ticket.id}/reply",
                         {"to": "alice@customer.test", "bcc": "dave@customer.test", "body": "Fixed.", "status": ""},
                         page=f"/tickets/{ticket.id}", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "saved to the outbox folder" in page and "nothing was sent" in page
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 1
    raw = files[0].read_bytes()
    assert b"X-Outbox-Envelope-To: alice@customer.test, dave@customer.test" in raw
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert b"Bcc" not in headers and b"dave@" not in headers.split(b"X-Outbox-Envelope-To")[1].split(b"\r\n", 1)[1]


def test_new_ticket_form_validates_and_creates(client, desk):
    login(client, desk["sam"])
    bad = post_form(client, "/tickets/new", {"department": desk["support"].id, "requester": "nobody",
                                             "subject": "", "body": "x", "channel": "phone", "priority": "normal"},
                    page="/tickets/new")
    assert bad.status_code == 400
    page = bad.get_data(as_text=True)
    assert 'id="requester-error"' in page and 'id="subject-error"' in page
    assert db.session.query(Ticket).count() == 0
    good = post_form(client, "/tickets/new", {"department": desk["support"].id, "requester": "Ann <ann@customer.test>",
                                              "subject": "Phone call", "body": "Called about X", "channel": "phone",
                                              "priority": "high"}, page="/tickets/new")
    assert good.status_code == 302
    ticket = db.session.query(Ticket).one()
    assert (ticket.subject, ticket.channel.value, ticket.priority.value) == ("Phone call", "phone", "high")


def test_new_ticket_in_someone_elses_department_is_refused(client, desk):
    login(client, desk["sam"])
    response = post_form(client, "/tickets/new", {"department": desk["billing"].id, "requester": "ann@customer.test",
                                                  "subject": "s", "body": "b", "channel": "web", "priority": "normal"},
                         page="/tickets/new")
    assert response.status_code == 400
    assert db.session.query(Ticket).count() == 0


def test_admin_creates_agent_with_per_field_errors_first(client, desk):
    login(client, desk["admin"])
    bad = post_form(client, "/admin/agents/new", {"name": "", "email": "x@", "role": "agent", "timezone": "Mars/Base",
                                                  "password": "short"}, page="/admin/agents/new")
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400
    for field in ("name", "email", "timezone", "password", "department_ids"):
        assert f'id="{field}-error"' in page or f"{field}" in page
    assert "Unknown time zone" in page and "at least 10 characters" in page
    good = post_form(client, "/admin/agents/new", {"name": "Nia", "email": "nia@example.test", "role": "agent",
                                                   "timezone": "Europe/Berlin", "password": "long enough pw",
                                                   "department_ids": [desk["support"].id], "active": "y",
                                                   "work_start": "08:00", "work_end": "16:00"},
                     page="/admin/agents/new")
    assert good.status_code == 302
    nia = db.session.query(type(desk["sam"])).filter_by(email="nia@example.test").one()
    assert [d.name for d in nia.departments] == ["Support"] and nia.timezone == "Europe/Berlin"
    assert nia.work_start.hour == 8


def test_ticket_list_filters_by_status(client, desk):
    make_ticket(desk["sam"], desk["support"], subject="Open one")
    login(client, desk["sam"])
    assert "Open one" in client.get("/?status=open").get_data(as_text=True)
    assert "Open one" not in client.get("/?status=closed").get_data(as_text=True)
    assert client.get("/?status=bogus").status_code == 400


def test_admins_see_the_undeliverable_addresses_and_can_clear_a_mark(client, desk):
    """The desk's suppression list (Setup › Undeliverable addresses), newest mark first."""
    from datetime import timedelta

    from helpdesk.models import Contact, utcnow
    from helpdesk.services.contacts import mark_undeliverable

    admin = desk["admin"]
    db.session.add_all([Contact(email="old@customer.test"), Contact(email="new@customer.test", name="Nina New"),
                        Contact(email="fine@customer.test")])
    db.session.flush()
    mark_undeliverable("old@customer.test", "5.1.1 no such user", utcnow() - timedelta(days=3))
    mark_undeliverable("new@customer.test", "5.7.1 <script>alert(1)</script> blocked", utcnow())
    db.session.commit()
    login(client, admin)
    page = client.get("/admin/undeliverable").get_data(as_text=True)
    rows = re.findall(r"<tr><td[^>]*>([^<]+)</td><td[^>]*>([^<]*)</td>", page)
    assert rows == [("new@customer.test", "Nina New"), ("old@customer.test", "")]  # the newest mark first
    assert "&lt;script&gt;alert(1)&lt;/script&gt; blocked" in page and "fine@customer.test" not in page
    old = db.session.scalar(db.select(Contact).where(Contact.email == "old@customer.test"))
    response = post_form(client, f"/contacts/{old.id}/clear-undeliverable", {"next": "/admin/undeliverable"},
                         page="/admin/undeliverable")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/undeliverable"
    after = client.get("/admin/undeliverable").get_data(as_text=True)
    assert re.findall(r"<tr><td[^>]*>([^<]+)</td>", after) == ["new@customer.test"]
    assert "old@customer.test is no longer marked as undeliverable." in after
    assert 'href="/admin/undeliverable"' in client.get("/admin/").get_data(as_text=True)


def test_a_small_attachment_shows_its_size_in_bytes(client, desk):
    from helpdesk.services.tickets import UploadedFile, open_ticket

    ticket = open_ticket(desk["sam"], desk["support"].id, "alice@customer.test", "Log file", "See the log.",
                         files=[UploadedFile("log.txt", "text/plain", b"twelve bytes")])
    login(client, desk["sam"])
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert re.search(r'>log.txt</a> <span class="muted">\(12 bytes\)</span>', page)
