"""Content-addressed file storage for attachments and raw mail (instance/attachments)."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from flask import current_app


class StorageError(OSError):
    """The file could not be stored (disk full, permissions); nothing was half-written."""


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
    if target.exists():
        return digest
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise StorageError(exc.errno, f"cannot store file: {exc.strerror}") from exc
    return digest


def read_bytes(sha256: str) -> bytes:
    return path_for(sha256).read_bytes()
