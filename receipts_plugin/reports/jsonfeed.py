"""JSON bounce notifications (Amazon SES, delivered by mail through SNS).

SES posts its Bounce / Complaint / Delivery events as JSON, often wrapped in
an SNS envelope whose ``Message`` is the event as a string, and mail gateways
fold the long lines. This module unwraps all that into recipient results.
"""
from __future__ import annotations

import json
import re

from . import dsn
from .addresses import first_address, message_id
from .model import STRUCTURED, RecipientLine

_MARKER = re.compile(r'\\?"(?:notificationType|eventType)\\?"\s*:')
_FOLD = re.compile(r"\r?\n ")


def _load(text: str) -> dict | None:
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    chunk = text[start: end + 1]
    for candidate in (chunk, _FOLD.sub("", chunk), chunk.replace("\r", "").replace("\n", "")):
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    return None


def parse_event(text: str) -> tuple[str, list[RecipientLine], str | None, str | None] | None:
    """(kind, recipients, feedback type, original Message-ID) for an SES event, else None."""
    head = text[:20000]
    # Every marker holds one of its two names: a notice with neither is spared the search (which,
    # opening with an optional backslash, is tried at every position).
    if ("notificationType" not in head and "eventType" not in head) or not _MARKER.search(head):
        return None
    data = _load(text)
    if data is None:
        return None
    if isinstance(data.get("Message"), str):
        data = _load(data["Message"]) or {}
    event = str(data.get("notificationType") or data.get("eventType") or "").lower()
    mail = data.get("mail") if isinstance(data.get("mail"), dict) else {}
    common = mail.get("commonHeaders") if isinstance(mail.get("commonHeaders"), dict) else {}
    original_id = message_id(str(common.get("messageId") or "")) or None
    if event == "bounce":
        return "bounce", _bounced(data.get("bounce") or {}), None, original_id
    if event == "complaint":
        complaint = data.get("complaint") or {}
        people = [first_address(str(r.get("emailAddress", ""))) for r in complaint.get("complainedRecipients") or [] if isinstance(r, dict)]
        recipients = [RecipientLine(recipient=a, reason="feedback", hard=False, source=STRUCTURED) for a in people if a]
        return "feedback", recipients, str(complaint.get("complaintFeedbackType") or "abuse").lower(), original_id
    if event == "delivery":
        delivery = data.get("delivery") or {}
        response = str(delivery.get("smtpResponse") or "")
        recipients = [
            dsn.build_result(recipient=first_address(str(a)), action="delivered", field_status=None,
                             diagnostic=response, source=STRUCTURED)
            for a in delivery.get("recipients") or []
        ]
        return "bounce", recipients, None, original_id
    return None


def _bounced(bounce: dict) -> list[RecipientLine]:
    temporary = str(bounce.get("bounceType", "")).lower() == "transient"
    results = []
    for entry in bounce.get("bouncedRecipients") or []:
        if not isinstance(entry, dict):
            continue
        diagnostic_type, diagnostic = dsn.split_typed_diagnostic(str(entry.get("diagnosticCode") or ""))
        results.append(
            dsn.build_result(
                recipient=first_address(str(entry.get("emailAddress", ""))),
                action=dsn.normalise_action(str(entry.get("action") or "")) or ("delayed" if temporary else "failed"),
                field_status=dsn.normalise_status(str(entry.get("status") or "")),
                diagnostic=diagnostic,
                diagnostic_type=diagnostic_type,
                source=STRUCTURED,
            )
        )
    return results
