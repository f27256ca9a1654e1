"""Address, Message-ID and date helpers shared by every report family."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

_ADDRESS = re.compile(
    r"(?<![A-Za-z0-9.!#$%&'*+/=?^_`{|}~@-])"
    r"([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)"
    r"(?![A-Za-z0-9-]*@)"
)
_QUOTED_LOCAL = re.compile(r'"([^"\r\n]{1,64})"@([A-Za-z0-9.-]+\.[A-Za-z]{2,})')
_DATE = re.compile(
    r"(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4}|\d{2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s+([+-])(\d{2})(\d{2})\b"
)
#: The zones met so far, by their written offset (immutable objects: one each is enough).
_ZONES: dict[tuple[str, str, str], timezone] = {}
_MONTHS = {name: number for number, name in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_MSGID = re.compile(r"<([^<>\s]+)>")
_TYPE_PREFIX = re.compile(r"^\s*([A-Za-z0-9-]{2,20})\s*;\s*(.*)$", re.S)
_DAEMON = re.compile(
    r"^(?:mailer-daemon|postmaster|mail-daemon|maildaemon|mailerdaemon|mail\.delivery\.subsystem|"
    r"double-bounce|bounce|bounces|noreply|no-reply|root|nobody|abuse|fbl|mdaemon)(?:[+.-][^@]*)?@",
    re.I,
)


def find_addresses(text: str, lower: bool = True) -> list[str]:
    """All addresses in a text (lower-cased unless told not to), in order, without duplicates."""
    if "@" not in text:
        return []  # most texts searched (fields, notice lines) hold none: spare the regex its scan
    seen: dict[str, None] = {}
    for match in (_ADDRESS.finditer(text) if len(text) < _LONG_TEXT else _addresses_in(text)):
        address = match.group(1).strip(".")
        seen.setdefault(address.lower() if lower else address, None)
    if not seen and '"@' in text:
        for match in _QUOTED_LOCAL.finditer(text):
            seen.setdefault(f'"{match.group(1)}"@{match.group(2)}'.lower(), None)
    return list(seen)


def first_address(text: str | None) -> str | None:
    """The first address in a text (lower-cased), or None."""
    if not text or "@" not in text:
        return None
    match = _ADDRESS.search(text) if len(text) < _LONG_TEXT else _next_address(text, 0)
    return match.group(1).lower().strip(".") if match else None


#: Characters of a local part and its dots: a match of ``_ADDRESS`` begins where a run of them ending
#: at its "@" begins (its lookbehind allows no start inside such a run).
_LOCAL_RUN = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]*")
_LOCAL_WINDOW = 80
#: Texts shorter than this are searched by ``re`` alone: there is little to skip.
_LONG_TEXT = 300


def _next_address(text: str, pos: int) -> re.Match[str] | None:
    """``_ADDRESS.search(text, pos)``, started just before the next "@" instead of at ``pos``.

    Every match holds one "@" and begins where the run of local-part characters before it
    begins, so no match begins between ``pos`` and that run: sre is spared trying the pattern
    at every position of a long text. Only when the run is longer than the window is the
    search started at ``pos``, as before."""
    at = text.find("@", pos)
    if at < 0:
        return None
    start = at - _LOCAL_WINDOW
    if start <= pos or _LOCAL_RUN.fullmatch(text, start - 1, at):
        start = pos
    return _ADDRESS.search(text, start)


def _addresses_in(text: str):
    """``_ADDRESS.finditer(text)``, each search started by :func:`_next_address`."""
    pos = 0
    while True:
        match = _next_address(text, pos)
        if match is None:
            return
        yield match
        pos = match.end()


def split_typed(value: str | None) -> tuple[str | None, str | None]:
    """Split ``rfc822; user@example.org`` into ('rfc822', 'user@example.org')."""
    if not value:
        return None, None
    match = _TYPE_PREFIX.match(value)
    if match:
        return match.group(1).lower(), match.group(2).strip()
    return None, value.strip()


def bare_recipient(value: str | None) -> str | None:
    """A typed address field reduced to the bare lower-case address.

    For non-Internet address types (``unknown; nair_s``) the written value is
    kept, lower-cased, since it is all the report says.
    """
    _, address = split_typed(value)
    if not address:
        return None
    found = first_address(address)
    if found:
        return found
    cleaned = address.strip().strip("<>").strip()
    return cleaned.lower() or None


_INTERNET_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")


def is_internet_address(address: str | None) -> bool:
    """``local@domain.tld``: not an X.400 or other non-Internet form, not a bare host name
    (``user@server``), not a source route (``@relay:user@host``)."""
    if not address or address.count("@") != 1 or "/" in address or ":" in address:
        return False
    local, _, domain = address.rpartition("@")
    return bool(local) and bool(_INTERNET_DOMAIN.match(domain.lower()))


def is_daemon_address(address: str) -> bool:
    """True for MAILER-DAEMON, postmaster and similar robot senders."""
    return bool(_DAEMON.match(address))


def message_id(value: str | None) -> str | None:
    """A Message-ID without angle brackets (the first one when several are given)."""
    if not value:
        return None
    match = _MSGID.search(value)
    if match:
        return match.group(1)
    value = value.strip().strip("<>").strip()
    return value.split()[0] if value else None


def message_ids(value: str | None) -> tuple[str, ...]:
    """Every Message-ID in a References-like header, without brackets."""
    if not value:
        return ()
    return tuple(_MSGID.findall(value)) or tuple(v.strip("<>") for v in value.split() if "@" in v)


def parse_date(value: str | None) -> datetime | None:
    """RFC 5322 date to datetime; None for anything unparseable.

    The common shape is read with one regex; anything else goes to
    :func:`email.utils.parsedate_to_datetime`, which is thorough but slower.
    """
    if not value:
        return None
    value = value.split(";")[-1].strip() if ";" in value else value.strip()
    match = _DATE.match(value)
    if match and match.group(2).lower() in _MONTHS:
        day, month, year, hour, minute, second, sign, zone_hours, zone_minutes = match.groups()
        year_number = int(year) + (2000 if len(year) == 2 and int(year) < 50 else 1900 if len(year) == 2 else 0)
        zone = _ZONES.get((sign, zone_hours, zone_minutes))
        if zone is None:
            offset = timedelta(hours=int(zone_hours), minutes=int(zone_minutes)) * (-1 if sign == "-" else 1)
            try:
                zone = timezone(offset)
            except ValueError:
                return None
            if len(_ZONES) < 1000:
                _ZONES[sign, zone_hours, zone_minutes] = zone
        try:
            return datetime(year_number, _MONTHS[month.lower()], int(day), int(hour), int(minute), int(second or 0),
                            tzinfo=zone)
        except ValueError:
            return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
