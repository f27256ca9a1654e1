"""The Thread Read Info panel in Chromium: downloads, the labelled open estimate, and revoking
one recipient's download links."""
from __future__ import annotations

import pytest

from helpdesk.mail.outgoing import send_message
from receipts_plugin.settings import save_switches
from tests.browser.conftest import screenshot
from tests.helpers import PASSWORD, make_agent, make_department
from tests.receipts.tracking_helpers import (DESKTOP_CHROME, GMAIL_PROXY, download_paths, install_clock,
                                             outbox_copies, pixel_paths, reply_with_file)

pytestmark = pytest.mark.browser


@pytest.fixture
def plugins():
    return ["receipts", "tracking"]


def test_the_panel_shows_downloads_and_the_labelled_open_estimate(app, live_server, page):
    support = make_department("Support", "support@example.test")
    agent = make_agent("agent@example.test", [support], name="Agnes Agent")
    save_switches({support.id}, open_tracking={support.id}, download_links={support.id})
    clock = install_clock(app)
    reply = reply_with_file(agent, support, bcc="carol@customer.test")
    send_message(reply.id)
    copies = outbox_copies(app)
    recipient = app.test_client()
    clock.advance(minutes=20)
    assert recipient.get(download_paths(copies["alice@customer.test"])[0],
                         headers={"User-Agent": DESKTOP_CHROME}).status_code == 200
    recipient.get(pixel_paths(copies["alice@customer.test"])[0], headers={"User-Agent": DESKTOP_CHROME})
    clock.advance(minutes=5)
    recipient.get(pixel_paths(copies["bob@customer.test"])[0], headers={"User-Agent": GMAIL_PROXY})

    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", agent.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/tickets/{reply.ticket_id}")
    message = page.locator(f"#message-{reply.id}")
    message.locator("details.menu summary").click()
    message.locator("a.rr-track").click()
    panel = page.locator(".rr-panel-host .rr-tracking")
    panel.wait_for()
    downloads = panel.locator("li.rr-download")
    assert downloads.count() == 1
    assert downloads.first.inner_text().startswith("Alice downloaded file.pdf at ")
    assert panel.locator("h3", has_text="Opened").inner_text() == "Opened (an estimate)"
    alice = panel.locator('li[data-rr-opens="alice@customer.test"]').inner_text()
    bob = panel.locator('li[data-rr-opens="bob@customer.test"]').inner_text()
    carol = panel.locator('li[data-rr-opens="carol@customer.test"]').inner_text()
    assert "opened (estimate)" in alice
    assert "opened by an automated fetch" in bob and "Gmail's image proxy" in bob and "estimate)" not in bob
    assert "no open seen" in carol
    assert panel.get_by_role("button", name="Revoke this reply's links").is_visible()
    # An estimate never makes the reply "read": the check mark still says what the relay said.
    assert "Read" not in page.locator(f"#message-{reply.id} .rr-state").first.inner_text()
    screenshot(page, "tracking-panel")

    # Bob was copied by mistake: his links go, Alice and Carol keep theirs.
    panel.get_by_role("button", name="Revoke bob@customer.test's links").click()
    page.wait_for_url(f"{live_server}/messages/{reply.id}/read-info")
    assert "bob@customer.test's download links were revoked" in page.locator(".flash").inner_text()
    bob_links = page.locator('li[data-rr-links="bob@customer.test"]').inner_text()
    assert "links revoked" in bob_links and "by Agnes Agent" in bob_links
    assert page.get_by_role("button", name="Revoke Alice's links").is_visible()
    assert page.get_by_role("button", name="Revoke bob@customer.test's links").count() == 0
    assert recipient.get(download_paths(copies["bob@customer.test"])[0]).status_code == 410
    screenshot(page, "tracking-revoked-one")

    page.goto(f"{live_server}/me/notifications")
    assert not page.locator("input[name=notify_read]").is_checked()
    screenshot(page, "tracking-preferences")
