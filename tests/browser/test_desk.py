"""A team's daily work in Chromium: assigning tickets (from the list, many at once, and in the
sidebar; with and without JavaScript), round-robin for a new ticket, reply-all and "Reply to
requester only", and full-text search with highlighted snippets. No page scrolls sideways
at 390 px.

Screenshots: artifacts/assignment-list.png, assignment-thread.png, reply-all.png,
search.png (and -phone versions at 390 px)."""
from __future__ import annotations

from datetime import time

import pytest
from playwright.sync_api import expect

from helpdesk.demo import load_demo
from helpdesk.extensions import db
from helpdesk.mail.intake import process_inbound
from helpdesk.models import Agent, AgentRole, Department, Message, MessageDirection, RecipientRole, Ticket
from tests.browser.conftest import screenshot
from tests.browser.test_smoke import sign_in
from tests.helpers import PASSWORD, make_agent, make_department, make_ticket

pytestmark = pytest.mark.browser

NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture
def plugins():
    return ["receipts", "tracking"]  # as deployed: the plugin's list column and its own addresses


def at_phone_width(page, name: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate(NO_SIDEWAYS_SCROLL), f"{page.url} scrolls sideways at 390 px"
    screenshot(page, f"{name}-phone")
    page.set_viewport_size({"width": 1280, "height": 900})


def demo_admin():
    load_demo(36)
    return db.session.scalar(db.select(Agent).where(Agent.email == "admin@example.com"))


def test_assign_from_the_list_and_in_the_sidebar(app, live_server, page):
    demo_admin()
    sam = db.session.scalar(db.select(Agent).where(Agent.name == "Sam Support"))
    sign_in(page, live_server)
    page.get_by_role("link", name="Unassigned").click()
    rows = page.locator("table.tickets tbody tr")
    unassigned = rows.count()
    assert unassigned > 2 and page.locator(".views a[aria-current]").inner_text().split() == ["Unassigned", str(unassigned)]
    support_rows = rows.filter(has_text="Support")
    picked = [support_rows.nth(n).locator("td.ref").inner_text() for n in range(2)]
    for n in range(2):
        support_rows.nth(n).locator("input[name=tickets]").check()
    expect(page.locator("[data-selected-count]")).to_have_text("2 selected")
    page.select_option("select[name=assign_to]", label="Sam Support")
    page.get_by_role("button", name="Assign").click()
    expect(page.locator(".flash.success")).to_have_text("2 tickets assigned to Sam Support.")
    assert rows.count() == unassigned - 2  # back in the Unassigned view, without them
    page.goto(f"{live_server}/?assignee={sam.id}")
    for ref in picked:
        expect(rows.filter(has_text=ref).locator("td.assignee")).to_have_text("Sam Support")
    screenshot(page, "assignment-list")
    at_phone_width(page, "assignment-list")

    rows.filter(has_text=picked[0]).locator("td.subject a").click()
    page.select_option("#assignee", label="Sol Sales")
    page.get_by_role("button", name="Update").click()
    expect(page.locator(".flash.success")).to_have_text("Ticket updated.")
    expect(page.locator("dd.assignee")).to_have_text("Sol Sales")
    expect(page.locator("p.event").last).to_contain_text("Ada Admin assigned this to Sol Sales")
    page.get_by_role("button", name="Assign to me").click()
    expect(page.locator("dd.assignee")).to_have_text("Ada Admin")
    expect(page.locator("p.event").last).to_contain_text("Ada Admin took this ticket")
    page.locator("p.event").last.scroll_into_view_if_needed()
    screenshot(page, "assignment-thread")
    at_phone_width(page, "assignment-thread")


def test_the_bulk_action_works_without_javascript(app, live_server, browser):
    support = make_department("Support", "support@example.test")
    agent = make_agent("kim@example.test", [support], name="Kim Lee")
    tickets = [make_ticket(agent, support, subject=f"Question {n}") for n in range(3)]
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_server, agent.email, PASSWORD)
        assert page.locator(".bulk-bar .select-all").is_hidden()  # needs the script
        for ticket in tickets[:2]:
            page.check(f"input[name=tickets][value='{ticket.id}']")
        page.select_option("select[name=assign_to]", label="Me (Kim Lee)")
        page.get_by_role("button", name="Assign").click()
        assert page.locator(".flash.success").inner_text() == "2 tickets assigned to Kim Lee."
        page.get_by_role("link", name="Mine").click()
        assert sorted(page.locator("td.subject a").all_inner_texts()) == ["Question 0", "Question 1"]
    finally:
        context.close()


def test_round_robin_assigns_a_new_ticket(app, live_server, page):
    admin = make_agent("admin@example.test", role=AgentRole.ADMIN, name="Ada Admin")
    billing = make_department("Billing", "billing@example.test")
    for name in ("Bea Billing", "Ben Books"):  # at work around the clock, whatever time the test runs
        make_agent(f"{name.split()[0].lower()}@example.test", [billing], name=name, work_start=time(0),
                   work_end=time(23, 59, 59))
    sign_in(page, live_server, admin.email, PASSWORD)
    page.goto(f"{live_server}/admin/departments/{billing.id}")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.check("input[name=auto_assign]")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash.success")).to_have_text("Department saved.")
    for subject, expected in (("Card declined", "Bea Billing"), ("Refund please", "Ben Books")):
        page.goto(f"{live_server}/tickets/new")
        page.fill("input[name=requester]", "Alice <alice@customer.test>")
        page.fill("input[name=subject]", subject)
        page.fill("textarea[name=body]", "Called about it.")
        page.get_by_role("button", name="Create ticket").click()
        expect(page.locator("dd.assignee")).to_have_text(expected)
        expect(page.locator("p.event")).to_contain_text(f"Assigned to {expected} (round-robin)")


def test_reply_all_by_default_and_to_the_requester_only(app, live_server, page, browser):
    app.config["RECEIPTS_ADDRESS"] = "receipts@desk.example.test"
    support = make_department("Support", "support@example.test")
    agent = make_agent("kim@example.test", [support], name="Kim Lee")
    raw = (b"From: Alice Martin <alice@customer.test>\r\nTo: support@example.test, Bob Chen <bob@customer.test>\r\n"
           b"Cc: Carol Rossi <carol@customer.test>, receipts+a1b2@desk.example.test\r\nSubject: Export is empty\r\n"
           b"Message-ID: <ra@customer.test>\r\n\r\nHello,\r\n\r\nThe CSV export is empty. Bob and Carol see it too.\r\n")
    ticket_id = process_inbound(raw, "test").ticket_id
    sign_in(page, live_server, agent.email, PASSWORD)
    page.goto(f"{live_server}/tickets/{ticket_id}")
    everyone = ("Alice Martin <alice@customer.test>, Bob Chen <bob@customer.test>", "Carol Rossi <carol@customer.test>")
    assert (page.input_value("#to"), page.input_value("#cc"), page.input_value("#bcc")) == (*everyone, "")
    page.evaluate("window.samePage = true")
    page.get_by_role("link", name="Reply to requester only").click()
    assert (page.input_value("#to"), page.input_value("#cc")) == ("Alice Martin <alice@customer.test>", "")
    assert page.evaluate("window.samePage") is True  # switched in place
    page.get_by_role("link", name="Reply all").click()
    assert (page.input_value("#to"), page.input_value("#cc")) == everyone
    page.locator("#reply").scroll_into_view_if_needed()
    screenshot(page, "reply-all")
    at_phone_width(page, "reply-all")
    page.fill("#body", "Hi all,\n\nWe are on it.\n\nKim")
    page.get_by_role("button", name="Send reply").click()
    reply = db.session.scalar(db.select(Message).where(Message.direction == MessageDirection.OUTBOUND))
    assert [(r.role, r.address) for r in reply.recipients] == [
        (RecipientRole.TO, "alice@customer.test"), (RecipientRole.TO, "bob@customer.test"),
        (RecipientRole.CC, "carol@customer.test")]

    context = browser.new_context(java_script_enabled=False)
    plain = context.new_page()
    try:
        sign_in(plain, live_server, agent.email, PASSWORD)
        plain.goto(f"{live_server}/tickets/{ticket_id}")
        plain.get_by_role("link", name="Reply to requester only").click()
        assert "reply=requester" in plain.url
        assert (plain.input_value("#to"), plain.input_value("#cc")) == ("Alice Martin <alice@customer.test>", "")
    finally:
        context.close()


def test_search_finds_a_phrase_of_the_bodies_with_a_safe_highlighted_snippet(app, live_server, page):
    admin = demo_admin()
    support = db.session.scalar(db.select(Department).where(Department.name == "Support"))
    hostile = make_ticket(admin, support, subject="Strange mail",
                          body="<script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\"> "
                               "if 1 < 2 & \"x\" > 0 the export is blocking our team")
    sign_in(page, live_server)
    page.fill("input[name=q]", "blocking our team")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".pager span")).to_have_text(f"Page 1 of 2 ({db.session.query(Ticket).count()} tickets)")
    snippets = page.locator("table.tickets p.snippet")
    assert snippets.count() == 25
    marked = [m.lower() for m in snippets.first.locator("mark").all_inner_texts()]
    assert marked in (["blocking", "our", "team"], ["blocking", "team"])  # "our": a stop word to PostgreSQL
    page.fill("input[name=q]", '"blocking our team" export')
    page.get_by_role("button", name="Filter").click()
    row = page.locator("table.tickets tbody tr").filter(has_text="Strange mail")
    assert 'x" > 0 the export' in row.locator("p.snippet").inner_text()  # shown as text
    # (SQLite shows the script's text too; PostgreSQL's headlines leave tags out)
    assert page.locator("p.snippet script, p.snippet img").count() == 0 and page.evaluate("window.pwned") is None
    page.fill("input[name=q]", "quick answer")
    page.get_by_role("button", name="Filter").click()
    screenshot(page, "search")
    at_phone_width(page, "search")
    assert hostile.id
