"""``parse_report``: bytes in, :class:`Report` out, never an exception.

The order of decisions is the point of this module: structured parts first
(DSN, MDN, ARF fields, wherever they hide), then a non-standard bounce
notice, then plain read notices, and auto-replies last, because bounces and
receipts very often carry ``Auto-Submitted`` too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from . import arf, dsn, heuristics, jsonfeed, mdn, reasons, rhost, vendors
from .addresses import (
    bare_recipient,
    find_addresses,
    first_address,
    is_internet_address,
    message_id,
    message_ids,
    parse_date,
)
from .autoreply import auto_reply_sign, challenge_request_sign, challenge_sign
from .mime import Headers, Part, decode_words, parse_message, split_mbox
from .model import HEADER, HEURISTIC, STRUCTURED, MdnInfo, OriginalRefs, RecipientLine, Report
from .original import (
    envelope_addresses,
    headers_of,
    original_part,
    quoted_headers,
    refs_from_headers,
    verp_local_parts,
)

DSN_TYPES = ("message/delivery-status", "message/global-delivery-status", "text/delivery-status")
MDN_TYPES = ("message/disposition-notification", "message/global-disposition-notification", "text/disposition-notification")
ARF_TYPES = ("message/feedback-report", "text/feedback-report")
TEXT_TYPES = ("text/plain", "text/html", "text/enriched")
_RECIPIENT_IN_TEXT = 8000
_BRACKETED = re.compile(r"<([^<>\s]+@[^<>\s]+)>")


@dataclass(slots=True)
class _Scan:
    """What one walk over the MIME tree found; internal to a single parse."""

    headers: Headers
    defects: list[str]
    report_type: str = ""
    dsn_parts: list[Part] = field(default_factory=list)
    mdn_parts: list[Part] = field(default_factory=list)
    arf_parts: list[Part] = field(default_factory=list)
    originals: list[Part] = field(default_factory=list)
    texts: list[Part] = field(default_factory=list)


def parse_report(raw: bytes) -> Report:
    """Parse a delivery report, read receipt, auto-reply or feedback report.

    Returns ``Report(kind='none')`` for anything else. Never raises: a failure
    inside the parser is reported as a defect of a ``none`` report, so one
    hostile message cannot stop a mailbox poller.
    """
    try:
        return _parse(raw if isinstance(raw, bytes) else bytes(raw))
    except Exception as error:  # noqa: BLE001 - the contract is "never raises"
        return Report(defects=(f"parser error: {type(error).__name__}",))


def parse_mailbox(raw: bytes) -> tuple[Report, ...]:
    """Parse every message of a file: one for a single message, each one of an mbox file.

    For the command line and for archives (Sisimai's samples are mbox files, some holding two
    bounces); the poller hands over one message at a time and calls :func:`parse_report`.
    """
    return tuple(parse_report(message) for message in split_mbox(raw if isinstance(raw, bytes) else bytes(raw)))


def _parse(raw: bytes, nested: bool = False) -> Report:
    root, defects = parse_message(raw)
    scan = _walk(root, defects)
    headers = root.headers
    subject = decode_words(headers.get("subject") or "")
    from_addr = first_address(headers.get("from"))
    original_headers, original_source = _original_headers(scan)
    notice = _Notice(scan.texts, headers)
    sources: dict[str, str] = {}

    kind, recipients, mdn_info, feedback_type, per_message = _structured(scan, original_headers, headers, notice, sources)
    if kind == "none" and notice.text:
        event = jsonfeed.parse_event(notice.text)
        if event is not None:
            kind, recipients, feedback_type, json_message_id = event
            per_message = {"x-original-message-id": json_message_id or ""}
            sources.update(kind=STRUCTURED, recipients=STRUCTURED)
    if kind == "none":
        returned = None if nested else original_part(scan.originals)
        kind, recipients = _non_standard(headers, subject, notice, original_headers, sources, returned)
    if kind in ("dsn", "bounce") and challenge_sign(notice.first_part_lower):
        # A challenge-response request: the message waits for the sender to confirm; nothing failed.
        addresses = [r.recipient for r in recipients if r.recipient] or [first_address(headers.get("reply-to")) or from_addr]
        kind = "auto-reply"
        recipients = [RecipientLine(recipient=a, reason="vacation", hard=False, source=HEURISTIC) for a in addresses]
        sources["kind"] = HEURISTIC
    elif kind == "none" and challenge_request_sign(notice.first_part_lower):
        # The same request sent as a plain message from the recipient's own address.
        kind = "auto-reply"
        recipients = [RecipientLine(recipient=from_addr, reason="vacation", hard=False, source=HEURISTIC)]
        sources["kind"] = HEURISTIC
    if kind == "none":
        mdn_info = mdn.read_notice(subject, notice.text)
        if mdn_info is not None:
            kind = "read-notice"
            recipients = (RecipientLine(recipient=from_addr, source=HEURISTIC),)
            mdn_info = _with_final_recipient(mdn_info, from_addr)
            sources["mdn"] = HEURISTIC
    if kind == "none":
        sign = auto_reply_sign(headers, subject)
        if sign is not None:
            kind = "auto-reply"
            recipients = (RecipientLine(recipient=from_addr, reason="vacation", hard=False, source=HEURISTIC),)
            sources["kind"] = HEADER if sign != "Subject" else HEURISTIC

    original = refs_from_headers(original_headers, original_source) if original_headers is not None else OriginalRefs()
    original_message_id = _original_message_id(kind, mdn_info, original, per_message, headers, sources)
    envelope = envelope_addresses(headers)
    if kind != "none" and recipients:
        recipients = _fill_from_notice(recipients, notice, _typed_value(per_message.get("reporting-mta")))
    return Report(
        kind=kind,
        recipients=tuple(recipients),
        original=original,
        original_message_id=original_message_id,
        envid=per_message.get("original-envelope-id") or None,
        envelope_to=envelope,
        verp_local_parts=verp_local_parts(envelope),
        message_id=message_id(headers.get("message-id")),
        from_addr=from_addr,
        subject=subject or None,
        date=parse_date(headers.get("date")),
        reporting_mta=_typed_value(per_message.get("reporting-mta")),
        feedback_type=feedback_type,
        mdn=mdn_info,
        sources=MappingProxyType(sources),
        defects=tuple(dict.fromkeys(defects)),
    )


#: Which list of a :class:`_Scan` each report part type goes to (one lookup per part).
_BUCKETS = {**dict.fromkeys(DSN_TYPES, "dsn_parts"), **dict.fromkeys(MDN_TYPES, "mdn_parts"),
            **dict.fromkeys(ARF_TYPES, "arf_parts")}


def _walk(root: Part, defects: list[str]) -> _Scan:
    scan = _Scan(root.headers, defects, report_type=root.params.get("report-type", "").lower())
    stack = [root]
    seen = 0
    while stack and seen < 200:
        part = stack.pop(0)
        seen += 1
        bucket = _BUCKETS.get(part.ctype)
        if bucket is not None:
            getattr(scan, bucket).append(part)
        elif part.ctype.startswith("message/") or part.ctype.endswith("rfc822-headers"):
            scan.originals.append(part)
            continue
        elif part.ctype in TEXT_TYPES or (part.ctype.startswith("text/") and not part.children):
            if (part.headers.get("content-disposition") or "").lower().startswith("attachment") and scan.texts:
                continue
            scan.texts.append(part)
        if part.ctype == "multipart/report" and not scan.report_type:
            scan.report_type = part.params.get("report-type", "").lower()
        stack[0:0] = part.children
    scan.texts.sort(key=lambda p: p.ctype != "text/plain")
    return scan


def _original_headers(scan: _Scan) -> tuple[Headers | None, str | None]:
    part = original_part(scan.originals)
    if part is not None:
        headers = headers_of(part)
        if len(headers):
            return headers, "text/rfc822-headers" if "headers" in part.ctype else "message/rfc822"
    for text_part in scan.texts[:3]:
        quoted = quoted_headers(text_part.text())
        if quoted is not None:
            return quoted, "quoted"
    return None, None


def _structured(scan: _Scan, original: Headers | None, headers: Headers, notice: "_Notice", sources: dict[str, str]):
    """Kind and recipients from machine-readable parts, wherever they hide."""
    per_message: dict[str, str] = {}
    dsn_text = "\n\n".join(p.text() for p in scan.dsn_parts[:4])
    if not dsn_text:
        dsn_text = _mislabelled(scan, dsn.looks_like_dsn_fields, "delivery-status")
    if dsn_text:
        per_message, groups = dsn.split_fields(dsn_text, scan.defects)
        groups = [g for g in groups if any(k in g for k in ("final-recipient", "original-recipient", "x-actual-recipient", "status"))]
        recipients = [
            dsn.recipient_from_group(group, per_message, _command_context(group, notice), notice.vendor)
            for group in groups
        ]
        if recipients:
            recipients = _what_happened(_unique(recipients), decode_words(headers.get("subject") or ""), notice)
            recipients = _internet_addresses(recipients, notice, original, headers)
            sources.update(kind=STRUCTURED, recipients=STRUCTURED, envid=STRUCTURED)
            return "dsn", recipients, None, None, per_message

    mdn_text = "\n\n".join(p.text() for p in scan.mdn_parts[:2])
    if not mdn_text and scan.report_type == "disposition-notification":
        mdn_text = _mislabelled(scan, mdn.looks_like_mdn_fields, "disposition-notification")
    if mdn_text:
        info = mdn.parse_mdn_fields(mdn_text, scan.defects)
        if info.disposition or info.original_message_id or info.final_recipient:
            sources.update(kind=STRUCTURED, mdn=STRUCTURED, recipients=STRUCTURED)
            recipient = RecipientLine(
                recipient=info.final_recipient,
                original_recipient=info.original_recipient,
                final_recipient_raw=None,
                diagnostic=mdn.disposition_text(info, notice.first_part),
                source=STRUCTURED,
            )
            return "mdn", [recipient], info, None, per_message

    arf_text = "\n\n".join(p.text() for p in scan.arf_parts[:2])
    if not arf_text and scan.report_type == "feedback-report":
        arf_text = _mislabelled(scan, arf.looks_like_feedback_fields, "feedback-report")
    complaint = not arf_text and arf.is_complaint(headers, original)
    if arf_text or complaint or arf.opt_out_sign(headers):
        fields, addresses = arf.parse_feedback_fields(arf_text)
        feedback_type = (fields.get("feedback-type") or ("abuse" if complaint else "opt-out" if not arf_text else "other")).lower()
        if complaint:
            addresses = arf.complaint_recipients(original)
        elif not addresses:
            addresses = arf.fallback_recipients(original) if arf_text else [first_address(headers.get("from")) or ""]
        sources.update(kind=STRUCTURED if arf_text else HEADER, recipients=STRUCTURED if arf_text else HEURISTIC)
        recipients = [
            RecipientLine(recipient=a or None, reason="feedback", hard=False, source=STRUCTURED if arf_text else HEURISTIC)
            for a in addresses or [""]
        ]
        per_message = {"reporting-mta": fields.get("reporting-mta", "")}
        return "feedback", recipients, None, feedback_type, per_message
    return "none", [], None, None, per_message


def _unique(recipients: list[RecipientLine]) -> list[RecipientLine]:
    """One result per recipient and verdict (a DSN may list an expanded address many times)."""
    seen: dict[tuple, RecipientLine] = {}
    for result in recipients:
        seen.setdefault((result.recipient, result.action, result.status, result.reason), result)
    return list(seen.values())


def _what_happened(recipients: list[RecipientLine], subject: str, notice: "_Notice") -> list[RecipientLine]:
    """``Action: delayed`` in a report that returns the message (a permanent status, or a notice
    saying the server gave up) is a failure: read what happened, not the word."""
    delayed = [r for r in recipients if r.action == "delayed"]
    if not delayed:
        return recipients
    # The notice speaks for the whole report only when every recipient is in the same state.
    returned = len(delayed) == len(recipients) and heuristics.outcome(subject, notice.first_part) == "returned"
    return [
        replace(r, action="failed") if r.action == "delayed" and (returned or ((r.status or "")[:1] == "5" and not r.status_derived)) else r
        for r in recipients
    ]


def _internet_addresses(recipients: list[RecipientLine], notice: "_Notice", original: Headers | None,
                        headers: Headers) -> list[RecipientLine]:
    """A recipient named only by a non-Internet address gets the one the notice or the returned
    original names instead (an address next to the failure, else the original's To)."""
    if all(is_internet_address(r.recipient) for r in recipients):
        return recipients
    excluded = _excluded_addresses(headers, original) | {r.recipient for r in recipients if r.recipient}
    candidates = [address for address, _, _ in heuristics.recipient_blocks(notice.text, excluded)]
    if original is not None and not _from_a_list(original):
        candidates += [a for a in find_addresses(original.get("to") or "") if a not in excluded]
    fixed = []
    for result in recipients:
        if not is_internet_address(result.recipient) and candidates:
            result = replace(result, recipient=candidates.pop(0))
        fixed.append(result)
    return fixed


def _mislabelled(scan: _Scan, detector, label: str) -> str:
    """Report fields sent under a wrong content type (text/plain, no type at all)."""
    for part in scan.texts[:4]:
        text = part.text()
        if detector(text):
            scan.defects.append(f"{label} fields found in a {part.ctype} part")
            return text
    return ""


def _non_standard(
    headers: Headers,
    subject: str,
    notice_parts: "_Notice",
    original: Headers | None,
    sources: dict[str, str],
    returned: Part | None = None,
):
    """A bounce written for people: recipients from X-Failed-Recipients or the notice's lines."""
    notice = notice_parts.text
    sender = f"{headers.get('from') or ''} {headers.get('return-path') or ''}"
    failed = find_addresses(",".join(headers.get_all("x-failed-recipients")))
    vendor_bounce = notice_parts.vendor is not None and notice_parts.vendor.format.is_bounce
    if not failed and not vendor_bounce and (not notice.strip() or not heuristics.looks_like_bounce(sender, subject, notice)):
        return "none", []
    excluded = _excluded_addresses(headers, original)
    blocks = heuristics.recipient_blocks(notice, excluded)
    if not blocks and not failed:
        # A message its sender also sent to itself: the report's To is listed as the failed recipient.
        own = set(find_addresses(headers.get("to") or ""))
        blocks = [b for b in heuristics.recipient_blocks(notice, excluded - own, listed_only=True) if b[0] in own]
    if failed and blocks and not set(failed) & set(find_addresses(notice)):
        # The header names nobody the notice mentions while the notice lists its failed addresses, each
        # with its reply (a header left over from an earlier hop): the notice's own list is the report.
        failed = []
    if failed:
        by_address = {address: (text, context) for address, text, context in blocks}
        blocks = [(address, *by_address.get(address, (notice, ""))) for address in failed]
    if not blocks and not failed and returned is not None:
        inner = _bounce_inside(returned)
        if inner:
            sources.update(kind=HEURISTIC, recipients=HEURISTIC)
            return "bounce", inner
    if not blocks and original is not None and not _from_a_list(original):
        targets = [a for a in find_addresses(original.get("to") or "") if a not in excluded][:5]
        blocks = [(address, notice, "") for address in targets]
    if not blocks and vendor_bounce:
        # A list manager's notice names the list it refused the message for: "... in <list@example.org>."
        targets = [a for a in find_addresses(" ".join(_BRACKETED.findall(notice[:2000]))) if a not in excluded][:5]
        blocks = [(address, notice, "") for address in targets]
    sender_host = (first_address(headers.get("from")) or "").rpartition("@")[2]
    reporting_hosts = (*rhost.reporting_hosts_named_in(notice), *((sender_host,) if sender_host else ()))
    action = "delayed" if heuristics.outcome(subject, notice) == "delayed" else "failed"
    recipients = [
        dsn.build_result(recipient=address, action=action, field_status=None, diagnostic=text, source=HEURISTIC, context=context,
                         vendor=notice_parts.vendor, local_hosts=reporting_hosts)
        for address, text, context in blocks
    ]
    sources.update(kind=HEURISTIC, recipients=HEURISTIC)
    return "bounce", recipients


def _from_a_list(original: Headers) -> bool:
    """A list's message is addressed to the list: its To is not the subscriber who bounced."""
    return bool(original.get("list-id") or original.get("list-post") or original.get("x-beenthere")
                or original.get("mailing-list") or (original.get("precedence") or "").strip().lower() in ("list", "bulk"))


def _bounce_inside(returned: Part) -> list[RecipientLine]:
    """A notice that names nobody and returns a bounce (a bounce of a bounce): the returned one's recipients."""
    if returned.ctype not in ("message/rfc822", "message/global"):
        return []
    inner = _parse(returned.payload(), nested=True)
    return list(inner.recipients) if inner.kind in ("dsn", "bounce") else []


def _excluded_addresses(headers: Headers, original: Headers | None) -> set[str]:
    """Addresses that are never the failed recipient: the report's parties, our own sender (unless
    it also was an addressee) and the list addresses a list manager's notice names."""
    excluded = set(find_addresses(_values(headers, _REPORT_PARTIES)))
    if original is not None:
        senders = _values(original, _ORIGINAL_SENDERS)
        if senders:
            addressed = set(find_addresses(_values(original, ("to", "cc"))))
            excluded.update(a for a in find_addresses(senders) if a not in addressed)
    return excluded


_REPORT_PARTIES = ("from", "to", "reply-to", "sender", "return-path", "list-post", "list-subscribe", "list-unsubscribe",
                   "list-help", "list-owner", "x-ml-info")
_ORIGINAL_SENDERS = ("from", "reply-to", "sender", "return-path")


def _values(headers: Headers, names: tuple[str, ...]) -> str:
    """The named fields' values joined by commas (one address search instead of one per field)."""
    return ",".join(value for value in headers.first_of(names) if value)


def _fill_from_notice(recipients: list[RecipientLine], notice: "_Notice", reporting_mta: str | None) -> list[RecipientLine]:
    """A structured recipient with no diagnostic borrows its lines from the human-readable notice."""
    filled: list[RecipientLine] = []
    for result in recipients:
        # A diagnostic that is only a number (a local program's exit status, "X-Unix; 255") says nothing either.
        silent = not result.diagnostic or result.diagnostic.strip().isdigit()
        reply = _truncated_reply(result.diagnostic, notice) if not silent and result.source == STRUCTURED else ""
        if result.source == STRUCTURED and (silent or reply) and result.recipient and result.reason not in (None, "feedback", "vacation"):
            snippet = reply or _snippet_about(notice.text, result.recipient, also=result.original_recipient)
            if result.diagnostic and _NUMERIC_REASON.search(snippet.lower()):
                snippet = ""  # the listing repeats the bare number ("(reason: 255)"): read the transcript
            if not snippet and len(recipients) == 1:
                # One recipient, and the notice names it only in another form (a program it was
                # expanded to): the transcript of the session is about that recipient.
                snippet = _transcript(notice.text)
            if snippet:
                better = dsn.build_result(
                    recipient=result.recipient,
                    action=result.action,
                    field_status=None if result.status_derived else result.status,
                    diagnostic=snippet,
                    # A local program's exit number read through its transcript is still a local program's failure.
                    diagnostic_type=result.diagnostic_type if result.diagnostic else None,
                    source=STRUCTURED,
                    context=snippet,
                    original_recipient=result.original_recipient,
                    final_recipient_raw=result.final_recipient_raw,
                    remote_mta=result.remote_mta,
                    remote_hosts=dsn.host_names(result.remote_mta),
                    local_hosts=dsn.host_names(reporting_mta),
                    vendor=notice.vendor,
                    arrival_date=result.arrival_date,
                    last_attempt_date=result.last_attempt_date,
                )
                result = better
        filled.append(result)
    return filled


class _Notice:
    """The human-readable notice of a report, worked out only when something needs it."""

    __slots__ = ("_parts", "_text", "_headers", "_vendor", "_first_lower")

    def __init__(self, parts: list[Part], headers: Headers) -> None:
        self._parts = parts
        self._text: str | None = None
        self._first_lower: str | None = None
        self._headers = headers
        self._vendor: vendors.Verdicts | None | bool = False

    @property
    def first_part(self) -> str:
        """The first human-readable part as is (cheap: no search for where the returned copy starts)."""
        return self._parts[0].text() if self._parts else ""

    @property
    def first_part_lower(self) -> str:
        """The head of the first part, lower-cased once for every recipient's lookup."""
        if self._first_lower is None:
            self._first_lower = self.first_part[:_RECIPIENT_IN_TEXT * 4].lower()
        return self._first_lower

    @property
    def vendor(self) -> vendors.Verdicts | None:
        """The vendor format this bounce is written in, if it is one, bound to this notice."""
        if self._vendor is False:
            found = vendors.recognise(self._headers, self.first_part)
            self._vendor = vendors.Verdicts(found, self._headers, lambda: self.text) if found else None
        return self._vendor

    @property
    def text(self) -> str:
        """The notice: text parts up to where the returned copy of the original begins."""
        if self._text is None:
            self._text = heuristics.notice_text([part.text() for part in self._parts[:6]])
        return self._text


def _command_context(group: dict[str, str], notice: _Notice) -> str:
    """Notice lines about a DSN recipient, when its Diagnostic-Code does not name the SMTP command:
    its paragraph, and any transcript line naming it (``>>> RCPT TO:<x>``)."""
    if reasons.smtp_command(group.get("diagnostic-code") or ""):
        return ""
    address = bare_recipient(group.get("final-recipient")) or ""
    text = notice.first_part
    paragraph = _snippet_about(text, address, notice.first_part_lower)
    if not address or ">>> " not in text or reasons.smtp_command(paragraph):
        return paragraph
    naming = [line for line in text[:_RECIPIENT_IN_TEXT * 4].split("\n") if line.startswith(">>> ") and address in line.lower()]
    return "\n".join([paragraph, *naming])


_REPLY_START = re.compile(r"\s*([245]\d\d)-([245]\.\d{1,3}\.\d{1,3})\b")


def _truncated_reply(diagnostic: str | None, notice_parts: "_Notice") -> str:
    """The whole multi-line reply of a diagnostic that kept only its first line (Sendmail writes
    ``550-5.7.1 ...`` and no last ``550 5.7.1`` line), from the transcript the notice quotes it in.
    The diagnostic is looked at first: most have no such line, and then the notice is never cut."""
    start = _REPLY_START.match(diagnostic or "")
    if not start:
        return ""
    code, status = start.groups()
    if f"{code} {status}" in diagnostic:
        return ""
    notice = notice_parts.text
    if "<<< " not in notice:
        return ""
    prefix = re.compile(r"^<<< " + code + r"[- ]", re.M)
    lines = [line[4:].strip() for line in notice.split("\n") if prefix.match(line)]
    return " ".join(lines) if len(lines) > 1 else ""


_NUMERIC_REASON = re.compile(r"\(reason: \d+\)")
_RECIPIENT_FIELDS = ("final-recipient:", "original-recipient:", "x-actual-recipient:")
_TRANSCRIPT_HEAD = "transcript of session follows"


def _transcript(notice: str) -> str:
    """The session transcript a Sendmail-style notice quotes (up to its first blank line)."""
    lowered = notice.lower()
    at = lowered.find(_TRANSCRIPT_HEAD)
    if at < 0:
        return ""
    start = lowered.find("\n", at) + 1
    end = lowered.find("\n\n", start)
    return notice[start:end if end >= 0 else start + 600].strip() if start > 0 else ""


def _snippet_about(notice: str, address: str, lowered: str | None = None, also: str | None = None) -> str:
    """The notice's paragraph about ``address``: the line that names it (and the line before, unless that
    names someone else) up to a blank line or the next recipient's line. ``also`` (its original
    address) names the same recipient; an address alone on its line is followed past one blank line,
    to the sentence that says what happened to it."""
    if lowered is None:
        lowered = notice[:_RECIPIENT_IN_TEXT * 4].lower()
    index = lowered.find(address) if address else -1
    # A report whose delivery-status fields sit in its text names the address in its own fields first.
    while index >= 0 and lowered.startswith(_RECIPIENT_FIELDS, lowered.rfind("\n", 0, index) + 1):
        index = lowered.find(address, index + len(address))
    if index < 0:
        return ""
    line_start = lowered.rfind("\n", 0, index) + 1
    previous_start = lowered.rfind("\n", 0, max(0, line_start - 1)) + 1
    start = previous_start if "@" not in lowered[previous_start:line_start] else line_start
    lines = lowered[line_start:line_start + 600].split("\n")
    taken = lines[:1]
    alone = lines[0].strip(" \t<>:") == address
    for line in lines[1:]:
        if not line.strip():
            if alone and len(taken) == 1:
                taken.append(line)
                continue
            break
        if "@" in line and address not in line and not (also and also in line):
            break
        taken.append(line)
    end = line_start + len("\n".join(taken))
    return notice[start:end]


def _original_message_id(kind, mdn_info, original: OriginalRefs, per_message, headers: Headers, sources) -> str | None:
    if mdn_info is not None and mdn_info.original_message_id:
        sources["original_message_id"] = mdn_info.source
        return mdn_info.original_message_id
    if original.message_id:
        sources["original_message_id"] = STRUCTURED if original.source != "quoted" else HEURISTIC
        return original.message_id
    candidate = message_id(per_message.get("x-original-message-id"))
    if candidate:
        sources["original_message_id"] = STRUCTURED
        return candidate
    if kind in ("auto-reply", "read-notice", "mdn"):
        candidate = message_id(headers.get("in-reply-to")) or (message_ids(headers.get("references")) or (None,))[-1]
        if candidate:
            sources["original_message_id"] = HEADER
            return candidate
    return None


def _with_final_recipient(info: MdnInfo, address: str | None) -> MdnInfo:
    return MdnInfo(disposition=info.disposition, final_recipient=address, source=info.source)


def _typed_value(value: str | None) -> str | None:
    if not value:
        return None
    return value.split(";", 1)[-1].strip() or None

