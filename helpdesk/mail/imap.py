"""Reading an IMAP folder incrementally, exactly once, with a crash-safe checkpoint.

Shared by the core's support-mailbox intake and by plugins that watch other mailboxes.
A poll: SELECT; nothing new when UIDNEXT says so (no SEARCH, so an empty poll costs the
same for 10 or 10,000 messages); SEARCH the UIDs after the checkpoint; sizes first
(RFC822.SIZE); bodies in batches with BODY.PEEK[] (oversize ones only by header); each
mail is handed to a processor that commits its own result; then the batch is moved to
the processed folder (or flagged), and only then the checkpoint advances. A crash at any
point repeats some work on the next poll, never loses a mail; processors are idempotent.
"""
from __future__ import annotations

import socket
import ssl
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from ..extensions import db, make_durable
from ..models import MailboxCheckpoint
from .transport import tls_context

PROCESSED_KEYWORD = b"$HelpdeskProcessed"
#: Errors that mean "the server or the network is in trouble": retry later, with backoff.
IMAP_ERRORS = (OSError, socket.timeout, ssl.SSLError, IMAPClientError)


@dataclass
class ImapSettings:
    host: str
    username: str
    password: str = field(repr=False)
    port: int = 993
    security: str = "ssl"  # ssl | starttls | none
    cafile: str | None = None
    verify: bool = True
    timeout: float = 30
    folder: str = "INBOX"
    processed_folder: str | None = None
    batch_size: int = 50
    max_bytes: int = 25 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.security not in ("ssl", "starttls", "none"):
            raise ValueError(f"IMAP security must be ssl, starttls or none, not {self.security!r}")

    @property
    def checkpoint_key(self) -> str:
        return f"{self.username}@{self.host}:{self.port}/{self.folder}"


class ImapLoginError(RuntimeError):
    """The server refused our credentials (the message never contains the password)."""


def connect(settings: ImapSettings) -> IMAPClient:
    context = tls_context(settings.cafile, settings.verify)
    client = IMAPClient(settings.host, port=settings.port, ssl=settings.security == "ssl",
                        ssl_context=context if settings.security == "ssl" else None, timeout=settings.timeout)
    try:
        if settings.security == "starttls":
            client.starttls(context)
        try:
            client.login(settings.username, settings.password)
        except IMAPClientError as exc:
            raise ImapLoginError(f"login refused for {settings.username}: {_without(str(exc), settings.password)}") from None
    except BaseException:
        _close(client)
        raise
    return client


def _without(text: str, secret: str) -> str:
    return text.replace(secret, "***") if secret else text


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - closing a broken connection
        try:
            client.shutdown()
        except Exception:  # noqa: BLE001
            pass


@dataclass
class PollStats:
    fetched: int = 0
    too_large: int = 0
    outcomes: Counter = field(default_factory=Counter)
    stopped_early: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class MailRef:
    """Where a fetched mail sits: processors key their idempotence on it."""

    folder_key: str
    uidvalidity: int
    uid: int


#: processor(ref, raw bytes) -> outcome name; raises Deferred to leave the mail for later.
Processor = Callable[[MailRef, bytes], str]
#: oversize(ref, size, header bytes) -> outcome name.
OversizeHandler = Callable[[MailRef, int, bytes], str]


class Deferred(RuntimeError):
    """The processor cannot take this mail now (e.g. disk full): stop, keep it on the server."""


def checkpoint_for(key: str, uidvalidity: int) -> MailboxCheckpoint:
    """The folder's checkpoint; reset when UIDVALIDITY changed (UIDs no longer mean the same
    messages: every message is read again and the processors' dedupe drops repeats)."""
    checkpoint = db.session.get(MailboxCheckpoint, key)
    if checkpoint is None:
        checkpoint = MailboxCheckpoint(key=key, uidvalidity=uidvalidity, last_uid=0)
        db.session.add(checkpoint)
        db.session.commit()
    elif checkpoint.uidvalidity != uidvalidity:
        checkpoint.uidvalidity, checkpoint.last_uid = uidvalidity, 0
        db.session.commit()
    return checkpoint


def poll_folder(client: IMAPClient, settings: ImapSettings, process: Processor, oversize: OversizeHandler,
                checkpoint_key: str | None = None, after_batch: Callable[[], object] | None = None) -> PollStats:
    """One poll; ``after_batch`` runs after each committed batch (e.g. to renew a lease)."""
    started = time.perf_counter()
    stats = PollStats()
    selected = client.select_folder(settings.folder)
    uidvalidity = int(selected[b"UIDVALIDITY"])
    key = checkpoint_key or settings.checkpoint_key
    checkpoint = checkpoint_for(key, uidvalidity)
    last_uid = checkpoint.last_uid
    uidnext = selected.get(b"UIDNEXT")
    if int(selected.get(b"EXISTS", 0)) == 0 or (uidnext is not None and int(uidnext) - 1 <= last_uid):
        stats.seconds = time.perf_counter() - started
        return stats
    criteria = ["UID", f"{last_uid + 1}:*"]
    if not settings.processed_folder:
        criteria += ["NOT", "KEYWORD", PROCESSED_KEYWORD.decode()]
    uids = sorted(uid for uid in client.search(criteria) if uid > last_uid)
    can_move = b"MOVE" in client.capabilities()
    for start in range(0, len(uids), settings.batch_size):
        batch = uids[start:start + settings.batch_size]
        done = _poll_batch(client, settings, batch, (key, uidvalidity), process, oversize, stats)
        if done:
            db.session.commit()  # processors normally commit their own work; anything left is made safe
            make_durable()  # before the mail leaves the folder
            _mark_processed(client, settings, done, can_move)
            checkpoint.last_uid = max(checkpoint.last_uid, max(done))
            db.session.commit()
        if after_batch is not None:
            after_batch()
        if stats.stopped_early:
            break
    stats.seconds = time.perf_counter() - started
    return stats


def _poll_batch(client: IMAPClient, settings: ImapSettings, batch: list[int], folder: tuple[str, int],
                process: Processor, oversize: OversizeHandler, stats: PollStats) -> list[int]:
    """Process one batch in UID order; returns the UIDs that are done."""
    sizes = {uid: int(data.get(b"RFC822.SIZE", 0)) for uid, data in client.fetch(batch, ["RFC822.SIZE"]).items()}
    done: list[int] = []
    for chunk in _chunks_by_size([uid for uid in batch if uid in sizes], sizes, settings):  # others: expunged
        bodies = client.fetch(chunk, ["BODY.PEEK[]"]) if sizes[chunk[0]] <= settings.max_bytes else {}
        for uid in chunk:
            ref = MailRef(folder[0], folder[1], uid)
            try:
                if uid in bodies:
                    stats.fetched += 1
                    outcome = process(ref, bodies.pop(uid).get(b"BODY[]") or b"")
                elif sizes[uid] > settings.max_bytes:
                    header = client.fetch([uid], ["BODY.PEEK[HEADER]"]).get(uid, {}).get(b"BODY[HEADER]", b"")
                    stats.too_large += 1
                    outcome = oversize(ref, sizes[uid], header)
                else:  # expunged between the two fetches
                    continue
            except Deferred as exc:
                stats.stopped_early = str(exc)
                return done
            stats.outcomes[outcome] += 1
            done.append(uid)
    return done


def _chunks_by_size(uids: list[int], sizes: dict[int, int], settings: ImapSettings) -> list[list[int]]:
    """Consecutive UIDs whose bodies together stay within ``max_bytes`` (so a batch of large
    mails never sits in memory at once); an oversize mail is a chunk of its own."""
    chunks: list[list[int]] = []
    total = 0
    for uid in uids:
        size = sizes[uid]
        if size > settings.max_bytes:
            chunks.append([uid])
            chunks.append([])
            total = 0
            continue
        if not chunks or (chunks[-1] and total + size > settings.max_bytes):
            chunks.append([])
            total = 0
        chunks[-1].append(uid)
        total += size
    return [chunk for chunk in chunks if chunk]


def _mark_processed(client: IMAPClient, settings: ImapSettings, uids: list[int], can_move: bool) -> None:
    if settings.processed_folder:
        if can_move:
            client.move(uids, settings.processed_folder)
            return
        client.copy(uids, settings.processed_folder)
        client.add_flags(uids, [b"\\Seen", b"\\Deleted", PROCESSED_KEYWORD])
        if client.has_capability("UIDPLUS"):
            client.uid_expunge(uids)
        else:
            client.expunge()
        return
    client.add_flags(uids, [b"\\Seen", PROCESSED_KEYWORD])


def ensure_folder(client: IMAPClient, folder: str | None) -> None:
    if folder and not client.folder_exists(folder):
        client.create_folder(folder)


def session(settings: ImapSettings) -> "_Session":
    return _Session(settings)


class _Session:
    """``with session(settings) as client:`` connect, log in, and always log out."""

    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        self.client: IMAPClient | None = None

    def __enter__(self) -> IMAPClient:
        self.client = connect(self.settings)
        ensure_folder(self.client, self.settings.processed_folder)
        return self.client

    def __exit__(self, *exc_info: object) -> None:
        if self.client is not None:
            _close(self.client)
