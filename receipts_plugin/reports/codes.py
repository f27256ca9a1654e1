"""SMTP enhanced status codes (RFC 3463) and reply codes (RFC 5321).

Finding them in free text, choosing between a ``Status:`` field and a code
quoted in the diagnostic, and the code -> reason table, all as data.
"""
from __future__ import annotations

import re

# An enhanced status code not glued to other digits, dots or a version "v".
#: Patterns here open with the code's first digit and look behind it from there (``(?<!x[245])``
#: rather than ``(?<!x)[245]``): sre then skips in C to the next 2, 4 or 5 instead of trying
#: the lookbehind at every position of the text. Same matches (tests/reports/test_pieces.py).
_STATUS = re.compile(r"([245])(?<![0-9A-Za-z.][245])\.([0-7])\.(\d{1,3})(?![0-9]|\.\d)")
# A reply code at a line start, after "said:"/"host ...:", or before an enhanced code.
_REPLY = re.compile(r"([245](?<![0-9A-Za-z.\-+#/][245])(?<![0-9A-Za-z]:[245])[0-5][0-9])(?=[ \-]|$|\.?\s*$|[,;\]\)])", re.M)
_TEMPORARY_WORDS = re.compile(r" temporar| persistent|retry timeout exceeded")
_IPV4 = re.compile(r"\d(?<!\w\d)\d{0,2}(?:\.\d{1,3}){3}\b")

VALID_REPLIES = frozenset(
    "211 214 220 221 235 250 251 252 253 "
    "421 422 430 432 450 451 452 453 454 455 458 459 "
    "500 501 502 503 504 521 523 524 525 530 533 534 535 538 550 551 552 553 554 555 556".split()
)

#: Enhanced status code -> reason (Sisimai's vocabulary).
STATUS_REASONS: dict[str, str] = {
    "2.1.5": "delivered",
    "4.1.6": "hasmoved", "4.1.7": "rejected", "4.1.8": "rejected", "4.1.9": "systemerror",
    "4.2.1": "blocked", "4.2.2": "mailboxfull", "4.2.3": "exceedlimit", "4.2.4": "filtered",
    "4.3.1": "systemfull", "4.3.2": "notaccept", "4.3.3": "systemerror", "4.3.5": "systemerror",
    "4.4.1": "expired", "4.4.2": "networkerror", "4.4.3": "systemerror", "4.4.4": "networkerror",
    "4.4.5": "systemfull", "4.4.6": "networkerror", "4.4.7": "expired", "4.4.8": "networkerror",
    "4.5.3": "systemerror", "4.5.5": "systemerror",
    "4.6.0": "contenterror", "4.6.2": "contenterror", "4.6.5": "contenterror",
    "4.7.1": "blocked", "4.7.2": "blocked", "4.7.5": "securityerror", "4.7.6": "securityerror",
    "4.7.7": "securityerror", "4.7.12": "securityerror", "4.7.15": "securityerror",
    "4.7.16": "mesgtoobig", "4.7.24": "authfailure", "4.7.25": "requireptr", "4.7.26": "authfailure",
    "5.1.0": "userunknown", "5.1.1": "userunknown", "5.1.2": "hostunknown", "5.1.3": "userunknown",
    "5.1.4": "filtered", "5.1.6": "hasmoved", "5.1.7": "rejected", "5.1.8": "rejected",
    "5.1.9": "systemerror", "5.1.10": "notaccept",
    "5.2.0": "filtered", "5.2.1": "filtered", "5.2.2": "mailboxfull", "5.2.3": "exceedlimit",
    "5.2.4": "filtered",
    "5.3.0": "systemerror", "5.3.1": "systemfull", "5.3.2": "notaccept", "5.3.3": "systemerror",
    "5.3.4": "mesgtoobig", "5.3.5": "systemerror",
    "5.4.0": "networkerror", "5.4.3": "systemerror", "5.4.4": "hostunknown",
    "5.5.2": "syntaxerror", "5.5.3": "toomanyconn", "5.5.4": "systemerror", "5.5.5": "systemerror",
    "5.5.6": "syntaxerror",
    **{f"5.6.{n}": "contenterror" for n in (0, 1, 2, 3, 5, 6, 7, 8, 9)},
    **{f"5.7.{n}": "securityerror" for n in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15, 19)},
    "5.7.13": "suspend", "5.7.16": "mesgtoobig", "5.7.17": "hasmoved", "5.7.18": "hasmoved",
    "5.7.20": "authfailure", "5.7.21": "authfailure", "5.7.22": "authfailure", "5.7.23": "authfailure",
    "5.7.24": "authfailure", "5.7.25": "requireptr", "5.7.26": "authfailure", "5.7.27": "notaccept",
    "5.7.28": "spamdetected", "5.7.29": "authfailure", "5.7.30": "failedstarttls",
}


#: Sisimai's "pseudo" codes X.0.9NN used when a report carries no status code at all.
PSEUDO_CODES: dict[str, int] = {
    "onhold": 901, "syntaxerror": 902, "suppressed": 903, "norelaying": 909, "filtered": 910,
    "userunknown": 911, "hostunknown": 912, "hasmoved": 916, "rejected": 918, "suspend": 921,
    "mailboxfull": 922, "exceedlimit": 923, "authfailure": 926, "systemerror": 930, "systemfull": 931,
    "notaccept": 932, "mesgtoobig": 934, "mailererror": 939, "toomanyconn": 945, "speeding": 946,
    "expired": 947, "contenterror": 960, "securityerror": 970, "blocked": 971, "policyviolation": 972,
    "requireptr": 973, "notcompliantrfc": 974, "badreputation": 975, "failedstarttls": 976,
    "spamdetected": 980, "virusdetected": 981, "networkerror": 944, "undefined": 900,
}
_TEMPORARY_ONLY_EXCLUDED = frozenset({"hasmoved", "hostunknown", "userunknown"})

#: Reasons that are hard bounces: the address itself is dead.
HARD_REASONS = frozenset({"userunknown", "hostunknown", "hasmoved"})


def find_status(text: str | None, klass: str | None = None) -> str | None:
    """The most specific enhanced status code quoted in a text.

    ``X.0.0`` and the ambiguous ``4.4.7`` are kept only when nothing more
    specific is there. IPv4 addresses are masked so ``5.7.1.2`` parts of an
    address never read as a code. ``klass`` ('4'/'5'/'2') restricts the class.
    """
    if not text or "." not in text:
        return None
    if text.count(".") >= 3:
        text = _IPV4.sub("#", text)
    found = None
    fallback = None
    for match in _STATUS.finditer(text):
        code = f"{match.group(1)}.{match.group(2)}.{match.group(3)}"
        if klass and code[0] != klass:
            continue
        if code.endswith(".0.0") or code == "4.4.7":
            fallback = fallback or code
            continue
        if found is None:
            found = code
        else:
            found = prefer_status(found, code)
    return found or fallback


def find_reply(text: str | None, klass: str | None = None) -> str | None:
    """The first plausible SMTP reply code (e.g. '550') in a text."""
    if not text:
        return None
    head = text[:200]
    # Upper-casing the head alone is the same as the head of the whole text upper-cased when it is
    # ASCII (one character each); a long notice is not upper-cased to look at 200 characters.
    if "X-UNIX" in (head.upper() if head.isascii() else text.upper()[:200]):
        return None
    for match in _REPLY.finditer(text):
        code = match.group(1)
        if code in VALID_REPLIES and (klass is None or code[0] == klass):
            return code
    return None


def prefer_status(field: str | None, quoted: str | None, reply: str | None = None) -> str | None:
    """Choose between a ``Status:`` value and a code quoted in the diagnostic.

    The field wins unless it is vague (``X.0.0``, ``X.Y.0``, ``4.4.7``,
    ``5.3.*``, protocol-level ``X.5.*``) and the quoted one is specific, or the
    reply code's class sides with the quoted code.
    """
    if not field:
        return quoted
    if not quoted or field == quoted:
        return field
    if field[0] == "5" and quoted[0] == "4":
        return field  # a permanent report quoting the last attempt's transient reply: it failed for good
    if field == "4.4.7" and quoted[0] == "4" and quoted.endswith(".0"):
        return field  # delivery time expired says more than the last attempt's vague 4.x.0
    if reply and field[0] != quoted[0]:
        if reply[0] == field[0]:
            return field
        if reply[0] == quoted[0]:
            return quoted
    if field.endswith(".0.0"):
        return field if quoted.endswith(".0.0") else quoted
    if ".0" in field[1:4] + field[3:] and ".0" not in quoted[1:]:
        return quoted
    if quoted.endswith(".0.0"):
        return field
    if field in ("4.4.7", "4.7.0") or field.startswith("5.3.") or field[1:4] in (".5.",):
        return quoted
    if field == "5.1.1":
        return field if (".0" in quoted[1:] or quoted.startswith("5.5.")) else quoted
    if field == "5.1.3" and quoted.startswith("5.7."):
        return quoted
    return field


def reason_for_status(status: str | None) -> str | None:
    """The reason an enhanced status code implies by itself, if any."""
    if not status:
        return None
    return STATUS_REASONS.get(status)


def pseudo_status(reason: str, temporary: bool) -> str | None:
    """Sisimai-compatible ``X.0.9NN`` code for a reason when no code was reported."""
    number = PSEUDO_CODES.get(reason)
    if number is None:
        return None
    if temporary and reason not in _TEMPORARY_ONLY_EXCLUDED:
        return f"4.0.{number if reason != 'filtered' else 924}"
    return f"5.0.{number}"


def is_temporary(text: str) -> bool:
    """Does a diagnostic speak of a transient failure (4xx, 'temporary')?"""
    code = find_status(text) or find_reply(text)
    if code:
        return code.startswith("4")
    return bool(_TEMPORARY_WORDS.search(text.lower()))


def is_hard(reason: str | None, evidence: str) -> bool | None:
    """Hard bounce: the address is dead (unknown user/host, moved) or a 5xx notaccept."""
    if reason is None:
        return None
    if reason in HARD_REASONS:
        return True
    if reason != "notaccept":
        return False
    if not evidence.strip():
        return True
    code = find_status(evidence) or find_reply(evidence)
    return bool(code and code.startswith("5")) or not is_temporary(evidence)
