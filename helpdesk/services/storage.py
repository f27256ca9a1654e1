"""Content-addressed file storage for attachments and raw mail (instance/attachments).

A stored file is flushed to disk before anything depends on it surviving a power loss: at
once when stored alone (an agent's upload), or, inside :func:`synced_together`, all at one
point the caller chooses (a poll: once per batch, before its mail leaves the IMAP server).
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path

from flask import current_app


class StorageError(OSError):
    """The file could not be stored (disk full, permissions); nothing was half-written."""


_unsynced = threading.local()  # .paths: files stored inside synced_together() and not yet flushed


def _root() -> Path:
    return Path(current_app.config["ATTACHMENT_DIR"])


def path_for(sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256 hex digest")
    return _root() / sha256[:2] / sha256


def store_bytes(data: bytes) -> str:
    """Store ``data`` once under its SHA-256 and return the digest. Writes are atomic."""
    digest = hashlib.sha256(data).hexdigest()
    target = path_for(digest)
    try:
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        # Flushed even when it was there already: another thread may have stored it and not flushed yet.
        pending = getattr(_unsynced, "paths", None)
        if pending is None:
            _flush([target])
        else:
            pending.append(target)
    except OSError as exc:
        raise StorageError(exc.errno, f"cannot store file: {exc.strerror}") from exc
    return digest


@contextmanager
def synced_together() -> Iterator[None]:
    """Inside, stored files wait for :func:`sync_stored` (and, at the latest, the end of the
    block) instead of being flushed one by one. Per thread; nests."""
    outermost = getattr(_unsynced, "paths", None) is None
    if outermost:
        _unsynced.paths = []
    try:
        yield
        if outermost:
            sync_stored()
    finally:
        # Left by an exception, what was not flushed is not depended on: the mail it came
        # from is still on the server, and storing it again flushes it.
        if outermost:
            _unsynced.paths = None


def sync_stored() -> None:
    """Flush the files this thread stored inside :func:`synced_together` so far."""
    pending = getattr(_unsynced, "paths", None)
    if pending:
        try:
            _flush(pending)
        except OSError as exc:
            raise StorageError(exc.errno, f"cannot flush stored files: {exc.strerror}") from exc
        pending.clear()


#: Threads that flush a batch's files at once: fsync waits on the disk with the GIL released,
#: and a disk (or SSD) answers many waiting flushes faster than the same flushes one by one.
_FLUSHERS = 8
_flushers: ThreadPoolExecutor | None = None
_flushers_lock = threading.Lock()


def _forget_pool() -> None:
    """In a forked child (a gunicorn worker): the parent's threads are not there."""
    global _flushers, _flushers_lock
    _flushers, _flushers_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


def _pool() -> ThreadPoolExecutor:
    global _flushers
    with _flushers_lock:
        if _flushers is None:
            _flushers = ThreadPoolExecutor(_FLUSHERS, thread_name_prefix="storage-fsync")
        return _flushers


def _flush(files: Iterable[Path]) -> None:
    """fsync the files and the folders that name them (and the root, which names the
    folders); all of them done when it returns. One file alone is flushed here; more are
    flushed in parallel (a poll's batch: about 100 files in 60-100 folders)."""
    paths = list(dict.fromkeys(files))
    every = [*paths, *dict.fromkeys(path.parent for path in paths), _root()]
    if len(paths) <= 1:
        for path in every:
            _fsync(path)
        return
    flushes = [_pool().submit(_fsync, path) for path in every]
    wait(flushes)
    for flushed in flushes:
        flushed.result()  # the first OSError, once every flush has ended


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_bytes(sha256: str) -> bytes:
    return path_for(sha256).read_bytes()
