"""Parsing and validating address lists typed by agents or found in headers."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import getaddresses, parseaddr

from email_validator import EmailNotValidError, validate_email
from flask import current_app


@dataclass(frozen=True, slots=True)
class Address:
    email: str  # normalised: domain lower-cased (and the local part lower-cased, see normalise)
    name: str = ""

    def __str__(self) -> str:
        from email.utils import formataddr

        return formataddr((self.name, self.email)) if self.name else self.email


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
    """Parse "Ann <ann@x.org>, bob@y.org; carol@z.org" into validated addresses.

    Raises :class:`AddressError` naming every bad entry, so a form can show them all at once.
    Duplicates are dropped, keeping the first."""
    addresses: list[Address] = []
    errors: list[str] = []
    seen: set[str] = set()
    for chunk in split_address_list(text):
        name, email = parseaddr(chunk)
        try:
            valid = validate_address(email or chunk)
        except AddressError as exc:
            errors.append(str(exc))
            continue
        if valid not in seen:
            seen.add(valid)
            addresses.append(Address(valid, name.strip() if email else ""))
    if errors:
        raise AddressError("; ".join(errors))
    return addresses


def split_address_list(text: str) -> list[str]:
    """Split on commas and semicolons outside quotes and angle brackets."""
    chunks, current, quoted, angle = [], [], False, 0
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char == "<" and not quoted:
            angle += 1
        elif char == ">" and not quoted:
            angle = max(0, angle - 1)
        if char in ",;" and not quoted and not angle:
            chunks.append("".join(current))
            current = []
        else:
            current.append(char)
    chunks.append("".join(current))
    return [c.strip() for c in chunks if c.strip()]


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
