"""One-line text: what may go into a field that ends up in a mail header (a subject, a name).

A line break in a header value starts a new header (``Bcc: someone@evil``), a NUL goes out
raw. Forms refuse such characters (:func:`has_control_characters`, applied to every one-line
field by :class:`helpdesk.forms.Form`); composing mail flattens whatever still holds them
(:func:`one_line`), so text stored before, or by another path, cannot break a header either.
"""
from __future__ import annotations

import re

#: C0 controls (CR, LF, NUL, tab...), DEL, C1 controls (NEL...), and the Unicode line and
#: paragraph separators: everything that splits or corrupts a header line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_RUNS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")

CONTROL_CHARACTERS_MESSAGE = "Use one line of text: line breaks and control characters are not allowed here."


def has_control_characters(text: str) -> bool:
    return _CONTROL.search(text) is not None


def one_line(text: str) -> str:
    """``text`` with each run of control characters replaced by one space, and trimmed."""
    return _CONTROL_RUNS.sub(" ", text).strip()


_UNSAFE_IN_FILENAMES = re.compile(r"[\\/\x00-\x1f\x7f-\x9f\u2028\u2029]")


def safe_filename(name: str, fallback: str = "attachment") -> str:
    """A file name without folders or control characters, whoever chose it (a customer's
    mail, an agent's upload): ``../../etc/passwd`` becomes ``_.._etc_passwd``; at most 255
    characters; ``fallback`` when nothing is left."""
    cleaned = _UNSAFE_IN_FILENAMES.sub("_", name).strip(". ")
    return cleaned[:255] or fallback
