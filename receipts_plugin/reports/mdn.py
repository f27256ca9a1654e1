"""Read receipts: message disposition notifications (RFC 8098, RFC 3798).

Parses the ``message/disposition-notification`` fields, including the
RFC 3798 disposition types ``denied`` and ``failed`` and modifiers that
RFC 8098 dropped, and recognises plain "Read: ..." notices that carry no
machine-readable part at all, in the languages mail clients commonly use.
"""
from __future__ import annotations

import re

from .addresses import bare_recipient, message_id, split_typed
from .fields import read_groups
from .linestart import LinePattern
from .model import HEURISTIC, STRUCTURED, MdnInfo

MDN_FIELDS = frozenset(
    {"reporting-ua", "mdn-gateway", "original-recipient", "final-recipient", "original-message-id",
     "disposition", "failure", "error", "warning"}
)
DISPOSITION_TYPES = ("displayed", "deleted", "dispatched", "processed", "denied", "failed")
MAX_DISPOSITION_TEXT = 1000

_DISPOSITION = re.compile(
    r"^\s*(?P<action>[a-z-]+)\s*/\s*(?P<sending>[a-z-]+)\s*;\s*(?P<type>[a-z-]+)\s*(?:/\s*(?P<mods>[a-z0-9,\s-]+))?",
    re.I,
)
_MDN_FIELDS_PRESENT = LinePattern(r"^[ \t]*disposition[ \t]*:", re.M)

#: Subject prefixes of plain read notices (what clients write before the original subject).
READ_SUBJECT = re.compile(
    r"^\s*(?:"
    r"read|not read|gelesen|nicht gelesen|lu|non lu|le[ií]do|no le[ií]do|lido|n[aã]o lido|letto|non letto|"
    r"gelezen|niet gelezen|l[aä]st|ol[aä]st|l[æ]st|ul[æ]st|luettu|lukematta|przeczytan[ay]|nieprzeczytan[ay]|"
    r"přečteno|nepřečteno|olvasva|olvasatlan|okundu|okunmadı|прочитано|не прочитано|прочитан[оа]|"
    r"διαβάστηκε|citit|necitit|pročitano|prebrano|已读|已讀|未读|開封済み|읽음|"
    r"return receipt|read receipt|read report|lesebest[aä]tigung|accus[ée] de lecture|confirmaci[oó]n de lectura"
    r")\s*[:：]",
    re.I,
)
#: Body sentences of plain read notices (Outlook, Thunderbird, Apple Mail, Notes...), lower case.
READ_BODY = re.compile(
    r"(?:was read on|has been (?:read|displayed)|was (?:displayed|read) (?:by|at|on)|"
    r"was deleted without being read|wurde am [^\n]{0,60} gelesen|wurde (?:ungelesen )?gel[öo]scht|"
    r"a été lu|a été supprimé sans avoir été lu|ha sido leído|fue leído|è stato letto|foi lido|is gelezen|"
    r"har lästs|er blevet læst|on luettu|została przeczytana|byla přečtena)",
)
_NOT_READ = re.compile(
    r"^\s*(?:not read|nicht gelesen|non lu|no le[ií]do|n[aã]o lido|non letto|niet gelezen|ol[aä]st|ul[æ]st|lukematta|"
    r"nieprzeczytan|nepřečteno|olvasatlan|okunmadı|не прочитано|necitit|未读)",
    re.I,
)
_DELETED = re.compile(r"deleted without being read|ungelesen gel[öo]scht|supprimé sans avoir été lu")


def looks_like_mdn_fields(text: str) -> bool:
    """Does this text carry a Disposition field (so it is MDN data whatever its type)?"""
    return "isposition" in text and bool(_MDN_FIELDS_PRESENT.search(text.lower()))


def disposition_text(info: MdnInfo, first_part: str) -> str | None:
    """The human-readable words of a receipt that says more than "displayed" (a mail filter's
    rejection, RFC 5429: "Your message to <bob@...> was automatically rejected: ..."): its
    first part on one line, cut to :data:`MAX_DISPOSITION_TEXT` characters. None for "displayed"."""
    if info.disposition in (None, "displayed"):
        return None
    return " ".join(first_part.split())[:MAX_DISPOSITION_TEXT] or None


def parse_disposition(value: str | None) -> tuple[str | None, str | None, str | None, tuple[str, ...]]:
    """``manual-action/MDN-sent-manually; displayed/error`` -> (type, action mode, sending mode, modifiers)."""
    if not value:
        return None, None, None, ()
    match = _DISPOSITION.match(value)
    if match:
        mods = tuple(m.strip().lower() for m in (match.group("mods") or "").split(",") if m.strip())
        kind = match.group("type").lower()
        return (kind if kind in DISPOSITION_TYPES else kind), match.group("action").lower(), match.group("sending").lower(), mods
    lowered = value.lower()
    kind = next((t for t in DISPOSITION_TYPES if t in lowered), None)
    return kind, None, None, ()


def parse_mdn_fields(text: str, defects: list[str]) -> MdnInfo:
    """The disposition-notification fields -> :class:`MdnInfo`."""
    merged: dict[str, str] = {}
    for group in read_groups(text, MDN_FIELDS, frozenset(), defects):
        for name, value in group.items():
            merged.setdefault(name, value)
    kind, action_mode, sending_mode, modifiers = parse_disposition(merged.get("disposition"))
    if merged.get("disposition") and action_mode is None:
        defects.append("Disposition field not in the RFC 8098 form")
    return MdnInfo(
        disposition=kind,
        action_mode=action_mode,
        sending_mode=sending_mode,
        modifiers=modifiers,
        raw_disposition=merged.get("disposition"),
        reporting_ua=split_typed(merged.get("reporting-ua"))[1] if merged.get("reporting-ua") else None,
        final_recipient=bare_recipient(merged.get("final-recipient")),
        original_recipient=bare_recipient(merged.get("original-recipient")),
        original_message_id=message_id(merged.get("original-message-id")),
        source=STRUCTURED,
    )


def read_notice(subject: str, body: str) -> MdnInfo | None:
    """A plain read notice without MDN fields, recognised by subject (or body sentence)."""
    start = body[:4000].lower()
    if not READ_SUBJECT.match(subject) and not (READ_BODY.search(start) and len(body) < 20000):
        return None
    if _NOT_READ.match(subject) or _DELETED.search(start):
        kind = "deleted"
    else:
        kind = "displayed"
    return MdnInfo(disposition=kind, source=HEURISTIC)
