"""Stopping the worker (issue 16): ``flask worker`` holds IMAP IDLE on the watched mailbox, and
a deploy's SIGTERM must end it within seconds, not after the IDLE round (it took 16-26 s),
with nothing lost: a poll under way when the signal comes finishes its batches, and what it
had not fetched stays on the server for the next poll. Real worker processes against the
real Dovecot."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from receipts_plugin.models import Mailbox, StoredReport
from receipts_plugin.poller import poll_mailbox
from tests.receipts.poller_support import (  # noqa: F401 - fixtures
    PROCESSED,
    add_mailbox,
    app_config,
    folder_size,
    sent_replies,
    stack,
    status_of,
    wait_for_count,
)
from tests.receipts.test_poller_faults import ROOT, child_env

pytestmark = pytest.mark.mailstack

STOP_WITHIN_SECONDS = 5.0


class Worker:
    """``flask --app wsgi worker`` on the test's database, its output in ``log``."""

    def __init__(self, app, log: Path, **env: str) -> None:
        self.log = log
        with log.open("w") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT,
                                            env=child_env(app, HELPDESK_LOG_LEVEL="INFO", **env),
                                            stdout=out, stderr=out)

    def wait_until(self, done, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            db.session.rollback()  # see what the worker committed
            assert self.process.poll() is None and time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.02)
        db.session.rollback()

    def terminate(self) -> float:
        """SIGTERM, as systemd stops it; the seconds until it exited (successfully)."""
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        took = time.monotonic() - began
        output = self.log.read_text()
        assert code == 0 and "worker stopped" in output, output
        return took


def polled(mailbox: Mailbox):
    return lambda: db.session.scalar(select(Mailbox.last_poll_at).where(Mailbox.id == mailbox.id)) is not None


def stored_reports() -> int:
    return db.session.scalar(select(func.count()).select_from(StoredReport))


def test_sigterm_while_idle_stops_the_worker_within_seconds(app, stack, desk, tmp_path):
    mailbox = add_mailbox(stack)
    worker = Worker(app, tmp_path / "worker.log")
    worker.wait_until(polled(mailbox))  # the IDLE watcher's first poll: it is in IDLE next
    time.sleep(1.0)

    took = worker.terminate()

    assert took < STOP_WITHIN_SECONDS, f"the worker took {took:.1f} s to stop\n{worker.log.read_text()}"


def test_sigterm_during_a_poll_finishes_it_and_loses_no_report(app, stack, desk, tmp_path):
    replies = sent_replies(desk, 8)  # to alice, bob and carol each: 24 real success DSNs
    wait_for_count(stack, 24)
    mailbox = add_mailbox(stack)
    worker = Worker(app, tmp_path / "worker.log", HELPDESK_RECEIPTS_BATCH_SIZE="2")
    worker.wait_until(lambda: stored_reports() > 0)  # its poll is under way, batch by batch

    took = worker.terminate()

    assert took < STOP_WITHIN_SECONDS, f"the worker took {took:.1f} s to stop\n{worker.log.read_text()}"
    leftover = poll_mailbox(db.session.get(Mailbox, mailbox.id))  # whatever it left on the server
    assert leftover.error is None
    assert stored_reports() == 24
    assert len(set(db.session.scalars(select(StoredReport.identity)))) == 24
    assert {status_of(reply, address) for reply in replies for address in
            ("alice@customer.test", "bob@customer.test", "carol@customer.test")} == {"delivered"}
    assert folder_size(stack, "INBOX") == 0 and folder_size(stack, PROCESSED) == 24
