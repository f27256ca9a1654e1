"""Polling the watched mailboxes for reports: exactly once, never twice at once, with backoff.

The IMAP mechanics (checkpoint, batches, size limits, moving what was processed) are the
core's :func:`helpdesk.mail.imap.poll_folder`; this module adds the receipts processor,
per-mailbox locks, backoff with jitter after failures, and the health figures the admin
page shows. Passwords never appear in errors, logs or pages.
"""
from __future__ import annotations

import logging
import random
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Flask, current_app
from imapclient import IMAPClient
from sqlalchemy import select

from helpdesk.plugin_api import (BatchDone, db, exclusive, IMAP_ERRORS, ImapLoginError, ImapSettings, Lock,
                                 MailRef, poll_folder_in_batches, read_secret, retry_delay, session, utcnow,
                                 without_secret)

from .inbound.pipeline import IngestResult, Mail, Origin, failure_reason, quarantine, read_mail, record
from .mailboxes import secret_file
from .models import Mailbox
from .vocabulary import Outcome, ReportKind

log = logging.getLogger(__name__)

BACKOFF_BASE = 15.0
BACKOFF_MAX = 900.0
NO_IDLE_RECHECK_SECONDS = 3600.0
#: Why a poll was skipped when another poll (the scheduled one, another worker's) holds the mailbox.
HELD = "another worker is polling this mailbox"
#: How soon an IDLE watcher whose poll found the mailbox held tries again: the poll under way
#: listed the folder before the news came, so it may not take the new mail.
HELD_RETRY_SECONDS = 0.25  # a server without IDLE may offer it after an upgrade
#: How often an IDLE wait looks at the worker's stop flag: a SIGTERM ends the wait this soon,
#: not at the end of the IDLE round (25 s). A look is a poll(2) on the socket: nothing is sent.
STOP_CHECK_SECONDS = 0.5


@dataclass
class PollSummary:
    mailbox: str
    fetched: int = 0
    kinds: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    skipped: str | None = None
    error: str | None = None

    def line(self) -> str:
        if self.skipped:
            return f"{self.mailbox}: skipped ({self.skipped})"
        kinds = ", ".join(f"{k}={v}" for k, v in sorted(self.kinds.items())) or "none"
        figures = (f"fetched={self.fetched} reports by kind: {kinds} "
                   f"matched={self.outcomes['matched'] + self.outcomes['partial']} "
                   f"unmatched={self.outcomes['unmatched']} suspect={self.outcomes['suspect']} "
                   f"quarantined={self.outcomes['quarantined']} duplicates={self.outcomes['duplicate']} "
                   f"seconds={self.seconds:.2f}")
        if self.error:  # what was done before the error is committed, so it is shown too
            return f"{self.mailbox}: error: {self.error} ({figures})"
        return f"{self.mailbox}: {figures}"


def password_of(mailbox: Mailbox) -> str:
    """Its password, read from its file at each poll (checked again: a mailbox saved before
    files were confined to the secrets directory, or edited in the database, gets no further)."""
    if mailbox.password_file:
        return read_secret(secret_file(mailbox.password_file))
    return mailbox.password or ""


def imap_settings(mailbox: Mailbox) -> ImapSettings:
    config = current_app.config
    return ImapSettings(host=mailbox.host, port=mailbox.port, security=mailbox.security, username=mailbox.username,
                        password=password_of(mailbox),
                        cafile=str(secret_file(mailbox.cafile)) if mailbox.cafile else None, verify=mailbox.verify_cert,
                        folder=mailbox.folder, processed_folder=mailbox.processed_folder,
                        batch_size=int(config["RECEIPTS_BATCH_SIZE"]),
                        max_bytes=int(config["RECEIPTS_MAX_MESSAGE_BYTES"]))


def backoff(failures: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with jitter (15 s, 30 s, 60 s ... capped at 15 min): the core's."""
    return retry_delay(failures, BACKOFF_BASE, BACKOFF_MAX, rng)


def poll_mailbox(mailbox: Mailbox, now: datetime | None = None, force: bool = False) -> PollSummary:
    """Poll one mailbox once, unless another worker holds it or it is backing off. The poll is
    stamped with the time it got the lock: the wait for a lock (a busy database, a dead holder's
    lease to take over) is not part of the poll, and a takeover stamped before the holder died
    would look as if it had not happened."""
    summary = PollSummary(mailbox.name)
    checked_at = now or utcnow()
    if not force and mailbox.retry_at and mailbox.retry_at > checked_at:
        summary.skipped = f"backing off until {mailbox.retry_at:%H:%M:%S} after: {mailbox.last_error}"
        return summary
    with exclusive(f"receipts-poll:{mailbox.id}") as lock:
        if lock is None:
            summary.skipped = HELD
            return summary
        started_at = now or utcnow()
        _poll_locked(mailbox, summary, lock)
    _record_health(mailbox, summary, started_at)
    return summary


def _poll_locked(mailbox: Mailbox, summary: PollSummary, lock: Lock) -> None:
    started = time.perf_counter()
    settings = None
    try:
        settings = imap_settings(mailbox)
        with session(settings) as client:
            stats = poll_folder_in_batches(client, settings, lambda: _Chunk(mailbox, summary, settings),
                                           checkpoint_key=f"receipts:{mailbox.id}", after_batch=lock.renew)
    except (ImapLoginError, *IMAP_ERRORS) as exc:
        db.session.rollback()
        secret = settings.password if settings else ""
        summary.error = without_secret(f"{type(exc).__name__}: {exc}", secret)
        return
    finally:
        summary.seconds = time.perf_counter() - started  # connecting and logging in included
    if stats.stopped_early:
        summary.error = f"stopped early: {stats.stopped_early}"


class _Chunk:
    """A chunk of one poll's mail: each mail parsed as it is handed over (once), the chunk
    recorded by :func:`.inbound.pipeline.record` (its fallback policy included) and each
    outcome counted in ``summary`` as it is committed (so a poll cut short still reports
    what it did)."""

    def __init__(self, mailbox: Mailbox, summary: PollSummary, settings: ImapSettings) -> None:
        self.mailbox, self.summary, self.max_bytes = mailbox, summary, settings.max_bytes
        self.mails: list[tuple[MailRef, Mail]] = []
        self.done = BatchDone()

    def origin(self, ref: MailRef) -> Origin:
        return Origin(f"mailbox:{self.mailbox.name}", self.mailbox.id, ref.uidvalidity, ref.uid)

    def add(self, ref: MailRef, raw: bytes) -> None:
        try:
            self.mails.append((ref, read_mail(raw, self.origin(ref))))
        except Exception as exc:  # noqa: BLE001 - a mail the parser chokes on is quarantined, the poll goes on
            log.exception("report in %s uid %s could not be parsed", self.mailbox.name, ref.uid)
            self._quarantine(ref, raw, failure_reason(exc))

    def add_oversize(self, ref: MailRef, size: int, header: bytes) -> None:
        self._quarantine(ref, header, f"too large: {size} bytes, the limit is {self.max_bytes}; "
                                      "only its headers were downloaded and kept")

    def _quarantine(self, ref: MailRef, raw: bytes, reason: str) -> None:
        self._count(ref, quarantine(self.origin(ref), raw, reason))

    def _count(self, ref: MailRef, result: IngestResult) -> None:
        self.summary.fetched += 1
        self.summary.outcomes[result.outcome] += 1
        if result.kind != ReportKind.UNKNOWN:
            self.summary.kinds[result.kind] += 1
        self.done.outcomes.append((ref.uid, result.outcome))

    def finish(self) -> BatchDone:
        done = record([mail for _, mail in self.mails])
        for (ref, _), result in zip(self.mails, done.results):
            self._count(ref, result)
        self.done.stopped = done.stopped
        return self.done


def _record_health(mailbox: Mailbox, summary: PollSummary, now: datetime) -> None:
    mailbox = db.session.merge(mailbox)
    mailbox.last_poll_at = now
    if summary.error:
        log.warning("poll of mailbox %s failed: %s", mailbox.name, summary.error)
        mailbox.failures += 1
        mailbox.last_error = summary.error[:2000]
        mailbox.retry_at = now + backoff(mailbox.failures)
        mailbox.last_outcome = "error"
    else:
        mailbox.failures, mailbox.last_error, mailbox.retry_at = 0, None, None
        mailbox.last_success_at = now
        mailbox.last_outcome = summary.line()
    mailbox.total_fetched += summary.fetched
    mailbox.total_matched += summary.outcomes[Outcome.MATCHED] + summary.outcomes[Outcome.PARTIAL]
    mailbox.total_unmatched += summary.outcomes[Outcome.UNMATCHED] + summary.outcomes[Outcome.SUSPECT]
    mailbox.total_quarantined += summary.outcomes[Outcome.QUARANTINED]
    db.session.commit()


def enabled_mailboxes(name: str | None = None) -> list[Mailbox]:
    query = select(Mailbox).where(Mailbox.enabled.is_(True)).order_by(Mailbox.name)
    if name:
        query = query.where(Mailbox.name == name)
    return list(db.session.scalars(query))


def poll_all(name: str | None = None, force: bool = False) -> list[PollSummary]:
    """Every enabled mailbox polled once, one after the other (``flask receipts poll``)."""
    return [poll_mailbox(mailbox, force=force) for mailbox in enabled_mailboxes(name)]


def idle_watcher(app: Flask, mailbox_id: int, idle_seconds: float = 25.0) -> Callable[[threading.Event], None]:
    """A worker task holding an IMAP IDLE connection to one mailbox: as soon as the server
    says something arrived, poll (under the same lock as the scheduled poll), so a report is
    processed within seconds. Polls once on every (re)connection for what arrived while it was
    away. Leaves the mailbox to the scheduled polls while the server offers no IDLE (asking
    again hourly); when the connection drops, reconnects with backoff (the scheduled polls go
    on meanwhile). Ends when the mailbox is disabled or deleted."""

    def watch(stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                settings = _settings_if_enabled(app, mailbox_id)
                if settings is None:
                    return
                with session(settings) as client:
                    offers_idle = client.has_capability("IDLE")
                    if offers_idle:
                        client.select_folder(settings.folder, readonly=True)
                        failures = 0
                        _poll_taking_news(app, mailbox_id, stop)
                        _idle_loop(app, client, settings, mailbox_id, stop, idle_seconds)
                if not offers_idle:
                    log.info("%s offers no IDLE; scheduled polls only (asking again later)", settings.host)
                    stop.wait(NO_IDLE_RECHECK_SECONDS)
            except (ImapLoginError, *IMAP_ERRORS) as exc:
                failures += 1
                log.warning("IDLE on mailbox %s dropped (%s); retrying", mailbox_id, type(exc).__name__)
                stop.wait(backoff(failures).total_seconds())

    return watch


def _settings_if_enabled(app: Flask, mailbox_id: int) -> ImapSettings | None:
    with app.app_context():
        try:
            mailbox = db.session.get(Mailbox, mailbox_id)
            return imap_settings(mailbox) if mailbox is not None and mailbox.enabled else None
        finally:
            db.session.remove()


def _poll_now(app: Flask, mailbox_id: int) -> PollSummary | None:
    """One poll on a worker thread (an IDLE watcher's or the scheduled job's); its failures are
    the poll's own (recorded, backed off), never the end of the thread's loop."""
    with app.app_context():
        try:
            mailbox = db.session.get(Mailbox, mailbox_id)
            return poll_mailbox(mailbox) if mailbox is not None else None
        except Exception:  # noqa: BLE001 - e.g. the database briefly away
            log.exception("poll of mailbox %s failed", mailbox_id)
            return None
        finally:
            db.session.remove()


def _poll_taking_news(app: Flask, mailbox_id: int, stop: threading.Event) -> None:
    """An IDLE watcher's poll for news: when another poll holds the mailbox, again every
    :data:`HELD_RETRY_SECONDS` until this one runs. The poll under way searched the folder
    before the news came and takes only what it found; skipping would leave the new mail to
    the next news or the next scheduled poll (a minute away by default)."""
    while (summary := _poll_now(app, mailbox_id)) is not None and summary.skipped == HELD:
        if stop.wait(HELD_RETRY_SECONDS):
            return


def scheduled_polls(app: Flask) -> Callable[[], None]:
    """The worker's poll job: each tick starts, on a thread of its own, the poll of every enabled
    mailbox this process is not polling already. A slow or hung mailbox (a large backlog, an
    IMAP server that accepts and never answers) then delays no other mailbox's poll, and one
    whose holder died is taken over at the next tick whatever this worker is busy with; a
    one-after-the-other loop held them all up to the slow poll's end (the job does not overlap
    itself). The threads are not daemons: a stopping worker lets a poll under way finish."""
    running: set[int] = set()
    guard = threading.Lock()

    def poll_then_forget(mailbox_id: int) -> None:
        try:
            _poll_now(app, mailbox_id)
        finally:
            with guard:
                running.discard(mailbox_id)

    def tick() -> None:
        for mailbox_id in [m.id for m in enabled_mailboxes()]:
            with guard:
                if mailbox_id in running:
                    continue
                running.add(mailbox_id)
            threading.Thread(target=poll_then_forget, args=(mailbox_id,), name=f"poll-{mailbox_id}").start()

    return tick


def _idle_loop(app: Flask, client: IMAPClient, settings: ImapSettings, mailbox_id: int, stop: threading.Event,
               idle_seconds: float) -> None:
    """IDLE until stopped, or until an admin disabled the mailbox or changed its settings
    (the watcher then reconnects with the new ones, or ends)."""
    _poll_while_news(app, client, mailbox_id, client.noop()[1], stop)  # what arrived during the first poll
    while not stop.is_set():
        client.idle()
        responses = _idle_wait(client, stop, idle_seconds)
        responses += client.idle_done()[1]  # what arrived between the check and DONE counts too
        if _settings_if_enabled(app, mailbox_id) != settings:
            return
        _poll_while_news(app, client, mailbox_id, responses, stop)


def _poll_while_news(app: Flask, client: IMAPClient, mailbox_id: int, responses: list,
                     stop: threading.Event) -> None:
    """Poll while the server says something arrived. Mail that arrives during a poll is
    announced on the IDLE connection only at its next command: a NOOP asks for it, else it
    would wait, unannounced, for the next IDLE timeout (25 s)."""
    while not stop.is_set() and any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
        _poll_taking_news(app, mailbox_id, stop)
        responses = client.noop()[1]


def _idle_wait(client: IMAPClient, stop: threading.Event, seconds: float) -> list:
    """The server's IDLE responses within ``seconds``; sooner when it has news, or when the
    worker is stopping (``stop``, looked at every :data:`STOP_CHECK_SECONDS`)."""
    deadline = time.monotonic() + seconds
    while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
        if _response_buffered(client):
            return []  # idle_done() reads it, with whatever else the server said
        responses = client.idle_check(timeout=min(STOP_CHECK_SECONDS, left))
        if responses:
            return responses
    return []


def _response_buffered(client: IMAPClient) -> bool:
    """Whether the server's words already sit in the client's read buffer. ``idle_check``
    waits on the socket alone (IMAPClient 4.x), but what Dovecot says right after "+ idling"
    (the EXISTS for mail that came while we were not idling, a poll under way, say) is read
    off the socket together with that line by ``idle()``; it would wait for the end of the
    IDLE round. Asks imaplib's reader without blocking: a reader with nothing buffered tries
    one non-blocking read, which gives nothing or, if bytes just came, keeps them buffered."""
    sock = client.socket()
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        return bool(client._imap.file.peek(1))  # noqa: SLF001 - imaplib's reader: no public way to ask it
    except (BlockingIOError, ssl.SSLWantReadError):
        return False
    finally:
        sock.settimeout(timeout)


def idle_supervisor(app: Flask, rescan_seconds: float,
                    watcher: Callable[[Flask, int], Callable[[threading.Event], None]] = idle_watcher,
                    ) -> Callable[[threading.Event], None]:
    """The worker task that keeps one IDLE watcher per enabled mailbox: every
    ``rescan_seconds`` it starts one for a mailbox added or re-enabled since (a watcher
    ends by itself when its mailbox is disabled or deleted)."""

    def supervise(stop: threading.Event) -> None:
        running: dict[int, threading.Thread] = {}
        while not stop.is_set():
            try:
                with app.app_context():
                    ids = [m.id for m in enabled_mailboxes()]
                    db.session.remove()
            except Exception:  # noqa: BLE001 - the database briefly away: look again next time
                log.exception("cannot list the mailboxes to watch")
                ids = []
            for mailbox_id in ids:
                if mailbox_id not in running or not running[mailbox_id].is_alive():
                    running[mailbox_id] = threading.Thread(target=watcher(app, mailbox_id), args=(stop,),
                                                           daemon=True, name=f"idle-{mailbox_id}")
                    running[mailbox_id].start()
            stop.wait(rescan_seconds)
        for thread in running.values():
            thread.join(timeout=35)

    return supervise
