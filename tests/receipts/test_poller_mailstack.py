"""The poller against the real Postfix and Dovecot: real bounces and success DSNs reach the
watched mailbox through VERP return paths, are matched to the right message and recipient,
moved away, and never become tickets; UIDVALIDITY changes, oversize mail, the CLI summary,
and the IDLE watcher."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.mail.fetch import fetch_support_mailbox
from helpdesk.models import InboundRecord, MailboxCheckpoint
from helpdesk.services.locks import exclusive
from receipts_plugin.models import DeliveryEventRow, Mailbox, StoredReport
from receipts_plugin import poller
from receipts_plugin.poller import idle_supervisor, idle_watcher, poll_mailbox
from tests.helpers import login, secret, support_inbox_config
from tests.receipts.builders import mdn, postfix_dsn
from tests.receipts.factories import receipt_to
from tests.receipts.poller_support import (  # noqa: F401 - fixtures
    BOUNCES,
    PROCESSED,
    add_mailbox,
    app_config,
    count,
    folder_size,
    send_reply,
    stack,
    status_of,
    ticket_count,
    wait_for_count,
)

pytestmark = pytest.mark.mailstack

ALICE = "alice@customer.test"


def events_of(reply, address: str) -> list[str]:
    recipient = next(r for r in reply.recipients if r.address == address)
    return sorted(db.session.scalars(select(DeliveryEventRow.kind).where(DeliveryEventRow.recipient_id == recipient.id)))


def test_a_real_bounce_is_matched_to_its_message_and_recipient_and_moved(stack, desk):
    reply = send_reply(desk, to="Alice <alice@customer.test>", cc="nobody@customer.test")
    tickets_before = ticket_count()
    # Postfix writes a bounce for nobody@ and a success DSN for alice@, both to bounces+TOKEN@.
    wait_for_count(stack, 2)
    stack.settle()
    mailbox = add_mailbox(stack)

    summary = poll_mailbox(mailbox)

    assert summary.error is None and summary.skipped is None
    assert (summary.fetched, summary.kinds["dsn"], summary.outcomes["matched"]) == (2, 2, 2)
    assert status_of(reply, "nobody@customer.test") == "bounced"
    assert status_of(reply, "alice@customer.test") == "delivered"
    bounce = db.session.scalars(select(StoredReport).where(StoredReport.summary.contains("action=failed"))).one()
    assert (bounce.method, bounce.message_id, bounce.mailbox_id) == ("verp-token", reply.id, mailbox.id)
    assert "5.1.1" in bounce.summary
    assert folder_size(stack, "INBOX") == 0 and folder_size(stack, PROCESSED) == 2
    assert ticket_count() == tickets_before
    # Nothing new: the second poll fetches nothing and changes nothing.
    again = poll_mailbox(mailbox)
    assert (again.fetched, again.error) == (0, None)
    assert count(StoredReport) == 2
    db.session.refresh(mailbox)
    assert (mailbox.total_fetched, mailbox.total_matched, mailbox.last_error) == (2, 2, None)


def test_a_success_dsn_and_an_appended_mdn_are_matched_the_same_way(app, stack, desk):
    reply = send_reply(desk, to="alice@customer.test")
    wait_for_count(stack, 1)  # Postfix's "Successful Mail Delivery Report" (NOTIFY=SUCCESS)
    # Alice's program answers to the Disposition-Notification-To of her copy.
    [copy] = stack.fetch_all(ALICE)
    assert message_from_bytes(copy)["Disposition-Notification-To"] == receipt_to(app, reply, ALICE)
    stack.append(BOUNCES, mdn(sender="Alice <alice@customer.test>", final_recipient="alice@customer.test",
                              original_message_id=reply.message_id, to=receipt_to(app, reply, ALICE)))
    mailbox = add_mailbox(stack)

    summary = poll_mailbox(mailbox)

    assert (summary.kinds["dsn"], summary.kinds["mdn"], summary.outcomes["matched"]) == (1, 1, 2)
    assert status_of(reply, "alice@customer.test") == "read"
    assert events_of(reply, "alice@customer.test") == ["dsn-delivered", "mdn-displayed", "smtp-accepted"]
    methods = sorted(db.session.scalars(select(StoredReport.method)))
    assert methods == ["verp-token", "verp-token"]  # each came to alice's own signed address


def test_a_bounce_in_the_support_inbox_is_claimed_through_the_intake_not_a_ticket(app, stack, desk):
    # Return paths at the support address (support+TOKEN@): bounces land in the support inbox.
    app.config.update(support_inbox_config(stack, PROCESSED), RECEIPTS_BOUNCE_ADDRESS="support@example.test")
    reply = send_reply(desk, to="nobody@customer.test")
    tickets_before = ticket_count()
    stack.wait_for("support@example.test", ["SUBJECT", "Undelivered Mail Returned to Sender"])

    fetched = fetch_support_mailbox()

    assert fetched.stats.outcomes == {"claimed": 1}
    record = db.session.scalars(select(InboundRecord)).one()
    assert record.reason.startswith("receipts: dsn (matched)")
    assert ticket_count() == tickets_before
    stored = db.session.scalars(select(StoredReport)).one()
    assert (stored.source, stored.message_id, stored.method) == ("support-inbox", reply.id, "verp-token")
    assert status_of(reply, "nobody@customer.test") == "bounced"
    assert folder_size(stack, PROCESSED, user="support@example.test") == 1


def test_customer_mail_in_the_support_inbox_is_left_to_the_intake(app, stack, desk):
    app.config.update(support_inbox_config(stack, processed_folder=None))
    stack.append("support@example.test", b"From: Dave <dave@customer.test>\r\nTo: support@example.test\r\n"
                                          b"Subject: Invoice question\r\nMessage-ID: <q1@customer.test>\r\n\r\nHello\r\n")
    tickets_before = ticket_count()
    assert fetch_support_mailbox().stats.outcomes == {"ticket": 1}
    assert ticket_count() == tickets_before + 1
    assert count(StoredReport) == 0


def test_a_new_uidvalidity_resynchronises_without_duplicates(app, stack, desk):
    reply = send_reply(desk, to="alice@customer.test", cc="nobody@customer.test")
    wait_for_count(stack, 2)
    stack.settle()
    # Move the reports into a folder of their own, read without a processed folder (flag mode).
    with stack.imap(BOUNCES) as client:
        client.create_folder("Reports")
        client.select_folder("INBOX")
        client.move(client.search("ALL"), "Reports")
    mailbox = add_mailbox(stack, folder="Reports", processed_folder=None)
    assert poll_mailbox(mailbox).outcomes["matched"] == 2
    events_before = count(DeliveryEventRow)
    raws = stack.fetch_all(BOUNCES, "Reports")
    old_validity = db.session.get(MailboxCheckpoint, f"receipts:{mailbox.id}").uidvalidity

    # The folder is deleted and made again: same mails, new UIDs, a new UIDVALIDITY; plus one new report.
    with stack.imap(BOUNCES) as client:
        client.delete_folder("Reports")
        client.create_folder("Reports")
        for raw in raws:
            client.append("Reports", raw)
    stack.append(BOUNCES, mdn(sender="alice@customer.test", final_recipient="alice@customer.test",
                              original_message_id=reply.message_id, to=receipt_to(app, reply, ALICE)),
                 folder="Reports")

    summary = poll_mailbox(mailbox)

    checkpoint = db.session.get(MailboxCheckpoint, f"receipts:{mailbox.id}")
    assert checkpoint.uidvalidity != old_validity
    assert (summary.fetched, summary.outcomes["duplicate"], summary.outcomes["matched"]) == (3, 2, 1)
    assert count(StoredReport) == 3
    assert count(DeliveryEventRow) == events_before + 1
    assert status_of(reply, "alice@customer.test") == "read"
    assert status_of(reply, "nobody@customer.test") == "bounced"
    assert poll_mailbox(mailbox).fetched == 0  # flagged and checkpointed: nothing is read a third time


def test_an_oversize_mail_is_quarantined_by_its_headers_without_downloading_it(app, stack, desk):
    app.config["RECEIPTS_MAX_MESSAGE_BYTES"] = 20_000
    big = (b"From: MAILER-DAEMON@example.test\r\nTo: bounces@example.test\r\nSubject: huge\r\n"
           b"Message-ID: <huge@example.test>\r\n\r\n" + (b"y" * 76 + b"\r\n") * 800)
    stack.append(BOUNCES, big)
    mailbox = add_mailbox(stack)

    summary = poll_mailbox(mailbox)

    assert summary.outcomes == {"quarantined": 1}
    stored = db.session.scalars(select(StoredReport)).one()
    assert stored.outcome == "quarantined" and stored.reason.startswith("too large:")
    assert stored.size < 1_000  # the headers only
    assert folder_size(stack, PROCESSED) == 1
    assert poll_mailbox(mailbox).fetched == 0


def test_the_poll_command_prints_a_summary_line(app, stack, desk):
    send_reply(desk, to="alice@customer.test", cc="nobody@customer.test")
    wait_for_count(stack, 2)
    stack.settle()
    stack.append(BOUNCES, postfix_dsn(to=BOUNCES, recipient="stranger@customer.test",
                                      original_message_id="never-sent@example.test"))
    add_mailbox(stack)

    result = app.test_cli_runner().invoke(args=["receipts", "poll", "--mailbox", "bounces"])

    assert result.exit_code == 0, result.output
    line = result.output.strip()
    for part in ("bounces: fetched=3 ", "reports by kind: dsn=3", "matched=2 ", "unmatched=1 ", "quarantined=0 "):
        assert part in line, line
    assert float(line.rpartition("seconds=")[2]) > 0
    missing = app.test_cli_runner().invoke(args=["receipts", "poll", "--mailbox", "nope"])
    assert missing.exit_code == 1 and "no enabled mailbox named nope" in missing.output


def test_the_idle_watcher_processes_a_report_within_seconds(app, stack, desk):
    reply = send_reply(desk, to="alice@customer.test")
    wait_for_count(stack, 1)
    mailbox = add_mailbox(stack)
    stop = threading.Event()
    watcher = threading.Thread(target=idle_watcher(app, mailbox.id, idle_seconds=1.0), args=(stop,), daemon=True)
    watcher.start()
    try:
        # Its first poll on connecting takes what is already there (the success DSN)...
        assert wait_until(lambda: status_of(reply, "alice@customer.test") == "delivered", 10)
        # ...then a read receipt arriving later is processed because the server said EXISTS.
        arrived = time.monotonic()
        stack.append(BOUNCES, mdn(sender="alice@customer.test", final_recipient="alice@customer.test",
                                  original_message_id=reply.message_id, to=receipt_to(app, reply, ALICE)))
        assert wait_until(lambda: status_of(reply, "alice@customer.test") == "read", 5)
        assert time.monotonic() - arrived < 5
    finally:
        stop.set()
        watcher.join(timeout=5)
    assert not watcher.is_alive()
    assert folder_size(stack, "INBOX") == 0


def test_a_report_arriving_while_the_idle_watcher_polls_is_polled_at_once(app, stack, desk, monkeypatch):
    """The IDLE connection hears of mail that arrived during a poll only at its next command:
    the watcher asks (NOOP) before it IDLEs again, instead of waiting for the IDLE timeout."""
    reply = send_reply(desk, to="alice@customer.test")
    wait_for_count(stack, 1)
    mailbox = add_mailbox(stack)
    real_poll, arrived = poller.poll_mailbox, []

    def poll_then_a_receipt_arrives(*args, **kwargs):
        summary = real_poll(*args, **kwargs)
        if not arrived:  # during the first poll, after its fetch
            arrived.append(time.monotonic())
            stack.append(BOUNCES, mdn(sender="alice@customer.test", final_recipient="alice@customer.test",
                                      original_message_id=reply.message_id, to=receipt_to(app, reply, ALICE)))
        return summary

    monkeypatch.setattr(poller, "poll_mailbox", poll_then_a_receipt_arrives)
    stop = threading.Event()
    watcher = threading.Thread(target=idle_watcher(app, mailbox.id, idle_seconds=30.0), args=(stop,), daemon=True)
    watcher.start()
    try:
        assert wait_until(lambda: status_of(reply, "alice@customer.test") == "read", 10)
        assert time.monotonic() - arrived[0] < 10  # not the 30 s of the IDLE timeout
    finally:
        stop.set()
        watcher.join(timeout=5)
    assert not watcher.is_alive()
    assert folder_size(stack, "INBOX") == 0


def test_a_report_arriving_while_another_poll_holds_the_mailbox_is_taken_once_it_is_free(app, stack, desk):
    """A poll under way (the scheduled one, or another worker's) listed the folder before the
    report came, so it will not take it; the IDLE watcher's own poll finds the mailbox held.
    It must poll again once the mailbox is free, not leave the report waiting for the next
    news or the next scheduled poll (a minute away by default)."""
    reply = send_reply(desk, to="alice@customer.test")
    wait_for_count(stack, 1)
    mailbox = add_mailbox(stack)
    stop = threading.Event()
    watcher = threading.Thread(target=idle_watcher(app, mailbox.id, idle_seconds=1.0), args=(stop,), daemon=True)
    watcher.start()
    try:
        assert wait_until(lambda: status_of(reply, ALICE) == "delivered", 10)
        with held_when_free(f"receipts-poll:{mailbox.id}"):  # as a poll under way holds it
            stack.append(BOUNCES, mdn(sender="alice@customer.test", final_recipient="alice@customer.test",
                                      original_message_id=reply.message_id, to=receipt_to(app, reply, ALICE)))
            time.sleep(1.5)  # Dovecot's news came (it waits 500 ms), and the watcher's poll found the mailbox held
            db.session.rollback()
            assert status_of(reply, ALICE) == "delivered"
        assert wait_until(lambda: status_of(reply, ALICE) == "read", 3)
    finally:
        stop.set()
        watcher.join(timeout=5)
    assert not watcher.is_alive()


def test_a_report_arriving_while_the_watcher_polls_is_taken_at_once_not_at_the_end_of_the_idle_round(
        app, stack, desk, monkeypatch):
    """Mail that came while the watcher was not idling (its poll had searched the folder
    already) is announced by Dovecot right after "+ idling", in the same read as that line:
    it sits in the client's buffer, where IMAPClient's ``idle_check`` (a poll of the socket)
    does not look, and used to wait for the end of the IDLE round (25 s in the worker)."""
    reply = send_reply(desk, to="alice@customer.test")
    wait_for_count(stack, 1)
    mailbox = add_mailbox(stack)
    receipt = mdn(sender="alice@customer.test", final_recipient="alice@customer.test",
                  original_message_id=reply.message_id, to=receipt_to(app, reply, ALICE))
    real_poll, polls = poller.poll_mailbox, []

    def poll_then_receipt_arrives(mailbox, *args, **kwargs):
        summary = real_poll(mailbox, *args, **kwargs)
        polls.append(summary)
        if len(polls) == 1:  # just after the first poll searched and moved what it found
            stack.append(BOUNCES, receipt)
        return summary

    monkeypatch.setattr(poller, "poll_mailbox", poll_then_receipt_arrives)
    stop = threading.Event()
    watcher = threading.Thread(target=idle_watcher(app, mailbox.id, idle_seconds=30.0), args=(stop,), daemon=True)
    watcher.start()
    try:
        assert wait_until(lambda: status_of(reply, ALICE) == "delivered", 10)
        assert wait_until(lambda: status_of(reply, ALICE) == "read", 5)
    finally:
        stop.set()
        watcher.join(timeout=5)
    assert not watcher.is_alive()
    assert folder_size(stack, "INBOX") == 0


def test_a_mailbox_added_while_the_worker_runs_gets_its_idle_watcher_and_loses_it_when_disabled(app, stack, desk):
    reply = send_reply(desk, to="alice@customer.test")
    wait_for_count(stack, 1)
    stop = threading.Event()
    supervisor = threading.Thread(target=idle_supervisor(app, rescan_seconds=0.5,
                                                         watcher=lambda app, id: idle_watcher(app, id, idle_seconds=1.0)),
                                  args=(stop,), daemon=True)
    supervisor.start()
    try:
        time.sleep(1)  # the worker runs, with no mailbox to watch yet
        mailbox = add_mailbox(stack)
        assert wait_until(lambda: status_of(reply, "alice@customer.test") == "delivered", 10)
        watchers = lambda: [t for t in threading.enumerate() if t.name == f"idle-{mailbox.id}"]  # noqa: E731
        assert len(watchers()) == 1
        mailbox.enabled = False
        db.session.commit()
        assert wait_until(lambda: not watchers(), 5)  # its IDLE connection is closed within an IDLE round
        stack.append(BOUNCES, mdn(sender="alice@customer.test", final_recipient="alice@customer.test",
                                  original_message_id=reply.message_id, to=receipt_to(app, reply, ALICE)))
        time.sleep(2)
        assert status_of(reply, "alice@customer.test") == "delivered"  # a disabled mailbox is not read
        mailbox.enabled = True
        db.session.commit()
        assert wait_until(lambda: status_of(reply, "alice@customer.test") == "read", 10)
        assert len(watchers()) == 1
    finally:
        stop.set()
        supervisor.join(timeout=10)
    assert not supervisor.is_alive()


@contextmanager
def held_when_free(name: str, seconds: float = 10.0) -> Iterator[None]:
    """Hold the named lock, once whoever holds it now (the watcher's first poll) let it go."""
    deadline = time.monotonic() + seconds
    while True:
        with exclusive(name) as held:
            if held is not None:
                yield
                return
        assert time.monotonic() < deadline, f"{name} stayed held for {seconds} s"
        time.sleep(0.05)


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.rollback()  # read what the other thread committed
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_mailbox_without_its_ca_file_fails_the_certificate_check(stack, desk):
    mailbox = add_mailbox(stack, cafile=None)
    summary = poll_mailbox(mailbox)
    assert "CERTIFICATE_VERIFY_FAILED" in summary.error
    assert db.session.get(Mailbox, mailbox.id).last_outcome == "error"


def test_starttls_on_the_plain_port_works_with_the_ca_file(stack, desk):
    send_reply(desk, to="nobody@customer.test")
    wait_for_count(stack, 1)
    mailbox = add_mailbox(stack, port=stack.imap_port, security="starttls")
    summary = poll_mailbox(mailbox)
    assert (summary.error, summary.outcomes["matched"]) == (None, 1)


def test_a_password_file_is_read_when_polling(stack, desk):
    send_reply(desk, to="nobody@customer.test")
    wait_for_count(stack, 1)
    mailbox = add_mailbox(stack, password=None, password_file=secret("bounces-password", stack.password + "\n"))
    assert poll_mailbox(mailbox).outcomes["matched"] == 1


def test_a_mail_filters_rejection_is_a_problem_with_its_reason(stack, desk, client):
    """Bob's Sieve rejects the reply: Dovecot accepted it (a success DSN says "delivered"),
    then Pigeonhole threw it away and sent an RFC 5429 MDN "deleted" with the filter's words.
    Bob shows as rejected, with those words; the reply warns, like a partial bounce."""
    stack.set_reject("bob@customer.test", "I do not accept mail from the help desk.")
    reply = send_reply(desk, to="alice@customer.test", cc="bob@customer.test")
    wait_for_count(stack, 3)  # two success DSNs and the MDN
    stack.settle()

    summary = poll_mailbox(add_mailbox(stack))

    assert (summary.kinds["dsn"], summary.kinds["mdn"], summary.outcomes["matched"]) == (2, 1, 3)
    assert events_of(reply, "bob@customer.test") == ["dsn-delivered", "mdn-rejected", "smtp-accepted"]
    assert (status_of(reply, "alice@customer.test"), status_of(reply, "bob@customer.test")) == ("delivered", "rejected")
    login(client, desk[2])
    info = client.get(f"/api/v1/messages/{reply.id}/read-info").get_json()
    assert info["state"]["label"] == "Delivered" and info["state"]["partial_problem"] is True
    assert "Delivered to 1 of 2: alice@customer.test (To)." in info["state"]["tooltip"]
    assert "Not delivered to 1 of 2: bob@customer.test." in info["state"]["tooltip"]
    bob = next(r for r in info["recipients"] if r["address"] == "bob@customer.test")
    assert bob["status"] == "rejected" and bob["problem"]["kind"] == "mdn-rejected"
    assert bob["problem"]["diagnostic"] == ("Your message to <bob@customer.test> was automatically rejected: "
                                            "I do not accept mail from the help desk.")
    assert "mail filter" in bob["problem"]["explanation"]
    page = client.get(f"/messages/{reply.id}/read-info").get_data(as_text=True)
    assert "Rejected by a mail filter" in page
    assert "Their mail filter said: Your message to &lt;bob@customer.test&gt; was automatically rejected: " \
           "I do not accept mail from the help desk." in page
    thread = client.get(f"/tickets/{reply.ticket_id}").get_data(as_text=True)
    assert "&#9888; 1 not delivered" in thread
