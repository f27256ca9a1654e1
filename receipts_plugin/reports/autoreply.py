"""Auto-replies: RFC 3834 ``Auto-Submitted`` and the vendor signs that predate it.

An auto-reply must never become a ticket, but neither must a customer's mail
be dropped because a header merely *suppresses* auto-replies, so only signs
that say "this message is itself automatic" count (``X-Auto-Response-Suppress``
does not).
"""
from __future__ import annotations

import re

from .mime import Headers
from .reasons import contains_any, literal_anchors

_AUTO_SUBMITTED = re.compile(r"^\s*auto-(?:replied|generated|notified)", re.I)
_PRECEDENCE = re.compile(r"^\s*auto[_-]?reply\b", re.I)
#: "Precedence: bulk/junk" is what vacation(1) and its kin write; it marks an automatic reply only
#: together with the null envelope sender they send it from (a newsletter has a real return path).
_BULK_PRECEDENCE = re.compile(r"^\s*(?:bulk|junk)\b", re.I)
_NULL_SENDER = re.compile(r"^\s*<\s*>\s*$")
_VENDOR_HEADERS = ("x-autoreply", "x-autorespond", "x-autoresponder", "x-auto-reply", "x-mail-autoreply", "x-vacation")
_VENDOR_FALSE = re.compile(r"^\s*(?:no|false|0|off)\b", re.I)
_AUTO_RESPONSE_TYPE = re.compile(r"^\s*(?:oof|autoreply|auto-reply|vacation)", re.I)
SUBJECT = re.compile(
    r"(?:^|[\s:\[(])(?:"
    r"out of (?:the )?office|ooo\b|automatic reply|auto(?:matic|mated)?[- ]?(?:reply|response|responder|antwort)|"
    r"autoreply|on vacation|vacation (?:reply|notice|message)|away from (?:the )?office|"
    r"abwesenheit(?:snotiz)?|automatische antwort|nicht im b[üu]ro|au[ßs]er haus|"
    r"absence|absent du bureau|r[ée]ponse automatique|respuesta autom[áa]tica|fuera de la oficina|"
    r"risposta automatica|fuori ufficio|resposta autom[áa]tica|fora do escrit[óo]rio|"
    r"automatisch antwoord|afwezig|automatiskt svar|fr[åa]nvaro|automatisk svar|automaattinen vastaus|"
    r"odpowied[źz] automatyczna|automatyczna odpowied[źz]|autom[āa]tisk[āa] atbilde|automatinis atsakymas|automaatne vastus|"
    r"automatická odpověď|自動応答|自动回复|不在"
    r")",
    re.I,
)


def auto_reply_sign(headers: Headers, subject: str) -> str | None:
    """Name the sign that marks a message as an automatic reply, or None."""
    if _AUTO_SUBMITTED.match(headers.get("auto-submitted") or ""):
        return "Auto-Submitted"
    for name in _VENDOR_HEADERS:
        value = headers.get(name)
        if value is not None and not _VENDOR_FALSE.match(value):
            return name
    if _AUTO_RESPONSE_TYPE.match(headers.get("x-ms-exchange-inbox-rules-loop") or "") or _AUTO_RESPONSE_TYPE.match(
        headers.get("x-auto-response-type") or ""
    ):
        return "X-Auto-Response-Type"
    if _PRECEDENCE.match(headers.get("precedence") or ""):
        return "Precedence"
    if _BULK_PRECEDENCE.match(headers.get("precedence") or "") and _NULL_SENDER.match(headers.get("return-path") or ""):
        return "Precedence"
    if subject and SUBJECT.search(subject):
        return "Subject"
    return None


#: A challenge-response system holding our message until the sender proves to be a person (Boxbe,
#: SpamArrest, Mailblocks, ChoiceMail ...): an automatic answer, not a failure of delivery.
_CHALLENGE = re.compile(
    r"waitlisted|guest list|approved senders? list|allowed senders? list|sender not pre-?approved|"
    r"challenge[- ]response|(?:verify|confirm|prove) (?:that )?you are (?:a )?(?:human|real person|not a (?:robot|spammer|machine))|"
    r"awaiting (?:your )?(?:verification|confirmation)|pending (?:sender )?verification|held (?:for|until) verification|"
    r"spam[- ]blocking (?:service|system)|spamarrest|mailblocks|choicemail"
)


_CHALLENGE_ANCHORS = literal_anchors(_CHALLENGE)


def challenge_sign(lowered: str) -> bool:
    """Does the (lower-cased) notice ask the sender to prove they are a person before the message
    is delivered?"""
    lowered = lowered[:8000]
    return (_CHALLENGE_ANCHORS is None or contains_any(lowered, _CHALLENGE_ANCHORS)) and bool(_CHALLENGE.search(lowered))


#: A challenge sent as a plain message (not shaped as a bounce): it asks the sender to get their address
#: onto the recipient's list of accepted senders, and speaks of the sender's message it holds. Both are
#: needed, so a customer asking to be put on a mailing list is not taken for one.
_CHALLENGE_REQUEST = re.compile(
    r"(?:have|get)\s+your\s+(?:e-?mail\s+)?address\s+added\s+to\s+(?:(?:the|my|our|this)\s+)?(?:recipient'?s?\s+)?"
    r"(?:allowed|approved|accepted|safe|trusted|white)\s*(?:senders?\s+)?list"
)
_ABOUT_THE_SENDERS_MESSAGE = re.compile(r"\byour\s+(?:message|e-?mail|mail)\b")


def challenge_request_sign(lowered: str) -> bool:
    """Does a (lower-cased) message that is no bounce ask its reader to get onto an allowed-senders list
    so that their held message goes through?"""
    lowered = lowered[:8000]
    return "added" in lowered and bool(_CHALLENGE_REQUEST.search(lowered)) and bool(
        _ABOUT_THE_SENDERS_MESSAGE.search(lowered)
    )
