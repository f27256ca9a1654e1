"""Parsing a poll's mail in a worker process while this one records the batch before it.

The parser is pure (bytes in, dataclasses out), so a report parsed in the worker is the report
parsed here. The poll's download thread hands each chunk's bodies to :meth:`ParseAhead.submit`
as they arrive; the batch asks :meth:`ParseAhead.report` for each mail and parses it itself
when the worker has no report for it: the mail failed to parse there (it is parsed again here,
and quarantined with this parse's error), the worker died or could not be started. A worker
going wrong therefore costs the overlap, never a mail. The first chunk of a poll is parsed
here, so a poll of a few mails (an IDLE wake-up) starts no process; the worker is started
on the first poll that needs it, from a fork server (not a fork of this process: its database
connections and threads stay here), and kept for the process's later polls.
"""
from __future__ import annotations

import copyreg
import logging
import multiprocessing
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from types import MappingProxyType

from ..reports import Report, parse_report

log = logging.getLogger(__name__)

# A report keeps read-only mappings (its fields' sources): they travel from the worker as the
# dict they wrap, and arrive read-only again.
def _read_only(mapping: dict) -> MappingProxyType:
    return MappingProxyType(mapping)


copyreg.pickle(MappingProxyType, lambda proxy: (_read_only, (dict(proxy),)))

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["receipts_plugin.reports"])


def parse_all(raws: list[bytes]) -> list[Report | None]:
    """In the worker: each mail's report, or None where the parser raised (parsed again by
    the poll, which quarantines it with the error)."""
    reports: list[Report | None] = []
    for raw in raws:
        try:
            reports.append(parse_report(raw))
        except Exception:  # noqa: BLE001 - the poll parses it again and keeps the error
            reports.append(None)
    return reports


_shared: ProcessPoolExecutor | None = None
_shared_lock = threading.Lock()


def _worker_pool() -> ProcessPoolExecutor:
    """The process's parse worker, started on first need and kept for the next polls (starting
    one costs a fork server's fork and the import of ``__main__``: a few hundred ms)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ProcessPoolExecutor(1, mp_context=_CONTEXT)
        return _shared


def _drop_pool(pool: ProcessPoolExecutor) -> None:
    """A pool whose worker died: the next poll starts a new one."""
    global _shared
    with _shared_lock:
        if _shared is pool:
            _shared = None
    pool.shutdown(wait=False, cancel_futures=True)


class ParseAhead:
    """One poll's parse worker: ``with ParseAhead() as ahead:``."""

    def __init__(self, parse=parse_all) -> None:
        self._parse = parse
        self._pool: ProcessPoolExecutor | None = None
        self._pending: dict[int, tuple[Future, int]] = {}
        self._chunks = 0
        self._failed = False
        self._lock = threading.Lock()

    def submit(self, mails: list[tuple[int, bytes]]) -> None:
        """In the download thread: start parsing a chunk's (uid, body) pairs in the worker."""
        self._chunks += 1
        if self._chunks == 1 or self._failed:
            return
        try:
            self._pool = self._pool or _worker_pool()
            future = self._pool.submit(self._parse, [raw for _, raw in mails])
        except Exception as exc:  # noqa: BLE001 - the mails are parsed by the poll itself
            self._give_up(exc)
            return
        with self._lock:
            for index, (uid, _) in enumerate(mails):
                self._pending[uid] = (future, index)

    def report(self, uid: int) -> Report | None:
        """The worker's report of mail ``uid`` (waiting for it), or None: parse it yourself."""
        with self._lock:
            entry = self._pending.pop(uid, None)
        if entry is None:
            return None
        future, index = entry
        try:
            return future.result()[index]
        except Exception as exc:  # noqa: BLE001 - a dead worker: the poll parses the rest itself
            self._give_up(exc)
            return None

    def _give_up(self, exc: Exception) -> None:
        if not self._failed:
            log.warning("the parse worker failed (%s: %s); the poll parses its mail itself", type(exc).__name__, exc)
            if self._pool is not None:
                _drop_pool(self._pool)
        self._failed = True

    def __enter__(self) -> ParseAhead:
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:  # a poll cut short: what it did not collect is not parsed for nothing
            for future, _ in self._pending.values():
                future.cancel()
            self._pending.clear()
