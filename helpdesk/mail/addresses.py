"""Parsing and validating address lists typed by agents or found in headers."""
from __future__ import annotations

from collections.abc import Iterable
import re
from dataclasses import dataclass
from email.errors import InvalidHeaderDefect
from email.headerregistry import HeaderRegistry
from email.utils import getaddresses

from email_validator import EmailNotValidError, validate_email
from flask import current_app

from ..text import has_control_characters

_HEADERS = HeaderRegistry()  # the modern (email.policy.default) header classes
_SEPARATORS = re.compile(r'[\s,;<>"()]')
_SPECIALS = re.compile(r'[][\\()<>@,:;".]')  # RFC 5322 specials: a name holding one is quoted


@dataclass(frozen=True, slots=True)
class Address:
    email: str  # normalised: domain lower-cased (and the local part lower-cased, see normalise)
    name: str = ""

    def __str__(self) -> str:
        return mailbox_text(self.name, self.email)


def mailbox_text(name: str, email: str) -> str:
    """"Name <email>" as people read and type it, and as :func:`parse_address_list` reads it
    back: the name in quotes when it holds a comma or another special character, never
    RFC 2047-encoded (that is for headers, see :func:`helpdesk.mail.compose.build_email`)."""
    if not name:
        return email
    if _SPECIALS.search(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{email}>"


class AddressError(ValueError):
    """One or more addresses are not valid; the message names each."""


def normalise(address: str) -> str:
    """The form we store and compare addresses in: trimmed and lower-cased.

    Local parts are case-sensitive in theory, but no real mailbox relies on it, and
    treating ``Bob@x`` and ``bob@x`` as two contacts causes far more harm."""
    return address.strip().lower()


#: The setting that lets addresses in the reserved ``.test`` domain through (tests, demos).
TEST_DOMAINS_SETTING = "HELPDESK_ALLOW_TEST_DOMAINS"


def validate_address(raw: str) -> str:
    """Return the normalised address or raise :class:`AddressError` with a readable reason."""
    allow_test = bool(current_app.config.get("ALLOW_TEST_DOMAINS"))
    try:
        result = validate_email(
            raw.strip(),
            check_deliverability=False,  # never a DNS lookup while an agent waits
            test_environment=allow_test,
        )
    except EmailNotValidError as exc:
        hint = "" if allow_test or not _in_test_domain(raw) else (
            f" Addresses in .test are refused unless {TEST_DOMAINS_SETTING}=true (for test and demo set-ups).")
        raise AddressError(f"{raw.strip() or '(empty)'}: {exc}{hint}") from exc
    return normalise(result.normalized)


def _in_test_domain(raw: str) -> bool:
    """Is this address in the reserved ``.test`` domain (RFC 2606), which only the setting allows?"""
    domain = raw.strip().rpartition("@")[2].rstrip(".").lower()
    return domain == "test" or domain.endswith(".test")


def parse_address_list(text: str) -> list[Address]:
    """Parse a typed To/Cc/Bcc field, "Ann <ann@x.org>, bob@y.org", into validated addresses.

    The whole field must be exactly a list of addresses, read by one parser, the standard
    library's RFC 5322 address-list parser (``email.headerregistry``, modern policy): a space
    inside an address (``a@ex ample.org``), two addresses without a comma, a name without
    angle brackets, a group, or a line break refuse the field whole, so nothing is ever sent
    to other addresses than the ones typed. Semicolons may separate addresses too (as Outlook
    users type them). Each address is then checked by email-validator. Raises
    :class:`AddressError` naming what is wrong; duplicates are dropped, keeping the first."""
    if has_control_characters(text):
        raise AddressError("Addresses go on one line: line breaks and control characters are not allowed.")
    if not text.strip():
        return []
    mailboxes = _address_list(text)
    if mailboxes is None and ";" in text:
        mailboxes = _address_list(text.replace(";", ","))
    if mailboxes is None:
        typed = text.strip()
        if not _SEPARATORS.search(typed):
            validate_address(typed)  # one malformed address: email-validator says exactly what is wrong
        raise AddressError(f"{typed}: not a list of addresses. Separate addresses with commas, and write a "
                           "name with its address as Name <name@example.org>.")
    addresses: list[Address] = []
    errors: list[str] = []
    seen: set[str] = set()
    for name, addr_spec in mailboxes:
        try:
            valid = validate_address(addr_spec)
        except AddressError as exc:
            errors.append(str(exc))
            continue
        if valid not in seen:
            seen.add(valid)
            addresses.append(Address(valid, name.strip()))
    if errors:
        raise AddressError("; ".join(errors))
    return addresses


def _address_list(text: str) -> list[tuple[str, str]] | None:
    """(display name, addr-spec) of each address in ``text``, or None unless ``text`` is an
    address list the parser read without an invalid part, and without groups."""
    try:
        header = _HEADERS("To", text)
    except Exception:  # noqa: BLE001 - the parser gives up on some broken input by raising
        return None
    if any(isinstance(d, InvalidHeaderDefect) for d in header.defects):
        return None
    if any(group.display_name is not None for group in header.groups):
        return None
    return [(a.display_name, a.addr_spec) for a in header.addresses]


def header_addresses(values: list[str]) -> list[Address]:
    """Addresses from received headers, leniently: invalid entries are skipped, not fatal."""
    found: list[Address] = []
    for name, email in getaddresses([v for v in values if v]):
        if "@" in email:
            found.append(Address(normalise(email), name.strip()))
    return found


def without_subaddress(address: str) -> str:
    """``bounces+TOKEN@x.org`` -> ``bounces@x.org`` (normalised); other addresses unchanged."""
    local, at, domain = normalise(address).rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}" if at else normalise(address)


def own_address_set(addresses: Iterable[str]) -> frozenset[str]:
    """The desk's own addresses in the form :func:`is_own_address` compares."""
    return frozenset(without_subaddress(a) for a in addresses if "@" in a)


def is_own_address(address: str, own: frozenset[str]) -> bool:
    """Whether ``address`` is one of ``own`` (any case) or a +subaddress of one
    (``receipts+token@…`` when ``receipts@…`` is ours)."""
    return without_subaddress(address) in own
