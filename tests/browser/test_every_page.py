"""Every page of the app, at phone width (390 px), for an admin and for an agent: nothing
scrolls sideways, no id is used twice (a label would name the wrong control; hidden inputs,
which no label names, aside: each form has its own CSRF field), and every form control has a
name a screen reader can say. The admin's pages are checked at desktop width too.

The pages come from the app's URL map: each GET route is either visited here (PAGES) or
declared as not a page (NOT_PAGES, with the reason), so a new page cannot be forgotten. The
data is the demo's (every check-mark state, unmatched and suspect reports) plus the long
things that widen pages: an unbroken address, a subject with a long token, a long mailbox
host. Screenshots: artifacts/every-page/<role>-<page>-390.png, and the admin's at desktop
width, <page>-1280.png."""
from __future__ import annotations

import re

import pytest

from helpdesk.demo import DEMO_ADMIN, DEMO_PASSWORD, load_demo
from helpdesk.extensions import db
from helpdesk.mail.intake import process_inbound
from helpdesk.mail.outgoing import send_message
from helpdesk.models import Agent, Channel, Department, InboundRecord, Message, MessageDirection, Ticket
from helpdesk.services.contacts import mark_undeliverable
from helpdesk.services.tickets import ReplyDraft, UploadedFile, open_ticket, post_reply
from helpdesk.signals import demo_data_loaded
from receipts_plugin.models import Mailbox, StoredReport
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_smoke import sign_in
from tests.test_authorization_matrix import url_for_rule

pytestmark = pytest.mark.browser

PHONE, DESKTOP = 390, 1280
LONG_ADDRESS = "accounts.payable.department.europe.region@subsidiary-with-a-long-name.customer.example"
LONG_SUBJECT = "Error 0x8007000E in export job 7f3c9a2b41d84e0f9c6a1b2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f"

#: GET routes that draw no page, and why they are not visited.
NOT_PAGES = {
    "static": "a stylesheet, script or icon", "receipts.static": "a stylesheet or script",
    "receipts_tracking.static": "a stylesheet",
    "health.healthz": "JSON for load balancers", "health.readyz": "JSON for load balancers",
    "api.tickets": "JSON API", "api.ticket": "JSON API", "receipts.api_read_info": "JSON API",
    "receipts.api_read_states": "JSON API", "receipts_tracking.api_tracking": "JSON API",
    "receipts.live_marker": "JSON for live updates",
    "receipts.states_fragment": "HTML swapped into the thread by the refresh control, seen on the thread page",
    "tickets.attachment": "a file download", "admin.intake_raw": "an .eml download",
    "receipts.admin_raw_report": "an .eml download", "receipts.raw_report": "an .eml download",
    "receipts_tracking.pixel": "a tracking GIF",
}
#: Query strings visited besides the bare page, per endpoint (the ticket list's filters).
VARIANTS = {
    "tickets.index": ["?q=refund", "?status=open&attention=1", "?q=no-such-ticket-anywhere"],
    "admin.intake": ["?outcome=quarantined"],
}
#: Pages seen signed out; every other page is visited by the admin and the agent.
SIGNED_OUT = {"auth.login", "receipts_tracking.download"}

CHECK = """() => {
  const seen = new Set(), duplicates = [];
  document.querySelectorAll("[id]:not([type=hidden])").forEach(e => { if (seen.has(e.id)) duplicates.push(e.id); seen.add(e.id); });
  const unnamed = [...document.querySelectorAll("input, select, textarea")]
    .filter(c => c.type !== "hidden")
    .filter(c => !(c.getAttribute("aria-label") || c.getAttribute("aria-labelledby")
                   || [...c.labels].some(l => l.textContent.trim())))
    .map(c => c.outerHTML.slice(0, 120));
  const wide = [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 3).map(e => e.outerHTML.slice(0, 120));
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
          duplicates, unnamed, wide};
}"""


@pytest.fixture
def plugins():
    return ["receipts", "tracking"]


@pytest.fixture
def world(app):
    """The demo desk, with long words where pages could widen; the ids the URL map needs."""
    load_demo(12)
    demo_data_loaded.send(app)
    support = db.session.scalar(db.select(Department).where(Department.name == "Support"))
    admin = db.session.scalar(db.select(Agent).where(Agent.email == DEMO_ADMIN))
    long_one = open_ticket(admin, support.id, f"Someone With A Long Name <{LONG_ADDRESS}>", LONG_SUBJECT,
                           "See the attached log.", Channel.EMAIL, files=[UploadedFile("log.txt", "text/plain",
                                                                                       b"twelve bytes")])
    reply = post_reply(long_one, admin, ReplyDraft(to=LONG_ADDRESS, cc="dana@example.net", body="Looking."))
    send_message(reply.id)
    mark_undeliverable(LONG_ADDRESS, "5.1.1 <" + LONG_ADDRESS + ">: Recipient address rejected: User unknown")
    process_inbound((f"From: {LONG_ADDRESS}\r\nTo: support@example.com\r\nSubject: {LONG_SUBJECT}\r\n"
                     "Message-ID: <long@subsidiary.example>\r\n\r\nHello\r\n").encode(), "every-page")
    mailbox = Mailbox(name="bounces", host="imap.a-mail-provider-with-a-long-host-name.example", port=993,
                      username=LONG_ADDRESS, password="x", processed_folder="Processed/Delivery-reports")
    db.session.add(mailbox)
    db.session.commit()
    busiest = db.session.scalars(  # the Support reply with the most recipients: the widest panel
        db.select(Message).join(Ticket).where(Ticket.department_id == support.id,
                                              Message.direction == MessageDirection.OUTBOUND)).all()
    busiest = max(busiest, key=lambda m: (len(m.recipients), -m.id))
    values = {"ticket_id": busiest.ticket_id, "message_id": busiest.id, "department_id": support.id,
              "agent_id": admin.id, "mailbox_id": mailbox.id, "token": "not-a-token",
              "record_id": db.session.scalar(db.select(InboundRecord.id)),
              "report_id": db.session.scalar(db.select(StoredReport.id))}
    return values, [long_one.id, busiest.ticket_id]


def pages(app, values) -> list[tuple[str, str]]:
    """(endpoint, path) of every page: each GET route's own path, then its variants."""
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
            continue
        path = url_for_rule(rule, values)
        found += [(rule.endpoint, path)] + [(rule.endpoint, path + query) for query in VARIANTS.get(rule.endpoint, [])]
    return found


def slug(path: str) -> str:
    """A file name for a page: "/" is "tickets", "/?q=refund" "tickets-q-refund"."""
    return re.sub(r"[^a-z0-9]+", "-", ("tickets" + path if path.startswith(("/?", "/#")) or path == "/"
                                       else path).lower()).strip("-")


def look(page, name: str, problems: list[str], screenshots: bool) -> None:
    found = page.evaluate(CHECK)
    if found["scrollWidth"] > found["innerWidth"]:
        problems.append(f"{name}: {found['scrollWidth']} px wide at {found['innerWidth']} px; wide: {found['wide']}")
    if found["duplicates"]:
        problems.append(f"{name}: ids used twice: {sorted(set(found['duplicates']))}")
    if found["unnamed"]:
        problems.append(f"{name}: form controls without a name: {found['unnamed']}")
    if screenshots:
        page.screenshot(path=str(ARTIFACTS / "every-page" / f"{name}-{page.viewport_size['width']}.png"),
                        full_page=True)


def visit_all(page, live_server, paths, role, problems, desktop_too):
    for endpoint, path in paths:
        response = page.goto(live_server + path)
        assert response.headers["content-type"].startswith("text/html"), f"{path} is not a page: add it to NOT_PAGES"
        look(page, f"{role}-{slug(path)}", problems, screenshots=response.status != 403)  # one "Not allowed" is enough
        if desktop_too:
            page.set_viewport_size({"width": DESKTOP, "height": 900})
            look(page, f"{role}-{slug(path)}", problems, screenshots=True)
            page.set_viewport_size({"width": PHONE, "height": 800})


def test_no_page_scrolls_sideways_at_phone_width(app, live_server, browser, world):
    values, threads = world
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(NOT_PAGES) <= endpoints, f"NOT_PAGES names routes that are gone: {set(NOT_PAGES) - endpoints}"
    paths = pages(app, values) + [("errors", "/no-such-page")]
    (ARTIFACTS / "every-page").mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for role, email in (("signed-out", None), ("admin", DEMO_ADMIN), ("agent", "sam@example.com")):
        context = browser.new_context(viewport={"width": PHONE, "height": 800})
        page = context.new_page()
        try:
            if email is None:
                visit_all(page, live_server, [p for p in paths if p[0] in SIGNED_OUT], role, problems, True)
                continue
            sign_in(page, live_server, email, DEMO_PASSWORD)  # Sam, the agent, works in Support only
            page.wait_for_selector("table.tickets")
            visit_all(page, live_server, [p for p in paths if p[0] not in SIGNED_OUT], role, problems,
                      desktop_too=role == "admin")
            for ticket_id in threads:  # each thread with its Thread Read Info panel open
                page.goto(f"{live_server}/tickets/{ticket_id}")
                page.locator("article.message a.rr-state").first.click()
                page.locator(".rr-panel-host .rr-panel").wait_for()
                look(page, f"{role}-thread-{ticket_id}-with-panel", problems, screenshots=True)
        finally:
            context.close()
    assert not problems, "\n".join(problems)
    assert len(paths) > 25
