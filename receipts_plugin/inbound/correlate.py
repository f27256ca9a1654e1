"""Correlation: which message and recipients a report speaks of. Returns data, writes nothing.

Most trusted first: our signed VERP token (the report was addressed to ``bounces+TOKEN@``);
ENVID + ORCPT; Original-Message-ID or the returned original's Message-ID with the
Final-Recipient; In-Reply-To/References. Correlation only finds whom a report speaks of:
whether it may mark them is :mod:`..trust`'s call (their signed token, or an authenticated
sender); who it may not mark is moved to ``doubts``.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from flask import current_app
from sqlalchemy import or_, select

from helpdesk.plugin_api import db, Message, MessageDirection, MessageRecipient

from ..models import TrackedMessage
from ..reports import Report, RecipientLine
from ..tokens import read_verp_token
from ..trust import Doubt, SenderCheck, doubt
from ..vocabulary import RECEIPT_REPORT_KINDS


@dataclass(eq=False, slots=True)
class SentMessage:
    """What correlating and recording a report read of one of our messages (a row's columns,
    no ORM object: the prefetch of a chunk loads hundreds). Compared and hashed by identity:
    one per message in a chunk."""

    id: int
    ticket_id: int
    sent_at: datetime | None
    created_at: datetime
    recipients: list[SentRecipient] = field(default_factory=list)


@dataclass(frozen=True, eq=False, slots=True)
class SentRecipient:
    """What correlating and recording a report read of a recipient of one of our messages."""

    id: int
    message_id: int
    address: str
    accepted_at: datetime | None
    message: SentMessage


@dataclass(frozen=True, slots=True)
class Match:
    recipient: SentRecipient
    result: RecipientLine


@dataclass
class Correlation:
    message: SentMessage | None = None
    method: str | None = None
    matches: list[Match] = field(default_factory=list)
    unmatched: list[RecipientLine] = field(default_factory=list)
    suspect: str | None = None
    #: Recipients the report speaks of without evidence bound to them (see :mod:`.trust`).
    doubts: list[Doubt] = field(default_factory=list)


class Lookup(Protocol):
    """What correlation asks of the database (answered by a chunk's prefetch)."""

    def recipient(self, recipient_id: int) -> SentRecipient | None: ...

    def tracked(self, envid: str) -> SentMessage | None: ...

    def outbound(self, message_id: str) -> SentMessage | None: ...


class PrefetchedLookup:
    """Everything the correlation of a chunk's reports may ask, prefetched once for the chunk
    (the envelope ids' messages, then the messages named any way, then their recipients: the
    columns correlation reads, in at most three IN queries), then answered from memory."""

    def __init__(self, recipients: dict[int, SentRecipient], tracked: dict[str, SentMessage],
                 outbound: dict[str, SentMessage]) -> None:
        self._recipients, self._tracked, self._outbound = recipients, tracked, outbound

    @classmethod
    def for_reports(cls, reports: Iterable[Report]) -> PrefetchedLookup:
        secret = current_app.config["SECRET_KEY"]
        recipient_ids: set[int] = set()
        envids: set[str] = set()
        message_ids: set[str] = set()
        for report in reports:
            recipient_ids.update(ids[1] for part in report.verp_local_parts
                                 if (ids := read_verp_token(secret, part)) is not None)
            if report.envid:
                envids.add(report.envid)
            message_ids.update(key for key in map(_message_key, _message_id_candidates(report)) if key)
        tracked_ids = dict(db.session.execute(select(TrackedMessage.envid, TrackedMessage.message_id)
                                              .where(TrackedMessage.envid.in_(envids))).all()) if envids else {}
        named = [condition for condition, wanted in (
            (Message.id.in_(select(MessageRecipient.message_id).where(MessageRecipient.id.in_(recipient_ids))),
             recipient_ids),
            (Message.id.in_(set(tracked_ids.values())), tracked_ids),
            (Message.message_id.in_(message_ids) & (Message.direction == MessageDirection.OUTBOUND), message_ids),
        ) if wanted]
        messages: dict[int, SentMessage] = {}
        outbound: dict[str, SentMessage] = {}
        if named:
            for row in db.session.execute(select(Message.id, Message.ticket_id, Message.sent_at, Message.created_at,
                                                 Message.message_id, Message.direction).where(or_(*named))):
                messages[row.id] = SentMessage(row.id, row.ticket_id, row.sent_at, row.created_at)
                if row.direction is MessageDirection.OUTBOUND and row.message_id in message_ids:
                    outbound[row.message_id] = messages[row.id]
        recipients: dict[int, SentRecipient] = {}
        if messages:
            for row in db.session.execute(select(MessageRecipient.id, MessageRecipient.message_id,
                                                 MessageRecipient.address, MessageRecipient.accepted_at)
                                          .where(MessageRecipient.message_id.in_(messages))
                                          .order_by(MessageRecipient.id)):
                message = messages[row.message_id]
                recipients[row.id] = SentRecipient(row.id, row.message_id, row.address, row.accepted_at, message)
                message.recipients.append(recipients[row.id])
        tracked = {envid: messages[message_id] for envid, message_id in tracked_ids.items() if message_id in messages}
        return cls(recipients, tracked, outbound)

    def recipient(self, recipient_id: int) -> SentRecipient | None:
        return self._recipients.get(recipient_id)

    def tracked(self, envid: str) -> SentMessage | None:
        return self._tracked.get(envid)

    def outbound(self, message_id: str) -> SentMessage | None:
        return self._outbound.get(message_id)


def correlate(report: Report, lookup: Lookup, sender: SenderCheck | None = None) -> Correlation:
    """The message and recipients the report is about; those it names without evidence bound
    to them (:func:`.trust.doubt`; ``sender`` tells whether its From is authenticated) are
    moved from ``matches`` to ``doubts``."""
    for method in (_by_token, _by_envid, _by_message_id, _by_thread_headers):
        correlation = method(report, lookup)
        if correlation is not None:
            if report.kind in RECEIPT_REPORT_KINDS and method is not _by_token:
                _check_receipt_trust(report, correlation)
            _weigh(report, correlation, sender or (lambda: None))
            return correlation
    return Correlation()


def _weigh(report: Report, correlation: Correlation, sender: SenderCheck) -> None:
    matches, correlation.matches = correlation.matches, []
    for match in matches:
        why = doubt(report, correlation.method, match.recipient, sender)
        if why is None:
            correlation.matches.append(match)
        else:
            correlation.doubts.append(Doubt(match.recipient, match.result, why))


def _addresses(result: RecipientLine) -> list[str]:
    return [a.lower() for a in (result.original_recipient, result.recipient) if a]


def _receipt_addresses(report: Report) -> list[str]:
    """Who a receipt speaks for: its Final-Recipient and Original-Recipient, else its sender."""
    mdn = report.mdn
    named = [mdn.final_recipient, mdn.original_recipient] if mdn else []
    return [a.lower() for a in (*named, report.from_addr) if a]


def _match_by_address(message: SentMessage, report: Report, method: str) -> Correlation:
    by_address = {r.address: r for r in message.recipients}
    correlation = Correlation(message=message, method=method)
    receipt_senders = _receipt_addresses(report) if report.kind in RECEIPT_REPORT_KINDS else []
    for result in report.recipients:
        candidates = [*_addresses(result), *receipt_senders]
        recipient = next((by_address[a] for a in candidates if a in by_address), None)
        if recipient is not None:
            correlation.matches.append(Match(recipient, result))
        else:
            correlation.unmatched.append(result)
    return correlation


def _by_token(report: Report, lookup: Lookup) -> Correlation | None:
    secret = current_app.config["SECRET_KEY"]
    for local_part in report.verp_local_parts:
        ids = read_verp_token(secret, local_part)
        if ids is None:
            continue
        recipient = lookup.recipient(ids[1])
        if recipient is None or recipient.message_id != ids[0]:
            continue
        results = report.recipients or (RecipientLine(recipient=recipient.address, action="failed"),)
        # The token names the recipient: forwarding may have changed the final address.
        return Correlation(message=recipient.message, method="verp-token",
                           matches=[Match(recipient, results[0])], unmatched=list(results[1:]))
    return None


def _by_envid(report: Report, lookup: Lookup) -> Correlation | None:
    if not report.envid:
        return None
    message = lookup.tracked(report.envid)
    return _match_by_address(message, report, "envid") if message else None


def _message_key(candidate: str | None) -> str | None:
    """A Message-ID as we store it (without angle brackets), or None."""
    return candidate.strip("<> ") if candidate else None


def _message_id_candidates(report: Report) -> tuple[str | None, ...]:
    """Every Message-ID the report may be about, in the order correlation tries them."""
    original = report.original
    return (report.original_message_id, original.message_id, original.in_reply_to, *reversed(original.references))


def _outbound(lookup: Lookup, candidate: str | None) -> SentMessage | None:
    key = _message_key(candidate)
    return lookup.outbound(key) if key else None


def _by_message_id(report: Report, lookup: Lookup) -> Correlation | None:
    for candidate, method in ((report.original_message_id, "original-message-id"),
                              (report.original.message_id, "returned-headers")):
        message = _outbound(lookup, candidate)
        if message is not None:
            return _match_by_address(message, report, method)
    return None


def _by_thread_headers(report: Report, lookup: Lookup) -> Correlation | None:
    for candidate in (report.original.in_reply_to, *reversed(report.original.references)):
        message = _outbound(lookup, candidate)
        if message is not None:
            return _match_by_address(message, report, "references")
    return None


def _check_receipt_trust(report: Report, correlation: Correlation) -> None:
    """A receipt is trusted only from (or naming) a recipient of the message it is about."""
    if correlation.message is None:
        return
    recipients = {r.address for r in correlation.message.recipients}
    if not set(_receipt_addresses(report)) & recipients:
        correlation.matches.clear()
        correlation.suspect = (f"receipt from {report.from_addr or 'an unknown sender'} names "
                               f"{(report.mdn.final_recipient if report.mdn else None) or 'no recipient'}, "
                               "who did not receive this message")
