"""Reasons decided by the remote provider's own error codes ("rhost" rules).

Large providers document their rejection codes and texts (Orange's
``OFR_506``, Cox's ``AUP#CXBL``, GoDaddy's ``IB607``, Facebook's ``RCP-P2``,
Microsoft's ``5.7.606-649 Access denied, banned sending IP`` ...). A code
means the same in every bounce from that provider, so it is read first, before
the generic phrase tables, exactly when the failure came from that provider.

Which provider is told, as Sisimai does, by host-name suffixes tried in order:
the recipient's domain, then the remote MTA (the ``Remote-MTA`` field or the
host a notice names), then the reporting MTA. Only the first provider found is
asked; when its tables say nothing the generic decision applies.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .rhost_tables import GOOGLE, MICROSOFT, MICROSOFT_LABELS, MIMECAST, Row, phrase_rows

#: Provider -> host-name suffixes of its mail servers (and recipient domains).
PROVIDER_HOSTS: dict[str, tuple[str, ...]] = {
    "aol": (".mail.aol.com", ".mx.aol.com"),
    "apple": (".mail.icloud.com", ".apple.com", ".me.com"),
    "cloudflare": (".mx.cloudflare.net",),
    "cox": ("cox.net",),
    "facebook": (".facebook.com",),
    "franceptt": (".laposte.net", ".orange.fr", ".wanadoo.fr"),
    "godaddy": ("smtp.secureserver.net", "mailstore1.secureserver.net"),
    "google": ("aspmx.l.google.com", "gmail-smtp-in.l.google.com"),
    "gsuite": ("googlemail.com",),
    "iua": (".email.ua",),
    "kddi": (".ezweb.ne.jp", "msmx.au.com"),
    "messagelabs": (".messagelabs.com",),
    "microsoft": (".prod.outlook.com", ".protection.outlook.com", ".onmicrosoft.com", ".exchangelabs.com"),
    "mimecast": (".mimecast.com",),
    "nttdocomo": ("mfsmax.docomo.ne.jp",),
    "outlook": (".hotmail.com",),
    "spectrum": ("charter.net",),
    "tencent": (".qq.com",),
    "yahooinc": (".yahoodns.net",),
    "zoho": (".zoho.com", ".zoho.eu", ".zoho.in", ".zohomail.com"),
}

#: Providers whose texts alone decide (no status or reply condition), tried in order.
PHRASES: dict[str, tuple[Row, ...]] = {
    "aol": (*phrase_rows("hostunknown", "host or domain name not found"),
            *phrase_rows("notaccept", "type=mx: malformed or unexpected name server reply")),
    "apple": (
        *phrase_rows("authfailure", "s dmarc policy", "blocked for failing both spf and dkim autentication checks"),
        *phrase_rows("blocked", "rejected due to having a domain present in the spamhaus", "rejected due to listing in spamhaus",
               "blocked - see https://support.proofpoint.com/dnsbl-lookup", "not accepting connections"),
        *phrase_rows("hasmoved", "recipient no longer on server"), *phrase_rows("mailboxfull", "user is over quota"),
        *phrase_rows("norelaying", "relay access denied"), *phrase_rows("notaccept", "host/domain does not accept mail"),
        *phrase_rows("policyviolation", "due to local policy"), *phrase_rows("rejected", "sender address rejected"),
        *phrase_rows("speeding", "due to excessive volume"),
        *phrase_rows("userunknown", "inactive email address", "user does not exist", "unknown or illegal alias")),
    "cloudflare": (*phrase_rows("blocked", "found on one or more dnsbls"), *phrase_rows("systemerror", "upstream error")),
    "cox": (
        *phrase_rows("blocked", "cox too many bad commands from", "too many invalid recipients"),
        *phrase_rows("requireptr", "dns check failure - try again later", "rejected - no rdns"),
        *phrase_rows("policyviolation", "esmtp no data before greeting", "attachment extension is forbidden"),
        *phrase_rows("rejected", "sender rejected"), *phrase_rows("systemerror", "esmtp server temporarily not available"),
        *phrase_rows("toomanyconn", "too many sessions from", "requested action aborted: try again later",
                     "message threshold exceeded"),
        *phrase_rows("userunknown", "recipient rejected")),
    "franceptt": (*phrase_rows("authfailure", "spf/dns de votre nom de domaine"),),
    "godaddy": (
        *phrase_rows("blocked", "rbl reject", "www.spamhaus.org/query/bl?ip="),
        *phrase_rows("expired", "has been in the queue too long", "delivery timeout"),
        *phrase_rows("mailboxfull", "account storage limit"), *phrase_rows("spamdetected", "message rejected for spam or virus content"),
        *phrase_rows("suspend", "account disabled"), *phrase_rows("systemerror", "message is looping"),
        *phrase_rows("userunknown", "recipient not found", "account does not exist")),
    "kddi": (*phrase_rows("filtered", "550 : user unknown"), *phrase_rows("userunknown", ">: user unknown")),
    "messagelabs": (
        *phrase_rows("authfailure", "domain authentication fail"), *phrase_rows("badreputation", "connection rejected by policy"),
        *phrase_rows("blocked", "mail rejected because your ip is in the pbl", "your ip address has been "),
        *phrase_rows("contenterror", "stray linefeeds in message"), *phrase_rows("failedstarttls", "tls/sslv3 connection required"),
        *phrase_rows("norelaying", " as a relay, "),
        *phrase_rows("notcompliantrfc", "550 requested action aborted [4]", "has detected that this message is not rfc 5322"),
        *phrase_rows("rejected", "sender envelope domain not allowed for sender ip address", "your domain has been blocked",
               "your email address has been blocked", "your envelope sender is in my badmailfrom list",
               "your email address has been blacklisted", "your domain has been blacklisted"),
        *phrase_rows("securityerror", "please turn on smtp authentication in your mail client"),
        *phrase_rows("spamdetected", "message filtered", "filtered by outbound scanning"),
        *phrase_rows("toomanyconn", "too many recipients received this hour", "too many messages"),
        *phrase_rows("userunknown", "542 ", " rejected", "no such user", "invalid recipient", "mailbox is not allowed")),
    "nttdocomo": (*phrase_rows("mailboxfull", "552 too much mail data"),
                  *phrase_rows("syntaxerror", "503 bad sequence of commands", "504 command parameter not implemented"),
                  *phrase_rows("toomanyconn", "552 too many recipients")),
    "outlook": (*phrase_rows("hostunknown", "the mail could not be delivered to the recipient because the domain is not reachable"),
                *phrase_rows("userunknown", "requested action not taken: mailbox unavailable")),
    "tencent": (
        *phrase_rows("authfailure", "spf check failed", "dmarc check failed"),
        *phrase_rows("blocked", "suspected bounce attacks", "suspected spam ip", "connection denied"),
        *phrase_rows("mesgtoobig", "message too large"), *phrase_rows("rejected", "suspected spam", "mail is rejected by recipients"),
        *phrase_rows("spamdetected", "spam is embedded in the email", "mail content denied"),
        *phrase_rows("speeding", "mailbox unavailable or access denined", "frequency of receiving messages is limited"),
        *phrase_rows("suspend", "is a deactivated mailbox"), *phrase_rows("syntaxerror", "bad address syntax"),
        *phrase_rows("toomanyconn", "ip frequency limited", "domain frequency limited", "sender frequency limited",
               "connection frequency limited"),
        *phrase_rows("userunknown", "mailbox not found")),
    "yahooinc": (
        *phrase_rows("authfailure", "yahoo requires all senders to authenticate with either spf or dkim"),
        *phrase_rows("blocked", " because the ip is in spamhaus's list;", "not accepted from ip addresses on spamhaus xbl"),
        *phrase_rows("norelaying", "relaying denied for "), *phrase_rows("notcompliantrfc", "headers are not rfc compliant"),
        *phrase_rows("policyviolation", "not accepted for policy reasons"),
        *phrase_rows("rejected", "temporarily deferred due to unexpected volume or user complaints",
               "due to unresolvable rfc.5321 domain", " will be permanently deferred"),
        *phrase_rows("speeding", "user is receiving mail too quickly"),
        *phrase_rows("suspend", " is no longer valid.", "this mailbox is disabled"),
        *phrase_rows("syntaxerror", "syntax error in parameters or arguments"),
        *phrase_rows("toomanyconn", "max message per connection reached"),
        *phrase_rows("userunknown", "dd this user doesn't have a ", "mailbox not found")),
    "zoho": (
        *phrase_rows("policyviolation", "email policy violation detected", "mailbox delivery restricted by policy error"),
        *phrase_rows("rejected", "email cannot be delivered. reason: email flagged as spam", "mail rejected by destination domain"),
        *phrase_rows("systemerror", "temporary system error"), *phrase_rows("userunknown", "user does not exist")),
    "gsuite": (*phrase_rows("notaccept", "null mx"),
               *phrase_rows("userunknown", "because the address couldn't be found. check for typos or unnecessary spaces and try again.")),
}
#: Providers whose rows also name a status code or reply code.
CODED_PHRASES: dict[str, tuple[Row, ...]] = {"microsoft": MICROSOFT, "google": GOOGLE, "mimecast": MIMECAST}

#: Provider error labels written into the text, and what they mean.
_FRANCEPTT_LABEL = re.compile(r"\b(?:lpn|ofr|ouk)[a-z]*\d*[-_]?(\d{3})\b")
FRANCEPTT_CODES: dict[str, str] = {
    "101": "blocked", "102": "blocked", "103": "blocked", "104": "toomanyconn", "305": "securityerror",
    "401": "authfailure", "402": "securityerror", "403": "rejected", "405": "rejected", "415": "rejected",
    "416": "userunknown", "417": "mailboxfull", "420": "suspend", "421": "rejected", "426": "suspend",
    "505": "systemerror", "506": "spamdetected", "510": "blocked", "514": "mesgtoobig", "517": "authfailure",
    "630": "policyviolation", "999": "blocked",
}
_COX_LABEL = re.compile(r"AUP#([A-Z0-9]+)")
COX_CODES: dict[str, str] = {
    "CXBL": "blocked", "CXDNS": "requireptr", "CXSNDR": "authfailure", "CXSMTP": "rejected", "CXCNCT": "toomanyconn",
    "CXMXRT": "toomanyconn", "CDRBL": "blocked", "CXTHRT": "securityerror", "CXMJ": "securityerror",
    **{f"IPBL{bits}": "blocked" for bits in ("0001", "0010", "0100", "0011", "0101", "0110", "0111", "1000", "1001",
                                              "1010", "1011", "1100", "1101", "1110", "1111", "00001")},
    "URLBL011": "spamdetected", "URLBL101": "spamdetected", "URLBL110": "spamdetected", "URLBL1001": "spamdetected",
}
_SPECTRUM_LABEL = re.compile(r"AUP#\D*(\d{4})")
#: Spectrum's AUP#I/O numbers: (first, last, reason).
SPECTRUM_RANGES: tuple[tuple[int, int, str], ...] = (
    (1000, 1000, "blocked"), (1010, 1010, "rejected"), (1020, 1080, "rejected"), (1090, 1090, "systemerror"),
    (1100, 1150, "requireptr"), (1160, 1190, "policyviolation"), (1200, 1250, "blocked"), (1260, 1260, "networkerror"),
    (1300, 1340, "toomanyconn"), (1350, 1490, "speeding"), (1500, 1520, "rejected"), (1530, 1530, "mesgtoobig"),
    (1540, 1550, "speeding"), (1560, 1560, "policyviolation"), (1580, 1580, "speeding"),
)
_GODADDY_LABEL = re.compile(r" (IB\d{3})\b")
GODADDY_CODES: dict[str, str] = {
    "IB401": "securityerror", "IB501": "notcompliantrfc", "IB502": "notcompliantrfc", "IB506": "rejected",
    "IB508": "authfailure", "IB108": "requireptr", "IB212": "spamdetected", "IB705": "virusdetected",
    "IB605": "toomanyconn", "IB007": "toomanyconn", "IB101": "speeding", "IB110": "blocked", "IB111": "blocked",
    "IB112": "blocked", "IB113": "blocked", "IB504": "speeding", "IB510": "speeding", "IB607": "speeding",
    "IB103": "badreputation", "IB104": "blocked", "IB105": "blocked", "IB106": "blocked",
}
_FACEBOOK_LABEL = re.compile(r"\b([A-Z]{3}-[PT]\d)\b")
FACEBOOK_CODES: dict[str, str] = {
    "POL-P7": "authfailure", "POL-P1": "blocked", "POL-P2": "blocked", "POL-P3": "blocked", "POL-P4": "blocked",
    "POL-T1": "blocked", "POL-T2": "blocked", "POL-T3": "blocked", "MSG-P2": "contenterror", "RCP-P2": "filtered",
    "RCP-P3": "filtered", "MSG-P1": "mesgtoobig", "INT-P2": "mesgtoobig", "MSG-P3": "notcompliantrfc",
    "DNS-P1": "rejected", "DNS-P2": "rejected", "DNS-T1": "rejected", "DNS-P3": "requireptr", "DNS-T2": "requireptr",
    "POL-P6": "spamdetected", "RCP-T4": "suspend", "RCP-T1": "systemerror", "CON-T1": "toomanyconn",
    "CON-T2": "toomanyconn", "CON-T3": "toomanyconn", "CON-T4": "toomanyconn", "MSG-T1": "toomanyconn",
    "RCP-P1": "userunknown", "INT-P1": "userunknown", "INT-P3": "userunknown", "INT-P4": "userunknown",
    "POL-P5": "virusdetected",
}
_IUA_LABEL = re.compile(r"\.i\.ua/err/(\d+)/")
IUA_CODES: dict[str, str] = {
    "1": "norelaying", "2": "userunknown", "3": "suspend", "4": "mailboxfull", "5": "toomanyconn",
    "6": "norelaying", "7": "blocked", "8": "rejected", "9": "blocked", "10": "filtered",
}
_REPORTING_HOST_IN_TEXT = re.compile(r"(?:generating server|reporting-mta)[ \t]*:[ \t]*(?:dns[ \t]*;[ \t]*)?([a-z0-9][a-z0-9.-]*\.[a-z]{2,})", re.I)
#: ``h(?<=\bh)ost`` is ``\bhost`` with the word boundary looked at after the "h", so sre can skip
#: to the first letters instead of trying the pattern at every position.
_HOST_IN_TEXT = re.compile(r"(?:h(?<=\bh)ost:?\s+|while talking to\s+)([a-z0-9][a-z0-9.-]*\.[a-z]{2,})\.?", re.I)


@dataclass(frozen=True, slots=True)
class Where:
    """Where a failure happened: the recipient's domain, remote and reporting hosts, and the text
    whose "host x" mentions name remote hosts too (read only when the fields name no provider)."""

    destination: str = ""
    remote_hosts: tuple[str, ...] = ()
    local_hosts: tuple[str, ...] = ()
    text: str = ""


def hosts_named_in(text: str) -> tuple[str, ...]:
    """Remote host names a notice names ("host mx.example.org[192.0.2.1] said", "While talking to ...")."""
    if "host" not in text and "alking" not in text:
        return ()
    return tuple(dict.fromkeys(match.group(1).lower() for match in _HOST_IN_TEXT.finditer(text[:4000])))


def reporting_hosts_named_in(text: str) -> tuple[str, ...]:
    """The reporting host a notice names (Exchange's "Generating server: ...", a Reporting-MTA line)."""
    if "enerating" not in text and "eporting" not in text:
        return ()
    return tuple(dict.fromkeys(match.group(1).lower() for match in _REPORTING_HOST_IN_TEXT.finditer(text[:16000])))


def _label_suffixes(name: str) -> list[str]:
    """``a.b.example.org`` -> [``a.b.example.org``, ``b.example.org``, ``example.org``]."""
    labels = name.split(".")
    return [".".join(labels[index:]) for index in range(len(labels) - 1)]


#: Host name (a provider's suffix without its leading dot) -> provider, first listed wins.
_BY_HOST: dict[str, str] = {}
#: Recipient domain -> provider: every label suffix of a provider's host names (``docomo.ne.jp`` is served
#: by ``mfsmax.docomo.ne.jp``), as Sisimai matches the recipient's domain.
_BY_DOMAIN: dict[str, str] = {}
for _name, _suffixes in PROVIDER_HOSTS.items():
    for _suffix in _suffixes:
        _BY_HOST.setdefault(_suffix.lstrip("."), _name)
        for _domain in _label_suffixes(_suffix.lstrip(".")):
            _BY_DOMAIN.setdefault(_domain, _name)


def provider(where: Where) -> str | None:
    """The provider a failure came from: recipient domain first, then remote, then reporting host."""
    domain = where.destination.lower().strip(".")
    if domain in _BY_DOMAIN:
        return _BY_DOMAIN[domain]
    for hosts in _host_groups(where):
        for host in hosts:
            suffix = (host or "").lower().strip(". []")
            while "." in suffix:
                if suffix in _BY_HOST:
                    return _BY_HOST[suffix]
                suffix = suffix[suffix.index(".") + 1:]
    return None


def _host_groups(where: Where) -> Iterator[tuple[str, ...]]:
    """Remote hosts from fields, then those the text names (read only if still needed), then reporting hosts."""
    yield where.remote_hosts
    if where.text:
        yield hosts_named_in(where.text)
    yield where.local_hosts


def remote_reason(where: Where, status: str | None, reply: str | None, command: str | None, diagnostic: str) -> str | None:
    """The reason the provider's own codes or texts give, or None when they say nothing."""
    name = provider(where)
    if name is None or not diagnostic:
        return None
    text = diagnostic.lower()
    coded = _labelled_reason(name, diagnostic, text, reply)
    if coded:
        return coded
    if name == "nttdocomo":
        special = _nttdocomo(status, command)
        if special:
            return special
    if name == "gsuite":
        special = _gsuite_dns(status, reply, text)
        if special:
            return special
    for reason, phrase, status_spec, reply_code in (*PHRASES.get(name, ()), *CODED_PHRASES.get(name, ())):
        if reply_code and reply_code != reply:
            continue
        if status_spec and not _status_matches(status_spec, status):
            continue
        if phrase in text:
            return reason
    return None


def _labelled_reason(name: str, diagnostic: str, text: str, reply: str | None) -> str | None:
    """Reasons carried by a provider's error label (OFR_506, AUP#CXBL, IB607, RCP-P2 ...)."""
    if name == "franceptt":
        found = _FRANCEPTT_LABEL.findall(text)
        return FRANCEPTT_CODES.get(found[-1]) if found else None
    if name == "cox":
        found = _COX_LABEL.search(diagnostic)
        return COX_CODES.get(found.group(1)) if found else None
    if name == "spectrum":
        found = _SPECTRUM_LABEL.search(diagnostic)
        number = int(found.group(1)) if found else -1
        return next((reason for first, last, reason in SPECTRUM_RANGES if first <= number <= last), None)
    if name == "godaddy":
        found = _GODADDY_LABEL.search(diagnostic)
        return GODADDY_CODES.get(found.group(1)) if found else None
    if name == "facebook":
        found = _FACEBOOK_LABEL.search(diagnostic)
        return FACEBOOK_CODES.get(found.group(1)) if found else None
    if name == "iua":
        found = _IUA_LABEL.search(text)
        return IUA_CODES.get(found.group(1)) if found else None
    if name == "microsoft":
        for label, (code, reason) in MICROSOFT_LABELS.items():
            if label in diagnostic and reply == code:
                return reason
    return None


def _nttdocomo(status: str | None, command: str | None) -> str | None:
    """NTT docomo answers "550 Unknown user" both for a missing mailbox (at RCPT) and for its
    receiving filter (after DATA); the status and the SMTP stage tell them apart."""
    if status in ("5.1.1", "5.0.911"):
        return "userunknown"
    if status == "5.2.0":
        return "filtered"
    if status == "5.0.0":
        return {"RCPT": "userunknown", "DATA": "rejected"}.get(command or "")
    return None


def _gsuite_dns(status: str | None, reply: str | None, text: str) -> str | None:
    """Google Workspace's DNS failures: an unknown domain when permanent, a network error when temporary."""
    if not any(phrase in text for phrase in (" responded with code nxdomain", "domain name not found", " had no relevant answers.")):
        return None
    status_class, reply_class = (status or " ")[0], (reply or " ")[0]
    if status_class == reply_class == " ":
        return None  # no code says whether it was temporary: the notice's own words decide
    if " had no relevant answers." not in text and status_class == "5" and reply_class == "5":
        return "hostunknown"
    return "networkerror" if "5" not in (status_class, reply_class) else None


def _status_matches(spec: str, status: str | None) -> bool:
    """``5.7.1`` matches itself; ``5.7.606-649`` matches 5.7.606 ... 5.7.649."""
    if not status:
        return False
    if "-" not in spec:
        return spec == status
    head, _, span = spec.rpartition(".")
    first, _, last = span.partition("-")
    if not status.startswith(head + "."):
        return False
    tail = status[len(head) + 1:]
    return tail.isdigit() and int(first) <= int(tail) <= int(last)
