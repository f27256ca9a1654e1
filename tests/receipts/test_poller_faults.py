"""Faults against the real mail stack: the poll process SIGKILLed at random points, Dovecot
stopped mid-poll, two pollers at once, and a refused login. In every case nothing is lost,
nothing counts twice, and errors back off without showing the password."""
from __future__ import annotations

import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

import helpdesk.mail.imap as imap
import receipts_plugin.poller as poller
from helpdesk.extensions import db
from helpdesk.jobs import Job, run_worker
from helpdesk.models import AgentRole, utcnow
from receipts_plugin.models import DeliveryEventRow, StoredReport
from receipts_plugin.poller import poll_all, poll_mailbox
from tests.helpers import login, make_agent
from tests.receipts.poller_support import (  # noqa: F401 - fixtures
    BOUNCES,
    PROCESSED,
    add_mailbox,
    append_all,
    count,
    folder_size,
    forget_reports,
    recorded_state,
    report_mix,
    sent_replies,
    stack,
    status_of,
)

pytestmark = pytest.mark.mailstack

ROOT = Path(__file__).resolve().parents[2]
KILL_ROUNDS = 20


def child_env(app, **extra: str) -> dict[str, str]:
    """The test app's configuration for a separate process (same database, files, secret)."""
    config = app.config
    return {**os.environ, "PYTHONPATH": str(ROOT), "SECRET_KEY": config["SECRET_KEY"],
            "HELPDESK_DATABASE_URL": config["DATABASE_URL"], "HELPDESK_PLUGINS": '["receipts", "tracking"]',
            "HELPDESK_ATTACHMENT_DIR": config["ATTACHMENT_DIR"], "HELPDESK_OUTBOX_DIR": config["OUTBOX_DIR"],
            "HELPDESK_SECRETS_DIR": config["SECRETS_DIR"], "HELPDESK_BASE_URL": config["BASE_URL"],
            "HELPDESK_MAIL_DOMAIN": config["MAIL_DOMAIN"], "HELPDESK_LOG_LEVEL": "WARNING", **extra}


def cli_poll(app, **extra: str) -> subprocess.Popen:
    """``flask --app wsgi receipts poll`` in a process of its own."""
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "receipts", "poll"], cwd=ROOT,
                            env=child_env(app, **extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class PollProcesses:
    """Drives ``tests.receipts.poll_child``: one poll per call, each in a fresh process."""

    def __init__(self, app, log: Path, **extra: str) -> None:
        self.log = log.open("w")
        self.server = subprocess.Popen([sys.executable, "-m", "tests.receipts.poll_child"], cwd=ROOT,
                                       env=child_env(app, **extra), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=self.log, text=True, bufsize=1)

    def poll(self, kill_after: float | None = None) -> tuple[int, float]:
        """One poll, SIGKILLed after ``kill_after`` seconds unless it ended first.

        Returns (exit code, seconds it ran); the code is -9 when it was killed."""
        self.server.stdin.write(f"poll {kill_after if kill_after is not None else ''}\n")
        self.server.stdin.flush()
        answer = self.server.stdout.readline().split()
        assert answer and answer[0] == "exited", f"poll_child said {answer!r}; see {self.log.name}"
        return int(answer[2]), float(answer[3])

    def close(self) -> None:
        self.server.stdin.close()
        self.server.wait(timeout=10)
        self.log.close()


def mailbox_contents(stack) -> dict[str, list[bytes]]:
    return {folder: sorted(stack.fetch_all(BOUNCES, folder)) for folder in ("INBOX", PROCESSED)}


def test_sigkill_at_random_points_ends_in_the_state_of_an_uninterrupted_run(app, stack, desk, tmp_path):
    raws = report_mix(app, sent_replies(desk, 25))  # 150 reports about 25 replies, 75 recipients
    add_mailbox(stack)
    append_all(stack, raws)
    processes = PollProcesses(app, tmp_path / "poll_child.log", HELPDESK_RECEIPTS_BATCH_SIZE="20")
    try:
        code, uninterrupted_seconds = processes.poll()
        assert code == 0, (tmp_path / "poll_child.log").read_text()
        expected, expected_mail = recorded_state(), mailbox_contents(stack)
        assert expected_mail["INBOX"] == [] and len(expected_mail[PROCESSED]) == len(raws)
        assert len(expected["reports"]) == len(raws) - 25  # the second copy of each receipt is a duplicate

        forget_reports()
        stack.clear(BOUNCES)
        append_all(stack, raws)
        rng = random.Random(20240607)
        codes = [processes.poll(kill_after=rng.uniform(0.0, uninterrupted_seconds / 6))[0]
                 for _ in range(KILL_ROUNDS)]
    finally:
        processes.close()
    assert codes.count(-signal.SIGKILL) >= KILL_ROUNDS // 2, codes
    assert folder_size(stack, "INBOX") > 0, "the killed polls must not have finished the work"

    for _ in range(20):  # the real command finishes it (PostgreSQL may need a moment to notice a dead holder)
        finished = cli_poll(app)
        out, err = finished.communicate(timeout=60)
        if "skipped" not in out:
            break
        time.sleep(0.1)
    assert finished.returncode == 0, out + err
    assert "bounces: fetched=" in out
    assert recorded_state() == expected
    assert mailbox_contents(stack) == expected_mail


def test_dovecot_stopped_mid_poll_is_an_error_with_backoff_and_the_next_poll_completes(
        app, stack, desk, monkeypatch):
    app.config["RECEIPTS_BATCH_SIZE"] = 10
    replies = sent_replies(desk, 5)
    raws = report_mix(app, replies)  # 30 mails, 25 distinct reports
    append_all(stack, raws)
    mailbox = add_mailbox(stack)
    real_ingest = poller.read_mail
    calls = []

    def ingest_then_outage(*args, **kwargs):
        result = real_ingest(*args, **kwargs)
        calls.append(1)
        if len(calls) == 15:  # in the middle of the second batch
            stack.stop_dovecot()
        return result

    monkeypatch.setattr(poller, "read_mail", ingest_then_outage)
    before = utcnow()
    try:
        first = poll_mailbox(mailbox)
    finally:
        stack.start_dovecot()
    monkeypatch.setattr(poller, "read_mail", real_ingest)

    db.session.refresh(mailbox)
    assert first.error and mailbox.last_error == first.error and mailbox.last_outcome == "error"
    assert mailbox.failures == 1 and mailbox.retry_at > before + timedelta(seconds=5)
    assert poll_mailbox(mailbox).skipped.startswith("backing off")
    left = folder_size(stack, "INBOX")
    moved = len(raws) - left
    assert 0 < moved < first.fetched  # recorded but not moved: the outage came before the MOVE

    second = poll_mailbox(mailbox, now=mailbox.retry_at + timedelta(seconds=1))

    assert second.error is None and second.fetched == left
    # What the first poll recorded but could not move comes again, and changes nothing.
    assert second.outcomes["duplicate"] >= first.fetched - moved
    assert count(StoredReport) == len(raws) - 5
    assert count(DeliveryEventRow) == 5 * 4  # carol failed; alice delivered and read; bob read
    assert folder_size(stack, "INBOX") == 0 and folder_size(stack, PROCESSED) == len(raws)
    db.session.refresh(mailbox)
    assert (mailbox.failures, mailbox.retry_at, mailbox.last_error) == (0, None, None)
    assert mailbox.total_fetched == first.fetched + second.fetched
    for reply in replies:
        assert [status_of(reply, f"{u}@customer.test") for u in ("alice", "bob", "carol")] == \
            ["read", "read", "bounced"]


def test_two_pollers_started_at_once_apply_each_report_once(app, stack, desk):
    raws = report_mix(app, sent_replies(desk, 10))  # 60 mails
    append_all(stack, raws)
    add_mailbox(stack)

    both = [cli_poll(app, HELPDESK_RECEIPTS_BATCH_SIZE="10") for _ in range(2)]
    outputs = [p.communicate(timeout=60)[0] for p in both]

    assert [p.returncode for p in both] == [0, 0], outputs
    fetched = [int(out.split("fetched=")[1].split()[0]) for out in outputs if "fetched=" in out]
    skipped = [out for out in outputs if "skipped (another worker is polling this mailbox)" in out]
    assert sum(fetched) == len(raws) and len(fetched) + len(skipped) == 2, outputs
    duplicates = [int(out.split("duplicates=")[1].split()[0]) for out in outputs if "fetched=" in out]
    assert sum(duplicates) == 10  # only the receipts delivered twice
    assert count(StoredReport) == len(raws) - 10
    assert folder_size(stack, "INBOX") == 0 and folder_size(stack, PROCESSED) == len(raws)
    events = db.session.scalars(select(DeliveryEventRow)).all()
    assert len({(e.recipient_id, e.key) for e in events}) == len(events)


def test_a_refused_login_backs_off_shows_on_the_health_page_and_never_shows_the_password(
        app, client, stack, caplog, monkeypatch):
    wrong = "Wr0ng-Pa55word-42"
    mailbox = add_mailbox(stack, password=wrong)
    caplog.set_level(logging.DEBUG)  # imapclient's own protocol log included
    attempts = count_connections(monkeypatch)

    summary = poll_mailbox(mailbox)

    assert summary.error.startswith("ImapLoginError: login refused for bounces@example.test")
    assert "AUTHENTICATIONFAILED" in summary.error and wrong not in summary.error
    db.session.refresh(mailbox)
    assert mailbox.retry_at > utcnow() + timedelta(seconds=5) and mailbox.failures == 1
    assert poll_mailbox(mailbox).skipped.startswith("backing off until")
    # The worker polls every 50 ms here; every one of those polls is turned away until retry_at.
    polls = run_worker_until(app, monkeypatch, lambda summaries: sum(1 for s in summaries if s.skipped) >= 10)
    assert len(polls) >= 10 and all(s.skipped for s in polls) and len(attempts) == 1

    admin = make_agent("admin@example.test", role=AgentRole.ADMIN)
    login(client, admin)
    page = client.get("/admin/receipts/health").get_data(as_text=True)
    assert "login refused for bounces@example.test" in page and "1 failure(s) in a row" in page
    form = client.get(f"/admin/receipts/mailboxes/{mailbox.id}").get_data(as_text=True)
    assert "login refused for bounces@example.test" in caplog.text  # the operator's log has it too
    assert wrong not in page + form + caplog.text + summary.line()


def count_connections(monkeypatch) -> list[float]:
    """Times at which the poller opened an IMAP connection."""
    attempts: list[float] = []
    real_connect = imap.connect
    monkeypatch.setattr(imap, "connect", lambda settings: attempts.append(time.monotonic()) or real_connect(settings))
    return attempts


def run_worker_until(app, monkeypatch, enough, seconds: float = 20.0) -> list:
    """Run the worker's poll job every 50 ms until ``enough(summaries)``; the summaries."""
    summaries = []
    real_poll = poller.poll_mailbox
    monkeypatch.setattr(poller, "poll_mailbox", lambda *a, **k: summaries.append(s := real_poll(*a, **k)) or s)
    stop = threading.Event()
    worker = threading.Thread(target=run_worker, args=(app, [Job("receipts-poll", poll_all, 0.05)], [], stop))
    worker.start()
    try:
        deadline = time.monotonic() + seconds
        while not enough(summaries) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join(timeout=10)
    db.session.rollback()
    return summaries
