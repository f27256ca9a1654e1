"""Standard delivery status notifications (RFC 3464).

Reads the ``message/delivery-status`` part (or, when a server mislabelled it,
any text that carries its fields) into per-message and per-recipient fields,
and turns each recipient group into a :class:`RecipientLine`.
"""
from __future__ import annotations

import re

from . import codes, reasons, rhost
from .addresses import bare_recipient, is_internet_address, parse_date, split_typed
from .fields import read_groups
from .linestart import LinePattern
from .model import STRUCTURED, RecipientLine
from .vendors import Verdicts

PER_MESSAGE_FIELDS = frozenset(
    {"original-envelope-id", "reporting-mta", "dsn-gateway", "received-from-mta", "arrival-date", "x-postfix-queue-id",
     "x-postfix-sender", "x-original-message-id"}
)
PER_RECIPIENT_FIELDS = frozenset(
    {"original-recipient", "final-recipient", "action", "status", "remote-mta", "diagnostic-code",
     "last-attempt-date", "final-log-id", "will-retry-until", "x-actual-recipient", "x-display-name",
     "x-supplementary-info", "x400-supplementary-info", "x-powermta-bouncecategory"}
)
KNOWN_FIELDS = PER_MESSAGE_FIELDS | PER_RECIPIENT_FIELDS
RECIPIENT_OPENERS = frozenset({"original-recipient", "final-recipient"})
ACTIONS = ("failed", "delayed", "delivered", "relayed", "expanded")

_STATUS_VALUE = re.compile(r"([245])\s*\.\s*(\d{1,3})\s*\.\s*(\d{1,3})")
_FIELDS_PRESENT = LinePattern(r"^[ \t]*(?:final-recipient|original-recipient)[ \t]*:", re.M)
_ACTION_PRESENT = LinePattern(r"^[ \t]*(?:action|status)[ \t]*:", re.M)
_CONTEXT_CHARS = 8000
_STATUS_COMMENT = re.compile(r"\((.{4,})\)")
_WORDS = re.compile(r"[A-Za-z]{3,} [A-Za-z]{3,}")
_DIAGNOSTIC_TYPE = re.compile(r"[a-z][a-z0-9-]*")
#: PowerMTA's own bounce category field (X-PowerMTA-BounceCategory) -> tentative reason.
POWERMTA_CATEGORIES = {
    "bad-domain": "hostunknown", "bad-mailbox": "userunknown", "inactive-mailbox": "suspend",
    "message-expired": "expired", "no-answer-from-host": "networkerror", "policy-related": "policyviolation",
    "quota-issues": "mailboxfull", "routing-errors": "systemerror", "spam-related": "spamdetected",
}
_ACTION_ALIASES = {
    "failure": "failed", "fail": "failed", "deferred": "delayed", "delay": "delayed", "expired": "failed",
    "deliverable": "delivered", "success": "delivered",
}


def looks_like_dsn_fields(text: str) -> bool:
    """Does this text carry RFC 3464 recipient fields, whatever its content type?"""
    if "ecipient" not in text:
        return False
    lowered = text.lower()
    return bool(_FIELDS_PRESENT.search(lowered) and _ACTION_PRESENT.search(lowered))


def split_fields(text: str, defects: list[str]) -> tuple[dict[str, str], list[dict[str, str]]]:
    """Per-message fields and the list of per-recipient field groups."""
    groups = read_groups(text, KNOWN_FIELDS, RECIPIENT_OPENERS, defects)
    per_message: dict[str, str] = {}
    recipients: list[dict[str, str]] = []
    for group in groups:
        if any(name in group for name in ("final-recipient", "original-recipient", "action", "status")):
            recipients.append(group)
        else:
            for name, value in group.items():
                per_message.setdefault(name, value)
    for group in recipients:
        for name in PER_MESSAGE_FIELDS:
            if name in group:
                per_message.setdefault(name, group[name])
    return per_message, recipients


def normalise_status(value: str | None) -> str | None:
    """``5.0.0 (permanent failure)`` -> ``5.0.0``; anything unreadable -> None."""
    if not value:
        return None
    match = _STATUS_VALUE.search(value)
    if not match or int(match.group(2)) > 7:  # RFC 3463 defines subjects 0-7: "5.9.8" names nothing
        return None
    return f"{match.group(1)}.{int(match.group(2))}.{int(match.group(3))}"


def normalise_action(value: str | None) -> str | None:
    """The RFC 3464 action keyword, tolerating case, comments and common misspellings."""
    if not value:
        return None
    word = value.strip().split()[0].strip("()").lower() if value.strip() else ""
    word = _ACTION_ALIASES.get(word, word)
    return word if word in ACTIONS else None


def split_typed_diagnostic(value: str) -> tuple[str | None, str | None]:
    """``smtp; 550 5.1.1 unknown`` -> ('SMTP', '550 5.1.1 unknown'); untyped text is kept whole."""
    if not value:
        return None, None
    kind, text = split_typed(value)
    if kind and not _DIAGNOSTIC_TYPE.fullmatch(kind):
        return None, value
    return (kind.upper() if kind else None), text


def recipient_from_group(
    group: dict[str, str],
    per_message: dict[str, str],
    context: str = "",
    vendor: Verdicts | None = None,
) -> RecipientLine:
    """One recipient group -> result, with status and reason worked out as Sisimai does.

    A comment after the status code ("5.2.1 (mailbox disabled)") is part of the diagnostic.
    """
    final_raw = group.get("final-recipient") or group.get("x-actual-recipient")
    original_raw = group.get("original-recipient")
    recipient = internet_recipient(bare_recipient(final_raw), bare_recipient(original_raw))
    action = normalise_action(group.get("action"))
    diagnostic_type, diagnostic = split_typed_diagnostic(group.get("diagnostic-code") or "")
    supplement = (group.get("x400-supplementary-info") or "").strip('" ')
    if supplement:
        diagnostic = f"{diagnostic} {supplement}" if diagnostic else supplement
    written = (group.get("status") or "").strip()
    comment = _STATUS_COMMENT.search(written)
    # A comment after the code, or a status written as a reply and words ("553 Exceeded maximum size").
    note = comment.group(1) if comment else (written if _WORDS.search(written) and not normalise_status(written) else "")
    if note and note not in (diagnostic or ""):
        diagnostic = f"{diagnostic} ({note})" if diagnostic else note
    category = (group.get("x-powermta-bouncecategory") or "").strip().lower()
    remote_mta = split_typed(group.get("remote-mta"))[1]
    reporting_mta = split_typed(per_message.get("reporting-mta"))[1]
    return build_result(
        recipient=recipient,
        original_recipient=bare_recipient(original_raw),
        final_recipient_raw=final_raw,
        action=action,
        field_status=_field_status(group.get("status"), vendor),
        diagnostic=diagnostic,
        diagnostic_type=diagnostic_type,
        remote_mta=remote_mta,
        arrival_date=parse_date(per_message.get("arrival-date")),
        last_attempt_date=parse_date(group.get("last-attempt-date")),
        source=STRUCTURED,
        context=context,
        reason_hint=POWERMTA_CATEGORIES.get(category),
        vendor=vendor,
        remote_hosts=host_names(remote_mta),
        local_hosts=host_names(reporting_mta),
    )


def _field_status(value: str | None, vendor: Verdicts | None) -> str | None:
    """The ``Status:`` field as written; a vendor that writes a placeholder there (OpenSMTPD: 5.0.0,
    4.4.7 whatever happened) has only its success codes kept, and its notice decides the rest."""
    status = normalise_status(value)
    if status and vendor and vendor.format.notice_only and not status.startswith("2."):
        return None
    return status


def internet_recipient(final: str | None, original: str | None) -> str | None:
    """The final recipient, unless it is no Internet address (X.400, ``user@server``, a source
    route) and the original recipient is one; a non-Internet value is kept only when nothing better
    is known, so the caller can look for the address elsewhere (:func:`is_internet_address`)."""
    if is_internet_address(final) or not is_internet_address(original):
        return final or original
    return original


def host_names(*values: str | None) -> tuple[str, ...]:
    """Host names from typed MTA fields (``dns; mx.example.org [192.0.2.1]`` -> ``mx.example.org``)."""
    return tuple(value.split()[0] for value in values if value and value.split())


def build_result(
    *,
    recipient: str | None,
    action: str | None,
    field_status: str | None,
    diagnostic: str | None,
    source: str,
    diagnostic_type: str | None = None,
    reason_hint: str | None = None,
    context: str = "",
    remote_hosts: tuple[str, ...] = (),
    local_hosts: tuple[str, ...] = (),
    vendor: Verdicts | None = None,
    **extra,
) -> RecipientLine:
    """Combine status field, diagnostic text and reply code into one verdict.

    ``context`` (the human-readable notice) is only read for the SMTP command
    the failure happened at, when the diagnostic does not say. ``vendor`` is
    the bounce's vendor format, whose own texts decide first; the recipient's
    domain, ``remote_hosts`` and ``local_hosts`` (reporting MTA) tell which
    provider's own error codes apply (:mod:`rhost`).
    Shared by structured and heuristic paths so both decide the same way:
    prefer the more specific of the written status and the one quoted in the
    diagnostic; fall back to the reply code's class; classify the reason; and
    when no status was written at all, derive Sisimai's pseudo code (its class from the words, as
    the shared expectations have it).
    """
    text = diagnostic or ""
    quoted = codes.find_status(text)
    reply = codes.find_reply(text, (field_status or quoted or " ")[0] if (field_status or quoted) else None)
    reply = reply or codes.find_reply(text)
    status = codes.prefer_status(field_status, quoted, reply)
    command = reasons.smtp_command(text) or reasons.smtp_command(context[:_CONTEXT_CHARS])
    where = rhost.Where((recipient or "").rpartition("@")[2], remote_hosts, local_hosts, text)
    early = vendor.command_verdict(command) if vendor else None
    hint = reason_hint or early or (vendor.reason(text) if vendor else None)
    reason = _decide_reason(where, status, text, reply, action, command, diagnostic_type, hint)
    if reason == "hostunknown" and "unrouteable address" in text.lower() and _local(recipient, local_hosts):
        reason = "userunknown"  # Exim's router found no such user on the reporting host's own domain
    elif reason == "hostunknown" and not codes.reason_for_status(status) and _names_local_domain(text, recipient, local_hosts):
        reason = "rejected"  # "<our domain> does not exist": the remote refused the sender's domain, not the recipient's
    if reason in ("delivered", "vacation", "feedback"):
        hard: bool | None = False
    else:
        hard = codes.is_hard(reason, f"{status or ''} {text}" if reason == "notaccept" else "")
    derived = False
    if status is None and reason not in ("vacation", "feedback", "delivered"):
        temporary = codes.is_temporary(f"{reply or ''} {text}")
        status = codes.pseudo_status(early or reason, temporary)
        derived = status is not None
    if reply and status and reply[0] != status[0] and not derived:
        reply = codes.find_reply(text, status[0])
    if not action and reason != "vacation" and reason != "feedback":
        action = "delivered" if reason == "delivered" else ("delayed" if status and status[0] == "4" and source == STRUCTURED else "failed")
    return RecipientLine(
        recipient=recipient,
        action=action,
        status=status,
        reason=reason,
        hard=hard,
        diagnostic=(diagnostic or None) and " ".join(diagnostic.split())[:2000],
        diagnostic_type=diagnostic_type,
        reply_code=reply,
        source=source,
        status_derived=derived,
        **extra,
    )


_MISSING_DOMAIN = re.compile(r"([a-z0-9][a-z0-9.-]*\.[a-z]{2,})\.?:? (?:does not exist|domain does not exist)|no such domain:? ([a-z0-9][a-z0-9.-]*\.[a-z]{2,})")


def _names_local_domain(text: str, recipient: str | None, hosts: tuple[str, ...]) -> bool:
    """Does a missing-domain sentence name the reporting side's own domain rather than the recipient's?"""
    domain = (recipient or "").rpartition("@")[2].lower()
    for match in _MISSING_DOMAIN.finditer(text.lower()):
        named = match.group(1) or match.group(2)
        if named != domain and not domain.endswith("." + named) and _local("x@" + named, hosts):
            return True
    return False


def _local(recipient: str | None, hosts: tuple[str, ...]) -> bool:
    """Is the recipient's domain the reporting host's own (the host, or the domain it serves)?"""
    domain = (recipient or "").rpartition("@")[2].lower()
    return bool(domain) and any(
        host.lower() == domain or host.lower().endswith("." + domain) for host in hosts if host
    )


def _decide_reason(
    where: rhost.Where,
    status: str | None,
    text: str,
    reply: str | None,
    action: str | None,
    command: str | None,
    diagnostic_type: str | None,
    hint: str | None,
) -> str:
    """A vendor format's own verdict, else the remote provider's codes, else the generic tables."""
    if hint and hint not in reasons.RETRY:
        return hint
    if not (status or "").startswith("2.") and action not in ("delivered", "relayed", "expanded"):
        found = rhost.remote_reason(where, status, reply, command, text)
        if found and found not in ("onhold", "undefined"):
            return found
    return reasons.classify(status, text, reply, action, command, diagnostic_type, hint)
