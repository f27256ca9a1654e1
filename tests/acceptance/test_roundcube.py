"""The product's story end to end, with a real recipient's client (issue 16): a customer writes
in; an agent replies from the desk, in Chromium, To two customers, CC one and an address that
does not exist, BCC one; Postfix delivers, Dovecot files it, Sieve answers for two of them (a
vacation, a reject); one customer opens the reply in Roundcube and sends the receipt from its
prompt, another opens it and clicks Ignore; the desk's worker picks every report up over IMAP
IDLE, and the thread the agent still has open updates by itself.

Every part is real and none of it ours but the desk: Debian's Postfix, Dovecot, Pigeonhole and
Roundcube (served by PHP's built-in server), the desk's own web server and worker processes.
Screenshots of Roundcube's prompt and of the desk's panel afterwards go to artifacts/."""
from __future__ import annotations

import re
import time
from email.message import EmailMessage

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import Message, MessageDirection, Ticket
from receipts_plugin.models import RecipientStatusRow, StoredReport
from tests.browser.conftest import ARTIFACTS
from tests.fullstack import ADMIN, ADMIN_PASSWORD, SUPPORT, FullStack, seed_desk
from tests.roundcube import RECEIPT_PROMPT, answer_receipt_prompt, open_message, sign_in

pytestmark = [pytest.mark.mailstack, pytest.mark.browser, pytest.mark.acceptance]

SUBJECT = "The printer in room 4 is on fire"
TO = "Alice Martin <alice@customer.test>, Dev Patel <dave@customer.test>"
CC = "Bob Chen <bob@customer.test>, nobody@customer.test"
BCC = "Carla Rossi <carol@customer.test>"
EXPECTED = {"alice@customer.test": "read", "dave@customer.test": "delivered", "bob@customer.test": "delivered",
            "nobody@customer.test": "bounced", "carol@customer.test": "rejected"}
WAIT = 60.0


@pytest.fixture
def plugins():
    return ["receipts", "tracking"]


@pytest.fixture
def stack(app, tmp_path):
    """The whole stack on the test's database, seeded; vacation and reject rules in place."""
    stack = FullStack.start_mail(app.config["DATABASE_URL"], tmp_path / "desk", app.config["SECRET_KEY"])
    try:
        app.config["SECRETS_DIR"] = stack.config["SECRETS_DIR"]  # the desk's processes read the CA file there
        seed_desk(stack.mail)
        stack.mail.set_vacation("dave@customer.test", "Out of office", "I am away until Monday.")
        stack.mail.set_reject("carol@customer.test", "I do not accept mail from the help desk.")
        stack.start_desk()
        yield stack
    finally:
        codes = stack.stop()
    assert codes == {"worker": 0, "web server": 0}  # both stopped cleanly on SIGTERM


def wait_for(what: str, found, stack: FullStack, timeout: float = WAIT):
    """``found()`` once it is truthy (re-reading what the desk's processes committed)."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.rollback()
        value = found()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout} s\n--- worker\n{stack.worker.output()}")
        time.sleep(0.25)


def statuses(reply_id: int) -> dict[str, str]:
    reply = db.session.get(Message, reply_id)
    rows = {row.recipient_id: row.status for row in db.session.scalars(
        select(RecipientStatusRow).where(RecipientStatusRow.message_id == reply_id))}
    return {r.address: rows.get(r.id) for r in reply.recipients}


def customer_page(browser):
    return browser.new_context(viewport={"width": 1280, "height": 800}).new_page()


def test_a_reply_to_five_recipients_through_real_mail_servers_and_roundcube(app, stack, browser):
    began = time.monotonic()
    question = EmailMessage()
    question["From"], question["To"], question["Subject"] = "Alice Martin <alice@customer.test>", SUPPORT, SUBJECT
    question.set_content("Hello,\n\nthe printer in room 4 is on fire again.\n\nAlice")
    stack.mail.send(question)
    ticket_id = wait_for("the customer's mail opened a ticket",
                         lambda: db.session.scalar(select(Ticket.id).where(Ticket.subject == SUBJECT)), stack)

    # The agent replies from the desk, in the browser, and keeps the thread open.
    desk = customer_page(browser)
    desk.goto(stack.desk_url)
    desk.fill("input[name=email]", ADMIN)
    desk.fill("input[name=password]", ADMIN_PASSWORD)
    desk.click("button[type=submit]")
    desk.goto(f"{stack.desk_url}tickets/{ticket_id}")
    composer = desk.locator("form[action$='/reply']")
    composer.locator("input[name=to]").fill(TO)
    composer.locator("input[name=cc]").fill(CC)
    composer.locator("input[name=bcc]").fill(BCC)
    composer.locator("textarea[name=body]").fill("Hi Alice,\n\nA technician is on the way.\n\nAda")
    composer.get_by_role("button", name="Send reply").click()
    reply_id = wait_for("the reply was stored", lambda: db.session.scalar(select(Message.id).where(
        Message.ticket_id == ticket_id, Message.direction == MessageDirection.OUTBOUND)), stack)
    state = desk.locator(f'article#message-{reply_id} a.rr-state[data-rr-message="{reply_id}"]')
    # The worker sends it; the page shows its answer live (no reload), as an agent sees it.
    expect(state.locator(".rr-label")).to_have_text(re.compile(r"^(Sent|Delivered)$"), timeout=WAIT * 1000)

    # Alice opens it in Roundcube and sends the receipt; Bob opens it and clicks Ignore.
    alice = customer_page(browser)
    sign_in(alice, stack.roundcube, "alice@customer.test", stack.mail.password)
    open_message(alice, SUBJECT)
    alice.locator(RECEIPT_PROMPT).wait_for()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    alice.screenshot(path=str(ARTIFACTS / "roundcube-receipt-prompt.png"))
    answer_receipt_prompt(alice, send=True)
    bob = customer_page(browser)
    sign_in(bob, stack.roundcube, "bob@customer.test", stack.mail.password)
    open_message(bob, SUBJECT)
    answer_receipt_prompt(bob, send=False)

    # The worker picks the reports up (IDLE); each recipient ends in its own state.
    wait_for("every recipient's state", lambda: statuses(reply_id) == EXPECTED, stack)
    assert statuses(reply_id) == EXPECTED

    # The thread, still open, updated by itself (live updates), with the partial warning.
    label = state.locator(".rr-label")
    deadline = time.monotonic() + 20
    while label.inner_text() != "Read by a To recipient" and time.monotonic() < deadline:
        desk.wait_for_timeout(250)
    assert label.inner_text() == "Read by a To recipient"
    assert state.locator(".rr-warn").inner_text() == "⚠ 2 not delivered"
    tooltip = state.get_attribute("title")
    assert "Read by 1 of 5: alice@customer.test (To)." in tooltip
    assert "Not delivered to 2 of 5: nobody@customer.test, carol@customer.test." in tooltip

    # The panel: who read it, who got it, the bounce's code, the filter's words.
    state.click()
    panel = desk.locator(f"section#rr-panel-{reply_id}")
    panel.wait_for()
    rows = {address: panel.locator(f'tr[data-rr-recipient="{address}"]') for address in EXPECTED}
    assert {a: row.locator(".rr-status").inner_text() for a, row in rows.items()} == {
        "alice@customer.test": "Read", "dave@customer.test": "Delivered", "bob@customer.test": "Delivered",
        "nobody@customer.test": "Bounced", "carol@customer.test": "Rejected"}
    assert "5.1.1" in rows["nobody@customer.test"].inner_text()
    assert "I do not accept mail from the help desk." in rows["carol@customer.test"].inner_text()
    assert "Rejected by a mail filter" in rows["carol@customer.test"].inner_text()
    desk.screenshot(path=str(ARTIFACTS / "desk-panel-after-roundcube.png"), full_page=True)

    # The API says the same; the vacation reply opened no ticket and changed nothing.
    info = desk.request.get(f"{stack.desk_url}api/v1/messages/{reply_id}/read-info").json()
    problems = {r["address"]: r["problem"] and r["problem"]["kind"] for r in info["recipients"]}
    assert problems == {"alice@customer.test": None, "dave@customer.test": None, "bob@customer.test": None,
                        "nobody@customer.test": "dsn-failed", "carol@customer.test": "mdn-rejected"}
    assert (info["state"]["partial_problem"], info["state"]["problem_count"]) == (True, 2)
    vacation = wait_for("Dave's vacation reply reached the desk", lambda: db.session.scalars(
        select(StoredReport).where(StoredReport.kind == "auto-reply")).all(), stack)
    assert [(r.outcome, r.from_address) for r in vacation] == [("ignored", "dave@customer.test")]
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 1
    print(f"acceptance: {time.monotonic() - began:.1f} s from the customer's mail to the panel")
