"""Keyboard and screen readers in Chromium: the skip link, Escape in the ⋯ menu, the
sidebar's labelled selects, Privacy Settings checkboxes named by their department, and the
Thread Read Info heading's focus (no box that looks like a text field). Controls are found by
their accessible names (get_by_role, get_by_label), as a screen reader finds them."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from helpdesk.extensions import db
from helpdesk.models import AgentRole, Ticket, TicketPriority, TicketStatus
from receipts_plugin.settings import save_switches
from tests.browser.test_read_info import desk, email_ticket, open_thread, sent, state_of  # noqa: F401 (fixture)
from tests.browser.test_smoke import sign_in
from tests.helpers import PASSWORD, make_agent, make_department
from tests.receipts.tracking_helpers import department_switches as settings_for  # both plugins' switches

pytestmark = pytest.mark.browser


@pytest.fixture
def plugins():
    return ["receipts", "tracking"]


@pytest.fixture
def thread(app, live_server, page, desk):  # noqa: F811 (the fixture imported above)
    support, agent = desk
    ticket = email_ticket(agent, support, "Cannot log in after password reset")
    reply = sent(app, ticket, agent, to="Alice Martin <alice@customer.test>", body="Please try again now.")
    sign_in(page, live_server, agent.email, PASSWORD)
    page.wait_for_selector("table.tickets")
    open_thread(page, live_server, ticket.id)
    return ticket, reply


def test_the_skip_link_is_the_first_stop_and_lands_in_the_content(page, thread):
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box["y"] >= 0 and box["height"] > 10, "the focused skip link is on screen"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"
    page.keyboard.press("Tab")  # the next stop is inside the page's content, not the top bar
    assert page.evaluate("document.activeElement.closest('main') !== null")


def test_escape_closes_the_message_menu_and_gives_focus_back(page, thread):
    _, reply = thread
    menu = page.locator(f"article#message-{reply.id} details.menu")
    button = menu.locator("summary")
    button.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("open", "")
    page.keyboard.press("Tab")
    expect(menu.get_by_role("link", name="Track delivery")).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).not_to_have_attribute("open", "")
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("open", "")
    page.locator("h1").click()  # a click elsewhere closes it too
    expect(menu).not_to_have_attribute("open", "")


def test_the_sidebar_selects_are_named_by_their_own_labels(app, page, thread):
    ticket, _ = thread
    sidebar = page.get_by_role("complementary", name="Ticket details")
    sidebar.get_by_label("Status").select_option("pending")
    sidebar.get_by_label("Priority").select_option("high")
    expect(page.get_by_label("Then set status")).to_be_visible()  # the composer's own, a different select
    sidebar.get_by_role("button", name="Update").click()
    page.wait_for_selector("article.message")
    db.session.expire_all()
    changed = db.session.get(Ticket, ticket.id)
    assert (changed.status, changed.priority) == (TicketStatus.PENDING, TicketPriority.HIGH)


def test_the_panel_heading_takes_focus_without_a_text_field_ring(page, thread):
    _, reply = thread
    state_of(page, reply.id).focus()
    page.keyboard.press("Enter")
    heading = page.locator(".rr-panel-host").get_by_role("heading", name="Thread Read Info")
    expect(heading).to_be_focused()
    ring = heading.evaluate("e => { const s = getComputedStyle(e); return [s.outlineStyle, s.borderTopStyle, s.boxShadow]; }")
    assert ring == ["none", "none", "none"], "a box around the heading looks like a text field"
    edge = page.locator(".rr-panel-host .rr-panel").evaluate("e => getComputedStyle(e).boxShadow")
    assert edge != "none", "where focus went still shows: the panel's accent edge"
    page.keyboard.press("Tab")
    assert page.locator(".rr-panel-host .rr-panel").evaluate("e => getComputedStyle(e).boxShadow") == "none"


def test_each_privacy_checkbox_is_named_by_its_department(app, live_server, page):
    support, billing = make_department("Support"), make_department("Billing")
    admin = make_agent("admin@example.test", role=AgentRole.ADMIN)
    save_switches({support.id})
    sign_in(page, live_server, admin.email, PASSWORD)
    expect(page.get_by_role("heading", name="Tickets")).to_be_visible()
    page.goto(f"{live_server}/admin/privacy/read-receipts")
    expect(page.get_by_role("checkbox", name="On")).to_have_count(0)
    expect(page.get_by_role("checkbox", name="Read receipts for Support")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Read receipts for Billing")).not_to_be_checked()
    page.get_by_label("Read receipts for Billing").check()
    page.get_by_label("Open tracking (estimate) for Billing").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("checkbox", name="Attachments as download links for Support")).not_to_be_checked()
    db.session.expire_all()
    assert settings_for(billing.id).receipts_enabled and settings_for(billing.id).open_tracking
    assert not settings_for(support.id).open_tracking
