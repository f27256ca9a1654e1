"""Feedback reports: ARF (RFC 5965) abuse/complaint reports and opt-out requests."""
from __future__ import annotations

import re

from .addresses import find_addresses, first_address
from .linestart import LinePattern
from .mime import Headers

_FIELD_LINE = re.compile(r"^[ \t]*([A-Za-z-]+)[ \t]*:[ \t]*(.*?)\s*$", re.M)
_FEEDBACK_FIELDS_PRESENT = LinePattern(r"^[ \t]*feedback-type[ \t]*:", re.M)
_RECEIVED_FOR = re.compile(r"\bfor\s+<?([^>\s;]+@[^>\s;]+)>?", re.I)
_TRUE = re.compile(r"^\s*(?:true|yes|1)\b", re.I)
#: Microsoft's complaint reports (JMRP, Hotmail/Outlook.com) are no ARF: a "complaint about message from
#: <IP>" that carries the complained-of message, whose X-HmXmrOriginalRecipient names the complainant.
_COMPLAINT_SUBJECT = re.compile(r"^\s*complaint about message from \[?\d{1,3}(?:\.\d{1,3}){3}\]?\s*$", re.I)


def looks_like_feedback_fields(text: str) -> bool:
    """Does this text carry an ARF ``Feedback-Type`` field?"""
    return "eedback-" in text and bool(_FEEDBACK_FIELDS_PRESENT.search(text.lower()))


def parse_feedback_fields(text: str) -> tuple[dict[str, str], list[str]]:
    """First value of each field, plus every ``Original-Rcpt-To`` address in order."""
    fields: dict[str, str] = {}
    recipients: list[str] = []
    for match in _FIELD_LINE.finditer(text):
        name, value = match.group(1).lower(), match.group(2)
        fields.setdefault(name, value)
        if name in ("original-rcpt-to", "removal-recipient"):
            address = first_address(value)
            if address and address not in recipients:
                recipients.append(address)
    return fields, recipients


def is_complaint(headers: Headers, original: Headers | None) -> bool:
    """A complaint report without ARF fields: its subject, and the complained-of message attached."""
    return original is not None and bool(_COMPLAINT_SUBJECT.match(headers.get("subject") or ""))


def complaint_recipients(original: Headers) -> list[str]:
    """The complainant: the mailbox provider's original-recipient stamp, else the message's own."""
    return find_addresses(original.get("x-hmxmroriginalrecipient") or "")[:1] or fallback_recipients(original)


def fallback_recipients(original: Headers | None) -> list[str]:
    """When the report names no recipient: the returned message's To, else its Received 'for'."""
    if original is None:
        return []
    found = find_addresses(original.get("to") or "")
    if found:
        return found[:1]
    for received in original.get_all("received"):
        match = _RECEIVED_FOR.search(received)
        if match:
            address = first_address(match.group(1))
            if address:
                return [address]
    return []


def opt_out_sign(headers: Headers) -> bool:
    """A mail client's one-click unsubscribe message (e.g. Apple Mail's X-Apple-Unsubscribe)."""
    return bool(_TRUE.match(headers.get("x-apple-unsubscribe") or ""))
