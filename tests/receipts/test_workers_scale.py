"""Scale-out (issue 8): several ``flask receipts worker`` processes share the watched mailboxes
through the database's locks. Each mailbox is polled by one worker at a time; when a worker
is killed mid-poll, the others take its mailboxes over within one poll interval (SQLite: its
lease, held by a process of this host that is gone, is taken at once; PostgreSQL: the
advisory lock dies with its connection), and every report is applied exactly once.

Three real worker processes, six mailboxes (six users of the real Dovecot, a folder each),
reports about real sent replies; with IMAP IDLE and with the schedule alone."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from helpdesk.extensions import db
from helpdesk.models import utcnow
from helpdesk.services.locks import advisory_key
from receipts_plugin.models import DeliveryEventRow, Mailbox, RecipientStatusRow, StoredReport
from tests.receipts.poller_support import (  # noqa: F401 - fixtures
    PROCESSED,
    add_mailbox,
    append_all,
    folder_size,
    report_mix,
    sent_replies,
    stack,
    status_of,
)
from tests.receipts.test_poller_faults import ROOT, child_env

pytestmark = pytest.mark.mailstack

POLL_SECONDS = 1.0
FOLDER = "Reports"
USERS = ("support@example.test", "bounces@example.test", "agent@example.test", "notify@example.test",
         "dave@customer.test", "erin@customer.test")
REPLIES_PER_MAILBOX = 5  # report_mix: six mails a reply, one of them a second copy


class Workers:
    """``flask --app wsgi receipts worker`` processes on the test's database, and which of them
    holds which mailbox's lock (lease rows on SQLite; advisory locks on PostgreSQL, told apart
    by each worker's application_name)."""

    def __init__(self, app, count: int, idle: bool, mailboxes: list[Mailbox], logs: Path) -> None:
        self.postgres = db.engine.dialect.name == "postgresql"
        self.lock_of = {f"receipts-poll:{m.id}": m.id for m in mailboxes}
        self.key_of = {advisory_key(name): mailbox_id for name, mailbox_id in self.lock_of.items()}
        self.processes: list[subprocess.Popen] = []
        self.logs = [logs / f"worker-{n}.log" for n in range(count)]
        for n in range(count):
            url = app.config["DATABASE_URL"] + (f"?application_name=scale-worker-{n}" if self.postgres else "")
            env = child_env(app, HELPDESK_DATABASE_URL=url, HELPDESK_RECEIPTS_POLL_SECONDS=str(POLL_SECONDS),
                            HELPDESK_RECEIPTS_IDLE="true" if idle else "false", HELPDESK_RECEIPTS_BATCH_SIZE="3")
            with self.logs[n].open("w") as log:
                self.processes.append(subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "receipts",
                                                        "worker"], cwd=ROOT, env=env, stdout=log, stderr=log))

    def holders(self) -> dict[int, int]:
        """Mailbox id to the index of the worker polling it right now."""
        if self.postgres:
            rows = db.session.execute(text(
                "SELECT (l.classid::bigint << 32) | l.objid::bigint, a.application_name FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"))
            found = {self.key_of.get(_signed(key)): name for key, name in rows}
            held = {box: int(name.rsplit("-", 1)[1]) for box, name in found.items()
                    if box is not None and name.startswith("scale-worker-")}
        else:
            pids = {p.pid: n for n, p in enumerate(self.processes)}
            rows = db.session.execute(text("SELECT name, holder FROM leases"))
            held = {self.lock_of[name]: pids[int(holder.split(":")[1])] for name, holder in rows
                    if name in self.lock_of and int(holder.split(":")[1]) in pids}
        db.session.rollback()  # the next look sees what the workers committed since
        return held

    def wait_until_each_has_polled(self, timeout: float = 30.0) -> None:
        """Until every worker was seen holding some mailbox's lock: all are up and polling."""
        seen: set[int] = set()
        deadline = time.monotonic() + timeout
        while len(seen) < len(self.processes):
            assert time.monotonic() < deadline, f"only workers {sorted(seen)} ever polled\n{self.errors()}"
            assert all(p.poll() is None for p in self.processes), self.errors()
            seen.update(self.holders().values())
            time.sleep(0.002)

    def kill_while_polling(self, victim: int, timeout: float = 30.0) -> tuple[set[int], datetime]:
        """SIGKILL worker ``victim`` as soon as it holds a mailbox's lock (mid-poll), and reap
        it (a zombie would still look alive to the lease's liveness check). The mailboxes it
        held, and when it died."""
        deadline = time.monotonic() + timeout
        while True:
            held = {box for box, worker in self.holders().items() if worker == victim}
            if held:
                break
            assert time.monotonic() < deadline, "the victim never polled"
        process = self.processes[victim]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        return held, utcnow()

    def errors(self) -> str:
        """The workers' logs, who holds what, and each mailbox's health, for a failing assertion."""
        health = [(m.name, m.last_poll_at, m.last_outcome, m.retry_at) for m in db.session.scalars(select(Mailbox))]
        checkpoints = db.session.execute(text("SELECT key, uidvalidity, last_uid FROM mailbox_checkpoints")).all()
        leases = [] if self.postgres else db.session.execute(text("SELECT * FROM leases")).all()
        db.session.rollback()
        alive = [p.pid for p in self.processes if p.poll() is None]
        return "\n".join([f"holders {self.holders()} alive {alive} leases {leases}", f"checkpoints {checkpoints}",
                          *map(str, health), *(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in self.logs)])

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)  # the test is over: no clean stop needed (test_worker_stop)
            process.wait(timeout=10)


def _signed(key: int) -> int:
    return key - (1 << 64) if key >= 1 << 63 else key


def polled_since(mailbox_ids: set[int], since: datetime, timeout: float) -> dict[int, float]:
    """Seconds after ``since`` at which a poll of each mailbox began (a poll records its start
    time once it has finished), waiting up to ``timeout`` seconds for each."""
    deadline = time.monotonic() + timeout
    started: dict[int, float] = {}
    while len(started) < len(mailbox_ids) and time.monotonic() < deadline:
        for box in db.session.scalars(select(Mailbox).where(Mailbox.id.in_(mailbox_ids - set(started)))):
            if box.last_poll_at and box.last_poll_at > since:
                started[box.id] = (box.last_poll_at - since).total_seconds()
        db.session.rollback()
        time.sleep(0.02)
    return started


def wait_until_moved(stack, workers: Workers, expected: int, timeout: float) -> None:
    """Until every watched folder's mail is in its Processed folder."""
    deadline = time.monotonic() + timeout
    while any(folder_size(stack, PROCESSED, user) < expected for user in USERS):
        if time.monotonic() > deadline:
            print(workers.errors())  # shown with the failure
            raise AssertionError({u: (folder_size(stack, FOLDER, u), folder_size(stack, PROCESSED, u)) for u in USERS})
        time.sleep(0.1)


@pytest.mark.parametrize("idle", [True, False], ids=["with-idle", "schedule-only"])
def test_three_workers_share_six_mailboxes_and_one_killed_mid_poll_loses_and_doubles_nothing(
        app, stack, desk, idle, tmp_path):
    replies = sent_replies(desk, len(USERS) * REPLIES_PER_MAILBOX)
    mailboxes = [add_mailbox(stack, user=user, folder=FOLDER) for user in USERS]
    for user in USERS:
        append_all(stack, [], user=user, folder=FOLDER)  # the folder exists, empty: the workers start idle
    per_mailbox = [replies[n * REPLIES_PER_MAILBOX:(n + 1) * REPLIES_PER_MAILBOX] for n in range(len(USERS))]
    mails = [report_mix(app, about) for about in per_mailbox]
    ids = {m.id for m in mailboxes}
    workers = Workers(app, 3, idle, mailboxes, tmp_path)
    try:
        workers.wait_until_each_has_polled()
        for user, raws in zip(USERS, mails):
            append_all(stack, raws, user=user, folder=FOLDER)
        held, killed_at = workers.kill_while_polling(victim=0)
        taken_over = polled_since(held, killed_at, timeout=10 * POLL_SECONDS)
        wait_until_moved(stack, workers, len(mails[0]), timeout=30)
        everyone_after = polled_since(ids, utcnow(), timeout=3 * POLL_SECONDS)  # the survivors poll them all
    finally:
        workers.stop()

    assert held and set(taken_over) == held, (held, taken_over, workers.errors())
    # within one poll interval (and a margin)
    assert max(taken_over.values()) <= POLL_SECONDS + 0.5, (taken_over, killed_at, workers.errors())
    assert set(everyone_after) == ids
    distinct = len(USERS) * REPLIES_PER_MAILBOX * 5
    reports = db.session.execute(select(StoredReport.mailbox_id, StoredReport.outcome, StoredReport.identity)).all()
    assert len(reports) == distinct and len({r.identity for r in reports}) == distinct
    assert {r.mailbox_id for r in reports} == ids and {r.outcome for r in reports} == {"matched", "suspect"}
    events = db.session.execute(select(DeliveryEventRow.recipient_id, DeliveryEventRow.key)).all()
    assert len(events) == len(set(events)) == len(replies) * 4  # carol failed; alice delivered, read; bob read
    assert db.session.scalar(select(func.count()).select_from(RecipientStatusRow)) == len(replies) * 3
    for reply in replies:
        assert [status_of(reply, f"{u}@customer.test") for u in ("alice", "bob", "carol")] == \
            ["read", "read", "bounced"]
    for user, raws in zip(USERS, mails):
        assert (folder_size(stack, FOLDER, user), folder_size(stack, PROCESSED, user)) == (0, len(raws))
