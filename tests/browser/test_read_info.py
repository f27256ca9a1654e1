"""Read info in Chromium: check marks, the Bounced label, the in-page Thread Read Info panel,
the refresh control (no reload), and live updates (the page asks for news every few seconds).

Screenshots: artifacts/checkmarks.png (and its replies alone, checkmarks-replies.png),
artifacts/bounced.png, artifacts/panel.png, artifacts/read-states.png (each read state beside
the others), artifacts/panel-beside-its-reply.png (a long thread, at phone width)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from helpdesk.mail.outgoing import send_message
from helpdesk.models import Channel, SendState
from receipts_plugin.inbound.pipeline import ingest
from receipts_plugin.sending import verp_address
from receipts_plugin.settings import save_switches
from tests.browser.conftest import ARTIFACTS, screenshot
from tests.browser.test_smoke import sign_in
from tests.helpers import PASSWORD, make_agent, make_department, make_reply, make_ticket
from tests.receipts.builders import mdn, postfix_dsn
from tests.receipts.factories import AcceptingRelay, receipt_to, report_on

pytestmark = pytest.mark.browser


@pytest.fixture
def plugins():
    return ["receipts", "tracking"]


@pytest.fixture
def desk(app, monkeypatch):
    app.config["SMTP_HOST"] = "relay.example.test"  # replies go to a relay (a stand-in), not the outbox
    monkeypatch.setattr("helpdesk.mail.outgoing.transport_for", lambda app: AcceptingRelay())
    support = make_department("Support", "support@example.test")
    agent = make_agent("kenji@example.test", [support], name="Kenji Sato", timezone="Asia/Tokyo")
    save_switches({support.id})
    app.config.update(RECEIPTS_LIVE_UPDATES=False)  # the tests that want live updates switch them on
    return support, agent


def email_ticket(agent, support, subject, requester="Alice Martin <alice@customer.test>"):
    return make_ticket(agent, support, requester=requester, subject=subject, channel=Channel.EMAIL,
                       body="Hello,\n\nThe export to CSV is empty since this morning.\n\nAlice")


def sent(app, ticket, agent, **recipients):
    reply = make_reply(ticket, agent, **recipients)
    assert send_message(reply.id).state is SendState.SENT
    return reply


def state_of(page, message_id):
    return page.locator(f'article#message-{message_id} a.rr-state[data-rr-message="{message_id}"]')


def open_thread(page, live_server, ticket_id):
    page.goto(f"{live_server}/tickets/{ticket_id}")
    page.wait_for_selector("article.message")
    page.evaluate("window.rrNoReload = 'still the same page'")


def test_check_marks_bounced_label_and_the_in_page_panel(app, live_server, page, desk):
    support, agent = desk
    ticket = email_ticket(agent, support, "Export to CSV is empty")
    first = sent(app, ticket, agent, to="Alice Martin <alice@customer.test>, nobody@customer.test",
                 cc="Bob Chen <bob@customer.test>", bcc="Carol Rossi <carol@customer.test>",
                 body="Hi Alice,\n\nWe are looking into it.\n\nKenji")
    report_on(app, first)
    second = sent(app, ticket, agent, to="Alice Martin <alice@customer.test>", body="Fixed now, can you check?")
    ingest(postfix_dsn(to=verp_address(app, second.id, second.recipients[0].id), recipient="alice@customer.test",
                       action="delivered", status="2.0.0"), "test")
    gone = email_ticket(agent, support, "Invoice address is wrong", requester="Old Address <old@customer.test>")
    bounced = sent(app, gone, agent, to="old@customer.test", body="Here is the corrected invoice.")
    ingest(postfix_dsn(to=verp_address(app, bounced.id, bounced.recipients[0].id), recipient="old@customer.test"), "t")

    sign_in(page, live_server, agent.email, PASSWORD)
    page.wait_for_selector("table.tickets")
    rows = page.locator("table.tickets tbody tr")
    assert rows.filter(has_text="Export to CSV is empty").locator("a.rr-state").inner_text().split() == ["✓", "Delivered"]
    assert rows.filter(has_text="Invoice address is wrong").locator("a.rr-state").inner_text().split() == ["✗", "Bounced"]

    open_thread(page, live_server, ticket.id)
    state = state_of(page, first.id)
    assert state.locator(".rr-checks").inner_text() == "✓✓"
    assert state.locator(".rr-label").inner_text() == "Read by a To recipient"
    assert state.locator(".rr-warn").inner_text() == "⚠ 1 not delivered"
    assert state.get_attribute("title").startswith("Read by a To recipient. Read by 1 of 4: alice@customer.test (To).")
    assert state_of(page, second.id).inner_text().split() == ["✓", "Delivered"]
    screenshot(page, "checkmarks")
    top, bottom = page.locator(".rr-toolbar").bounding_box(), page.locator(f"article#message-{second.id}").bounding_box()
    page.screenshot(path=str(ARTIFACTS / "checkmarks-replies.png"), clip={
        "x": top["x"] - 8, "y": top["y"] - 8, "width": bottom["width"] + 16,
        "height": bottom["y"] + bottom["height"] - top["y"] + 16})

    open_thread(page, live_server, gone.id)
    label = state_of(page, bounced.id)
    assert label.inner_text().split() == ["✗", "Bounced"]
    assert "rr-bounced" in label.get_attribute("class")
    assert page.get_by_role("alert").filter(has_text="A reply bounced for every recipient").is_visible()
    screenshot(page, "bounced")

    # The panel opens in the page from the check mark, keyboard first.
    open_thread(page, live_server, ticket.id)
    state_of(page, first.id).focus()
    page.keyboard.press("Enter")
    panel = page.locator(".rr-panel-host .rr-panel")
    panel.wait_for()
    assert page.url == f"{live_server}/tickets/{ticket.id}"
    assert page.evaluate("window.rrNoReload") == "still the same page"
    assert page.evaluate("document.activeElement.textContent") == "Thread Read Info"
    rows = panel.locator("tr[data-rr-recipient]")
    assert rows.count() == 4
    cells = [rows.nth(i).locator("td").all_inner_texts()[1:3] for i in range(4)]
    assert cells == [["To", "Read"], ["To", "Bounced"], ["CC", "Delivered"], ["BCC", "Sent"]]
    assert "The address does not exist at the recipient's mail server." in rows.nth(1).inner_text()
    panel.locator('tr[data-rr-recipient="alice@customer.test"] details summary').click()
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.locator(".rr-panel-host").screenshot(path=str(screenshot(page, "panel")))
    page.keyboard.press("Escape")
    assert page.locator(".rr-panel-host").is_hidden()
    assert page.evaluate("document.activeElement.dataset.rrMessage") == str(first.id)

    # ... and from "Track delivery" in the message menu.
    page.locator(f"article#message-{second.id} details.menu summary").click()
    page.locator(f"article#message-{second.id} a.rr-track").click()
    panel.wait_for()
    assert panel.locator("tr[data-rr-recipient]").count() == 1
    page.locator("[data-rr-close]").click()
    assert page.locator(".rr-panel-host").is_hidden()


def test_refresh_updates_the_state_and_the_open_panel_without_a_reload(app, live_server, page, desk):
    support, agent = desk
    ticket = email_ticket(agent, support, "Two-factor codes not arriving")
    reply = sent(app, ticket, agent, to="Alice Martin <alice@customer.test>", body="Please try again now.")
    sign_in(page, live_server, agent.email, PASSWORD)
    page.wait_for_selector("table.tickets")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    open_thread(page, live_server, ticket.id)
    navigations.clear()
    assert state_of(page, reply.id).inner_text().split() == ["•", "Sent"]
    state_of(page, reply.id).click()
    page.locator(".rr-panel-host tr[data-rr-recipient]").wait_for()
    assert page.locator(".rr-panel-host tr[data-rr-recipient] td").nth(2).inner_text() == "Sent"

    # A read receipt arrives (the poller would do this).
    assert ingest(mdn(sender="alice@customer.test", final_recipient="alice@customer.test",
                      original_message_id=reply.message_id, to=receipt_to(app, reply, "alice@customer.test")),
                  "test").outcome == "matched"
    assert state_of(page, reply.id).inner_text().split() == ["•", "Sent"]  # nothing changes by itself
    page.get_by_role("button", name="Refresh delivery status").click()
    expect(page.locator(f'a.rr-state[data-rr-message="{reply.id}"] .rr-label')).to_have_text("Read")
    state = state_of(page, reply.id)
    assert state.inner_text().split() == ["✓✓", "Read"] and "rr-highlight" in state.get_attribute("class")
    assert page.locator(".rr-panel-host tr[data-rr-recipient] td").nth(2).inner_text() == "Read"
    announced = page.locator(".rr-toolbar").get_by_role("status")  # a polite live region: screen readers say it
    assert announced.inner_text().startswith("Updated at ")
    sent_at = page.locator(f"article#message-{reply.id} header time").inner_text()
    assert announced.inner_text().endswith(f"Reply of {sent_at}: Read.")
    assert page.evaluate("window.rrNoReload") == "still the same page"
    assert navigations == []
    page.get_by_role("button", name="Refresh delivery status").click()  # nothing new: it says so
    expect(announced).to_have_text(re.compile(r"^Updated at .+\. No change\.$"))


def test_live_updates_arrive_without_a_click(app, live_server, page, desk):
    support, agent = desk
    app.config.update(RECEIPTS_LIVE_UPDATES=True, RECEIPTS_LIVE_CHECK_SECONDS=0.2)
    ticket = email_ticket(agent, support, "Sync stuck at 99%")
    reply = sent(app, ticket, agent, to="Alice Martin <alice@customer.test>", cc="Bob Chen <bob@customer.test>")
    sign_in(page, live_server, agent.email, PASSWORD)
    page.wait_for_selector("table.tickets")
    with page.expect_response(lambda response: response.url.endswith(f"/tickets/{ticket.id}/read-info/marker")):
        open_thread(page, live_server, ticket.id)  # the page asks for news without news: nothing changes
    assert state_of(page, reply.id).inner_text().split() == ["•", "Sent"]
    ingest(mdn(sender="bob@customer.test", final_recipient="bob@customer.test",
               original_message_id=reply.message_id, to=receipt_to(app, reply, "bob@customer.test")), "poller")
    expect(page.locator(f'a.rr-state[data-rr-message="{reply.id}"] .rr-label')).to_have_text(
        "Read by a CC/BCC recipient", timeout=10_000)
    expect(page.locator(".rr-toolbar").get_by_role("status")).to_contain_text(
        ": Read by a CC/BCC recipient, 1 of 2 read.")  # announced, as a click on Refresh would be
    assert page.evaluate("window.rrNoReload") == "still the same page"


def set_tab_hidden(page, hidden: bool) -> None:
    """As when the agent switches to another tab and back (headless pages are always visible)."""
    page.evaluate("""hidden => {
        Object.defineProperty(document, "hidden", {value: hidden, configurable: true});
        document.dispatchEvent(new Event("visibilitychange"));
    }""", hidden)


def test_a_hidden_tab_asks_nothing_and_asks_at_once_when_seen_again(app, live_server, page, desk):
    support, agent = desk
    app.config.update(RECEIPTS_LIVE_UPDATES=True, RECEIPTS_LIVE_CHECK_SECONDS=0.2)
    ticket = email_ticket(agent, support, "Password reset mail never arrives")
    reply = sent(app, ticket, agent, to="Alice Martin <alice@customer.test>")
    sign_in(page, live_server, agent.email, PASSWORD)
    page.wait_for_selector("table.tickets")
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if request.url.endswith("/read-info/marker") else None)
    with page.expect_response(lambda response: response.url.endswith(f"/tickets/{ticket.id}/read-info/marker")):
        open_thread(page, live_server, ticket.id)
    set_tab_hidden(page, True)
    page.wait_for_timeout(300)  # a question already on its way may still end
    before = len(asked)
    page.wait_for_timeout(1500)  # seven intervals
    assert len(asked) == before, "a hidden tab kept asking"

    # Drawn to ask only every minute: news seen within seconds can only come from asking at once.
    app.config["RECEIPTS_LIVE_CHECK_SECONDS"] = 60
    open_thread(page, live_server, ticket.id)
    set_tab_hidden(page, True)
    ingest(mdn(sender="alice@customer.test", final_recipient="alice@customer.test",
               original_message_id=reply.message_id, to=receipt_to(app, reply, "alice@customer.test")), "poller")
    assert state_of(page, reply.id).inner_text().split() == ["•", "Sent"]
    set_tab_hidden(page, False)
    expect(page.locator(f'a.rr-state[data-rr-message="{reply.id}"] .rr-label')).to_have_text("Read", timeout=5000)
    assert page.evaluate("window.rrNoReload") == "still the same page"


def test_without_javascript_the_check_mark_leads_to_the_panel_page(app, browser, live_server, desk):
    support, agent = desk
    ticket = email_ticket(agent, support, "Need a VAT invoice")
    reply = sent(app, ticket, agent, to="Alice Martin <alice@customer.test>", cc="Bob Chen <bob@customer.test>")
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, live_server, agent.email, PASSWORD)
        page.wait_for_selector("table.tickets")
        page.goto(f"{live_server}/tickets/{ticket.id}")
        state_of(page, reply.id).click()
        page.wait_for_url(f"{live_server}/messages/{reply.id}/read-info")
        assert page.locator("tr[data-rr-recipient]").count() == 2
        assert page.locator("[data-rr-close]").count() == 0  # nothing that needs a script
        page.get_by_role("link", name="Refresh").click()
        page.wait_for_url(f"{live_server}/messages/{reply.id}/read-info")
        page.get_by_role("link", name="Back to the thread").click()
        page.wait_for_url(f"{live_server}/tickets/{ticket.id}#message-{reply.id}")
    finally:
        context.close()


def read_by(app, reply, *addresses):
    for address in addresses:
        assert ingest(mdn(sender=address, final_recipient=address, original_message_id=reply.message_id,
                          to=receipt_to(app, reply, address)), "test").outcome == "matched"


def test_the_panel_opens_right_after_its_reply_in_a_long_thread(app, live_server, page, desk):
    support, agent = desk
    ticket = email_ticket(agent, support, "Sync stuck at 99% on every laptop")
    replies = [sent(app, ticket, agent, to="Alice Martin <alice@customer.test>",
                    body=f"Update {n}:\n\nStill looking.\nMore news soon.\n\nKenji") for n in range(1, 13)]
    sign_in(page, live_server, agent.email, PASSWORD)
    page.wait_for_selector("table.tickets")
    open_thread(page, live_server, ticket.id)
    panel = page.locator(".rr-panel-host .rr-panel")
    adjacent = "id => document.getElementById('message-' + id).nextElementSibling.matches('.rr-panel-host')"
    last, first = replies[-1], replies[0]

    state_of(page, last.id).click()  # far down the thread
    panel.wait_for()
    assert panel.get_attribute("data-rr-panel") == str(last.id)
    assert page.evaluate(adjacent, last.id)
    expect(panel.get_by_role("heading", name="Thread Read Info")).to_be_focused()
    expect(panel).to_be_in_viewport()

    page.keyboard.press("Escape")
    page.locator(f"article#message-{first.id} details.menu summary").click()
    page.locator(f"article#message-{first.id} a.rr-track").click()  # the same panel host moves up
    expect(panel).to_have_attribute("data-rr-panel", str(first.id))
    assert page.evaluate(adjacent, first.id)
    expect(panel).to_be_in_viewport()
    panel.get_by_role("button", name="Refresh").click()  # refreshed where it is
    expect(page.locator(".rr-toolbar").get_by_role("status")).to_contain_text("Updated at ")
    assert page.evaluate(adjacent, first.id) and page.locator(".rr-panel-host").count() == 1

    page.set_viewport_size({"width": 390, "height": 800})
    page.keyboard.press("Escape")
    state_of(page, last.id).click()
    expect(panel).to_have_attribute("data-rr-panel", str(last.id))
    assert page.evaluate(adjacent, last.id)
    expect(panel).to_be_in_viewport()
    top, bottom = page.evaluate("""id => [
        document.getElementById("message-" + id).getBoundingClientRect().top + scrollY,
        document.querySelector(".rr-panel-host").getBoundingClientRect().bottom + scrollY]""", last.id)
    page.screenshot(path=str(ARTIFACTS / "panel-beside-its-reply.png"), full_page=True,
                    clip={"x": 0, "y": top - 8, "width": 390, "height": min(bottom - top + 16, 1400)})
    assert page.evaluate("window.rrNoReload") == "still the same page"


def luminance(css: str) -> float:
    """Relative luminance (WCAG) of a computed ``rgb(...)`` colour."""
    channels = [int(c) / 255 for c in re.findall(r"\d+", css)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


STYLE = "e => { const s = getComputedStyle(e); return [s.backgroundColor, s.color, s.borderTopColor, s.borderTopWidth]; }"
WHITE = "rgb(255, 255, 255)"


def test_read_by_all_and_a_partial_read_are_told_apart_without_colour_or_hover(app, live_server, page, desk):
    support, agent = desk
    ticket = email_ticket(agent, support, "Quote for 50 seats")
    everyone = sent(app, ticket, agent, to="Alice Martin <alice@customer.test>", cc="Bob Chen <bob@customer.test>",
                    body="The quote is attached.")
    read_by(app, everyone, "alice@customer.test", "bob@customer.test")
    some = sent(app, ticket, agent, to="Alice Martin <alice@customer.test>", cc="Bob Chen <bob@customer.test>",
                bcc="Carol Rossi <carol@customer.test>", body="And the terms.")
    read_by(app, some, "alice@customer.test")
    one = sent(app, ticket, agent, to="Alice Martin <alice@customer.test>", body="Anything else?")
    read_by(app, one, "alice@customer.test")
    delivered = sent(app, ticket, agent, to="Alice Martin <alice@customer.test>", cc="Bob Chen <bob@customer.test>",
                     bcc="Carol Rossi <carol@customer.test>", body="Signed copy received, thanks.")
    for recipient in delivered.recipients[:2]:
        ingest(postfix_dsn(to=verp_address(app, delivered.id, recipient.id), recipient=recipient.address,
                           action="delivered", status="2.0.0"), "test")
    sign_in(page, live_server, agent.email, PASSWORD)
    page.wait_for_selector("table.tickets")
    open_thread(page, live_server, ticket.id)

    # Words a touch screen shows without a tooltip, and what a screen reader says (its name).
    assert state_of(page, everyone.id).inner_text().split() == ["✓✓", "Read", "by", "all"]
    assert state_of(page, some.id).inner_text().split() == ["✓✓", "Read", "by", "a", "To", "recipient", "·", "1", "of",
                                                             "3", "read"]
    assert state_of(page, one.id).inner_text().split() == ["✓✓", "Read"]
    assert state_of(page, delivered.id).inner_text().split() == ["✓", "Delivered", "·", "2", "of", "3"]
    expect(page.get_by_role("link", name="Read by a To recipient 1 of 3 read", exact=True)).to_have_count(1)
    # A several-recipient Delivered names who got it, as the read states do.
    assert "Delivered to 2 of 3: alice@customer.test (To), bob@customer.test (CC)." in \
        state_of(page, delivered.id).get_attribute("title")

    # Shape, not hue: Read and Read by all are filled pills (their fill stands out from the white
    # card as much as text does); a partial read is an outline on white.
    for filled in (everyone, one):
        background, text, _, _ = state_of(page, filled.id).evaluate(STYLE)
        assert contrast(background, WHITE) >= 3 and contrast(text, background) >= 4.5, filled.id
    background, text, border, width = state_of(page, some.id).evaluate(STYLE)
    assert contrast(background, WHITE) < 1.1 and float(width.removesuffix("px")) >= 1 and contrast(border, WHITE) >= 3
    top, bottom = page.locator(f"article#message-{everyone.id}").bounding_box(), \
        page.locator(f"article#message-{delivered.id}").bounding_box()
    page.screenshot(path=str(ARTIFACTS / "read-states.png"), full_page=True, clip={
        "x": top["x"] - 8, "y": top["y"] - 8, "width": top["width"] + 16,
        "height": bottom["y"] + bottom["height"] - top["y"] + 16})
