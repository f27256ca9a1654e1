"""Sign in, open a ticket, see its thread: in Chromium, with a screenshot kept."""
import pytest

from helpdesk.demo import DEMO_ADMIN, DEMO_PASSWORD, load_demo
from helpdesk.extensions import db
from helpdesk.models import Message, MessageDirection, Ticket
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def sign_in(page, base_url, email=DEMO_ADMIN, password=DEMO_PASSWORD):
    page.goto(f"{base_url}/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_sign_in_open_a_ticket_and_see_its_thread(app, live_server, page):
    load_demo(36)
    ticket = db.session.scalars(db.select(Ticket).join(Ticket.messages)
                                .where(Message.direction == MessageDirection.OUTBOUND)
                                .order_by(Ticket.id)).first()
    db.session.commit()
    sign_in(page, live_server)
    page.wait_for_selector("table.tickets")
    assert page.locator("table.tickets tbody tr").count() == app.config["TICKETS_PER_PAGE"]
    screenshot(page, "ticket-list")
    page.goto(f"{live_server}/tickets/{ticket.id}")
    page.wait_for_selector("article.message")
    assert page.locator("h1").inner_text().endswith(ticket.subject)
    outbound = page.locator("article.message.outbound").first
    assert "To" in outbound.locator("dl.addresses").inner_text()
    assert page.locator("article.message").count() == len(ticket.messages)
    assert page.locator("form[action$='/reply'] input[name=to]").input_value() == ticket.requester.display
    screenshot(page, "ticket-thread")
    page.set_viewport_size({"width": 390, "height": 800})
    screenshot(page, "ticket-thread-phone")


def test_wrong_password_is_shown_in_the_form(app, live_server, page):
    load_demo(3)
    sign_in(page, live_server, password="wrong password")
    assert page.locator(".error").inner_text() == "Wrong email or password."
