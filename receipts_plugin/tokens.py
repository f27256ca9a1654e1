"""Signed tokens: the VERP return path, and expiring links (downloads, open tracking).

Each purpose signs with its own key derived from the app secret, so a token made for one
purpose (a VERP address) is worthless for another (a download link), and a token naming
message A and recipient 1 can never be turned into one for anything else. Parsing never
raises: anything forged, truncated or malformed reads as "not valid".
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timezone

VERP_PURPOSE = "verp"
_MAC_BYTES = 10  # 80 bits
_INT = re.compile(r"^[0-9a-z]{1,13}$")


def _key(secret: str | bytes, purpose: str) -> bytes:
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, b"helpdesk-token:" + purpose.encode(), hashlib.sha256).digest()


def _mac(secret: str | bytes, purpose: str, body: str) -> str:
    digest = hmac.new(_key(secret, purpose), body.encode(), hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.b32encode(digest).decode().rstrip("=").lower()


def _b36(number: int) -> str:
    if number < 0:
        raise ValueError("token numbers must not be negative")
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def _int36(text: str) -> int | None:
    return int(text, 36) if _INT.match(text) else None


def make_verp_token(secret: str | bytes, message_id: int, recipient_id: int) -> str:
    """``<message>-<recipient>-<mac>``: lower-case letters, digits and '-' only, since MTAs
    may lower-case local parts; 20-40 characters, so ``bounces+TOKEN`` fits in 64."""
    body = f"{_b36(message_id)}-{_b36(recipient_id)}"
    return f"{body}-{_mac(secret, VERP_PURPOSE, body)}"


def read_verp_token(secret: str | bytes, token: str) -> tuple[int, int] | None:
    """(message id, recipient id) from a genuine token, else None."""
    try:
        if not token.isascii():  # look-alikes (e.g. the Kelvin sign) must not lower-case into a token
            return None
        parts = token.strip().lower().split("-")
        if len(parts) != 3:
            return None
        message, recipient = _int36(parts[0]), _int36(parts[1])
        if message is None or recipient is None:
            return None
        expected = _mac(secret, VERP_PURPOSE, f"{parts[0]}-{parts[1]}")
        return (message, recipient) if hmac.compare_digest(expected, parts[2]) else None
    except Exception:  # noqa: BLE001 - a token is data from strangers; never raise on it
        return None


@dataclass(frozen=True, slots=True)
class TokenCheck:
    payload: tuple[int, ...] | None
    error: str | None  # None | "malformed" | "forged" | "expired"

    @property
    def ok(self) -> bool:
        return self.error is None


def make_link_token(secret: str | bytes, purpose: str, payload: tuple[int, ...],
                    expires_at: datetime | None) -> str:
    """A URL-safe token for ``payload`` valid until ``expires_at`` (None: no expiry)."""
    expiry = _b36(int(expires_at.timestamp())) if expires_at else "0"
    body = ".".join([*(_b36(n) for n in payload), expiry])
    return f"{body}.{_mac(secret, purpose, body)}"


def read_link_token(secret: str | bytes, purpose: str, token: str, now: datetime) -> TokenCheck:
    try:
        if not token.isascii():
            return TokenCheck(None, "malformed")
        parts = token.strip().lower().split(".")
        if len(parts) < 3 or any(_int36(p) is None for p in parts[:-1]):
            return TokenCheck(None, "malformed")
        body = ".".join(parts[:-1])
        if not hmac.compare_digest(_mac(secret, purpose, body), parts[-1]):
            return TokenCheck(None, "forged")
        *numbers, expiry = (_int36(p) for p in parts[:-1])
        if expiry and now.astimezone(timezone.utc).timestamp() >= expiry:
            return TokenCheck(None, "expired")
        return TokenCheck(tuple(numbers), None)
    except Exception:  # noqa: BLE001
        return TokenCheck(None, "malformed")
