"""Faults around mail: the relay gone for an hour, the attachment disk full during intake."""
from __future__ import annotations

from datetime import timedelta

import pytest

from helpdesk.extensions import db
from helpdesk.mail.fetch import fetch_support_mailbox
from helpdesk.mail.outgoing import send_due
from helpdesk.models import InboundRecord, SendState, Ticket, utcnow
from tests.helpers import make_reply, make_ticket
from tests.mail.test_mail_e2e import customer_mail

pytestmark = pytest.mark.mailstack


def test_relay_gone_for_an_hour_then_every_reply_goes_out_once_in_order(app, stack, desk):
    support, agent = desk
    ticket = make_ticket(agent, support)
    stack.stop_postfix()
    start = utcnow()
    replies = [make_reply(ticket, agent, body=f"reply {n}") for n in range(3)]
    clock = start
    attempts = 0
    try:
        while clock < start + timedelta(hours=1):  # the worker's job, run every 30 s for an hour
            reports = send_due(clock)
            attempts += len(reports)
            assert all(r.state is SendState.QUEUED for r in reports)
            clock += timedelta(seconds=30)
    finally:
        stack.start_postfix()
    assert 3 * 5 <= attempts <= 3 * 12  # backoff: a handful of attempts each, not 120
    assert all(r.send_state is SendState.QUEUED and r.last_error for r in replies)
    clock += timedelta(hours=1)
    reports = send_due(clock)
    assert [r.message_id for r in reports] == [r.id for r in replies]  # oldest first
    assert [r.state for r in reports] == [SendState.SENT] * 3
    assert send_due(clock + timedelta(hours=2)) == []
    stack.wait_for("alice@customer.test", ["BODY", "reply 2"])
    stack.settle()
    bodies = sorted(raw.split(b"reply ")[1][:1] for raw in stack.fetch_all("alice@customer.test"))
    assert bodies == [b"0", b"1", b"2"]  # each exactly once


def test_a_full_attachment_disk_leaves_the_mail_on_the_server_until_it_can_be_stored(app, stack, desk, tmp_path):
    stack.send(customer_mail(body="Please keep me"))
    stack.wait_for("support@example.test", "ALL")
    files = app.config["ATTACHMENT_DIR"]
    blocked = tmp_path / "full-disk"
    blocked.write_text("a file where the storage folder should be: every write fails")
    app.config["ATTACHMENT_DIR"] = str(blocked)
    report = fetch_support_mailbox()
    assert report.stats.stopped_early and "cannot store file" in report.stats.stopped_early
    assert db.session.query(InboundRecord).count() == 0 and db.session.query(Ticket).count() == 0
    assert len(stack.fetch_all("support@example.test")) == 1  # still there, not flagged or moved
    app.config["ATTACHMENT_DIR"] = files
    assert fetch_support_mailbox().stats.outcomes == {"ticket": 1}
    assert db.session.scalars(db.select(Ticket)).one().messages[0].text_body.strip() == "Please keep me"
