"""Stored files reach the disk before anything depends on them surviving a power loss.

These watch the fsync calls themselves (:func:`tests.helpers.watch_fsync`): which files and
folders are flushed, and when."""
from __future__ import annotations

import errno
import threading
import time
from pathlib import Path

import pytest

from helpdesk.services.storage import (StorageError, path_for, read_bytes, store_bytes, sync_stored,
                                       synced_together)
from tests.helpers import watch_fsync


@pytest.fixture
def flushed(monkeypatch) -> list[Path]:
    """Every path fsynced, in order."""
    paths: list[Path] = []
    watch_fsync(monkeypatch, paths.append)
    return paths


def test_a_file_stored_alone_is_flushed_at_once_with_the_folders_that_name_it(app, flushed):
    digest = store_bytes(b"an agent's upload")
    target = path_for(digest)
    root = Path(app.config["ATTACHMENT_DIR"]).resolve()
    assert flushed == [target.resolve(), target.parent.resolve(), root]
    assert read_bytes(digest) == b"an agent's upload"
    flushed.clear()
    assert store_bytes(b"an agent's upload") == digest  # stored already: flushed again all the same
    assert flushed[0] == target.resolve()


def test_files_stored_together_are_flushed_when_asked_and_at_the_latest_at_the_end(app, flushed):
    with synced_together():
        first = path_for(store_bytes(b"report one")).resolve()
        second = path_for(store_bytes(b"report two")).resolve()
        assert flushed == []  # nothing yet, one by one
        sync_stored()
        assert {first, second} <= set(flushed) and first.parent in flushed
        flushed.clear()
        with synced_together():  # nested: still the outer block's
            third = path_for(store_bytes(b"report three")).resolve()
        assert flushed == []
        sync_stored()
        assert third in flushed
        flushed.clear()
        fourth = path_for(store_bytes(b"report four")).resolve()
    assert flushed[0] == fourth  # the block's end flushed what was left


def test_leaving_by_an_exception_forgets_the_unflushed_files_and_flushes_alone_again(app, flushed):
    with pytest.raises(RuntimeError), synced_together():
        store_bytes(b"report of a failed batch")
        raise RuntimeError("the poll died")
    assert flushed == []  # its mail is still on the server: storing it again flushes it
    store_bytes(b"report of a failed batch")
    assert flushed


def test_a_batch_of_files_is_flushed_in_parallel_every_file_and_folder_once(app, monkeypatch):
    """A poll's batch (about 100 files) waits for the disk once, not once a file: its flushes
    run together, and all of them have ended when sync_stored returns."""
    lock, running, most, seen = threading.Lock(), [0], [0], []

    def slow(path: Path) -> None:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
            seen.append(path)
        time.sleep(0.02)  # a disk's flush
        with lock:
            running[0] -= 1

    watch_fsync(monkeypatch, slow)
    with synced_together():
        files = [path_for(store_bytes(f"report {n}".encode())).resolve() for n in range(12)]
        sync_stored()
        assert running[0] == 0  # every flush ended before it returned
    folders = {path.parent for path in files}
    assert sorted(seen) == sorted([*files, *folders, Path(app.config["ATTACHMENT_DIR"]).resolve()])
    assert most[0] > 1, "flushed one by one"


def test_a_failed_flush_in_a_batch_is_a_storage_error_once_the_others_ended(app, monkeypatch):
    lock, calls, ended = threading.Lock(), [], []

    def failing(path: Path) -> None:
        with lock:
            calls.append(path)
            first = len(calls) == 1
        if first:
            raise OSError(errno.EIO, "Input/output error")
        time.sleep(0.01)
        with lock:
            ended.append(path)

    watch_fsync(monkeypatch, failing)
    with pytest.raises(StorageError, match="cannot flush stored files"), synced_together():
        files = [path_for(store_bytes(f"report {n}".encode())) for n in range(6)]
        sync_stored()
    assert len(calls) == len(files) + len({path.parent for path in files}) + 1  # every flush was tried
    assert len(ended) == len(calls) - 1  # and had ended when the error came out
