"""Immutable result types of the report parser.

Everything the parser returns is a frozen, slotted dataclass so callers can
hash, compare and cache results and nothing downstream can mutate them.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Mapping

#: Kinds of message the parser tells apart.
KINDS = ("dsn", "bounce", "mdn", "read-notice", "auto-reply", "feedback", "none")

STRUCTURED = "structured"
HEURISTIC = "heuristic"
HEADER = "header"



def _no_sources() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class RecipientLine:
    """What a report says about one recipient of the message we sent (one recipient line;
    not the core's ``transport.RecipientResult``, our relay's answer for a recipient)."""

    recipient: str | None = None
    original_recipient: str | None = None
    final_recipient_raw: str | None = None
    action: str | None = None
    status: str | None = None
    reason: str | None = None
    hard: bool | None = None
    diagnostic: str | None = None
    diagnostic_type: str | None = None
    reply_code: str | None = None
    remote_mta: str | None = None
    arrival_date: datetime | None = None
    last_attempt_date: datetime | None = None
    source: str = STRUCTURED
    #: True when ``status`` was not written in the report but derived
    #: (from the reply code, or Sisimai's ``X.0.9NN`` code for the reason).
    status_derived: bool = False


@dataclass(frozen=True, slots=True)
class OriginalRefs:
    """Headers of the message we sent, as returned inside the report."""

    message_id: str | None = None
    from_: str | None = None
    to: str | None = None
    subject: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    #: 'message/rfc822', 'text/rfc822-headers', 'quoted' (found in the text) or None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class MdnInfo:
    """The machine-readable part of a read receipt (RFC 8098 / RFC 3798)."""

    disposition: str | None = None
    action_mode: str | None = None
    sending_mode: str | None = None
    modifiers: tuple[str, ...] = ()
    raw_disposition: str | None = None
    reporting_ua: str | None = None
    final_recipient: str | None = None
    original_recipient: str | None = None
    original_message_id: str | None = None
    source: str = STRUCTURED


@dataclass(frozen=True, slots=True)
class Report:
    """A parsed delivery report, read receipt, auto-reply or feedback report."""

    kind: str = "none"
    recipients: tuple[RecipientLine, ...] = ()
    original: OriginalRefs = field(default_factory=OriginalRefs)
    original_message_id: str | None = None
    envid: str | None = None
    envelope_to: tuple[str, ...] = ()
    verp_local_parts: tuple[str, ...] = ()
    message_id: str | None = None
    from_addr: str | None = None
    subject: str | None = None
    date: datetime | None = None
    reporting_mta: str | None = None
    feedback_type: str | None = None
    mdn: MdnInfo | None = None
    sources: Mapping[str, str] = field(default_factory=_no_sources)
    defects: tuple[str, ...] = ()

    @property
    def identity(self) -> str:
        """A stable digest of what the report says, for de-duplication.

        Built from the report's own Message-ID and the per-recipient verdicts,
        so the same report fetched twice hashes the same, while two reports
        about different recipients or outcomes do not.
        """
        parts = [
            self.kind,
            self.message_id or "",
            self.original_message_id or "",
            self.envid or "",
            self.mdn.disposition if self.mdn and self.mdn.disposition else "",
        ]
        for rcpt in self.recipients:
            parts.append(
                f"{rcpt.recipient or ''}|{rcpt.action or ''}|{rcpt.status or ''}|{rcpt.reason or ''}"
            )
        return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
