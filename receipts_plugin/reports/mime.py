"""A small, tolerant MIME walker working on bytes.

Why not :mod:`email`: the report parser must cost at most about twice a bare
``email.message_from_bytes``, must never raise, and must cope with reports that
break MIME in the ways real servers do (indented boundaries, missing blank
lines, wrong content types, 8-bit headers, gigantic inputs). So this module
splits messages with a few precompiled regexes, decodes only the parts that
are asked for, and caps how much of anything it looks at.
"""
from __future__ import annotations

import binascii
import codecs
import re
from dataclasses import dataclass, field

#: Caps that keep hostile input cheap.
MAX_HEADER_BYTES = 256 * 1024
MAX_HEADERS = 500
MAX_PARTS = 64
MAX_DEPTH = 5
MAX_TEXT_BYTES = 256 * 1024

_HEADER_LINE = re.compile(r"([!-9;-~]{1,76})[ \t]*:[ \t]*(.*)")
_FIELD_RUN = re.compile(r"^([!-9;-~]{1,76})[ \t]*:[ \t]*([^\n]*(?:\n[ \t][^\n]*)*)", re.M)
_FOLD = re.compile(r"\r?\n[ \t]+|\r")
_FOLD_LF = re.compile(r"\n[ \t]+")
_STRAY_LINE = re.compile(r"^(?![ \t\r\n])(?![!-9;-~]{1,76}[ \t]*:)[^\n]", re.M)
#: A quoted value is read as runs of plain characters between escapes (the same strings as
#: ``(?:[^"\\]|\\.)*``, without an alternation tried per character).
_PARAM = re.compile(r';\s*([A-Za-z0-9*_.-]+)\s*=\s*(?:"([^"\\]*(?:\\.[^"\\]*)*)"?|([^;\s]*))')
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_ENCODED_GAP = re.compile(r"(\?=)\s+(=\?)")
_SNIFFED_BOUNDARY = re.compile(rb'boundary\s*=\s*"?([^";\r\n]+)"?', re.I)
_LEADING_BOUNDARY = re.compile(rb"^\s*--([^\s-][^\r\n]{0,200}?)[ \t]*\r?$", re.M)
_TAG = re.compile(r"<(?:style|script)\b.*?</(?:style|script)>|<br\s*/?>|</(?:p|div|tr|li|h\d)>|<[^>]*>", re.I | re.S)
_ENTITY = re.compile(r"&(nbsp|lt|gt|amp|quot|#\d+);")
_SPACES = re.compile(r"[ \t\xa0]+")
_BLANK_LINES = re.compile(r"\n(?:[ \t]*\n)+")
_ENTITIES = {"nbsp": " ", "lt": "<", "gt": ">", "amp": "&", "quot": '"'}

_CHARSET_ALIASES = {
    "": "utf-8",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
    "ks_c_5601-1987": "cp949",
    "iso-8859-8-i": "iso-8859-8",
    "x-sjis": "shift_jis",
    "shift-jis": "shift_jis",
}


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Decode bytes in the declared charset, falling back without ever raising."""
    name = _CHARSET_ALIASES.get((charset or "").strip().strip('"').lower(), (charset or "").strip().strip('"'))
    try:
        codecs.lookup(name)
    except (LookupError, ValueError):
        name = "utf-8"
    try:
        return data.decode(name)
    except (UnicodeDecodeError, LookupError, ValueError):
        pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode(name if name != "utf-8" else "latin-1", "replace")


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words (``=?utf-8?B?...?=``) in a header value."""
    if "=?" not in value:
        return value
    value = _ENCODED_GAP.sub(r"\1\2", value)

    def _one(match: re.Match[str]) -> str:
        charset, encoding, payload = match.group(1).split("*")[0], match.group(2).lower(), match.group(3)
        try:
            if encoding == "b":
                data = binascii.a2b_base64(payload + "=" * (-len(payload) % 4))
            else:
                data = binascii.a2b_qp(payload.replace("_", " ").encode("ascii", "replace"))
        except (binascii.Error, ValueError):
            return match.group(0)
        return decode_bytes(data, charset)

    return _ENCODED_WORD.sub(_one, value)


class Headers:
    """Ordered header fields with case-insensitive lookup of the first or all values.

    Values are stored as written and unfolded when asked for: most fields of
    a report (Received, DKIM-Signature ...) are never read.
    """

    __slots__ = ("_count", "_index", "defects")

    def __init__(self, fields: list[tuple[str, str]], defects: list[str] | None = None) -> None:
        self._count = len(fields)
        index: dict[str, list[str]] = {}
        for name, value in fields:
            key = name.lower()
            values = index.get(key)
            if values is None:
                index[key] = [value]
            else:
                values.append(value)
        self._index = index
        self.defects = defects or []

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self._index.get(name)
        return _unfold(values[0]) if values else default

    def get_all(self, name: str) -> list[str]:
        return [_unfold(value) for value in self._index.get(name, ())]

    def all_of(self, names: tuple[str, ...]) -> list[str]:
        """Every value of each named field, name after name (``get_all`` of each, in one call)."""
        index = self._index
        return [_unfold(value) for name in names for value in index.get(name, ())]

    def first_of(self, names: tuple[str, ...]) -> list[str]:
        """The first value of each named field that is present (``get`` of each, in one call)."""
        index = self._index
        return [_unfold(values[0]) for name in names if (values := index.get(name))]

    def folded(self, name: str) -> str:
        """All values of a field as written (still folded), one per line: cheap to search."""
        joined = "\n".join(self._index.get(name, ()))
        return joined.replace("\r", "") if "\r" in joined else joined

    def __len__(self) -> int:
        return self._count


def _unfold(value: str) -> str:
    if "\r" in value:
        value = _FOLD.sub(" ", value)
    elif "\n" in value:
        value = _FOLD_LF.sub(" ", value)  # the same without CRs, opening with a literal sre skips to
    return value.strip()


def parse_header_text(text: str, defects: list[str] | None = None) -> Headers:
    """Parse an already decoded header block, unfolding continuation lines.

    One regex pass finds every ``Name: value`` field with its indented
    continuation lines. Text between fields that fits neither shape is glued
    to the field before it (and noted as a defect) instead of ending the
    block, because re-flowed or wrapped headers occur in forwarded reports.
    """
    defects = defects if defects is not None else []
    fields = _FIELD_RUN.findall(text, 0, MAX_HEADER_BYTES)
    if (len(text) > MAX_HEADER_BYTES or not _every_line_a_field_or_continuation(text, len(fields))) and _STRAY_LINE.search(text):
        return Headers(_fields_with_strays(text, defects), defects)
    return Headers(fields[:MAX_HEADERS], defects)


def _every_line_a_field_or_continuation(text: str, field_count: int) -> bool:
    """True only if no line of ``text`` is a stray (see ``_STRAY_LINE``), counted with ``str.count``.

    Every line that opens with neither a blank nor a CR starts a field or is a stray, so when
    their number equals the fields found there is none. Blocks with an empty line inside are
    left to the regex (the count of empty lines would overlap)."""
    if "\n\n" in text:
        return False
    lines = text.count("\n") + 1 - text.startswith("\n") - text.endswith("\n") - (not text)
    # A one-character test first spares most blocks two of the three two-character counts.
    continuations = (text.count("\n ") + (text.count("\n\t") if "\t" in text else 0)
                     + (text.count("\n\r") if "\r" in text else 0) + (text[:1] in (" ", "\t", "\r") and text != ""))
    return lines - continuations == field_count


def _fields_with_strays(text: str, defects: list[str]) -> list[tuple[str, str]]:
    """The slow path of :func:`parse_header_text` for blocks with lines that are no fields."""
    fields: list[tuple[str, str]] = []
    position = 0
    for match in _FIELD_RUN.finditer(text):
        if match.start() > position and fields and text[position:match.start()].strip():
            stray = " ".join(text[position:match.start()].split())
            fields[-1] = (fields[-1][0], f"{fields[-1][1]} {stray}")
            defects.append("header line without a field name was unfolded into the previous field")
        position = match.end()
        fields.append((match.group(1), match.group(2)))
        if len(fields) >= MAX_HEADERS:
            defects.append("too many header fields; the rest were ignored")
            break
    return fields


# An mbox "From_" line (``From sender  Thu Apr 29 23:34:45 2015``) followed by a header field:
# where one message of an mbox file ends and the next begins (not always after an empty line:
# some archives omit it). The date is required, so a body line "From the team..." never splits.
_MBOX_SEPARATOR = re.compile(
    rb"\r?\n(?=From \S*[ \t]+[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]?\d \d\d:\d\d(?::\d\d)? (?:\S+ )?\d{4}\r?\n"
    rb"[!-9;-~]{1,76}:)"
)


def split_mbox(raw: bytes) -> list[bytes]:
    """The messages of an mbox file (a file beginning with a ``From_`` line), else ``[raw]``.

    Sisimai and mail archives hand over bounces as mbox files that may hold several; a
    mailbox poller hands over one message, for which this returns it unchanged.
    """
    if not raw.startswith(b"From "):
        return [raw]
    messages, start = [], 0
    for separator in _MBOX_SEPARATOR.finditer(raw):
        messages.append(raw[start:separator.start()] + b"\n")
        start = separator.end()
    messages.append(raw[start:])
    return messages


def split_head_body(raw: bytes) -> tuple[bytes, bytes]:
    """Split a message at the first blank line; a message not starting with a header has no head."""
    if not raw:
        return b"", b""
    newline = raw.find(b"\n", 0, 1000)
    first_line = raw[: newline if newline != -1 else 1000]
    if not _HEADER_LINE.match(first_line.decode("latin-1")) and not raw[:1] in (b" ", b"\t"):
        if not first_line.startswith(b"From "):
            return b"", raw
    blank = _blank_line(raw, MAX_HEADER_BYTES + 4)
    if blank is None:
        if len(raw) > MAX_HEADER_BYTES:
            return raw[:MAX_HEADER_BYTES], raw[MAX_HEADER_BYTES:]
        return raw, b""
    return raw[: blank[0]], raw[blank[1]:]


def _blank_line(raw: bytes, limit: int) -> tuple[int, int] | None:
    """Start and end of the first line break followed by an empty line (``\\r?\\n\\r?\\n``) ending
    within ``limit`` bytes. ``bytes.find`` rather than that regex: sre cannot skip ahead to a
    pattern that opens with an optional byte, and steps through every header byte."""
    lf_lf = raw.find(b"\n\n", 0, limit)
    lf_crlf = raw.find(b"\n\r\n", 0, lf_lf + 2 if lf_lf != -1 else limit)
    if lf_crlf != -1 and (lf_lf == -1 or lf_crlf < lf_lf):
        newline, end = lf_crlf, lf_crlf + 3
    elif lf_lf != -1:
        newline, end = lf_lf, lf_lf + 2
    else:
        return None
    start = newline - 1 if newline and raw[newline - 1] == 13 else newline
    return start, end


def parse_headers(head: bytes) -> Headers:
    """Decode a header block (UTF-8, else Latin-1) and parse it."""
    defects: list[str] = []
    if len(head) > MAX_HEADER_BYTES:
        head = head[:MAX_HEADER_BYTES]
        defects.append("header block larger than the cap was truncated")
    if head.startswith(b"From "):
        head = head[head.find(b"\n") + 1:] if b"\n" in head else b""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = head.decode("latin-1")
        defects.append("8-bit bytes in headers that are not UTF-8 (read as Latin-1)")
    return parse_header_text(text, defects)


def content_type(value: str | None) -> tuple[str, dict[str, str]]:
    """Return the lower-cased ``type/subtype`` and its parameters (names lower-cased)."""
    if not value:
        return "text/plain", {}
    main = value.split(";", 1)[0].strip().lower()
    params = {m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3)) for m in _PARAM.finditer(value)}
    return main or "text/plain", params


@dataclass(slots=True)
class Part:
    """One MIME entity: its headers, content type and raw (still encoded) body."""

    headers: Headers
    ctype: str
    params: dict[str, str]
    body: bytes
    children: list["Part"] = field(default_factory=list)
    decoded: str | None = None

    def payload(self, limit: int = MAX_TEXT_BYTES) -> bytes:
        """The body with its Content-Transfer-Encoding undone (first ``limit`` bytes)."""
        data = self.body[: limit * 2]
        encoding = (self.headers.get("content-transfer-encoding") or "").strip().lower()
        try:
            if encoding == "base64":
                data = binascii.a2b_base64(b"".join(data.split()))
            elif encoding == "quoted-printable":
                data = binascii.a2b_qp(data)
        except (binascii.Error, ValueError):
            pass
        return data[:limit]

    def text(self) -> str:
        """The body decoded to text (first MAX_TEXT_BYTES); HTML reduced to its visible text. Cached."""
        if self.decoded is None:
            text = decode_bytes(self.payload(MAX_TEXT_BYTES), self.params.get("charset"))
            self.decoded = html_to_text(text) if self.ctype == "text/html" else text
        return self.decoded


def html_to_text(html: str) -> str:
    """Cheap tag stripping: good enough to read a bounce's sentences."""
    text = _TAG.sub(lambda m: "\n" if m.group(0)[:2] in ("<b", "</", "<B") else " ", html)
    text = _ENTITY.sub(lambda m: _ENTITIES.get(m.group(1)) or chr(int(m.group(1)[1:]) % 0x110000), text)
    return _BLANK_LINES.sub("\n\n", _SPACES.sub(" ", text))


_QUOTED_HEADER = re.compile(rb"(?m)^(?:Received|Return-Path|Message-I[Dd]|From|Subject|Content-[Tt]ype)[ \t]*:")


def _boundary_for(headers: Headers, head: bytes, body: bytes, params: dict[str, str], defects: list[str]) -> str | None:
    """The boundary that really delimits the body: declared, else one sniffed from head or body."""
    declared = params.get("boundary")
    if declared and b"--" + declared.encode("latin-1", "replace") in body:
        return declared
    sniffed = _SNIFFED_BOUNDARY.search(head) if not declared else None
    if sniffed is None or body.count(b"--" + sniffed.group(1)) < 2:  # one "--x" line is text, not a part
        sniffed = _LEADING_BOUNDARY.search(body, 0, 4000)
        if sniffed is None or body.count(b"--" + sniffed.group(1)) < 2 or _QUOTED_HEADER.search(body, 0, sniffed.start()):
            return declared  # none, or the boundary of a message quoted inline further down
    defects.append("multipart boundary not declared (or not used) in Content-Type; found by sniffing")
    return sniffed.group(1).decode("latin-1").strip()


def _delimiter_lines(body: bytes, marker: bytes):
    """(line start, line end, is closing) of each boundary line, found with ``bytes.find``.

    A boundary line is ``--boundary`` at the start of a line, optionally
    indented (a defect real reports have) and followed by ``--`` and blanks.
    """
    position = body.find(marker)
    while position != -1:
        line_start = body.rfind(b"\n", 0, position) + 1
        line_end = body.find(b"\n", position)
        line_end = len(body) if line_end == -1 else line_end
        rest = body[position + len(marker):line_end].strip()
        if not body[line_start:position].strip(b" \t") and rest in (b"", b"--"):
            yield line_start, line_end, rest == b"--"
        position = body.find(marker, line_end)


def _split_multipart(body: bytes, boundary: str, defects: list[str]) -> list[bytes]:
    chunks: list[bytes] = []
    start = None
    for line_start, line_end, closing in _delimiter_lines(body, b"--" + boundary.encode("latin-1", "replace")):
        if body[line_start:line_start + 1] in (b" ", b"\t"):
            defects.append("indented multipart boundary line accepted")
        if start is not None:
            end = line_start - 1 if line_start and body[line_start - 1:line_start] == b"\n" else line_start
            if end > start and body[end - 1:end] == b"\r":
                end -= 1
            chunks.append(body[start:max(start, end)])
            if len(chunks) >= MAX_PARTS:
                defects.append("too many MIME parts; the rest were ignored")
                return chunks
        if closing:
            return chunks
        start = line_end + 1
    if start is not None:
        defects.append("multipart without a closing boundary")
        chunks.append(body[start:])
    return chunks


def parse_entity(raw: bytes, defects: list[str], depth: int = 0, default_type: str = "text/plain") -> Part:
    """Parse one entity (a whole message or a body part) into a :class:`Part` tree."""
    head, body = split_head_body(raw)
    headers = parse_headers(head)
    defects.extend(headers.defects)
    ctype_value = headers.get("content-type")
    ctype, params = content_type(ctype_value) if ctype_value else (default_type, {})
    part = Part(headers, ctype, params, body)
    if depth >= MAX_DEPTH:
        return part
    if ctype.startswith("multipart/") or (ctype == "text/plain" and depth == 0 and not ctype_value):
        boundary = _boundary_for(headers, head, body, params, defects)
        if boundary:
            child_type = "message/rfc822" if ctype == "multipart/digest" else "text/plain"
            for chunk in _split_multipart(body, boundary, defects):
                part.children.append(parse_entity(chunk, defects, depth + 1, child_type))
            if part.children and not ctype.startswith("multipart/"):
                part.ctype = "multipart/mixed"
        if ctype.startswith("multipart/") and not part.children:
            defects.append("multipart without a usable boundary; body read as text")
            part.ctype = "text/plain"
    return part


def parse_message(raw: bytes) -> tuple[Part, list[str]]:
    """Parse a whole message; returns the root part and the defects met on the way."""
    defects: list[str] = []
    return parse_entity(raw, defects), defects
