"""Reading inbound mail tolerantly: whatever arrives becomes something readable.

Broken MIME, unknown or wrong charsets, raw 8-bit headers and bad encoded-words are
decoded on a best-effort basis and noted in ``defects``; only mail with nothing usable in
it is refused (the intake then quarantines it with the reason).
"""
from __future__ import annotations

import email
import email.policy
import html as html_module
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.header import Header, decode_header
from email.message import Message as EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

import nh3

from ..text import safe_filename
from .addresses import Address, header_addresses, normalise

MAX_TEXT_CHARS = 1_000_000
_MSGID = re.compile(r"<([^<>\s\x00-\x1f\x7f]+)>")
_FALLBACK_CHARSETS = ("utf-8", "cp1252")
_CHARSET_ALIASES = {"unknown-8bit": None, "x-unknown": None, "ks_c_5601-1987": "cp949",
                    "gb2312": "gb18030", "gbk": "gb18030", "iso-8859-8-i": "iso-8859-8"}


@dataclass(frozen=True, slots=True)
class InboundFile:
    filename: str
    content_type: str
    data: bytes


@dataclass
class InboundMail:
    message_id: str | None
    in_reply_to: list[str]
    references: list[str]
    sender: Address | None
    to: list[Address]
    cc: list[Address]
    #: Addresses the mail was delivered to (Delivered-To, X-Original-To, Envelope-To).
    delivered_to: list[str]
    subject: str
    date: datetime | None
    text: str
    html: str | None
    files: list[InboundFile]
    message: EmailMessage = field(repr=False)
    defects: list[str] = field(default_factory=list)

    def header(self, name: str) -> str:
        return decode_text_header(self.message.get(name))


def decode_text_header(value: object) -> str:
    """A header as readable text, decoding RFC 2047 words and stray 8-bit bytes."""
    if value is None:
        return ""
    if isinstance(value, Header):  # compat32 gives raw 8-bit headers as Header objects
        value = _decode_chunks(decode_header(value))
    elif not isinstance(value, str):
        value = str(value)
    if any("\udc80" <= c <= "\udcff" for c in value):  # raw 8-bit bytes in the header
        value = decode_bytes(value.encode("utf-8", "surrogateescape"), None)
    try:
        return _clean(_decode_chunks(decode_header(value)))
    except Exception:  # noqa: BLE001 - malformed encoded words: keep the raw text
        return _clean(value)


def _decode_chunks(parts: list[tuple[bytes | str, str | None]]) -> str:
    out = []
    for chunk, charset in parts:
        if isinstance(chunk, str) and any("\udc80" <= c <= "\udcff" for c in chunk):
            chunk = chunk.encode("utf-8", "surrogateescape")
        out.append(decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk)
    return "".join(out)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\x00", "")).strip()


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset, then UTF-8, then Windows-1252 (never fails)."""
    declared = _CHARSET_ALIASES.get((charset or "").lower(), charset)
    for name in [*([declared] if declared else []), *_FALLBACK_CHARSETS]:
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError, TypeError):
            continue
    return data.decode("latin-1")


def message_ids(value: str) -> list[str]:
    """Message-IDs in a header, without angle brackets (bare ids accepted when alone)."""
    found = _MSGID.findall(value or "")
    if not found and value and "@" in value and not re.search(r"[\s\x00-\x1f\x7f]", value.strip()):
        found = [value.strip().strip("<>")]
    return found


def sanitise_html(html: str) -> str:
    """Markup safe to show agents: no scripts, styles, forms, event handlers or javascript: URLs,
    and no remote images: an image's web address is removed (its alt text stays), so opening a
    mail never tells its sender (a tracking pixel) or anyone else when an agent read it."""
    return nh3.clean(html, url_schemes={"http", "https", "mailto", "cid"}, link_rel="noopener noreferrer nofollow",
                     attribute_filter=_without_remote_images)


def _without_remote_images(element: str, attribute: str, value: str) -> str | None:
    if element == "img" and attribute == "src" and not value.strip().lower().startswith("cid:"):
        return None
    return value


def html_to_text(html: str) -> str:
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", html)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</tr>", "\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"\n{3,}", "\n\n", html_module.unescape(text)).strip()


def _part_text(part: EmailMessage, defects: list[str]) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception as exc:  # noqa: BLE001 - broken transfer encoding
        defects.append(f"undecodable part: {exc}")
        payload = None
    if payload is None:
        raw = part.get_payload()
        payload = raw.encode("utf-8", "replace") if isinstance(raw, str) else b""
    if len(payload) > MAX_TEXT_CHARS:
        defects.append(f"text part cut to {MAX_TEXT_CHARS} bytes")
        payload = payload[:MAX_TEXT_CHARS]
    text = decode_bytes(payload, part.get_content_charset())
    if "\x00" in text:  # never meant to be read, and PostgreSQL cannot store it
        defects.append("NUL characters removed")
        text = text.replace("\x00", "")
    return text


def _filename(part: EmailMessage, index: int) -> str:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001
        name = None
    extension = {"message/rfc822": ".eml", "text/plain": ".txt", "text/html": ".html"}.get(
        part.get_content_type(), ".bin")
    return safe_filename(decode_text_header(name) if name else "", fallback=f"part-{index}{extension}")


def _walk(mail: EmailMessage, defects: list[str]) -> tuple[str, str | None, list[InboundFile]]:
    text_parts: list[str] = []
    html_parts: list[str] = []
    files: list[InboundFile] = []
    for index, part in enumerate(mail.walk()):
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        is_body = disposition != "attachment" and not part.get_filename()
        if is_body and content_type == "text/plain":
            text_parts.append(_part_text(part, defects))
        elif is_body and content_type == "text/html":
            html_parts.append(_part_text(part, defects))
        else:
            try:
                data = part.get_payload(decode=True)
            except Exception:  # noqa: BLE001
                data = None
            if data is None:
                payload = part.get_payload()
                data = payload.encode("utf-8", "replace") if isinstance(payload, str) else b""
            files.append(InboundFile(_filename(part, index), content_type, data))
    html = "\n".join(html_parts) or None
    text = "\n\n".join(t.strip("\n") for t in text_parts) if text_parts else (html_to_text(html) if html else "")
    return text, (sanitise_html(html) if html else None), files


def parse_inbound(raw: bytes) -> InboundMail:
    """Parse received bytes; raises ValueError only when nothing usable is in them."""
    if not raw.strip():
        raise ValueError("empty message")
    mail = email.message_from_bytes(raw, policy=email.policy.compat32)
    defects = [type(d).__name__ for d in mail.defects]
    if not mail.keys():
        raise ValueError("no headers found: not an email")
    text, html, files = _walk(mail, defects)
    senders = header_addresses([decode_text_header(mail.get("From"))]) or header_addresses(
        [decode_text_header(mail.get("Sender")), decode_text_header(mail.get("Return-Path"))])
    try:
        date = parsedate_to_datetime(mail.get("Date", ""))
        date = date if date.tzinfo else None
    except (TypeError, ValueError, IndexError):
        date = None
    delivered = [normalise(a) for _, a in getaddresses(
        mail.get_all("Delivered-To", []) + mail.get_all("X-Original-To", []) + mail.get_all("Envelope-To", []))
        if "@" in a]
    ids = message_ids(str(mail.get("Message-ID", "")))
    return InboundMail(
        message_id=ids[0] if ids else None,
        in_reply_to=message_ids(str(mail.get("In-Reply-To", ""))),
        references=message_ids(str(mail.get("References", ""))),
        sender=senders[0] if senders else None,
        to=header_addresses([decode_text_header(v) for v in mail.get_all("To", [])]),
        cc=header_addresses([decode_text_header(v) for v in mail.get_all("Cc", [])]),
        delivered_to=delivered,
        subject=decode_text_header(mail.get("Subject"))[:998],
        date=date, text=text, html=html, files=files, message=mail, defects=defects,
    )
