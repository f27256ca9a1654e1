"""Auto-replies: RFC 3834 ``Auto-Submitted`` and the vendor signs that predate it.

An auto-reply must never become a ticket, but neither must a customer's mail
be dropped because a header merely *suppresses* auto-replies, so only signs
that say "this message is itself automatic" count (``X-Auto-Response-Suppress``
does not).
"""
from __future__ import annotations

import re

from .mime import Headers

_AUTO_SUBMITTED = re.compile(r"^\s*auto-(?:replied|generated|notified)", re.I)
_PRECEDENCE = re.compile(r"^\s*auto[_-]?reply\b", re.I)
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
    r"odpowied[źz] automatyczna|automatická odpověď|自動応答|自动回复|不在"
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
    if subject and SUBJECT.search(subject):
        return "Subject"
    return None


#: A challenge-response system holding our message until the sender proves to be a person (Boxbe,
#: SpamArrest, Mailblocks, ChoiceMail ...): an automatic answer, not a failure of delivery.
_CHALLENGE = re.compile(
    r"waitlisted|(?:add yourself to|added to) (?:my|the|our) (?:\w+ )?(?:guest|approved senders?|allowed senders?) list|"
    r"sender not pre-?approved|challenge[- ]response|"
    r"(?:verify|confirm|prove) (?:that )?you are (?:a )?(?:human|real person|not a (?:robot|spammer|machine))|"
    r"(?:awaiting|pending|held (?:for|until)) (?:your |sender )?(?:verification|confirmation)|"
    r"i (?:use|am using) [^.\n]{0,40}(?:spam|junk)[- ]?(?:blocking|filtering|protection) (?:service|system|software)|"
    r"spamarrest|mailblocks|choicemail"
)


def challenge_sign(text: str) -> bool:
    """Does the notice ask the sender to prove they are a person before the message is delivered?"""
    return bool(_CHALLENGE.search(text[:8000].lower()))
