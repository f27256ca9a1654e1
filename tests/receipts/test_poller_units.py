"""The poller's parts without a mail server: the checkpoint, the exactly-once order of a poll
(process, commit, move, then advance), the locks, backoff, and mailbox settings."""
from __future__ import annotations

import random
import socket
import subprocess
import threading
import time
from datetime import timedelta

import pytest
from imapclient.exceptions import IMAPClientError
from sqlalchemy import insert, select, text

from helpdesk.extensions import db
from helpdesk.mail.imap import (
    Deferred,
    ImapSettings,
    MailRef,
    _chunks_by_size,
    checkpoint_for,
    ensure_folder,
    poll_folder,
)
from helpdesk.models import Lease, MailboxCheckpoint, utcnow
from helpdesk.services.errors import ValidationError
from helpdesk.services import locks
from helpdesk.services.storage import path_for, store_bytes
from helpdesk.services.locks import HOST, advisory_key, exclusive, holder_is_gone, holder_name
from receipts_plugin.jobs import receipt_jobs
from receipts_plugin.mailboxes import MailboxInput, save_mailbox
from receipts_plugin.models import Mailbox
from receipts_plugin.poller import BACKOFF_BASE, BACKOFF_MAX, backoff, password_of, poll_mailbox
from tests.helpers import secret, watch_fsync


class FakeFolder:
    """Just enough of IMAPClient for :func:`poll_folder`: one folder, UIDs, sizes, MOVE."""

    def __init__(self, messages: dict[int, bytes], uidvalidity: int = 7) -> None:
        self.messages, self.uidvalidity = dict(messages), uidvalidity
        self.moved: list[int] = []
        self.searches = self.selects = 0

    def folder_status(self, folder, items):
        uidnext = max(self.messages, default=0) + 1
        return {b"UIDVALIDITY": self.uidvalidity, b"UIDNEXT": uidnext, b"MESSAGES": len(self.messages)}

    def select_folder(self, folder, readonly=False):
        self.selects += 1
        status = self.folder_status(folder, [])
        return {**status, b"EXISTS": status[b"MESSAGES"]}

    def search(self, criteria):
        self.searches += 1
        low = int(criteria[1].split(":")[0])
        return [uid for uid in self.messages if uid >= low]

    def capabilities(self):
        return (b"IMAP4REV1", b"MOVE")

    def fetch(self, uids, items):
        if items == ["RFC822.SIZE"]:
            return {uid: {b"RFC822.SIZE": len(self.messages[uid])} for uid in uids if uid in self.messages}
        if items == ["BODY.PEEK[HEADER]"]:
            return {uid: {b"BODY[HEADER]": self.messages[uid].split(b"\r\n\r\n")[0]} for uid in uids}
        return {uid: {b"BODY[]": self.messages[uid]} for uid in uids if uid in self.messages}

    def move(self, uids, folder):
        for uid in uids:
            del self.messages[uid]
        self.moved += uids


SETTINGS = ImapSettings(host="imap.test", username="bounces", password="pw", processed_folder="Processed",
                        batch_size=3, max_bytes=1000)


def mail(n: int, size: int = 50) -> bytes:
    return f"Subject: {n}\r\n\r\n".encode() + b"x" * size


def poll(folder: FakeFolder, process, oversize=lambda ref, size, header: "quarantined"):
    return poll_folder(folder, SETTINGS, process, oversize, checkpoint_key="unit")


def last_uid() -> int:
    db.session.expire_all()
    return db.session.get(MailboxCheckpoint, "unit").last_uid


def test_a_new_folder_starts_at_zero_and_a_new_uidvalidity_starts_again(app):
    assert (checkpoint_for("unit", 5).uidvalidity, checkpoint_for("unit", 5).last_uid) == (5, 0)
    checkpoint_for("unit", 5).last_uid = 40
    db.session.commit()
    assert checkpoint_for("unit", 5).last_uid == 40
    reset = checkpoint_for("unit", 6)
    assert (reset.uidvalidity, reset.last_uid) == (6, 0)


def test_each_mail_is_processed_then_moved_then_the_checkpoint_advances(app):
    folder = FakeFolder({uid: mail(uid) for uid in range(1, 8)})
    seen = []

    def process(ref: MailRef, raw: bytes) -> str:
        # While a mail is processed, neither it nor its batch has been moved or checkpointed.
        assert ref.uid in folder.messages and last_uid() < ref.uid
        seen.append(ref.uid)
        return "matched"

    stats = poll(folder, process)
    assert seen == list(range(1, 8)) and folder.moved == seen
    assert (stats.fetched, stats.outcomes["matched"], last_uid()) == (7, 7, 7)


def test_each_batchs_stored_files_reach_the_disk_before_the_batch_is_moved(app, monkeypatch):
    """A power loss after the MOVE must not lose a raw copy the database names."""
    events: list[tuple[str, object]] = []

    class Watched(FakeFolder):
        def move(self, uids, folder):
            events.append(("move", tuple(uids)))
            super().move(uids, folder)

    def process(ref: MailRef, raw: bytes) -> str:
        events.append(("stored", (ref.uid, path_for(store_bytes(raw)).resolve())))
        return "matched"

    watch_fsync(monkeypatch, lambda path: events.append(("flushed", path)))
    poll(Watched({uid: mail(uid) for uid in range(1, 8)}), process)  # batches of 3: 1-3, 4-6, 7
    moves = [index for index, (kind, _) in enumerate(events) if kind == "move"]
    assert [events[i][1] for i in moves] == [(1, 2, 3), (4, 5, 6), (7,)]
    for index, (kind, detail) in enumerate(events):
        if kind == "stored":
            uid, path = detail
            moved_at = next(i for i in moves if uid in events[i][1])
            assert ("flushed", path) in events[index:moved_at], f"mail {uid} moved before its file was flushed"


def test_a_crash_while_processing_moves_nothing_of_its_batch_and_keeps_the_checkpoint(app):
    folder = FakeFolder({uid: mail(uid) for uid in range(1, 8)})

    def crash_at_five(ref: MailRef, raw: bytes) -> str:
        if ref.uid == 5:
            raise KeyboardInterrupt("killed")
        return "matched"

    with pytest.raises(KeyboardInterrupt):
        poll(folder, crash_at_five)
    assert folder.moved == [1, 2, 3] and last_uid() == 3  # the first batch was done
    again = []
    poll(folder, lambda ref, raw: again.append(ref.uid) or "matched")
    # 4 was processed before the crash but not moved: it comes again (the processor dedupes it).
    assert again == [4, 5, 6, 7] and folder.moved == list(range(1, 8)) and last_uid() == 7


def test_a_deferred_mail_stops_the_poll_and_leaves_it_on_the_server(app):
    folder = FakeFolder({uid: mail(uid) for uid in range(1, 6)})

    def disk_full_at_two(ref: MailRef, raw: bytes) -> str:
        if ref.uid == 2:
            raise Deferred("disk full")
        return "matched"

    stats = poll(folder, disk_full_at_two)
    assert stats.stopped_early == "disk full"
    assert folder.moved == [1] and last_uid() == 1 and sorted(folder.messages) == [2, 3, 4, 5]


def test_nothing_new_costs_no_select_or_search(app):
    folder = FakeFolder({uid: mail(uid) for uid in range(1, 4)})
    poll(folder, lambda ref, raw: "matched")
    selects, searches = folder.selects, folder.searches
    folder.messages = {3: mail(3)}  # (as if still there in flag mode) UIDNEXT says nothing is new
    assert poll(folder, lambda ref, raw: pytest.fail("nothing is new")).fetched == 0
    assert (folder.selects, folder.searches) == (selects, searches)
    folder.messages[4] = mail(4)
    assert poll(folder, lambda ref, raw: "matched").fetched == 1 and folder.selects == selects + 1


def test_an_oversize_mail_is_handed_over_by_its_headers_only(app):
    folder = FakeFolder({1: mail(1), 2: mail(2, size=5000), 3: mail(3)})
    seen = []
    stats = poll(folder, lambda ref, raw: seen.append(ref.uid) or "matched",
                 lambda ref, size, header: seen.append((ref.uid, size, header)) or "quarantined")
    assert seen == [1, (2, len(mail(2, 5000)), b"Subject: 2"), 3]
    assert (stats.too_large, stats.outcomes["quarantined"], folder.moved) == (1, 1, [1, 2, 3])


class OneCommandAtATime(FakeFolder):
    """A folder that fails the test if two IMAP commands ever overlap, and logs body fetches."""

    def __init__(self, messages: dict[int, bytes]) -> None:
        super().__init__(messages)
        self.busy = threading.Lock()
        self.body_fetches: list[list[int]] = []

    def fetch(self, uids, items):
        assert self.busy.acquire(blocking=False), "two IMAP commands at once"
        try:
            time.sleep(0.01)  # a command takes a moment: long enough to be overlapped if that could happen
            if items == ["BODY.PEEK[]"]:
                self.body_fetches.append(list(uids))
            return super().fetch(uids, items)
        finally:
            self.busy.release()

    def move(self, uids, folder):
        assert self.busy.acquire(blocking=False), "two IMAP commands at once"
        try:
            super().move(uids, folder)
        finally:
            self.busy.release()


def test_the_next_batch_downloads_while_this_one_is_processed_one_command_at_a_time(app):
    folder = OneCommandAtATime({uid: mail(uid) for uid in range(1, 10)})

    def process(ref: MailRef, raw: bytes) -> str:
        if ref.uid in (1, 4):  # while a batch is processed, the next one arrives
            deadline = time.monotonic() + 5
            while [ref.uid + 3, ref.uid + 4, ref.uid + 5] not in folder.body_fetches:
                assert time.monotonic() < deadline, folder.body_fetches
                time.sleep(0.005)
        return "matched"

    stats = poll(folder, process)
    assert folder.body_fetches == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert (stats.fetched, folder.moved, last_uid()) == (9, list(range(1, 10)), 9)


class CommittedOnly(FakeFolder):
    """A folder whose MOVE looks, through a connection of its own, at what the database holds
    committed for the mails it moves (each processed mail leaves a checkpoint row "work<uid>",
    uncommitted)."""

    def __init__(self, messages: dict[int, bytes]) -> None:
        super().__init__(messages)
        self.log: list[tuple[str, object]] = []
        self.engine = db.engine

    def move(self, uids, folder):
        table = MailboxCheckpoint.__table__
        with self.engine.connect() as other:
            committed = set(other.scalars(select(table.c.key).where(table.c.key.like("work%"))))
            checkpoint = other.scalar(select(table.c.last_uid).where(table.c.key == "unit"))
        self.log.append(("move", tuple(uids), {f"work{uid}" for uid in uids} <= committed, checkpoint))
        super().move(uids, folder)


def record_work(folder: CommittedOnly):
    def process(ref: MailRef, raw: bytes) -> str:
        folder.log.append(("process", ref.uid))
        db.session.add(MailboxCheckpoint(key=f"work{ref.uid}", uidvalidity=1, last_uid=ref.uid))
        return "matched"
    return process


def test_a_batch_moves_only_once_committed_and_before_the_checkpoint_passes_it(app):
    folder = CommittedOnly({uid: mail(uid) for uid in range(1, 8)})
    stats = poll(folder, record_work(folder))  # batches of 3: 1-3, 4-6, 7
    moves = [entry for entry in folder.log if entry[0] == "move"]
    assert [entry[1] for entry in moves] == [(1, 2, 3), (4, 5, 6), (7,)]
    # Each batch's work was committed before its MOVE began, and the checkpoint had not passed it.
    assert all(entry[2] for entry in moves), moves
    assert all((entry[3] or 0) < min(entry[1]) for entry in moves), moves
    assert (stats.fetched, folder.moved, last_uid()) == (7, list(range(1, 8)), 7)


def test_a_failed_move_leaves_its_batch_and_the_checkpoint_before_it(app):
    folder = CommittedOnly({uid: mail(uid) for uid in range(1, 8)})
    real_move = folder.move

    def refuse_second(uids, name):
        if uids[0] == 4:
            raise IMAPClientError("MOVE refused")
        real_move(uids, name)

    folder.move = refuse_second
    with pytest.raises(IMAPClientError):
        poll(folder, record_work(folder))
    assert folder.moved == [1, 2, 3] and last_uid() == 3
    assert sorted(folder.messages) == [4, 5, 6, 7]  # the rest is read again (and found recorded)
    folder.move = real_move
    again = []
    poll(folder, lambda ref, raw: again.append(ref.uid) or "matched")
    assert again == [4, 5, 6, 7] and folder.moved == list(range(1, 8)) and last_uid() == 7


class RacingFolders:
    """A server on which another worker creates the folder between our look and our CREATE."""

    def __init__(self, created_by_the_other: bool) -> None:
        self.exists, self.created_by_the_other = False, created_by_the_other

    def folder_exists(self, folder) -> bool:
        return self.exists

    def create_folder(self, folder) -> None:
        self.exists = self.created_by_the_other
        raise IMAPClientError("create failed: [ALREADYEXISTS] Mailbox already exists" if self.exists
                              else "create failed: [NOPERM] Permission denied")


def test_a_folder_another_worker_created_meanwhile_is_no_error_but_a_refusal_is():
    ensure_folder(RacingFolders(created_by_the_other=True), "Processed")
    with pytest.raises(IMAPClientError, match="NOPERM"):
        ensure_folder(RacingFolders(created_by_the_other=False), "Processed")


def test_bodies_are_fetched_in_chunks_that_fit_the_size_limit():
    settings = ImapSettings(host="h", username="u", password="p", max_bytes=100)
    sizes = {1: 40, 2: 40, 3: 40, 4: 500, 5: 100, 6: 10}
    assert _chunks_by_size([1, 2, 3, 4, 5, 6], sizes, settings) == [[1, 2], [3], [4], [5], [6]]


def test_a_second_lease_is_refused_while_the_first_is_held(app):
    if db.engine.dialect.name == "postgresql":
        pytest.skip("PostgreSQL uses advisory locks (tested below)")
    with exclusive("unit-lock") as first:
        assert first is not None
        with exclusive("unit-lock") as second:
            assert second is None
    with exclusive("unit-lock") as again:
        assert again is not None  # released on exit


def test_an_expired_lease_is_taken_over_and_renew_extends_it(app):
    if db.engine.dialect.name == "postgresql":
        pytest.skip("PostgreSQL uses advisory locks (tested below)")
    now = utcnow()
    other = "elsewhere.test:4242:cafe"
    db.session.execute(insert(Lease).values(name="unit-lock", holder=other, expires_at=now + timedelta(seconds=30)))
    db.session.commit()
    with exclusive("unit-lock", now=now) as lock:
        assert lock is None  # live holder on another host
    with exclusive("unit-lock", ttl=timedelta(minutes=5), now=now + timedelta(seconds=31)) as lock:
        assert lock is not None
        assert lock.renew(now=now + timedelta(minutes=3))
        expires = db.session.scalar(select(Lease.expires_at).where(Lease.name == "unit-lock"))
        assert expires == now + timedelta(minutes=8)
    assert db.session.get(Lease, "unit-lock") is None


def test_a_lease_held_by_a_dead_process_on_this_host_is_taken_at_once(app):
    if db.engine.dialect.name == "postgresql":
        pytest.skip("PostgreSQL uses advisory locks (tested below)")
    dead = subprocess.Popen(["true"])
    dead.wait()  # reaped: its pid names no process now
    holder = f"{HOST}:{dead.pid}:dead"
    assert holder_is_gone(holder)
    assert not holder_is_gone(f"{HOST}:1:init") and not holder_is_gone(f"other-host:{dead.pid}:x")
    db.session.execute(insert(Lease).values(name="unit-lock", holder=holder, expires_at=utcnow() + timedelta(hours=1)))
    db.session.commit()
    with exclusive("unit-lock") as lock:
        assert lock is not None


def test_threads_asking_at_once_get_one_holder_name(monkeypatch):
    monkeypatch.setattr(locks, "_holders", {})
    real_uuid4 = locks.uuid.uuid4
    monkeypatch.setattr(locks.uuid, "uuid4", lambda: time.sleep(0.01) or real_uuid4())  # a slow first look
    names, start = [], threading.Barrier(8)

    def ask() -> None:
        start.wait()
        names.append(holder_name())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(names) == 8 and len(set(names)) == 1 and names[0] == holder_name()


def test_postgresql_advisory_lock_is_exclusive_and_dies_with_its_connection(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("only on PostgreSQL")
    with exclusive("unit-lock") as first:
        assert first is not None and first.renew()
        with exclusive("unit-lock") as second:
            assert second is None
    # A holder whose connection ends (a killed process) leaves the lock free.
    with db.engine.connect() as holder:
        assert holder.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": advisory_key("unit-lock")}).scalar()
        with exclusive("unit-lock") as blocked:
            assert blocked is None
        holder.invalidate()  # drop the connection as a dying process would
    assert any(taken_within("unit-lock") for _ in range(40))  # once the server has noticed


def taken_within(name: str, pause: float = 0.05) -> bool:
    with exclusive(name) as lock:
        if lock is None:
            time.sleep(pause)
        return lock is not None


def test_backoff_doubles_with_jitter_up_to_a_cap():
    rng = random.Random(1)
    for failures in range(1, 12):
        ceiling = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (failures - 1))
        waits = [backoff(failures, rng).total_seconds() for _ in range(50)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(set(waits)) > 40  # jittered: workers that failed together retry apart
    assert backoff(100, rng) <= timedelta(seconds=BACKOFF_MAX)
    assert backoff(1, random.Random(2)) >= timedelta(seconds=BACKOFF_BASE / 2)


def test_a_backing_off_mailbox_is_skipped_until_its_retry_time(app):
    now = utcnow()
    mailbox = Mailbox(name="box", host="imap.invalid", username="u", password="p",
                      retry_at=now + timedelta(minutes=2), failures=3, last_error="login refused")
    db.session.add(mailbox)
    db.session.commit()
    summary = poll_mailbox(mailbox, now=now)
    assert summary.skipped.startswith("backing off until") and "login refused" in summary.skipped
    assert db.session.get(Mailbox, mailbox.id).last_poll_at is None  # not even tried


def test_a_hung_imap_server_delays_no_other_mailboxs_scheduled_poll(app):
    """The worker's poll job polls each mailbox on its own thread: a server that accepts and
    never answers (it holds its poll up to the 30 s IMAP timeout) leaves the other mailboxes'
    polls on time; polled one after the other, they all waited for it."""
    with socket.socket() as hung_server, socket.socket() as closed:
        hung_server.bind(("127.0.0.1", 0))
        hung_server.listen()
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections to it are refused
        plain = dict(host="127.0.0.1", security="none", username="u", password="p")
        hung = Mailbox(name="a-hung", port=hung_server.getsockname()[1], **plain)
        refused = Mailbox(name="b-refused", port=closed.getsockname()[1], **plain)
        db.session.add_all([hung, refused])
        db.session.commit()
        [job] = [job for job in receipt_jobs(app) if job.id == "receipts-poll"]
        ticking = threading.Thread(target=_in_app_context, args=(app, job.func))
        ticking.start()
        deadline = time.monotonic() + 5
        while _last_poll(refused.id) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        polled = {box.id: _last_poll(box.id) for box in (hung, refused)}
        ticking.join(timeout=1)
        assert not ticking.is_alive()  # the job only starts the polls
    _wait_for_polls_to_end()  # the hung poll ends (with an error) once its server is gone
    assert polled[refused.id] is not None and polled[hung.id] is None, polled
    assert "ConnectionRefusedError" in db.session.get(Mailbox, refused.id).last_error
    assert db.session.get(Mailbox, hung.id).last_poll_at is not None


def test_a_poll_is_stamped_when_it_got_the_lock_not_when_it_began_to_wait(app):
    """A takeover that waited for the database is dated after the wait: stamped at the first
    try, a poll that took over a dead worker's mailbox looked older than the death."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("taking a PostgreSQL advisory lock never waits")
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        mailbox = Mailbox(name="box", host="127.0.0.1", port=closed.getsockname()[1], security="none",
                          username="u", password="p")
        db.session.add(mailbox)
        db.session.commit()
        writer = db.engine.raw_connection()
        writer.execute("BEGIN IMMEDIATE")  # another process writing: the lease waits for it
        released_at = []
        holding = threading.Thread(target=lambda: (time.sleep(0.5), released_at.append(utcnow()), writer.rollback()))
        holding.start()
        poll_mailbox(mailbox)
        holding.join()
        writer.close()
    assert db.session.get(Mailbox, mailbox.id).last_poll_at >= released_at[0]


def _in_app_context(app, func) -> None:
    with app.app_context():
        try:
            func()
        finally:
            db.session.remove()


def _last_poll(mailbox_id: int):
    db.session.rollback()  # see what the poll threads committed
    return db.session.get(Mailbox, mailbox_id).last_poll_at


def _wait_for_polls_to_end(timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while any(t.name.startswith("poll-") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "a poll thread never ended"
        time.sleep(0.02)
    db.session.rollback()


def test_mailbox_settings_are_checked_before_saving(app):
    base = dict(name="bounces", host="imap.example.test", port=None, security="ssl", username="bounces@example.test",
                password="s3cret")
    with pytest.raises(ValidationError) as plain:
        save_mailbox(None, MailboxInput(**{**base, "security": "none"}))
    assert "allow_plain" in plain.value.errors
    with pytest.raises(ValidationError) as missing:
        save_mailbox(None, MailboxInput(**{**base, "password": "", "password_file": "nope"}))
    assert "password_file" in missing.value.errors
    password_file = secret("imap-password", "from-a-file\n")
    saved = save_mailbox(None, MailboxInput(**{**base, "password": "", "password_file": password_file}))
    assert (saved.port, saved.password, password_of(saved)) == (993, None, "from-a-file")
    plain_ok = save_mailbox(None, MailboxInput(**{**base, "name": "plain", "security": "none", "allow_plain": True}))
    assert plain_ok.port == 143


def test_the_support_intake_folder_cannot_be_watched_twice(app):
    app.config.update(IMAP_HOST="imap.example.test", IMAP_USERNAME="support@example.test", IMAP_FOLDER="INBOX")
    data = MailboxInput(name="support", host="IMAP.example.test", port=993, security="ssl",
                        username="support@example.test", password="pw")
    with pytest.raises(ValidationError) as refused:
        save_mailbox(None, data)
    assert "intake already reads this folder" in refused.value.errors["folder"][0]
    data.folder = "Receipts"
    assert save_mailbox(None, data).folder == "Receipts"
