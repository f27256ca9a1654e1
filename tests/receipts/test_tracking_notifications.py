"""Agent notifications with a movable clock: immediate, digests across time zones, working
hours and daylight-saving changes, empty digests, restarts, and the preferences page."""
from __future__ import annotations

from datetime import datetime, time, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import current_app

from helpdesk import create_app
from helpdesk.extensions import db
from helpdesk.jobs import all_jobs
from helpdesk.mail.outgoing import send_message
from helpdesk.mail.transport import RecipientResult
from helpdesk.models import Channel
from helpdesk.signals import message_sent
from receipts_plugin.inbound.pipeline import ingest
from receipts_plugin.sending import verp_address
from receipts_plugin.tracking import notifications
from receipts_plugin.tracking.models import NotificationBatch, NotificationItem, NotificationPreferences
from receipts_plugin.tracking.notifications import (PreferencesInput, latest_digest_due, next_digest_due,
                                                    notification_job, save_preferences, send_due_notifications)
from tests.helpers import login, make_agent, make_reply, make_ticket, post_form
from tests.receipts.builders import mdn, postfix_dsn
from tests.receipts.factories import receipt_to
from tests.receipts.tracking_helpers import RecordingTransport, install_clock

UTC = timezone.utc


@pytest.fixture
def clock(app):
    return install_clock(app, datetime(2025, 1, 15, 0, 30, tzinfo=UTC))


@pytest.fixture
def relay():
    return RecordingTransport()


def want(agent, clock, read=True, bounce=False, delivery="immediate", days=1):
    return save_preferences(agent, PreferencesInput(read, bounce, delivery, days), clock.now)


def reply_by(agent, department, to="Alice <alice@customer.test>", cc="bob@customer.test"):
    ticket = make_ticket(agent, department, requester="Alice <alice@customer.test>", channel=Channel.EMAIL)
    reply = make_reply(ticket, agent, to=to, cc=cc)
    send_message(reply.id)
    return reply


def read_by(reply, address, disposition="displayed"):
    return ingest(mdn(sender=address, final_recipient=address, original_message_id=reply.message_id,
                      disposition=disposition, to=receipt_to(current_app, reply, address)), "test")


def bounce_of(app, reply, address):
    recipient = next(r for r in reply.recipients if r.address == address)
    return ingest(postfix_dsn(to=verp_address(app, reply.id, recipient.id), recipient=address), "test")


def body(mail: EmailMessage) -> str:
    return mail.get_body(("plain",)).get_content()


def run(clock, relay, **move):
    if move:
        clock.advance(**move)
    return send_due_notifications(clock.now, relay)


# --------------------------------------------------------------------------- immediate

def test_a_read_receipt_is_told_within_one_run(app, desk, clock, relay):
    support, _, agent = desk
    want(agent, clock)
    reply = reply_by(agent, support)
    assert run(clock, relay).sent == 0
    assert read_by(reply, "alice@customer.test").outcome == "matched"
    assert run(clock, relay, seconds=30).sent == 1
    [mail] = relay.sent
    assert mail["To"].addresses[0].addr_spec == "agent@example.test"
    assert mail["From"].addresses[0].addr_spec == "notify@desk.example.test"
    assert mail["Subject"] == f"[HD-{reply.ticket_id}] Alice read your reply"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Disposition-Notification-To"] is None and mail["Return-Receipt-To"] is None
    text = body(mail)
    assert "Alice <alice@customer.test> (TO) read your reply." in text
    assert f"http://127.0.0.1:5000/tickets/{reply.ticket_id}#message-{reply.id}" in text
    assert "http://127.0.0.1:5000/me/notifications" in text
    html = mail.get_body(("html",)).get_content()
    assert "Alice &lt;alice@customer.test&gt; (TO) read your reply." in html
    assert f'href="http://127.0.0.1:5000/tickets/{reply.ticket_id}#message-{reply.id}"' in html
    assert 'href="http://127.0.0.1:5000/me/notifications"' in html
    plan = relay.plans[0]
    assert plan.dsn is None and not plan.per_recipient and plan.recipients == ["agent@example.test"]
    assert run(clock, relay, minutes=1).sent == 0 and len(relay.sent) == 1


def test_names_and_reasons_from_outside_are_escaped_in_the_html_part(app, desk, clock, relay):
    support, _, agent = desk
    want(agent, clock, bounce=True)
    reply = reply_by(agent, support, to='"Mallory <img src=x onerror=alert(1)>" <mallory@customer.test>', cc="")
    read_by(reply, "mallory@customer.test")
    assert run(clock, relay, seconds=30).sent == 1
    html = relay.sent[0].get_body(("html",)).get_content()
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_worker_job_reads_the_clock_and_sends_through_the_core_transport(app, desk, clock):
    support, _, agent = desk
    want(agent, clock)
    read_by(reply_by(agent, support, cc=""), "alice@customer.test")
    assert "receipts-notifications" in {job.id for job in all_jobs(app)}
    summary = notification_job()
    assert summary.sent == 1
    [batch] = db.session.scalars(db.select(NotificationBatch)).all()
    assert batch.sent_at == clock.now
    notices = [p.read_text() for p in Path(app.config["OUTBOX_DIR"]).glob("*.eml") if "notify." in p.name]
    assert len(notices) == 1 and "X-Outbox-Envelope-To: agent@example.test" in notices[0]
    assert "Auto-Submitted: auto-generated" in notices[0]


def test_the_same_read_reported_twice_is_told_once(app, desk, clock, relay):
    support, _, agent = desk
    want(agent, clock)
    reply = reply_by(agent, support)
    read_by(reply, "alice@customer.test")
    read_by(reply, "alice@customer.test")  # a second, distinct receipt for the same read
    read_by(reply, "bob@customer.test")
    run(clock, relay)
    assert sorted(m["Subject"].split("] ")[1] for m in relay.sent) == ["Alice read your reply",
                                                                        "bob@customer.test read your reply"]


def test_nothing_is_told_by_default(app, desk, clock, relay):
    support, _, agent = desk
    reply = reply_by(agent, support)
    read_by(reply, "alice@customer.test")
    bounce_of(app, reply, "bob@customer.test")
    assert run(clock, relay).sent == 0
    assert db.session.scalars(db.select(NotificationItem)).all() == []
    assert db.session.get(NotificationPreferences, agent.id) is None


def test_a_reply_that_bounced_for_everyone_is_told_at_once(app, desk, clock, relay):
    support, _, agent = desk
    want(agent, clock, read=False, bounce=True, delivery="digest")  # bounces never wait for a digest
    reply = reply_by(agent, support, to="Nobody <nobody@customer.test>", cc="ghost@customer.test")
    bounce_of(app, reply, "nobody@customer.test")
    assert run(clock, relay).sent == 0  # one recipient is still fine
    bounce_of(app, reply, "ghost@customer.test")
    assert run(clock, relay).sent == 1
    [mail] = relay.sent
    assert mail["Subject"] == f"[HD-{reply.ticket_id}] Your reply bounced for every recipient"
    text = body(mail)
    assert "nobody@customer.test: 5.1.1" in text and "ghost@customer.test: 5.1.1" in text
    assert f"/tickets/{reply.ticket_id}#message-{reply.id}" in text


def test_a_reply_our_relay_refused_for_everyone_is_told_as_a_bounce(app, desk, clock, relay):
    support, _, agent = desk
    want(agent, clock, read=False, bounce=True)
    reply = reply_by(agent, support, to="typo@customer.test", cc="")
    message_sent.send(app, message=reply, transport="smtp", results=[
        RecipientResult("typo@customer.test", False, code=550, response="5.1.1 <typo@customer.test>: Recipient address rejected")])
    assert run(clock, relay).sent == 1
    [mail] = relay.sent
    assert mail["Subject"] == f"[HD-{reply.ticket_id}] Your reply bounced for every recipient"
    assert "typo@customer.test: 550" in body(mail) and "Recipient address rejected" in body(mail)


def test_reads_are_not_told_to_an_agent_who_asked_only_for_bounces(app, desk, clock, relay):
    support, _, agent = desk
    want(agent, clock, read=False, bounce=True)
    read_by(reply_by(agent, support), "alice@customer.test")
    assert run(clock, relay).sent == 0


def test_a_notice_turned_off_before_it_went_out_is_dropped(app, desk, clock, relay):
    support, _, agent = desk
    want(agent, clock, delivery="digest")
    read_by(reply_by(agent, support), "alice@customer.test")
    want(agent, clock, read=False, delivery="digest")
    summary = run(clock, relay, days=1)
    assert (summary.sent, summary.discarded) == (0, 1)


# --------------------------------------------------------------------------- digests

def test_digests_go_out_at_the_end_of_each_agents_working_hours_in_their_zone(app, desk, clock, relay):
    support, _, _ = desk
    tokyo = make_agent("tokyo@example.test", [support], timezone="Asia/Tokyo")
    york = make_agent("york@example.test", [support], timezone="America/New_York")
    tokyo.work_end = time(18)
    db.session.commit()
    for agent in (tokyo, york):
        want(agent, clock, delivery="digest")
        read_by(reply_by(agent, support, cc=""), "alice@customer.test")
    # 2025-01-15 00:30 UTC is 09:30 in Tokyo and 19:30 (the day before) in New York.
    assert run(clock, relay, hours=8, minutes=29).sent == 0  # 08:59 UTC = 17:59 in Tokyo
    assert run(clock, relay, minutes=1).sent == 1  # 09:00 UTC = 18:00 in Tokyo
    assert relay.sent[-1]["To"].addresses[0].addr_spec == "tokyo@example.test"
    assert "(Asia/Tokyo)" in body(relay.sent[-1])
    assert run(clock, relay, hours=12, minutes=59).sent == 0  # 21:59 UTC = 16:59 in New York
    assert run(clock, relay, minutes=1).sent == 1  # 22:00 UTC = 17:00 EST
    assert relay.sent[-1]["To"].addresses[0].addr_spec == "york@example.test"
    assert "(America/New_York)" in body(relay.sent[-1])
    assert run(clock, relay, hours=1).sent == 0


def test_a_digest_covers_n_days(app, desk, clock, relay):
    support, _, agent = desk
    agent.timezone = "Europe/Berlin"
    db.session.commit()
    clock.set(datetime(2025, 3, 3, 8, tzinfo=UTC))  # Monday 09:00 in Berlin
    want(agent, clock, delivery="digest", days=3)
    first = reply_by(agent, support)
    read_by(first, "alice@customer.test")  # Monday
    assert run(clock, relay, hours=8, minutes=1).sent == 0  # Monday 17:01 in Berlin: day 1 of 3
    clock.set(datetime(2025, 3, 4, 9, tzinfo=UTC))
    read_by(first, "bob@customer.test")  # Tuesday
    assert run(clock, relay, hours=7, minutes=1).sent == 0  # Tuesday 17:01: day 2 of 3
    clock.set(datetime(2025, 3, 5, 15, 59, tzinfo=UTC))  # Wednesday 16:59 in Berlin
    assert run(clock, relay).sent == 0
    assert run(clock, relay, minutes=1).sent == 1  # Wednesday 17:00: one digest with both reads
    [mail] = relay.sent
    assert mail["Subject"].startswith("Delivery digest: 2 updates")
    assert "Alice <alice@customer.test> (TO) read your reply." in body(mail)
    assert "bob@customer.test (CC) read your reply." in body(mail)
    read_by(reply_by(agent, support, cc=""), "alice@customer.test")  # Thursday's news waits for Saturday
    clock.set(datetime(2025, 3, 7, 16, 0, tzinfo=UTC))
    assert run(clock, relay).sent == 0
    clock.set(datetime(2025, 3, 8, 16, 0, tzinfo=UTC))  # Saturday 17:00
    assert run(clock, relay).sent == 1


def test_an_empty_digest_is_not_sent(app, desk, clock, relay):
    support, _, agent = desk
    want(agent, clock, bounce=True, delivery="digest")
    for _ in range(3):
        assert run(clock, relay, days=1).sent == 0
    assert db.session.scalars(db.select(NotificationBatch)).all() == []


@pytest.mark.parametrize("zone, day_before, end_before_utc, day_after, end_after_utc", [
    # Berlin: CEST (UTC+2) until Sunday 27 October 2024, then CET (UTC+1).
    ("Europe/Berlin", datetime(2024, 10, 26, tzinfo=UTC), 15, datetime(2024, 10, 27, tzinfo=UTC), 16),
    # New York: EDT (UTC-4) until Sunday 3 November 2024, then EST (UTC-5).
    ("America/New_York", datetime(2024, 11, 2, tzinfo=UTC), 21, datetime(2024, 11, 3, tzinfo=UTC), 22),
], ids=["Europe/Berlin", "America/New_York"])
def test_digests_follow_the_daylight_saving_change(app, desk, clock, relay, zone, day_before, end_before_utc,
                                                    day_after, end_after_utc):
    support, _, agent = desk
    agent.timezone = zone
    db.session.commit()
    clock.set(day_before.replace(hour=12))
    want(agent, clock, delivery="digest")
    reply = reply_by(agent, support)
    read_by(reply, "alice@customer.test")
    assert run(clock, relay, hours=end_before_utc - 12, minutes=-1).sent == 0
    assert run(clock, relay, minutes=1).sent == 1  # 17:00 local before the change
    clock.set(day_after.replace(hour=12))
    read_by(reply, "bob@customer.test")
    # 24 hours after yesterday's digest it is only 16:00 local: not yet.
    assert run(clock, relay, hours=end_before_utc - 12).sent == 0
    assert run(clock, relay, hours=end_after_utc - end_before_utc, minutes=-1).sent == 0
    assert run(clock, relay, minutes=1).sent == 1  # 17:00 local after the change
    assert len(relay.sent) == 2 and "bob@customer.test" in body(relay.sent[1])


def test_the_schedule_functions_agree_on_the_next_and_latest_digest():
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    anchor = datetime(2024, 10, 25).date()
    saturday_evening = datetime(2024, 10, 26, 18, tzinfo=UTC)
    assert latest_digest_due(saturday_evening, anchor, 1, time(17), berlin) == datetime(2024, 10, 26, 15, tzinfo=UTC)
    assert next_digest_due(saturday_evening, anchor, 1, time(17), berlin) == datetime(2024, 10, 27, 16, tzinfo=UTC)
    assert latest_digest_due(datetime(2024, 10, 25, 14, tzinfo=UTC), anchor, 1, time(17), berlin) is None


# --------------------------------------------------------------------------- restarts

def test_running_the_job_again_or_after_a_restart_sends_nothing_twice(app, app_config, desk, clock, relay):
    support, _, agent = desk
    want(agent, clock)
    read_by(reply_by(agent, support), "alice@customer.test")
    assert run(clock, relay).sent == 1
    assert run(clock, relay).sent == 0
    restarted = create_app(app_config)  # a new worker process on the same database
    restarted.extensions["receipts_clock"] = clock
    with restarted.app_context():
        assert send_due_notifications(clock.now, relay).sent == 0
        db.session.remove()
    assert len(relay.sent) == 1


def test_a_crash_before_the_relay_accepted_sends_once_after_the_restart(app, desk, clock, relay):
    support, _, agent = desk
    want(agent, clock)
    read_by(reply_by(agent, support), "alice@customer.test")

    class DiesWhileSending:
        name = "smtp"

        def deliver(self, mail, plan):
            raise KeyboardInterrupt("worker killed mid-send")

    with pytest.raises(KeyboardInterrupt):
        send_due_notifications(clock.now, DiesWhileSending())
    db.session.rollback()
    assert run(clock, relay, minutes=1).sent == 1
    assert run(clock, relay, minutes=1).sent == 0


def test_a_crash_after_sending_but_before_marking_is_the_documented_at_least_once_window(
        app, desk, clock, relay, monkeypatch):
    """The relay accepted the email, then the worker died before committing ``sent_at``: the
    next run sends it again (at least once), with the same Message-ID so mail stores can
    drop the copy. After that, the marker holds."""
    support, _, agent = desk
    want(agent, clock)
    read_by(reply_by(agent, support), "alice@customer.test")

    def killed(batch, result, now):
        raise KeyboardInterrupt("worker killed before the marker was committed")

    monkeypatch.setattr(notifications, "mark_outcome", killed)
    with pytest.raises(KeyboardInterrupt):
        send_due_notifications(clock.now, relay)
    db.session.rollback()
    monkeypatch.undo()
    assert run(clock, relay, minutes=1).sent == 1
    assert len(relay.sent) == 2 and relay.sent[0]["Message-ID"] == relay.sent[1]["Message-ID"]
    assert run(clock, relay, minutes=1).sent == 0 and len(relay.sent) == 2


def test_a_temporary_relay_failure_is_retried_later(app, desk, clock):
    from helpdesk.mail.transport import RecipientResult

    support, _, agent = desk
    want(agent, clock)
    read_by(reply_by(agent, support), "alice@customer.test")

    class Deferring(RecordingTransport):
        def deliver(self, mail, plan):
            self.sent.append(mail)
            return [RecipientResult(r, False, temporary=True, code=451, response="try later") for r in plan.recipients]

    deferring = Deferring()
    assert send_due_notifications(clock.now, deferring).retrying == 1
    assert send_due_notifications(clock.now, deferring).retrying == 0  # not due again yet
    relay = RecordingTransport()
    assert run(clock, relay, hours=1).sent == 1
    assert relay.sent[0]["Message-ID"] == deferring.sent[0]["Message-ID"]


def test_a_notification_that_cannot_be_composed_fails_alone_and_the_others_go_out(app, client, desk, clock, relay):
    """One agent's broken address (stored by another path) fails their notice, shown on their
    page; a name with a line break is flattened; every other agent still hears."""
    support, _, agent = desk
    broken = make_agent("broken@example.test", [support])
    odd = make_agent("odd@example.test", [support], name="Odd\r\nBcc: mallory@evil.test")
    for someone in (broken, agent, odd):
        want(someone, clock)
        read_by(reply_by(someone, support, cc=""), "alice@customer.test")
    broken.email = "broken@example.test\r\nBcc: mallory@evil.test"
    db.session.commit()
    summary = run(clock, relay, seconds=30)
    assert (summary.sent, summary.failed) == (2, 1)
    assert sorted(m["To"].addresses[0].addr_spec for m in relay.sent) == ["agent@example.test", "odd@example.test"]
    assert [str(m["To"]) for m in relay.sent if "odd" in str(m["To"])] == ['"Odd Bcc: mallory@evil.test" <odd@example.test>']
    assert all(plan.recipients != [broken.email] for plan in relay.plans)
    failed = db.session.scalars(db.select(NotificationBatch).where(NotificationBatch.failed_at.is_not(None))).one()
    assert failed.agent_id == broken.id and failed.last_error.startswith("could not be composed: the agent's address")
    assert run(clock, relay, minutes=5).sent == 0  # the failed one is not retried for ever
    broken.email = "broken@example.test"
    db.session.commit()
    login(client, broken)
    page = client.get("/me/notifications").get_data(as_text=True)
    assert "A notification to you could not be sent" in page and "could not be composed" in page
    others = app.test_client()
    login(others, agent)
    assert "could not be sent" not in others.get("/me/notifications").get_data(as_text=True)


# --------------------------------------------------------------------------- the preferences page

def test_preferences_are_off_by_default(app, client, desk):
    login(client, desk[2])
    page = client.get("/me/notifications").get_data(as_text=True)
    assert 'href="/me/notifications">Notifications</a>' in client.get("/").get_data(as_text=True)
    assert '<input id="notify_read" name="notify_read" type="checkbox" value="y">' in page
    assert '<input id="notify_bounce" name="notify_bounce" type="checkbox" value="y">' in page
    assert '<input checked id="delivery-0" name="delivery" type="radio" value="immediate">' in page
    assert db.session.get(NotificationPreferences, desk[2].id) is None


def test_preferences_are_checked_field_by_field_and_saved_only_when_all_are_valid(app, client, desk, clock):
    agent = desk[2]
    login(client, agent)
    bad = post_form(client, "/me/notifications", {"notify_read": "y", "delivery": "digest", "digest_days": "9"})
    assert bad.status_code == 400
    assert '<p class="error" id="digest_days-error">A digest covers 1 to 7 days.</p>' in bad.get_data(as_text=True)
    wrong_choice = post_form(client, "/me/notifications", {"delivery": "weekly", "digest_days": "x"})
    page = wrong_choice.get_data(as_text=True)
    assert wrong_choice.status_code == 400 and 'id="delivery-error"' in page and 'id="digest_days-error"' in page
    assert db.session.get(NotificationPreferences, agent.id) is None
    good = post_form(client, "/me/notifications", {"notify_read": "y", "notify_bounce": "y", "delivery": "digest",
                                                   "digest_days": "3"})
    assert good.status_code == 302
    prefs = db.session.get(NotificationPreferences, agent.id)
    assert (prefs.notify_read, prefs.notify_bounce, prefs.delivery, prefs.digest_days) == (True, True, "digest", 3)
    assert prefs.digest_anchor == clock.now.date()
    page = client.get("/me/notifications").get_data(as_text=True)
    assert "Your next digest is due Fri 17 Jan 2025 17:00 (UTC)." in page


def test_preferences_need_the_csrf_token(app, client, desk):
    login(client, desk[2])
    response = client.post("/me/notifications", data={"notify_read": "y", "delivery": "immediate"})
    assert response.status_code == 400
    assert db.session.get(NotificationPreferences, desk[2].id) is None


def test_preferences_need_a_signed_in_agent(app, client):
    assert client.get("/me/notifications").status_code == 302
