"""A reply in Chromium: the page the agent comes back to says "Sending..." while the reply
waits for the worker, and shows the result when the worker has sent it, without a reload."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from helpdesk.mail.outgoing import send_due
from tests.browser.conftest import screenshot
from tests.browser.test_smoke import sign_in
from tests.helpers import PASSWORD, make_agent, make_department, make_ticket
from tests.mail.fake_relay import FakeRelay

pytestmark = pytest.mark.browser


def test_the_thread_shows_sending_then_sent(app, live_server, page):
    support = make_department("Support", "support@example.test")
    agent = make_agent("kim@example.test", [support], name="Kim Lee")
    ticket = make_ticket(agent, support)
    with FakeRelay() as relay:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=relay.port, SMTP_SECURITY="none", SEND_WAIT_SECONDS=0)
        sign_in(page, live_server, agent.email, PASSWORD)
        page.goto(f"{live_server}/tickets/{ticket.id}")
        page.fill("#body", "Hi,\n\nA technician is on the way.\n\nKim")
        page.get_by_role("button", name="Send reply").click()
        state = page.locator(".send-state[data-send-state] .sendstate").last
        expect(state).to_have_text("Sending\u2026")
        expect(page.locator(".flash")).to_contain_text("Reply queued: sending it now.")
        screenshot(page, "reply-sending")
        assert relay.connections == 0
        assert [report.state.value for report in send_due()] == ["sent"]  # the worker's job
        expect(state).to_have_text("Sent", timeout=10000)  # the page asked again by itself
        assert relay.messages == 1
        screenshot(page, "reply-sent")
