"""Finding recipients and their error text in a human-readable bounce notice.

Servers list failed recipients in a handful of shapes, whatever their
vendor: an address alone on a line (Exim, Gmail, Domino, Notes), an address
followed by a colon or by its error (qmail, Sendmail, Exchange), or inside a
sentence ("could not be delivered to <x>", "RCPT TO:<x>"). Each shape is a
row of :data:`RECIPIENT_LINES`, tried in order of how much it can be trusted.
"""
from __future__ import annotations

import re
from functools import cache

from ..addresses import find_addresses, is_daemon_address, is_internet_address
from ..linestart import LinePattern
from ..reasons import contains_any, literal_anchors
from .signals import SEPARATOR

MAX_NOTICE_CHARS = 32 * 1024
MAX_BLOCK_LINES = 40
_CONTEXT_LINES = 3
_CONTINUATION = (" ", "\t", ".", "(", "#", ")", "[")

_ADDR = r"<?(?:mailto:)?([^\s<>()\[\]\"',;:@]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+)>?"

#: Shapes of a line that names a failed recipient: the first two are read together
#: (an address that starts a line), the third only when they find nothing.
RECIPIENT_LINES: tuple[re.Pattern[str], ...] = (
    # "kijitora@example.jp" / "<kijitora@example.jp>:" / "* kijitora@example.jp" alone on a line
    re.compile(rf"^[ \t]*(?:[*\-•]|>{{1,3}}|\d+\.)?[ \t]*{_ADDR}[ \t]*[:.]?[ \t]*$"),
    # "<x@y>... User unknown", "554 <x@y>... error", "x@y [User unknown]", "x@y on <date>", "x@y: error", "x@y (reason)"
    re.compile(
        rf"^[ \t]*(?:[*\-•]|>{{1,3}}|\d+\.|[245]\d\d[ -](?:[245]\.\d{{1,3}}\.\d{{1,3}} )?)?[ \t]*\"?{_ADDR}\"?"
        rf"[ \t]*(?:\.\.\.|:|\(|\[|on\s|\bby\b|-{{1,2}}\s|<|\t|  |,\s|[A-Z][a-z])"
    ),
    # "Recipient: x@y", "Failed recipient: x@y", "Empfänger: x@y", "Destinataire : x@y", "rcpt to:<x@y>"
    re.compile(
        rf"(?:failed recipient|recipient(?:\s+address)?|addressee|destinataire|empf[äa]nger|destinatario|"
        rf"original[- ]recipient|final[- ]recipient|rcpt to|delivered to|deliver(?:ed|ing)? (?:your )?(?:mail|message)? ?to|"
        rf"could not be delivered to|not be delivered to|was not delivered to|failed to deliver to|unable to deliver to|"
        rf"delivery to|undeliverable to|member of this (?:mailing )?list|following (?:address|recipient)[^:\n]{{0,40}}|"
        rf"(?:message|mail)[^\n]{{0,30}}addressed(?: to|,)|error-for|intended recipient|originally addressed to|generated from|"
        rf"undeliverable address|invalid final delivery userid|delivery failed \d+ attempts)[ \t]*:?[ \t]*'?{_ADDR}",
    ),
)
#: Words near an address that say it failed, for notices in no shape above ("User's mailbox is
#: full: <x>", "Local mailbox x is unavailable: user not found", an address under "did not reach
#: the following recipient(s):"). The address's own line, or the line just before or after it.
_FAILURE_NEAR = re.compile(
    r"undeliverable|could not be delivered|not (?:yet )?been delivered|was not delivered|did not reach|"
    r"not (?:be )?delivered to|failed|failure|unable to deliver|returned|rejected|refused|"
    r"unknown|full|quota|invalid|not a valid|not found|not exist|unavailable|disabled|no such|not listed|not recognized"
)
_IN_SENTENCE = RECIPIENT_LINES[2]


@cache
def _separator_anchors() -> tuple[str, ...]:
    """The literal words one of which every separator line holds (derived on first use)."""
    return literal_anchors(SEPARATOR.pattern) or ("",)
#: Fields only a real header block has (a notice's "To: / Subject: / Date:" summary has none of them).
_TRANSPORT_FIELD = LinePattern(r"^(?:Return-Path|Received|Message-I[Dd]|DKIM-Signature|MIME-Version|Content-Type|X-[A-Za-z0-9-]+)[ \t]*:", re.M)
_QUOTED_HEADER_RUN = LinePattern(
    r"^(?:Return-Path|Received|From|Message-I[Dd]|Date|Subject|To|DKIM-Signature|MIME-Version|Content-Type|"
    r"X-[A-Za-z0-9-]+)[ \t]*:.*(?:\n[ \t].*)*\n(?:[A-Za-z-]+[ \t]*:.*(?:\n[ \t].*)*\n){2,}",
    re.M,
)


def notice_text(texts: list[str]) -> str:
    """The human-readable notice: text parts up to where the returned copy begins.

    That is the first separator line ("--- Below this line is a copy of the
    message", ...) or the first run of header lines that has transport
    fields (Received, Message-ID, ...): a quoted original without separator.
    """
    joined = "\n\n".join(texts)[:MAX_NOTICE_CHARS].replace("\r\n", "\n")
    cut = len(joined)
    lowered = joined.lower()
    searched = lowered if len(lowered) == len(joined) else joined
    # Every separator line holds one of its phrases' literal words: most notices are turned away by
    # ``str in`` checks, spared a search that tries each line's indentation many ways.
    separator = SEPARATOR.search(searched) if contains_any(searched, _separator_anchors()) else None
    if separator:
        cut = separator.start()
    for quoted in _QUOTED_HEADER_RUN.finditer(joined, 0, cut + 1):
        if quoted.start() > 0 and _TRANSPORT_FIELD.search(quoted.group(0)):
            cut = quoted.start()
            break
    return joined[:cut]


def recipient_blocks(notice: str, excluded: set[str], listed_only: bool = False) -> list[tuple[str, str, str]]:
    """(recipient, its diagnostic text, the lines just before it) in the order the notice lists them.

    The lines before are context only: transcripts name the SMTP command
    (``>>> RCPT To:<x>``) just above the error. ``listed_only``: only addresses that start a
    recipient line (no sentences, no addresses merely near failure words).
    """
    if contains_any(notice, _SMTP_PREFIX_ANCHORS):
        notice = _SMTP_PREFIX.sub(" ", notice)
    lines = notice.split("\n")
    hits = _lines_matching(lines, RECIPIENT_LINES[:2], excluded)
    if not hits and not listed_only:
        hits = _lines_matching(lines, RECIPIENT_LINES[2:], excluded) or _addresses_near_failure(lines, excluded)
    return _blocks(lines, hits) if hits else []


_SENDER_BEFORE = re.compile(r"\b(?:from|sender|sent by)[ \t:]*<?$")
#: Exchange and gateways write ``[SMTP:x@y]`` or X.400 forms ending in ``SMTP=x@y;``.
_SMTP_PREFIX = re.compile(r"(?i)\bsmtp[:=](?=[^\s@]+@)")
_SMTP_PREFIX_ANCHORS = ("SMTP:", "SMTP=", "smtp:", "smtp=", "Smtp:", "Smtp=")


def _addresses_near_failure(lines: list[str], excluded: set[str]) -> list[tuple[int, str]]:
    """Addresses whose line, or a neighbouring line, says that something failed."""
    hits: list[tuple[int, str]] = []
    for index, line in enumerate(lines):
        if "@" not in line or len(line) > 1000:
            continue
        nearby = "\n".join(lines[max(0, index - 2):index + 3]).lower()
        if not _FAILURE_NEAR.search(_without_addresses(nearby)):
            continue
        lowered = line.lower()
        for address in find_addresses(line):
            if _SENDER_BEFORE.search(lowered, 0, max(0, lowered.find(address))):
                continue  # "not accepting mail from x@y": the sender, not a recipient
            if address not in excluded and not is_daemon_address(address) and is_internet_address(address):
                if not any(address == seen for _, seen in hits):
                    hits.append((index, address))
    return hits


def _lines_matching(lines: list[str], shapes: tuple[re.Pattern[str], ...], excluded: set[str]) -> list[tuple[int, str]]:
    hits: list[tuple[int, str]] = []
    for index, line in enumerate(lines):
        if "@" not in line or len(line) > 1000:
            continue
        for shape in shapes:
            match = shape.search(line if shape is not _IN_SENTENCE else line.lower())
            if match:
                break
        else:
            continue
        address = find_addresses(match.group(1))
        if not address:
            continue
        angle = _ANGLE_AFTER.match(line, match.end(1))
        address = ((find_addresses(angle.group(1)) if angle else []) or address)[0]
        if address in excluded or is_daemon_address(address) or not is_internet_address(address):
            continue
        if hits and hits[-1][1] == address and index - hits[-1][0] < 3:
            continue
        hits.append((index, address))
    return hits


#: ``x@y <a@b>``: what stands before an angle address is its display name (RFC 5322), even when it looks
#: like an address (Exim's "malformed recipient address" notices quote such headers).
_ANGLE_AFTER = re.compile(r">?[ \t]+<([^<>\s]+@[^<>\s]+)>")


def _blocks(lines: list[str], hits: list[tuple[int, str]]) -> list[tuple[str, str, str]]:
    """Each recipient's own lines; one whose lines say nothing gets the text before the list.

    A recipient listed again further down (Exchange repeats each one under
    "Diagnostic information for administrators" with the remote server's
    reply) gets the lines of every listing.
    """
    shared = "\n".join(lines[: hits[0][0]])
    for_all = _for_every_recipient(lines)
    results: dict[str, tuple[str, str]] = {}
    for position, (index, address) in enumerate(hits):
        end = hits[position + 1][0] if position + 1 < len(hits) else len(lines)
        block = _server_replies_before(lines, index) + _own_lines(lines, index, min(end, index + MAX_BLOCK_LINES)) + for_all
        context = "\n".join(lines[max(0, index - _CONTEXT_LINES):index])
        if not _says_something(block, address):
            # Nothing stated by the address: a notice about one recipient states it anywhere.
            block = f"{block}\n" + ("\n".join(lines) if len(hits) == 1 else shared)
        elif not _is_specific(block.replace(address, " ")) and _is_specific(shared):
            # A field summary ("RCPT TO: x / From: y / Size: n") states no error: the text before it does.
            block, context = _SUMMARY_FIELD.sub("", shared), ""
        if address in results:
            earlier, context = results[address]
            results[address] = (f"{earlier}\n{block}", context)
        else:
            results[address] = (block, context)
    return [(address, block, context) for address, (block, context) in results.items()]


#: "Additional information follows:" introduces the error text itself (the paragraph after it).
_ADDITIONAL = re.compile(r"^[ \t]*additional information follows[ \t]*:?[ \t]*$", re.I)
#: "This condition occurred after 30 attempt(s) to deliver over a period of 92 hour(s)": how long the
#: server tried, said once for the whole message, often across a line break.
_ATTEMPTS_OVER = re.compile(
    r"\bafter \d+ (?:unsuccessful )?(?:delivery )?attempt(?:s|\(s\))?\b[^.]{0,60}?\bover (?:a period of )?\d+ ?"
    r"(?:minute|hour|day|week)", re.I,
)


def _for_every_recipient(lines: list[str]) -> str:
    """Text a notice states once for all its recipients: the paragraph after "Additional information
    follows:" (the error itself), and how long delivery was tried (the server gave up)."""
    found = ""
    for index, line in enumerate(lines):
        if "dditional information" in line and _ADDITIONAL.match(line):
            paragraph = []
            for following in lines[index + 1:index + 1 + MAX_BLOCK_LINES]:
                if not following.strip():
                    if paragraph:
                        break
                    continue
                paragraph.append(following)
            found += "\n" + "\n".join(paragraph)
            break
    joined = " ".join(" ".join(lines).split()) if "attempt" in "".join(lines) else ""
    tried = _ATTEMPTS_OVER.search(joined) if joined else None
    return found + ("\n" + _sentence_around(joined, tried.start(), tried.end()) if tried else "")


def _sentence_around(text: str, start: int, end: int) -> str:
    """The sentence (between full stops) holding ``text[start:end]``, its full stop included.

    Found with ``str.rfind``/``find`` rather than a leading ``[^.]*`` in the pattern, which would
    rescan the text from every position: quadratic on a long notice without full stops."""
    stop = text.find(".", end)
    return text[text.rfind(".", 0, start) + 1:len(text) if stop == -1 else stop + 1].strip()


def _server_replies_before(lines: list[str], index: int) -> str:
    """A transcript's ``<<< reply`` lines just above a recipient's summary line: they are its error."""
    start = index
    while start > 0 and index - start < _CONTEXT_LINES and lines[start - 1].startswith("<<< "):
        start -= 1
    return "".join(line + "\n" for line in lines[start:index])


def _own_lines(lines: list[str], start: int, end: int) -> str:
    """The recipient line and what follows it, until the error has been stated.

    Lines are taken while nothing specific (an SMTP code or a known phrase)
    was said yet; after that only continuation lines (indented, or opening
    with punctuation like qmail's ``. (#5.5.0)``) and the first line quoting
    an SMTP code, so the preamble of the next recipient is not mistaken for
    this one's error.
    """
    own = [lines[start]]
    coded = _quotes_a_code(lines[start])
    stated = coded or _says_an_error(lines[start])
    for line in lines[start + 1:end]:
        line_coded = _quotes_a_code(line)
        continues = line[:1] in _CONTINUATION or (not coded and line_coded) or bool(_SAME_PARAGRAPH.match(line))
        if stated and (not line.strip() or not continues):
            break
        own.append(line)
        stated = stated or line_coded or _says_an_error(line)
        coded = coded or line_coded
    return "\n".join(own)


#: An indented "Name: value" line of a message summary (Subject:, Sent date:, MAIL FROM: ...).
_SUMMARY_FIELD = re.compile(r"^[ \t]+[A-Za-z][A-Za-z ()-]{0,30}:[ \t].*$", re.M)
#: A sentence that carries on the recipient's paragraph (qmail's "I'm not going to try again; ...").
_SAME_PARAGRAPH = re.compile(r"^/?[A-Z][a-z']+ [^@\n]*[.;]$")
#: An SMTP reply or enhanced status code; opens with its first digit, as codes.py's patterns do.
_CODE = re.compile(r"[245](?:(?<![\d.][245])\d\d(?![\d]|\.\d)|(?<!\w[245])\.\d{1,3}\.\d{1,3}\b)")
#: A word with an "@" inside. Tried only where a word starts (``(?<!\S)``, which changes no match:
#: a word that has one matches from its start), or every position of a long word rescans it.
_ANY_ADDRESS = re.compile(r"(?<!\S)\S+@\S+")
#: Words that state an error (a cheap stand-in for the full phrase tables).
_ERROR_WORDS = re.compile(
    r"unknown|full|quota|denied|blocked|spam|invalid|not found|not exist|expired|timed out|disabled|suspend|no such|"
    r"unavailable|exceed|too (?:big|large)|loop|relay|policy|virus|unreachable|blacklist|not allowed|no mx|"
    r"not recognized|inactive|not (?:delivered|reachable|responding) within|queue period|timed? ?out"
)
_CONTENT = re.compile(r"\b[245]\d\d\b|\b[245]\.\d{1,3}\.\d{1,3}\b|[A-Za-z]{3,}[^\n]{12,}")


def _without_addresses(text: str) -> str:
    """The text with its addresses blanked (their digits are no SMTP code); most lines have none.
    The last answer is kept: a recipient's line is asked about its codes and its words in turn."""
    global _last_blanked
    if "@" not in text:
        return text
    last = _last_blanked  # one immutable pair, read once: safe when parses run in threads
    if last[0] is text:
        return last[1]
    blanked = _ANY_ADDRESS.sub(" ", text)
    _last_blanked = (text, blanked)
    return blanked


_last_blanked: tuple[str | None, str] = (None, "")


def _quotes_a_code(line: str) -> bool:
    """Does a line quote an SMTP reply or enhanced status code (outside its addresses)?"""
    return bool(_CODE.search(_without_addresses(line)))


def _says_an_error(line: str) -> bool:
    """Does a line use an error word (outside its addresses)?"""
    return bool(_ERROR_WORDS.search(_without_addresses(line).lower()))


def _is_specific(line: str) -> bool:
    """Does a line state the error itself (an SMTP code, or an error word)?"""
    return _quotes_a_code(line) or _says_an_error(line)


def _says_something(block: str, address: str) -> bool:
    """Does a block carry more than the address itself (an error code or a sentence)?"""
    rest = block.replace(address, " ", 1) if address else block
    rest = _without_addresses(rest)
    return bool(_CONTENT.search(rest)) or _is_specific(rest)
