"""The message we sent, as a report returns it, and where the report was delivered.

The original comes back as ``message/rfc822``, as ``text/rfc822-headers``, or
quoted inside the human-readable text after a separator line. The envelope
recipient of the report itself carries our VERP token
(``bounces+TOKEN@domain``), so the delivery headers are read too.
"""
from __future__ import annotations

import re

from .addresses import find_addresses, message_id, message_ids
from .linestart import LinePattern
from .mime import Headers, Part, decode_bytes, decode_words, parse_header_text, split_head_body
from .model import OriginalRefs

#: Only the start of a returned message is read: its header block is all we need.
_HEAD_BYTES = 32 * 1024
#: The returned message's fields we read (names matched case-insensitively), with continuation lines.
_WANTED_FIELD = LinePattern(
    r"^((?i:message-id|from|to|cc|subject|in-reply-to|references|date|received|reply-to|sender|return-path|list-id|"
    r"list-post|x-beenthere|mailing-list|precedence))"
    r"[ \t]*:[ \t]*([^\n]*(?:\n[ \t][^\n]*)*)",
    re.M,
)
ORIGINAL_TYPES = ("message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers", "message/global-headers")
ENVELOPE_HEADERS = ("delivered-to", "x-original-to", "envelope-to", "x-envelope-to", "x-delivered-to", "x-rcpt-to", "x-original-rcpt-to", "return-path", "to")

#: A quoted header block starts with one of these fields at the start of a line.
_QUOTED_START = LinePattern(
    r"^(?:Return-Path|Received|From|Message-ID|Message-Id|Date|Subject|To|DKIM-Signature|X-[A-Za-z0-9-]+|"
    r"Delivered-To|MIME-Version|Content-Type|Reply-To|In-Reply-To|References)[ \t]*:",
    re.M,
)
_QUOTED_FIELD = LinePattern(r"^[ \t]*(Message-I[Dd]|Subject|From|To|In-Reply-To|References|Date)[ \t]*:[ \t]*(.*)$", re.M | re.I)


def original_part(parts: list[Part]) -> Part | None:
    """The first returned-message part, preferring a full message over headers only."""
    for part in parts:
        if part.ctype in ORIGINAL_TYPES[:2]:
            return part
    return next((p for p in parts if p.ctype in ORIGINAL_TYPES), None)


def headers_of(part: Part) -> Headers:
    """The few headers we use of a returned message (the part body *is* the message or its header block)."""
    data = part.payload(_HEAD_BYTES)
    if part.ctype in ORIGINAL_TYPES[2:]:
        head = data
    else:
        head, _ = split_head_body(data.lstrip(b"\r\n"))
    text = decode_bytes(head, part.params.get("charset"))
    return Headers(_WANTED_FIELD.findall(text))


def refs_from_headers(headers: Headers, source: str) -> OriginalRefs:
    """OriginalRefs from a header block."""
    return OriginalRefs(
        message_id=message_id(headers.get("message-id")),
        from_=decode_words(headers.get("from") or "") or None,
        to=decode_words(headers.get("to") or "") or None,
        subject=decode_words(headers.get("subject") or "") or None,
        in_reply_to=message_id(headers.get("in-reply-to")),
        references=message_ids(headers.get("references")),
        source=source,
    )


def quoted_headers(text: str) -> Headers | None:
    """A header block quoted inside a text body (the original after a separator), if any."""
    match = _QUOTED_START.search(text)
    while match is not None:
        block_end = text.find("\n\n", match.start())
        block = text[match.start(): block_end if block_end != -1 else match.start() + 20000]
        if len(_QUOTED_FIELD.findall(block)) >= 2:
            return parse_header_text(block)
        match = _QUOTED_START.search(text, match.end())
    return None


def envelope_addresses(headers: Headers) -> tuple[str, ...]:
    """Addresses the report was delivered to, most trustworthy header first.

    Local parts keep their case: a VERP token may be case-sensitive.
    """
    values = ",".join(headers.all_of(ENVELOPE_HEADERS))
    found: dict[str, None] = {}
    for address in find_addresses(values, lower=False):
        local, _, domain = address.rpartition("@")
        found.setdefault(f"{local}@{domain.lower()}", None)
    return tuple(found)


def verp_local_parts(addresses: tuple[str, ...]) -> tuple[str, ...]:
    """The tokens after the first '+' of each address's local part (``bounces+TOKEN@x`` -> ``TOKEN``)."""
    tokens: dict[str, None] = {}
    for address in addresses:
        local = address.rsplit("@", 1)[0]
        if "+" in local:
            token = local.split("+", 1)[1]
            if token:
                tokens.setdefault(token, None)
    return tuple(tokens)
