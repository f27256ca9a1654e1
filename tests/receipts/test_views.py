"""What agents see, through the test client: check marks beside replies, the ticket list's
column, the Thread Read Info panel (page and fragment), raw reports and the JSON API.
Department isolation everywhere: another department's ids are 404."""
from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest

from helpdesk.extensions import db
from helpdesk.mail.outgoing import send_message
from helpdesk.models import Channel
from helpdesk.services.storage import store_bytes
from receipts_plugin.inbound.pipeline import ingest, reapply
from receipts_plugin.models import StoredReport
from receipts_plugin.sending import verp_address
from receipts_plugin.settings import save_switches
from tests.helpers import login, make_reply, make_ticket, post_form
from tests.receipts.builders import mdn, postfix_dsn
from tests.receipts.factories import receipt_to, relay_accepts
from tests.receipts.pages import element, elements, message_article, panel_rows, recipient, text, thread

TOKYO = ZoneInfo("Asia/Tokyo")
FORMAT = "%Y-%m-%d %H:%M"




# ------------------------------------------------------------------ check marks in the thread

def test_the_thread_shows_the_check_mark_state_with_label_tooltip_and_partial_warning(client, people, reported):
    reply, *_ = reported
    login(client, people["agent"])
    article = message_article(thread(client, reply.ticket_id), reply.id)
    state = element(article, "a", 'class="rr-state')
    assert 'class="rr-state rr-read-by-to"' in state
    assert f'href="/messages/{reply.id}/read-info"' in state  # works without JavaScript
    assert 'title="Read by a To recipient. Read by 1 of 4: alice@customer.test (To).' in state
    assert text(state) == "✓✓ Read by a To recipient · 1 of 4 read ⚠ 1 not delivered"
    assert 'title="1 of 4 recipients: bounced, failed or rejected' in state
    menu = element(article, "details", 'class="menu"')
    assert text(element(menu, "a", 'class="rr-track"')) == "Track delivery"
    assert 'class="rr-refresh"' in thread(client, reply.ticket_id)


@pytest.mark.parametrize("reports, label, checks, highlight", [
    ((), "Sent", "•", False),
    (("delivered",), "Delivered", "✓", False),
    (("delivered", "read"), "Read", "✓✓", True),
    (("bounce",), "Bounced", "✗", False),
])
def test_one_recipient_states(app, client, desk, reports, label, checks, highlight):
    support, _, agent = desk
    ticket = make_ticket(agent, support, requester="dan@customer.test", channel=Channel.EMAIL)
    reply = make_reply(ticket, agent, to="dan@customer.test")
    send_message(reply.id)
    relay_accepts(app, reply)
    dan = reply.recipients[0]
    builders = {
        "delivered": lambda: postfix_dsn(to=verp_address(app, reply.id, dan.id), recipient=dan.address,
                                         action="delivered", status="2.0.0"),
        "read": lambda: mdn(sender=dan.address, final_recipient=dan.address, original_message_id=reply.message_id,
                            to=receipt_to(app, reply, dan.address)),
        "bounce": lambda: postfix_dsn(to=verp_address(app, reply.id, dan.id), recipient=dan.address),
    }
    for name in reports:
        assert ingest(builders[name](), "test").outcome == "matched"
    login(client, agent)
    state = element(message_article(thread(client, ticket.id), reply.id), "a", 'class="rr-state')
    assert text(state) == f"{checks} {label}"
    assert ("rr-highlight" in state) is highlight
    assert "rr-warn" not in state


def test_a_reply_not_yet_accepted_by_our_relay_does_not_claim_to_be_sent(client, desk, sent_reply):
    # sent_reply went to the outbox folder: nothing was sent, and the state says so.
    login(client, desk[2])
    state = element(message_article(thread(client, sent_reply.ticket_id), sent_reply.id), "a", 'class="rr-state')
    assert text(state) == "• Not sent yet"
    assert "Sent" not in text(state)


def test_replies_sent_before_receipts_were_on_show_no_state(app, client, desk):
    support, _, agent = desk
    save_switches(set())
    ticket = make_ticket(agent, support, channel=Channel.EMAIL)
    before = make_reply(ticket, agent)
    send_message(before.id)
    relay_accepts(app, before)
    save_switches({support.id})
    after = make_reply(ticket, agent, body="And again.")
    send_message(after.id)
    relay_accepts(app, after)
    login(client, agent)
    page = thread(client, ticket.id)
    old = message_article(page, before.id)
    assert "rr-state" not in old and "rr-track" not in old and "Sent" not in text(old)
    assert text(element(message_article(page, after.id), "a", 'class="rr-state')) == "• Sent"


def test_every_state_label_has_a_tooltip(client, people, reported):
    reply, *_ = reported
    login(client, people["agent"])
    page = thread(client, reply.ticket_id)
    for state in elements(page, "a", 'class="rr-state'):
        assert 'title="' in state and text(state)


# ------------------------------------------------------------------ ticket list

def test_the_ticket_list_shows_each_tickets_latest_reply_state(app, client, people, reported):
    reply, *_ = reported
    support = reply.ticket.department
    agent = people["agent"]
    make_ticket(agent, support, subject="No reply yet", channel=Channel.EMAIL)
    newer = make_ticket(agent, support, subject="Two replies", channel=Channel.EMAIL)
    first = make_reply(newer, agent, to="dan@customer.test")
    send_message(first.id)
    ingest(postfix_dsn(to=verp_address(app, first.id, first.recipients[0].id), recipient="dan@customer.test"), "t")
    latest = make_reply(newer, agent, to="erin@customer.test")
    send_message(latest.id)
    relay_accepts(app, latest)
    login(client, agent)
    page = client.get("/").get_data(as_text=True)
    assert "<th>Last reply</th>" in page
    rows = {text(element(row, "a", "/tickets/")): row for row in elements(page, "tr", "")
            if "/tickets/" in row}
    assert text(element(rows[reply.ticket.subject], "a", 'class="rr-state')) == \
        "✓✓ Read by a To recipient · 1 of 4 read ⚠ 1 not delivered"
    assert f'href="/messages/{reply.id}/read-info"' in rows[reply.ticket.subject]
    assert text(element(rows["Two replies"], "a", 'class="rr-state')) == "• Sent"  # the latest, not the bounced one
    assert "rr-state" not in rows["No reply yet"]


# ------------------------------------------------------------------ the Thread Read Info panel

def test_the_panel_page_shows_each_recipient_in_the_agents_time_zone(client, people, reported):
    reply, times, _, outcomes = reported
    login(client, people["tokyo"])
    response = client.get(f"/messages/{reply.id}/read-info")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<html" in page and "Thread Read Info" in page
    assert "Times are shown in Asia/Tokyo" in text(page)
    rows = panel_rows(page)
    assert list(rows) == ["alice@customer.test", "nobody@customer.test", "bob@customer.test", "carol@customer.test"]
    local = {name: when.astimezone(TOKYO).strftime(FORMAT) for name, when in times.items()}
    utc = {name: when.strftime(FORMAT) for name, when in times.items()}
    alice, nobody, bob, carol = rows.values()
    assert alice[:5] == ["Alice alice@customer.test", "To", "Read", local["read"], local["read"]]
    assert utc["read"] not in " ".join(alice)
    assert nobody[:5] == ["nobody@customer.test", "To", "Bounced", "—", "—"]
    assert nobody[5].startswith(f"Bounced {local['bounced']} · 5.1.1 The address does not exist at the "
                                "recipient's mail server. The server said: 550 5.1.1 <nobody@customer.test> "
                                "User doesn't exist Reported by 127.0.0.1")
    assert bob[:5] == ["bob@customer.test", "CC", "Delivered", local["delivered"], "—"]
    assert carol[:5] == ["carol@customer.test", "BCC", "Sent", "—", "—"]
    missing = text(element(page, "div", 'class="rr-missing'))
    assert "does not send read receipts" in missing and "declined" in missing
    # The history, with the raw report behind each event.
    history = element(page, "details", 'class="rr-history"')
    entries = [text(li) for li in re.findall(r"<li>(.*?)</li>", history, re.S)]
    assert [e.split(" ", 2)[2] for e in entries] == [
        "Accepted by our mail server (250)",
        "Read receipt: displayed · sent by customer.test; Thunderbird 128.0 raw report"]
    assert entries[1].startswith(local["read"])
    assert f'href="/messages/{reply.id}/reports/{outcomes["read"].report_id}/raw"' in history


def test_the_panel_explains_a_delay_and_a_declined_receipt(app, client, people, sent_reply):
    reply = sent_reply
    relay_accepts(app, reply)
    bob, carol = recipient(reply, "bob@customer.test"), recipient(reply, "carol@customer.test")
    assert ingest(postfix_dsn(to=verp_address(app, reply.id, bob.id), recipient=bob.address, action="delayed",
                              status="4.2.2", diagnostic="smtp; 452 4.2.2 Mailbox full"), "test").outcome == "matched"
    assert ingest(mdn(sender=carol.address, final_recipient=carol.address, original_message_id=reply.message_id,
                      disposition="denied", to=receipt_to(app, reply, carol.address)), "test").outcome == "matched"
    login(client, people["agent"])
    rows = panel_rows(client.get(f"/messages/{reply.id}/read-info").get_data(as_text=True))
    assert rows["bob@customer.test"][2] == "Delayed"
    assert " · 4.2.2 The recipient's mailbox is full. The server said: 452 4.2.2 Mailbox full" in rows["bob@customer.test"][5]
    assert rows["bob@customer.test"][5].startswith("Delayed ")
    carol_row = rows["carol@customer.test"]
    assert carol_row[2] == "Delivered" and carol_row[3] != "—" and carol_row[4] == "—"  # a receipt, but no "read"
    assert "The recipient declined to send a read receipt." in carol_row[5]
    data = client.get(f"/api/v1/messages/{reply.id}/read-info").get_json()
    carol_json = next(r for r in data["recipients"] if r["address"] == "carol@customer.test")
    assert carol_json["receipt_declined"] is True and carol_json["status"] == "delivered"


def test_the_panel_fragment_is_the_panel_alone(client, people, reported):
    reply, *_ = reported
    login(client, people["agent"])
    fragment = client.get(f"/messages/{reply.id}/read-info?fragment=1").get_data(as_text=True)
    assert "<html" not in fragment and "<nav" not in fragment
    assert fragment.lstrip().startswith("<section") and f'aria-labelledby="rr-panel-title-{reply.id}"' in fragment
    assert f'<h2 id="rr-panel-title-{reply.id}" tabindex="-1">Thread Read Info</h2>' in fragment
    assert set(panel_rows(fragment)) == {"alice@customer.test", "nobody@customer.test", "bob@customer.test",
                                         "carol@customer.test"}
    assert 'data-rr-close' in fragment  # the in-page panel can be closed (keyboard: a button)


def test_raw_report_links_return_the_report_and_are_department_isolated(client, people, reported):
    reply, _, raws, outcomes = reported
    url = f"/messages/{reply.id}/reports/{outcomes['bounce'].report_id}/raw"
    login(client, people["agent"])
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "message/rfc822" and response.data == raws["bounce"]
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # A report of another message through this message's URL is no way in.
    other = make_reply(reply.ticket, people["agent"], to="dan@customer.test")
    assert client.get(f"/messages/{other.id}/reports/{outcomes['bounce'].report_id}/raw").status_code == 404
    post_form(client, "/logout", {})
    login(client, people["bea"])
    assert client.get(url).status_code == 404


def test_a_report_recorded_before_raw_copies_moved_into_rows_is_still_served_and_reprocessed(
        client, people, reported):
    """Before receipts_0005 a report's raw copy was only the file its SHA-256 names."""
    reply, _, raws, outcomes = reported
    report = db.session.get(StoredReport, outcomes["bounce"].report_id)
    assert store_bytes(raws["bounce"]) == report.raw_sha256
    report.raw = None
    db.session.commit()
    login(client, people["agent"])
    assert client.get(f"/messages/{reply.id}/reports/{report.id}/raw").data == raws["bounce"]
    assert reapply(report) == outcomes["bounce"].outcome
    assert db.session.get(StoredReport, report.id).raw is None  # reprocessing moves nothing


# ------------------------------------------------------------------ JSON API

def test_the_read_info_api(client, people, reported):
    reply, times, _, outcomes = reported
    login(client, people["agent"])
    data = client.get(f"/api/v1/messages/{reply.id}/read-info").get_json()
    assert set(data) == {"message_id", "ticket_id", "tracked", "state", "recipients", "missing_receipt_reasons"}
    assert (data["message_id"], data["ticket_id"], data["tracked"]) == (reply.id, reply.ticket_id, True)
    assert data["state"] == {
        "state": "read-by-to", "label": "Read by a To recipient", "checks": 2, "highlight": False,
        "partial_problem": True, "problem_count": 1, "tooltip": data["state"]["tooltip"]}
    by_address = {r["address"]: r for r in data["recipients"]}
    assert {a: (r["role"], r["status"]) for a, r in by_address.items()} == {
        "alice@customer.test": ("to", "read"), "nobody@customer.test": ("to", "bounced"),
        "bob@customer.test": ("cc", "delivered"), "carol@customer.test": ("bcc", "sent")}
    alice, nobody = by_address["alice@customer.test"], by_address["nobody@customer.test"]
    assert alice["first_read_at"] == times["read"].isoformat() and alice["name"] == "Alice"
    assert nobody["problem"]["status_code"] == "5.1.1" and nobody["problem"]["reason"] == "userunknown"
    assert nobody["problem"]["explanation"] == "The address does not exist at the recipient's mail server."
    assert [e["kind"] for e in nobody["events"]] == ["smtp-accepted", "dsn-failed"]
    assert nobody["events"][1]["report_url"] == f"/messages/{reply.id}/reports/{outcomes['bounce'].report_id}/raw"
    assert nobody["events"][0]["report_url"] is None


def test_the_read_states_api(client, people, reported):
    reply, *_ = reported
    note_and_inbound = {m.id for m in reply.ticket.messages} - {reply.id}
    login(client, people["agent"])
    data = client.get(f"/api/v1/tickets/{reply.ticket_id}/read-states").get_json()
    assert data["ticket_id"] == reply.ticket_id
    assert set(data["messages"]) == {str(reply.id)}
    assert data["messages"][str(reply.id)]["state"] == "read-by-to"
    assert not note_and_inbound & {int(k) for k in data["messages"]}


def test_the_api_and_pages_are_department_isolated(client, people, reported):
    reply, _, _, outcomes = reported
    login(client, people["bea"])
    missing = client.get("/api/v1/messages/999999/read-info")
    assert missing.status_code == 404
    for url in (f"/api/v1/messages/{reply.id}/read-info", f"/api/v1/tickets/{reply.ticket_id}/read-states"):
        response = client.get(url)
        assert response.status_code == 404 and response.get_json() == missing.get_json()  # says nothing more
    for url in (f"/messages/{reply.id}/read-info", f"/messages/{reply.id}/read-info?fragment=1",
                f"/messages/{reply.id}/reports/{outcomes['read'].report_id}/raw",
                f"/tickets/{reply.ticket_id}/read-info/marker", f"/tickets/{reply.ticket_id}/read-states"):
        assert client.get(url).status_code == 404, url


def test_the_api_needs_sign_in(client, reported):
    reply, *_ = reported
    assert client.get(f"/api/v1/messages/{reply.id}/read-info").status_code == 401
    assert client.get(f"/api/v1/tickets/{reply.ticket_id}/read-states").status_code == 401
    assert client.get(f"/messages/{reply.id}/read-info").status_code == 302
