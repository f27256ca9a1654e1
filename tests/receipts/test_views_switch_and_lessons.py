"""What admins switch and what the lessons of other help desks require, through the test
client: the Read Receipts switch, the composer's undeliverable warning, the flag on a ticket
whose reply bounced for everyone, and the refresh control and live updates."""
from __future__ import annotations

import re
from zoneinfo import ZoneInfo


from helpdesk.extensions import db
from helpdesk.mail.outgoing import send_message
from helpdesk.mail.transport import RecipientResult
from helpdesk.models import Channel, Contact, TicketStatus
from helpdesk.signals import message_sent
from receipts_plugin.inbound.pipeline import ingest
from receipts_plugin.models import DeliveryEventRow, StoredReport, TrackedMessage
from receipts_plugin.sending import verp_address
from receipts_plugin.settings import receipts_enabled, save_switches
from tests.helpers import login, make_reply, make_ticket, post_form
from tests.receipts.builders import authenticated, mdn, postfix_dsn
from tests.receipts.factories import receipt_to, relay_accepts
from tests.receipts.pages import element, elements, message_article, text, thread

TOKYO = ZoneInfo("Asia/Tokyo")
FORMAT = "%Y-%m-%d %H:%M"




# ------------------------------------------------------------------ the admin switch

def test_the_setup_page_links_to_privacy_settings_read_receipts(client, people):
    login(client, people["admin"])
    page = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/privacy/read-receipts"' in page and "Privacy Settings › Read Receipts" in page
    settings = client.get("/admin/privacy/read-receipts").get_data(as_text=True)
    assert "Setup › Privacy Settings › Read Receipts" in text(settings)


def test_agents_may_not_change_the_switch(client, desk, people):
    support = desk[0]
    login(client, people["agent"])
    assert client.get("/admin/privacy/read-receipts").status_code == 403
    assert post_form(client, "/admin/privacy/read-receipts", {"receipts": []}).status_code == 403
    assert receipts_enabled(support.id)


def test_the_switch_needs_a_csrf_token(client, desk, people):
    support = desk[0]
    login(client, people["admin"])
    response = client.post("/admin/privacy/read-receipts", data={"receipts": []})
    assert response.status_code == 400
    assert receipts_enabled(support.id)


def test_turning_a_department_off_hides_read_info_and_on_shows_it_again(app, client, desk, people, reported):
    support, billing, _ = desk
    reply, *_ = reported
    urls = (f"/messages/{reply.id}/read-info", f"/messages/{reply.id}/read-info?fragment=1",
            f"/api/v1/messages/{reply.id}/read-info", f"/api/v1/tickets/{reply.ticket_id}/read-states",
            f"/tickets/{reply.ticket_id}/read-info/marker", f"/tickets/{reply.ticket_id}/read-states")
    login(client, people["admin"])
    settings = client.get("/admin/privacy/read-receipts").get_data(as_text=True)
    assert f'name="receipts" value="{support.id}" checked' in settings
    assert f'name="receipts" value="{billing.id}" >' in settings
    response = post_form(client, "/admin/privacy/read-receipts", {"receipts": [str(billing.id)]},
                         page="/admin/privacy/read-receipts")
    assert response.status_code == 302
    assert (receipts_enabled(support.id), receipts_enabled(billing.id)) == (False, True)
    page = thread(client, reply.ticket_id)
    assert "rr-state" not in page and "rr-track" not in page and "rr-refresh" not in page
    assert "Read by" not in page
    listing = client.get(f"/?department={support.id}").get_data(as_text=True)
    assert "rr-state" not in listing and "Last reply" not in listing  # no column with nothing to show
    for url in urls:
        assert client.get(url).status_code == 404, url
    kept = db.session.query(DeliveryEventRow).filter_by(message_id=reply.id).count()
    assert kept == 7  # 4 accepted, a bounce, a delivery report, a read receipt: all kept
    # A new reply in the off department asks for nothing.
    later = make_reply(reply.ticket, people["agent"], to="dan@customer.test")
    send_message(later.id)
    assert db.session.get(TrackedMessage, later.id) is None
    post_form(client, "/admin/privacy/read-receipts", {"receipts": [str(support.id)]},
              page="/admin/privacy/read-receipts")
    page = thread(client, reply.ticket_id)
    assert text(element(message_article(page, reply.id), "a", 'class="rr-state')).startswith("✓✓ Read by a To")
    assert "rr-state" not in message_article(page, later.id)  # sent while off: never tracked
    for url in urls[:4]:
        assert client.get(url).status_code == 200, url


def test_bounces_are_recorded_while_off_but_shown_only_as_without_receipts(app, client, desk, people, our_mx):
    support, _, agent = desk
    save_switches(set())
    ticket = make_ticket(agent, support, requester="gone@customer.test", channel=Channel.EMAIL)
    reply = make_reply(ticket, agent, to="gone@customer.test")
    send_message(reply.id)
    relay_accepts(app, reply)
    # Without receipts there is no VERP token or ENVID: the returned headers name the message,
    # and the recipient's own domain signed it (without a token, only that lets it count).
    result = ingest(authenticated(postfix_dsn(to="support@example.test", recipient="gone@customer.test",
                                              original_message_id=reply.message_id),
                                  "customer.test", reporter="mx.customer.test"), "test")
    assert result.outcome == "matched"
    assert db.session.query(DeliveryEventRow).filter_by(message_id=reply.id, kind="dsn-failed").count() == 1
    login(client, agent)
    page = thread(client, ticket.id)
    assert "rr-state" not in page and "Bounced" not in text(message_article(page, reply.id))
    assert client.get(f"/api/v1/messages/{reply.id}/read-info").status_code == 404


# ------------------------------------------------------------------ lessons: contact marks, flagged tickets

def test_the_composer_warns_about_an_undeliverable_contact_and_an_agent_can_clear_the_mark(
        client, people, reported):
    reply, times, *_ = reported
    agent = people["agent"]
    ticket = make_ticket(agent, reply.ticket.department, requester="nobody@customer.test", subject="Gone",
                         channel=Channel.EMAIL)
    contact = db.session.query(Contact).filter_by(email="nobody@customer.test").one()
    assert contact.undeliverable_since == times["bounced"]
    login(client, agent)
    composer = element(thread(client, ticket.id), "section", 'id="reply"')
    warning = text(element(composer, "div", 'role="alert"'))
    assert warning.startswith(f"Mail to nobody@customer.test failed permanently on {times['bounced'].strftime(FORMAT)}")
    assert "5.1.1" in warning and "The address does not exist at the recipient's mail server." in warning
    assert "Clear the mark" in warning
    url = f"/contacts/{contact.id}/clear-undeliverable"
    assert client.post(url, data={"next": f"/tickets/{ticket.id}"}).status_code == 400
    db.session.refresh(contact)
    assert contact.undeliverable_since is not None
    response = post_form(client, url, {"next": f"/tickets/{ticket.id}"}, page=f"/tickets/{ticket.id}")
    assert response.status_code == 302 and response.headers["Location"] == f"/tickets/{ticket.id}"
    db.session.refresh(contact)
    assert contact.undeliverable_since is None and contact.undeliverable_reason is None
    assert "failed permanently" not in thread(client, ticket.id)


def test_sending_to_an_undeliverable_address_needs_a_confirmation(client, people, reported):
    reply, *_ = reported
    agent = people["agent"]
    login(client, agent)
    page = f"/tickets/{reply.ticket_id}"
    form = {"to": "alice@customer.test", "cc": "nobody@customer.test", "bcc": "", "body": "Once more.", "status": ""}
    before = len(reply.ticket.messages)
    response = post_form(client, f"{page}/reply", form, page=page)
    assert response.status_code == 400
    warning = text(element(element(response.get_data(as_text=True), "section", 'id="reply"'), "div", 'role="alert"'))
    assert "nobody@customer.test failed permanently" in warning
    db.session.expire_all()
    assert len(reply.ticket.messages) == before  # nothing was sent
    response = post_form(client, f"{page}/reply", {**form, "send_anyway": "y"}, page=page)
    assert response.status_code == 302
    db.session.expire_all()
    assert len(reply.ticket.messages) == before + 1


def test_a_reply_that_bounced_for_everyone_flags_the_ticket(app, client, desk):
    support, _, agent = desk
    ticket = make_ticket(agent, support, requester="gone@customer.test", subject="Gone away", channel=Channel.EMAIL)
    reply = make_reply(ticket, agent, to="gone@customer.test", cc="left@customer.test")
    send_message(reply.id)
    relay_accepts(app, reply)
    for r in reply.recipients:
        ingest(postfix_dsn(to=verp_address(app, reply.id, r.id), recipient=r.address), "test")
    assert ticket.status is TicketStatus.PENDING  # this department does not reopen
    login(client, agent)
    page = thread(client, ticket.id)
    assert "A reply bounced for every recipient" in text(element(page, "div", 'role="alert"'))
    state = element(message_article(page, reply.id), "a", 'class="rr-state')
    assert text(state) == "✗ Bounced" and "rr-warn" not in state
    listing = client.get("/").get_data(as_text=True)
    row = next(r for r in elements(listing, "tr", 'class="attention"') if "Gone away" in r)
    assert "Needs attention" in text(row) and "✗ Bounced" in text(row)
    # Once an agent has dealt with it, the flag goes (the reply keeps its Bounced label).
    assert post_form(client, f"/tickets/{ticket.id}/clear-attention", {}, page=f"/tickets/{ticket.id}").status_code == 302
    db.session.expire_all()
    assert ticket.attention is None and 'class="attention"' not in client.get("/").get_data(as_text=True)


def test_a_bounce_for_some_recipients_does_not_flag_the_ticket(client, people, reported):
    reply, *_ = reported
    assert reply.ticket.attention is None
    assert db.session.query(StoredReport).filter_by(outcome="matched").count() == 3



# ------------------------------------------------------------------ refresh and live updates

def test_the_refresh_control_gets_the_rendered_check_marks(app, client, people, reported):
    reply, *_ = reported
    untracked = make_reply(reply.ticket, people["agent"], to="dan@customer.test")  # not sent: no TrackedMessage
    login(client, people["agent"])
    toolbar = element(thread(client, reply.ticket_id), "div", 'class="rr-toolbar"')
    assert f'data-rr-states="/tickets/{reply.ticket_id}/read-states"' in toolbar
    assert f'data-rr-live="/tickets/{reply.ticket_id}/read-info/marker"' in toolbar
    ingest(mdn(sender="carol@customer.test", final_recipient="carol@customer.test",
               original_message_id=reply.message_id, to=receipt_to(app, reply, "carol@customer.test")), "test")
    fragment = client.get(f"/tickets/{reply.ticket_id}/read-states").get_data(as_text=True)
    templates = elements(fragment, "template", "data-rr-state-for=")
    ids = [int(re.search(r'data-rr-state-for="(\d+)"', t).group(1)) for t in templates]
    assert ids == [reply.id] and untracked.id not in ids
    assert text(templates[0]) == "✓✓ Read by a To recipient · 2 of 4 read ⚠ 1 not delivered"
    assert "Read by 2 of 4" in templates[0]


def test_live_updates_announce_news_for_the_thread(app, client, people, reported):
    """The page is drawn with the thread's change marker; asking again gives the same one until
    the poller records news about a reply of the thread."""
    reply, *_ = reported
    ticket_id, marker_url = reply.ticket_id, f"/tickets/{reply.ticket_id}/read-info/marker"
    app.config["RECEIPTS_LIVE_CHECK_SECONDS"] = 2.5
    login(client, people["agent"])
    toolbar = element(thread(client, ticket_id), "div", 'class="rr-toolbar"')
    drawn = re.search(r'data-rr-live-marker="([^"]+)"', toolbar).group(1)
    assert 'data-rr-live-seconds="2.5"' in toolbar
    quiet = client.get(marker_url)
    assert quiet.status_code == 200 and quiet.headers["Cache-Control"] == "no-store"
    assert quiet.get_json() == {"marker": drawn}
    assert client.get(marker_url).get_json() == {"marker": drawn}
    assert ingest(mdn(sender="carol@customer.test", final_recipient="carol@customer.test",
                      original_message_id=reply.message_id, to=receipt_to(app, reply, "carol@customer.test")),
                  "poller").outcome == "matched"
    news = client.get(marker_url).get_json()["marker"]
    assert news != drawn
    assert client.get(marker_url).get_json() == {"marker": news}  # the same until the next news


def test_live_updates_can_be_switched_off(app, client, people, reported):
    reply, *_ = reported
    app.config["RECEIPTS_LIVE_UPDATES"] = False
    login(client, people["agent"])
    toolbar = element(thread(client, reply.ticket_id), "div", 'class="rr-toolbar"')
    assert "data-rr-live" not in toolbar and "data-rr-states" in toolbar


def test_a_reply_our_relay_refused_for_everyone_fails_and_flags_the_ticket(app, client, desk):
    support, _, agent = desk
    support.reopen_on_bounce = True
    ticket = make_ticket(agent, support, requester="typo@customer.test", subject="Refused", channel=Channel.EMAIL)
    reply = make_reply(ticket, agent, to="typo@customer.test")
    send_message(reply.id)
    message_sent.send(app, message=reply, transport="smtp", results=[
        RecipientResult("typo@customer.test", False, code=550, response="5.1.1 <typo@customer.test>: Recipient address rejected")])
    assert ticket.attention == "A reply bounced for every recipient" and ticket.status is TicketStatus.OPEN
    login(client, agent)
    state = element(message_article(thread(client, ticket.id), reply.id), "a", 'class="rr-state')
    assert text(state) == "✗ Failed"
