"""Reading ``Name: value`` field groups of report parts (RFC 3464, 8098, 5965).

Real reports break the layout: per-recipient groups without a blank line
between them, fields indented, folded values, 8-bit text. The reader here
unfolds values, accepts known field names even when indented, and starts a new
group whenever a field that opens a recipient group shows up again.
"""
from __future__ import annotations

import re

_FIELD = re.compile(r"^[ \t]*([A-Za-z][A-Za-z0-9-]{1,40})[ \t]*:[ \t]?(.*)$")
_LINES = re.compile(r"\r?\n")
#: Fields that come after the recipient's address; once seen, a new address is a new group.
_GROUP_BODY = frozenset({"status", "diagnostic-code", "remote-mta", "last-attempt-date", "will-retry-until", "final-log-id", "disposition"})


def read_groups(
    text: str,
    known: frozenset[str],
    group_openers: frozenset[str],
    defects: list[str],
) -> list[dict[str, str]]:
    """Split a field block into groups of lower-cased field name -> unfolded value.

    ``known`` names are recognised even when indented; any other indented line
    continues the previous value. A repeated field, or a group opener met
    after a group already has one, starts a new group (noted as a defect when
    no blank line separated them).
    """
    groups: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last: str | None = None
    for line in _LINES.split(text) if "\r" in text else text.split("\n"):
        if not line.strip():
            if current:
                groups.append(current)
                current, last = {}, None
            continue
        match = _FIELD.match(line)
        name = match.group(1).lower() if match else None
        indented = line[:1] in (" ", "\t")
        if match and (not indented or name in known):
            if indented:
                defects.append(f"indented field {match.group(1)} accepted")
            if current and _starts_new_group(current, name, group_openers, match.group(2)):
                groups.append(current)
                current = {}
                defects.append("report fields without a blank line between groups")
            current[name] = match.group(2).strip()
            last = name
        elif last is not None:
            current[last] = f"{current[last]} {line.strip()}".strip()
        if len(groups) > 500:
            defects.append("too many report field groups; the rest were ignored")
            break
    if current:
        groups.append(current)
    return groups


def _address(value: str) -> str:
    """The address of an ``rfc822; user@host`` field value, lower-cased."""
    return value.rpartition(";")[2].strip().strip("<>").lower()


def _starts_new_group(current: dict[str, str], name: str, openers: frozenset[str], value: str = "") -> bool:
    """A repeated field, or a recipient after another recipient's status fields, begins the next group.

    ``Original-Recipient`` then ``Final-Recipient`` belong together, and so do
    ``Action``, ``Final-Recipient``, ``Original-Recipient`` (some servers
    write the action first);
    ``Final-Recipient``, ``Action``, ``Status`` then ``Original-Recipient``
    means the next recipient has begun; an ``Original-Recipient`` followed, after other fields, by the
    ``Final-Recipient`` of the same address is one recipient.
    """
    if name in current:
        return True
    if name not in openers:
        return False
    if name == "final-recipient" and "final-recipient" not in current and "original-recipient" in current:
        if _address(current["original-recipient"]) == _address(value):
            return False
    keys = list(current)
    first_opener = next((index for index, key in enumerate(keys) if key in openers), None)
    if first_opener is None:
        return False
    return any(key in _GROUP_BODY for key in keys[first_opener + 1:])
