"""Which recipients a report may mark, and on what evidence (the spec's Trust rule).

A report names the recipients it is about in fields its sender writes: From,
Final-Recipient, Original-Message-ID, the returned headers. Everyone who got the reply (To,
CC, a forwardee, a later member of the thread) can write those. So a report marks a
recipient only on evidence bound to that recipient:

- **Their signed token.** The report came to (or carries) that recipient's own return path
  or ``Disposition-Notification-To`` address, ``receipts+TOKEN@``: an HMAC of the message and
  the recipient that went out in that recipient's copy alone. A delivery report is trusted on
  it: mail servers send reports to the return path, and the only ones who learn it are the
  servers that carried that copy (which decide its fate anyway) and whoever the recipient's
  side passed the whole copy on to. A read receipt must also be written for that recipient
  (or name nobody): a receipt for someone else at that address means the copy was passed on
  and a forwardee's program answered.
- **An authenticated sender.** DKIM aligned with the From passed (:mod:`.authentication`):
  a receipt counts for the recipient whose address is that From; a delivery report for the
  recipients in the signing domain (their own domain's mail system speaks for them).

Everything else is *unverified*: recorded as an ``unverified-<kind>`` event in the named
recipient's history (the state machine, check marks, contact marks and notifications ignore
such kinds) and as a *suspect* report on the poller health page.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app

from .authentication import AuthenticatedFrom, aligned, authenticated_from
from .reports import RecipientLine, Report
from .vocabulary import RECEIPT_REPORT_KINDS

if TYPE_CHECKING:  # correlation imports this module
    from .inbound.correlate import SentRecipient

#: Asked only when a report lacks a token, and at most once per report.
SenderCheck = Callable[[], AuthenticatedFrom | None]


@dataclass(frozen=True, slots=True)
class Doubt:
    """A recipient a report speaks of without evidence bound to them, and why."""

    recipient: SentRecipient
    result: RecipientLine
    why: str


def sender_check(raw: bytes | None) -> SenderCheck:
    """The report's authenticated From, looked up once and only if asked (DNS, maybe)."""
    if raw is None:
        return lambda: None
    config = current_app.config
    return functools.cache(lambda: authenticated_from(
        raw, trusted_authserv_ids(config.get("RECEIPTS_TRUSTED_AUTHSERV_IDS")),
        verify=bool(config.get("RECEIPTS_VERIFY_DKIM")), dnsfunc=config.get("RECEIPTS_DKIM_DNSFUNC")))


def trusted_authserv_ids(setting: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """The setting as a list: a JSON list, or one string of ids separated by commas or spaces."""
    if not setting:
        return ()
    values = setting.replace(",", " ").split() if isinstance(setting, str) else setting
    return tuple(v.strip().lower() for v in values if v.strip())


def receipt_names(report: Report) -> set[str]:
    """The addresses a receipt says it was written for (Final- and Original-Recipient)."""
    mdn = report.mdn
    return {a.lower() for a in (mdn.final_recipient, mdn.original_recipient) if a} if mdn else set()


def doubt(report: Report, method: str | None, recipient: SentRecipient, sender: SenderCheck) -> str | None:
    """Why ``report`` may not mark ``recipient`` (None: it may)."""
    receipt = report.kind in RECEIPT_REPORT_KINDS
    named = receipt_names(report) if receipt else set()
    address = recipient.address.lower()
    if named and address not in named:
        return (f"a receipt written for {', '.join(sorted(named))}, not for this recipient"
                + (": their copy was passed on" if method == "verp-token" else ""))
    if method == "verp-token":
        return None
    authenticated = sender()
    if authenticated is not None:
        if receipt and authenticated.address == address:
            return None
        if not receipt and aligned(address.rpartition("@")[2], authenticated.domain):
            return None
        return (f"{authenticated.address} is authenticated, but "
                + ("is not this recipient" if receipt else "does not speak for this recipient's domain"))
    return (f"from {report.from_addr or 'an unknown sender'}: it did not come to this recipient's own "
            f"{'receipt' if receipt else 'return'} address, and its sender is not authenticated (DKIM)")
