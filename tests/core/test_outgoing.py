"""Sending: outbox mode, queueing when the relay is unreachable, backoff, never twice."""
import random
import socket
from datetime import timedelta
from email import message_from_bytes

import pytest

from helpdesk.extensions import db
from helpdesk.mail.outgoing import send_due, send_message, retry_delay
from helpdesk.mail.transport import DeliveryPlan, xtext
from helpdesk.models import DeliveryState, SendState, utcnow
from helpdesk.signals import message_before_send, message_sent
from tests.helpers import make_agent, make_department, make_reply, make_ticket


@pytest.fixture
def reply(app):
    support = make_department("Support", "support@example.test")
    agent = make_agent(departments=[support])
    ticket = make_ticket(agent, support)
    return make_reply(ticket, agent, to="Alice <alice@customer.test>", cc="bob@customer.test",
                      bcc="dave@customer.test", body="Hello there")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def outbox_files(app):
    from pathlib import Path

    return sorted(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))


def test_outbox_mode_writes_one_eml_and_marks_every_recipient(app, reply):
    report = send_message(reply.id)
    assert report.state is SendState.OUTBOX
    assert {r.delivery_state for r in reply.recipients} == {DeliveryState.OUTBOX}
    (path,) = outbox_files(app)
    mail = message_from_bytes(path.read_bytes())
    assert mail["To"] == "Alice <alice@customer.test>" and mail["Cc"] == "bob@customer.test"
    assert mail["Bcc"] is None and "dave" not in str(mail["To"]) + str(mail["Cc"])
    assert mail["Message-ID"] == f"<{reply.message_id}>"
    assert mail["X-Outbox-Envelope-To"] == "alice@customer.test, bob@customer.test, dave@customer.test"
    assert "Hello there" in path.read_text()


def test_a_sent_message_is_not_sent_again(app, reply):
    send_message(reply.id)
    assert send_message(reply.id) is None
    assert send_due() == []
    assert len(outbox_files(app)) == 1


def test_relay_down_queues_with_backoff_then_sends_once_it_is_back(app, reply):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=closed_port(), SMTP_TIMEOUT=2)
    now = utcnow()
    report = send_message(reply.id, now)
    assert report.state is SendState.QUEUED
    assert reply.last_error == "connection refused by the relay"
    assert all(r.delivery_state is DeliveryState.PENDING for r in reply.recipients)
    assert reply.next_attempt_at > now
    assert send_due(now) == []  # not due yet: backoff
    app.config["SMTP_HOST"] = None  # "the relay is back" (outbox stands in for it here)
    reports = send_due(reply.next_attempt_at + timedelta(seconds=1))
    assert [r.state for r in reports] == [SendState.OUTBOX]
    assert reply.send_attempts == 2 and len(outbox_files(app)) == 1


def test_retries_give_up_after_the_configured_attempts(app, reply):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=closed_port(), SMTP_TIMEOUT=2, SEND_MAX_ATTEMPTS=2)
    first = send_message(reply.id)
    second = send_message(reply.id, reply.next_attempt_at + timedelta(seconds=1))
    assert (first.state, second.state) == (SendState.QUEUED, SendState.FAILED)
    assert all(r.delivery_state is DeliveryState.REFUSED for r in reply.recipients)
    assert reply.recipients[0].smtp_response.startswith("gave up after 2 attempts")


def test_signals_let_a_plugin_shape_the_delivery_and_see_results(app, reply):
    seen = {}

    def before(sender, message, plan: DeliveryPlan):
        plan.headers["Disposition-Notification-To"] = "receipts@example.test"
        plan.per_recipient = True
        plan.envelope_senders["bob@customer.test"] = "bounces+tok@example.test"

    def after(sender, message, results, transport):
        seen["results"] = [(r.address, r.accepted) for r in results]
        seen["committed_state"] = db.session.get(type(message), message.id).send_state

    with message_before_send.connected_to(before, app), message_sent.connected_to(after, app):
        send_message(reply.id)
    files = outbox_files(app)
    assert len(files) == 3  # one transaction per recipient
    envelopes = {message_from_bytes(f.read_bytes())["X-Outbox-Envelope-To"]:
                 message_from_bytes(f.read_bytes()) for f in files}
    assert envelopes["bob@customer.test"]["X-Outbox-Envelope-From"] == "bounces+tok@example.test"
    assert envelopes["alice@customer.test"]["X-Outbox-Envelope-From"] == "support@example.test"
    assert all(m["Disposition-Notification-To"] == "receipts@example.test" for m in envelopes.values())
    assert seen["results"] == [("alice@customer.test", True), ("bob@customer.test", True), ("dave@customer.test", True)]
    assert seen["committed_state"] is SendState.OUTBOX


def test_retry_delay_grows_and_is_capped():
    rng = random.Random(1)
    delays = [retry_delay(n, 60, 3600, rng).total_seconds() for n in range(1, 10)]
    assert 30 <= delays[0] <= 60 and 60 <= delays[1] <= 120 and 120 <= delays[2] <= 240
    assert all(1800 <= d <= 3600 for d in delays[6:])


def test_xtext_encodes_plus_and_equals():
    assert xtext("a+b=c@x.test") == "a+2Bb+3Dc@x.test"
