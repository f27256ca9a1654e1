"""Replies are queued by the web request and sent by the worker's send job: no web request
opens SMTP, a dead relay leaves the reply queued and retried, and nothing is lost while the
worker is down (the queue is the database)."""
from __future__ import annotations

import socket

import pytest

from helpdesk.extensions import db
from helpdesk.jobs import core_jobs
from helpdesk.models import Message, MessageDirection, SendState
from tests.helpers import login, make_agent, make_department, make_ticket, post_form
from tests.mail.fake_relay import FakeRelay


@pytest.fixture
def desk(app):
    support = make_department("Support", "support@example.test")
    return support, make_agent("sam@example.test", [support])


def dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post_reply(client, ticket) -> Message:
    response = post_form(client, f"/tickets/{ticket.id}/reply",
                         {"to": "alice@customer.test", "body": "On its way.", "status": ""},
                         page=f"/tickets/{ticket.id}", follow_redirects=True)
    assert response.status_code == 200
    db.session.rollback()
    return db.session.scalar(db.select(Message).where(Message.direction == MessageDirection.OUTBOUND))


def run_send_job(app) -> None:
    """What the worker does every SEND_INTERVAL_SECONDS."""
    [job] = [job for job in core_jobs(app) if job.id == "send-queued-mail"]
    job.func()


def test_the_web_request_never_opens_smtp_and_the_worker_sends(app, client, desk):
    support, sam = desk
    ticket = make_ticket(sam, support)
    with FakeRelay() as relay:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=relay.port, SMTP_SECURITY="none", SEND_WAIT_SECONDS=0.3)
        login(client, sam)
        reply = post_reply(client, ticket)
        assert relay.connections == 0  # the POST and the page it led to never talked to the relay
        assert (reply.send_state, reply.send_attempts) == (SendState.QUEUED, 0)
        page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
        assert "Sending&hellip;" in page and "data-sending" in page
        run_send_job(app)
        db.session.refresh(reply)
        assert (reply.send_state, reply.last_error) == (SendState.SENT, None)
        assert (relay.connections, relay.messages) == (1, 1)
    states = client.get(f"/tickets/{ticket.id}/send-states").get_data(as_text=True)
    assert f'data-send-state-for="{reply.id}"' in states and "data-sending" not in states


def test_a_dead_relay_leaves_the_reply_queued_and_retried(app, client, desk):
    support, sam = desk
    ticket = make_ticket(sam, support)
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=dead_port(), SMTP_SECURITY="none", SMTP_TIMEOUT=2, SEND_WAIT_SECONDS=0)
    login(client, sam)
    reply = post_reply(client, ticket)
    run_send_job(app)  # the worker tries: the relay is down
    db.session.refresh(reply)
    assert (reply.send_state, reply.send_attempts) == (SendState.QUEUED, 1)
    assert reply.next_attempt_at is not None and reply.last_error
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "Queued (retrying: connection refused by the relay)" in page and "data-sending" in page
    with FakeRelay() as relay:
        app.config["SMTP_PORT"] = relay.port
        run_send_job(app)  # not due yet: backing off
        assert relay.connections == 0
        reply.next_attempt_at = None  # its retry is due
        db.session.commit()
        run_send_job(app)
        db.session.refresh(reply)
        assert (reply.send_state, reply.send_attempts, relay.messages) == (SendState.SENT, 2, 1)


def test_the_request_shows_a_prompt_workers_answer(app, client, desk, monkeypatch):
    """A worker that answers within SEND_WAIT_SECONDS: its answer is on the page the agent comes
    back to, as when the request sent the reply itself."""
    import helpdesk.mail.outgoing as outgoing

    support, sam = desk
    ticket = make_ticket(sam, support)
    with FakeRelay() as relay:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=relay.port, SMTP_SECURITY="none", SEND_WAIT_SECONDS=5)
        in_request = {"connections": None}
        sleep = outgoing.time.sleep

        def worker_meanwhile(seconds: float) -> None:  # the worker's job, run while the request waits
            sleep(seconds)
            if in_request["connections"] is None:
                in_request["connections"] = relay.connections
                outgoing.send_due()
        monkeypatch.setattr(outgoing.time, "sleep", worker_meanwhile)
        login(client, sam)
        response = post_form(client, f"/tickets/{ticket.id}/reply",
                             {"to": "alice@customer.test", "body": "On its way.", "status": ""},
                             page=f"/tickets/{ticket.id}", follow_redirects=True)
        assert in_request["connections"] == 0
        assert "Reply sent." in response.get_data(as_text=True)
