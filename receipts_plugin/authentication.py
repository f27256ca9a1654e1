"""Who sent a report, when that can be known: its From, authenticated by DKIM.

A From field is written by the sender, so it proves something only when a DKIM signature of
the From's domain verifies (or of a parent domain: whoever holds ``example.com`` controls
the DNS of ``mail.example.com``). That verdict is taken from an ``Authentication-Results``
field (RFC 8601) only when our own mail server wrote it: its authserv-id is one the admin
trusts, and of the fields bearing that id only the topmost counts. Our server adds its field
above everything the sender wrote, so a sender who writes a field with our id further down
gains nothing (RFC 8601 also asks the server to remove such fields; not every one does).
Optionally the signatures are verified here with dkimpy (DNS lookups, so off by default).

Pure apart from the DNS lookups of :func:`verify_dkim` (whose resolver can be given).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from email import policy
from email.parser import BytesHeaderParser

import authres
import dkim

#: ``dnsfunc(name: bytes, timeout: int) -> bytes | None``: a TXT record, as dkimpy asks for one.
DnsLookup = Callable[..., bytes | None]

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_AUTHSERV_ID = re.compile(r"^\s*(?:\([^)]*\)\s*)*([^\s;()]+)")


@dataclass(frozen=True, slots=True)
class AuthenticatedFrom:
    address: str  # the From address, lower-cased
    domain: str  # the DKIM signing domain (d=) that vouches for it
    source: str  # "authentication-results" or "dkim"


def header_fields(raw: bytes) -> list[tuple[str, str]]:
    """The mail's header fields, top first: (lower-case name, unfolded value)."""
    end = _HEADER_END.search(raw)
    head = raw[:end.end()] if end else raw
    parsed = BytesHeaderParser(policy=policy.compat32).parsebytes(head)
    return [(name.lower(), re.sub(r"\r?\n[ \t]", " ", str(value))) for name, value in parsed.items()]


def aligned(domain: str, signer: str) -> bool:
    """``domain`` is the signing domain or below it."""
    domain, signer = domain.lower().rstrip("."), signer.lower().rstrip(".")
    return bool(signer) and (domain == signer or domain.endswith("." + signer))


def from_address(fields: Iterable[tuple[str, str]]) -> str | None:
    """The one address of the one From field, lower-cased; None when there are several
    (a second From is a classic way to show one address and have another one signed)."""
    values = [value for name, value in fields if name == "from"]
    if len(values) != 1:
        return None
    try:
        addresses = policy.default.header_factory("from", values[0]).addresses
    except Exception:  # noqa: BLE001 - a malformed header is data from strangers
        return None
    if len(addresses) != 1 or not addresses[0].domain or not addresses[0].username:
        return None
    return addresses[0].addr_spec.lower()


def trusted_dkim_domains(fields: Iterable[tuple[str, str]], trusted_ids: Collection[str]) -> set[str]:
    """The domains with ``dkim=pass`` in the topmost Authentication-Results field of each
    trusted authserv-id (fields further down with the same id are ignored)."""
    trusted = {i.lower() for i in trusted_ids}
    seen: set[str] = set()
    domains: set[str] = set()
    for name, value in fields:
        if name != "authentication-results":
            continue
        found = _AUTHSERV_ID.match(value)
        authserv_id = found.group(1).lower() if found else ""
        if authserv_id not in trusted or authserv_id in seen:
            continue
        seen.add(authserv_id)  # the topmost of this id, even if it cannot be read
        try:
            header = authres.AuthenticationResultsHeader.parse(f"Authentication-Results: {value}")
        except Exception:  # noqa: BLE001
            continue
        for result in header.results:
            if result.method.lower() == "dkim" and (result.result or "").lower() == "pass":
                signer = getattr(result, "header_d", None) or (getattr(result, "header_i", None) or "").rpartition("@")[2]
                if signer:
                    domains.add(signer.lower())
    return domains


def verify_dkim(raw: bytes, dnsfunc: DnsLookup | None = None) -> set[str]:
    """The signing domains of the mail's DKIM signatures that verify (dkimpy; it requires the
    From field to be signed)."""
    domains: set[str] = set()
    try:
        checker = dkim.DKIM(raw)
        count = sum(1 for name, _ in checker.headers if name.lower() == b"dkim-signature")
        for index in range(count):
            verified = checker.verify(idx=index, dnsfunc=dnsfunc) if dnsfunc else checker.verify(idx=index)
            if verified and checker.domain:
                domains.add(checker.domain.decode("ascii", "replace").lower())
    except Exception:  # noqa: BLE001 - a broken signature or message is simply not authenticated
        pass
    return domains


def authenticated_from(raw: bytes, trusted_ids: Collection[str] = (), verify: bool = False,
                       dnsfunc: DnsLookup | None = None) -> AuthenticatedFrom | None:
    """The mail's From, when a DKIM signature aligned with it passed (see the module)."""
    fields = header_fields(raw)
    address = from_address(fields)
    if address is None:
        return None
    domain = address.rpartition("@")[2]
    signer = _aligned(domain, trusted_dkim_domains(fields, trusted_ids))
    if signer:
        return AuthenticatedFrom(address, signer, "authentication-results")
    signer = _aligned(domain, verify_dkim(raw, dnsfunc)) if verify else None
    return AuthenticatedFrom(address, signer, "dkim") if signer else None


def _aligned(domain: str, signers: set[str]) -> str | None:
    """The most specific of ``signers`` that ``domain`` is aligned with."""
    return max((s for s in signers if aligned(domain, s)), key=len, default=None)
