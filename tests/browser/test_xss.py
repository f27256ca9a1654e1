"""Hostile text everywhere it can come from (subjects, display names, bodies, HTML mail, file
names, bounce diagnostics, MDN fields) is shown as text on every page, and no script runs."""
from __future__ import annotations

from urllib.parse import quote

import pytest

from helpdesk.extensions import db
from helpdesk.mail.intake import process_inbound
from helpdesk.mail.outgoing import send_message
from helpdesk.models import AgentRole, Ticket
from helpdesk.services.tickets import ReplyDraft, UploadedFile, post_reply
from receipts_plugin.inbound.pipeline import ingest
from receipts_plugin.sending import verp_address
from receipts_plugin.settings import save_switches
from tests.browser.conftest import screenshot
from tests.browser.test_smoke import sign_in
from tests.helpers import PASSWORD, make_agent, make_department
from tests.receipts.builders import mdn, postfix_dsn
from tests.receipts.factories import receipt_to

pytestmark = pytest.mark.browser

PAYLOADS = {
    "subject": "<script>window.pwned='subject'</script>",
    "name": "<img src=x onerror=\"window.pwned='name'\">",
    "body": "<script>window.pwned='body'</script>",
    "html": "<img src=x onerror=\"window.pwned='html'\"><a href=\"javascript:window.pwned='href'\">link</a>",
    "file": "\"><svg onload=\"window.pwned='file'\">.txt",
    "diagnostic": "<script>window.pwned='diagnostic'</script>",
}


HANDLERS = """[...document.querySelectorAll('*')].flatMap(
    e => [...e.attributes].filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name))"""


@pytest.fixture
def plugins():
    return ["receipts", "tracking"]


def hostile_mail(support_email: str) -> bytes:
    return (
        f"From: \"{PAYLOADS['name']}\" <evil@customer.test>\r\nTo: {support_email}\r\n"
        f"Subject: {PAYLOADS['subject']}\r\nMessage-ID: <xss@customer.test>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=OUT\r\n\r\n"
        "--OUT\r\nContent-Type: multipart/alternative; boundary=ALT\r\n\r\n"
        f"--ALT\r\nContent-Type: text/plain\r\n\r\n{PAYLOADS['body']}\r\n"
        f"--ALT\r\nContent-Type: text/html\r\n\r\n<p>{PAYLOADS['html']}</p>\r\n--ALT--\r\n"
        f"--OUT\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"{PAYLOADS['file']}\"\r\n\r\n"
        "x\r\n--OUT--\r\n").encode()


def test_no_script_runs_anywhere(app, live_server, page):
    support = make_department("Support", "support@example.test")
    save_switches({support.id}, download_links={support.id})  # the panel then lists each recipient's links
    agent = make_agent("agent@example.test", [support], role=AgentRole.ADMIN)
    ticket = db.session.get(Ticket, process_inbound(hostile_mail(support.email), "test").ticket_id)
    reply = post_reply(ticket, agent, ReplyDraft(
        to=f"\"{PAYLOADS['name']}\" <evil@customer.test>, gone@customer.test", body="See the file.",
        files=[UploadedFile(PAYLOADS["file"], "text/plain", b"x")]))
    send_message(reply.id)
    gone = next(r for r in reply.recipients if r.address == "gone@customer.test")
    ingest(postfix_dsn(to=verp_address(app, reply.id, gone.id), recipient=gone.address,
                       diagnostic=f"smtp; 550 5.1.1 {PAYLOADS['diagnostic']}"), "test")
    ingest(mdn(sender="evil@customer.test", final_recipient="evil@customer.test", original_message_id=reply.message_id,
               disposition=f"displayed {PAYLOADS['diagnostic']}", to=receipt_to(app, reply, "evil@customer.test")),
           "test")
    ingest(mdn(sender="x@customer.test", final_recipient="x@customer.test",
               original_message_id="<script>@unknown"), "test")  # an unmatched report on the health page
    db.session.commit()

    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, live_server, agent.email, PASSWORD)
    pages = ["/", f"/tickets/{ticket.id}", f"/messages/{reply.id}/read-info", "/admin/intake",
             "/admin/receipts/health", f"/?q={quote(PAYLOADS['name'])}", f"/?q={quote(PAYLOADS['body'] + 'x')}"]
    for path in pages:
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.pwned") is None, path
        assert page.evaluate(HANDLERS) == [], path  # no element carries an inline event handler
        assert page.locator("script:not([src]), svg").count() == 0, path
    page.goto(f"{live_server}/tickets/{ticket.id}")
    body = page.locator("body").inner_text()
    assert PAYLOADS["subject"] in body and PAYLOADS["body"] in body  # shown as text
    assert page.locator("a[href^='javascript']").count() == 0
    page.locator(f'a.rr-state[data-rr-message="{reply.id}"]').click()
    page.locator(".rr-panel-host .rr-panel").wait_for()
    assert "window.pwned='diagnostic'" in page.locator(".rr-panel-host").inner_text()
    evil = next(r for r in reply.recipients if r.address == "evil@customer.test")
    assert "<img src=x onerror=" in evil.name
    revoke = page.locator(".rr-panel-host .rr-links button").first.inner_text()
    assert revoke == f"Revoke {evil.name}'s links"  # the hostile name, shown as text
    assert page.evaluate("window.pwned") is None and dialogs == []
    screenshot(page, "xss-escaped")
