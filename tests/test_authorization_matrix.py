"""Who may reach what: every route in the app's URL map x anonymous / an agent of another
department / an agent of the ticket's department / an admin.

The table of policies is keyed by endpoint; a route added without a policy fails this test,
so no route can be forgotten. POSTs carry a valid CSRF token here (authorisation is what is
tested); a separate test checks that every POST refuses a missing token.
"""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from helpdesk.mail.intake import process_inbound
from helpdesk.mail.outgoing import send_message
from helpdesk.extensions import db
from helpdesk.models import AgentRole, Attachment, Channel, Contact, InboundRecord, Message
from receipts_plugin.inbound.pipeline import ingest
from receipts_plugin.models import Mailbox
from receipts_plugin.settings import save_switches
from tests.helpers import login, make_agent, make_department, make_reply, make_ticket
from tests.receipts.builders import mdn

ROLES = ("anonymous", "outsider", "agent", "admin")

#: endpoint -> policy. public: anyone; signed-in: any agent; department: agents of the
#: ticket's department and admins (others get 404, as if it did not exist); admin: admins
#: only (agents get 403); token: anyone, the token decides (a bad one never gets data).
POLICIES = {
    "static": "public", "receipts.static": "public", "receipts_tracking.static": "public",
    "health.healthz": "public", "health.readyz": "public", "auth.login": "public",
    "receipts_tracking.download": "token", "receipts_tracking.pixel": "token",
    "auth.logout": "sign-out", "auth.sign_out_everywhere": "sign-out", "auth.account": "signed-in",
    "tickets.index": "signed-in", "tickets.new": "signed-in",
    "api.tickets": "signed-in", "tickets.clear_contact_mark": "department",
    "tickets.assign_many": "signed-in",  # the ticked tickets must all be visible, else 404 (tests/core/test_assignment.py)
    "receipts_tracking.preferences": "signed-in",
    "tickets.thread": "department", "tickets.reply": "department", "tickets.note": "department",
    "tickets.update": "department", "tickets.clear_attention": "department", "tickets.attachment": "department", "api.ticket": "department",
    "tickets.send_states": "department",  # the replies' sending states, asked for by an open thread
    "receipts.panel": "department", "receipts.raw_report": "department", "receipts.api_read_info": "department",
    "receipts.api_read_states": "department", "receipts.live_marker": "department",
    "receipts.states_fragment": "department", "receipts_tracking.api_tracking": "department",
    "receipts_tracking.revoke": "department", "receipts_tracking.revoke_recipient": "department",
    "admin.index": "admin", "admin.departments": "admin", "admin.department": "admin", "admin.agents": "admin",
    "admin.agent": "admin", "admin.intake": "admin", "admin.intake_raw": "admin", "admin.undeliverable": "admin",
    "receipts.settings": "admin", "receipts.health": "admin", "receipts.mailbox": "admin",
    "receipts.admin_raw_report": "admin", "receipts.reprocess": "admin",
    "receipts_tracking.link_settings": "admin", "receipts_tracking.save_links": "admin",
}
STATIC_FILES = {"static": "style.css", "receipts.static": "receipts.css", "receipts_tracking.static": "tracking.css"}


@pytest.fixture
def plugins():
    return ["receipts", "tracking"]


@pytest.fixture
def world(app):
    """One of everything a URL can name, in department A."""
    a, b = make_department("A", "a@example.test"), make_department("B", "b@example.test")
    save_switches({a.id, b.id})
    people = {"outsider": make_agent("outsider@example.test", [b]), "agent": make_agent("agent@example.test", [a]),
              "admin": make_agent("admin@example.test", role=AgentRole.ADMIN)}
    ticket = make_ticket(people["agent"], a, requester="alice@customer.test", channel=Channel.EMAIL)
    raw = (b"From: alice@customer.test\r\nTo: a@example.test\r\nSubject: file\r\nMessage-ID: <f@customer.test>\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\nContent-Type: text/plain\r\n\r\n"
           b"see file\r\n--X\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nhi\r\n--X--\r\n")
    record = db.session.get(InboundRecord, process_inbound(raw, "matrix").record_id)
    reply = make_reply(db.session.get(type(ticket), ticket.id), people["agent"])
    send_message(reply.id)
    report = ingest(mdn(sender="alice@customer.test", final_recipient="alice@customer.test",
                        original_message_id=reply.message_id), "matrix")
    mailbox = Mailbox(name="bounces", host="127.0.0.1", port=993, username="bounces@example.test", password="x")
    db.session.add(mailbox)
    db.session.commit()
    values = {
        "ticket_id": ticket.id, "message_id": reply.id, "report_id": report.report_id, "record_id": record.id,
        "department_id": a.id, "agent_id": people["agent"].id, "mailbox_id": mailbox.id, "token": "not-a-token",
        "attachment_id": db.session.scalar(db.select(Attachment.id).join(Message).where(Message.id == record.message_id)),
        "contact_id": db.session.scalar(db.select(Contact.id).where(Contact.email == "alice@customer.test")),
        "recipient_id": reply.recipients[0].id,
    }
    department_ids = {a.id, b.id}
    # Plain records, not ORM objects: the requests below must not lean on this session's objects.
    signed_in = {role: SimpleNamespace(email=agent.email) for role, agent in people.items()}
    return signed_in, values, lambda: save_switches(department_ids)


def url_for_rule(rule, values: dict) -> str:
    args = {name: STATIC_FILES[rule.endpoint] if name == "filename" else values[name] for name in rule.arguments}
    path = rule.rule
    for name, value in args.items():
        path = re.sub(rf"<(?:[a-z]+:)?{name}>", str(value), path)
    return path


def routes(app):
    """Every (rule, method); GETs first, so that state-changing POSTs come after them."""
    pairs = [(rule, method) for rule in app.url_map.iter_rules() for method in rule.methods - {"HEAD", "OPTIONS"}]
    return sorted(pairs, key=lambda pair: (pair[1] != "GET", pair[0].rule, pair[1]))


def request_as(app, role, people, method, path):
    client = app.test_client()
    if role != "anonymous":
        login(client, people[role])
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login" if role == "anonymous" else "/")
                      .get_data(as_text=True))
    data = {"csrf_token": token.group(1)} if token else {}
    response = client.open(path, method=method, data=data if method == "POST" else None)
    response.close()
    return response


def outcome(response) -> str:
    location = response.headers.get("Location", "")
    if response.status_code in (401,) or (response.status_code == 302 and "/login" in location):
        return "signed-out"
    if response.status_code in (403, 404, 410):
        return str(response.status_code)
    return "allowed"


EXPECTED = {
    "sign-out": dict.fromkeys(ROLES, "signed-out"),  # signing out ends at the sign-in page for everyone
    "public": {"anonymous": "allowed", "outsider": "allowed", "agent": "allowed", "admin": "allowed"},
    "signed-in": {"anonymous": "signed-out", "outsider": "allowed", "agent": "allowed", "admin": "allowed"},
    "department": {"anonymous": "signed-out", "outsider": "404", "agent": "allowed", "admin": "allowed"},
    "admin": {"anonymous": "signed-out", "outsider": "403", "agent": "403", "admin": "allowed"},
}


def test_every_route_has_a_declared_policy(app):
    missing = sorted({rule.endpoint for rule, _ in routes(app)} - set(POLICIES))
    assert not missing, f"declare an access policy in tests/test_authorization_matrix.py for: {missing}"


def test_authorization_matrix(app, world):
    people, values, restore = world
    seen, failures = 0, []
    for rule, method in routes(app):
        policy = POLICIES[rule.endpoint]
        path = url_for_rule(rule, values)
        for role in ROLES:
            got = outcome(request_as(app, role, people, method, path))
            restore()  # an admin's empty POST of the settings page switches receipts off
            if policy == "token":
                expected = {"404", "410", "allowed"}  # a bad token: a clear page (or a GIF), never a sign-in wall
                ok = got in expected and got != "signed-out"
            else:
                ok = got == EXPECTED[policy][role]
            seen += 1
            if not ok:
                failures.append(f"{method} {path} as {role}: {got}, policy {policy}")
    assert not failures, "\n".join(failures)
    assert seen >= 4 * len(POLICIES)


def test_every_post_refuses_a_missing_csrf_token(app, world):
    people, values, _ = world
    client = app.test_client()
    login(client, people["admin"])
    for rule, method in routes(app):
        if method == "POST":
            response = client.post(url_for_rule(rule, values), data={})
            assert response.status_code == 400, f"POST {rule.rule} accepted a request without a CSRF token"
