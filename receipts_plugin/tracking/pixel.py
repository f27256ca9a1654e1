"""The open-tracking image, and telling a person's open from an automated fetch.

A 1x1 image with a per-recipient signed URL goes into the HTML body when the department
has open tracking on. Fetching it records an *estimate*: mail clients block images, image
proxies and privacy features fetch them without anyone reading, and scanners fetch
everything. So every fetch is classified by :func:`classify_fetch`, a pure function over
the user agent, the network it came from and the time since delivery, with the ordered
rule table :data:`RULES` (first match wins; the README documents it). An open never marks a
reply as read: only a read receipt does (fetches go to the plugin's own table, :mod:`.events`,
never to the receipts plugin's delivery events).

The image is always served, whatever the token, so a bad or expired link never shows a
broken image; only a genuine token records anything. The IP address is used to classify
and is not stored.
"""
from __future__ import annotations

import base64
import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from flask import current_app

from helpdesk.plugin_api import db, external_url, MessageRecipient

from receipts_plugin.plugin_api import make_link_token, read_link_token, RecipientStatusRow

from .events import FetchKind, FetchSource, record_fetch

OPEN_PURPOSE = "open"
TRANSPARENT_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
#: A fetch this soon after delivery is a scanner's, not a reader's (see the README's limits).
QUICK_FETCH_SECONDS = 20
PERSON = "person (estimate)"


@dataclass(frozen=True, slots=True)
class Fetch:
    """What the request for an image or a link tells us."""

    user_agent: str | None
    ip: str | None


@dataclass(frozen=True, slots=True)
class FetchVerdict:
    automated: bool
    rule: str  # the rule's name in RULES, or "person"
    label: str

    def as_detail(self) -> str:
        return json.dumps({"automated": self.automated, "rule": self.rule, "label": self.label})


def read_detail(text: str | None) -> dict:
    """The JSON detail of an open or download event (what the fetch was, which file), or {}."""
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class _Facts:
    user_agent: str
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    seconds_after_delivery: float | None
    extra_networks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FetchRule:
    name: str
    label: str  # shown after "opened by an automated fetch: "
    matches: Callable[[_Facts], bool]


def _networks(*cidrs: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


APPLE = _networks("17.0.0.0/8")
GOOGLE = _networks("66.102.0.0/20", "66.249.64.0/19", "72.14.192.0/18", "74.125.0.0/16")
MICROSOFT_MAIL = _networks("40.92.0.0/15", "40.107.0.0/16", "52.100.0.0/14", "104.47.0.0/17")
SCANNER_NETWORKS = {
    "Barracuda": _networks("64.235.144.0/20", "209.222.80.0/21"),
    "Mimecast": _networks("205.139.110.0/24", "207.211.30.0/24", "216.205.24.0/24", "185.58.84.0/22",
                          "195.130.217.0/24", "91.220.42.0/24"),
    "Proofpoint": _networks("148.163.128.0/17", "67.231.144.0/20"),
}
SCANNER_NAMES = re.compile(r"barracuda|mimecast|proofpoint|ppops|symantec|messagelabs|ironport|sophos|"
                           r"trend ?micro|fireeye|forcepoint|fortimail|zscaler|safelinks?\b", re.IGNORECASE)
BOT_WORDS = re.compile(r"bot\b|crawler|spider|preview|headlesschrome|phantomjs|python-|curl/|wget/|"
                       r"go-http-client|okhttp|java/|libwww|httpclient|scan", re.IGNORECASE)
#: Years-old browser signatures that scanners send unchanged (no person runs these today).
FROZEN_SIGNATURES = ("Chrome/42.0.2311.135 Safari/537.36 Edge/12.246",)


def _in(networks: Iterable) -> Callable[[_Facts], bool]:
    return lambda f: f.ip is not None and any(f.ip in n for n in networks)


def _ua_has(needle: str) -> Callable[[_Facts], bool]:
    return lambda f: needle.lower() in f.user_agent.lower()


@lru_cache(maxsize=32)
def _extra(cidrs: tuple[str, ...]) -> tuple:
    return _networks(*cidrs)


def _extra_network(f: _Facts) -> bool:
    return bool(f.extra_networks) and _in(_extra(f.extra_networks))(f)


#: The rules, in order; the first that matches decides. A fetch no rule matches is a
#: person's open (an estimate).
RULES: tuple[FetchRule, ...] = (
    FetchRule("gmail-proxy", "Gmail's image proxy", _ua_has("GoogleImageProxy")),
    FetchRule("yahoo-proxy", "Yahoo Mail's image proxy", _ua_has("YahooMailProxy")),
    FetchRule("apple-network", "Apple Mail Privacy Protection (Apple's network)", _in(APPLE)),
    FetchRule("google-network", "Google's image proxy (Google's network)", _in(GOOGLE)),
    FetchRule("microsoft-network", "a Microsoft 365 / Outlook.com scanner (Microsoft's mail network)",
              _in(MICROSOFT_MAIL)),
    *(FetchRule(f"{name.lower()}-network", f"a {name} security scanner ({name}'s network)", _in(networks))
      for name, networks in SCANNER_NETWORKS.items()),
    FetchRule("configured-network", "a network listed in RECEIPTS_AUTOMATED_NETWORKS", _extra_network),
    FetchRule("scanner-name", "a security scanner (named in its user agent)",
              lambda f: bool(SCANNER_NAMES.search(f.user_agent))),
    FetchRule("bare-mozilla", "a privacy proxy such as Apple Mail Privacy Protection (bare \"Mozilla/5.0\")",
              lambda f: f.user_agent.strip() == "Mozilla/5.0"),
    FetchRule("frozen-browser", "a scanner posing as a years-old browser",
              lambda f: any(s in f.user_agent for s in FROZEN_SIGNATURES)),
    FetchRule("bot-words", "a program (its user agent says bot, preview, crawler, script...)",
              lambda f: bool(BOT_WORDS.search(f.user_agent))),
    FetchRule("no-user-agent", "a program sending no user agent", lambda f: not f.user_agent.strip()),
    FetchRule("seconds-after-delivery", f"a scanner (fetched within {QUICK_FETCH_SECONDS} s of delivery)",
              lambda f: f.seconds_after_delivery is not None and f.seconds_after_delivery < QUICK_FETCH_SECONDS),
)


def _ip(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address((value or "").strip())
    except ValueError:
        return None
    return address.ipv4_mapped or address if isinstance(address, ipaddress.IPv6Address) else address


def classify_fetch(user_agent: str | None, ip: str | None, seconds_after_delivery: float | None,
                   extra_networks: Sequence[str] = ()) -> FetchVerdict:
    """Whether a fetch of our image (or link) was a person or an automated service, by
    :data:`RULES`. ``seconds_after_delivery`` is None when the delivery time is unknown."""
    facts = _Facts(user_agent or "", _ip(ip), seconds_after_delivery, tuple(extra_networks))
    for rule in RULES:
        if rule.matches(facts):
            return FetchVerdict(True, rule.name, rule.label)
    return FetchVerdict(False, "person", PERSON)


def delivered_at(recipient: MessageRecipient) -> datetime | None:
    """When the recipient's copy arrived, as well as we know: the delivery report's time,
    else when our relay accepted it."""
    status = db.session.get(RecipientStatusRow, recipient.id)
    return (status.delivered_at if status and status.delivered_at else None) or recipient.accepted_at


def classify_request(recipient: MessageRecipient, fetch: Fetch, now: datetime) -> FetchVerdict:
    """:func:`classify_fetch` for a request about ``recipient``'s copy."""
    arrived = delivered_at(recipient)
    seconds = (now - arrived).total_seconds() if arrived else None
    return classify_fetch(fetch.user_agent, fetch.ip, seconds,
                          current_app.config.get("RECEIPTS_AUTOMATED_NETWORKS") or ())


def open_token(secret: str, message_id: int, recipient_id: int, expires_at: datetime) -> str:
    return make_link_token(secret, OPEN_PURPOSE, (message_id, recipient_id), expires_at)


def pixel_html(message_id: int, recipient_id: int, expires_at: datetime) -> str:
    """The image tag for one recipient's copy."""
    token = open_token(current_app.config["SECRET_KEY"], message_id, recipient_id, expires_at)
    url = external_url("receipts_tracking.pixel", token=token)
    return (f'<img src="{url}" width="1" height="1" alt="" '
            'style="display:block;width:1px;height:1px;border:0;margin:0;padding:0">')


def pixel_expiry(sent_at: datetime) -> datetime:
    return sent_at + timedelta(days=int(current_app.config["RECEIPTS_OPEN_TRACKING_DAYS"]))


def record_open(token: str, fetch: Fetch, now: datetime) -> FetchVerdict | None:
    """Record a fetch of the image if ``token`` is genuine and current; None otherwise.

    At most one event per recipient, minute and rule (clients fetch twice). Does not commit."""
    check = read_link_token(current_app.config["SECRET_KEY"], OPEN_PURPOSE, token, now)
    if not check.ok or len(check.payload) != 2:
        return None
    message_id, recipient_id = check.payload
    recipient = db.session.get(MessageRecipient, recipient_id)
    if recipient is None or recipient.message_id != message_id:
        return None
    verdict = classify_request(recipient, fetch, now)
    kind = FetchKind.PIXEL_AUTOMATED if verdict.automated else FetchKind.PIXEL_OPEN
    minute = int(now.timestamp()) // 60
    record_fetch(recipient, kind, FetchSource.PIXEL, f"open:{minute}:{verdict.rule}", now, verdict.as_detail())
    return verdict
