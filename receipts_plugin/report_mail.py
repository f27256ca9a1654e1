"""Reports written the way real servers and clients write them: Postfix's RFC 3464 delivery
reports, RFC 8098 read receipts (a person's, as Thunderbird sends them, or a mail filter's, as
Dovecot Pigeonhole's ``reject`` does). The demo data feeds them to the real intake, so its
events have raw reports like any other; the tests build their reports with them too."""
from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime, make_msgid

from helpdesk.plugin_api import utcnow

PERSON = "manual-action/MDN-sent-manually"
FILTER = "automatic-action/MDN-sent-automatically"
RECEIPT_TEXT = "This is a Return Receipt for the mail that you sent."


def _date(when: datetime | None = None) -> str:
    return format_datetime(when or utcnow())


def postfix_dsn(*, to: str, recipient: str, action: str = "failed", status: str = "5.1.1", envid: str | None = None,
                original_message_id: str | None = None, diagnostic: str | None = None,
                date: datetime | None = None, host: str = "mail.example.test", domain: str = "example.test") -> bytes:
    """A Postfix-style RFC 3464 report about ``recipient``, delivered to ``to`` (our VERP
    address, say), written by the mail system at ``host`` of ``domain``."""
    diagnostic = diagnostic or ("smtp; 550 5.1.1 <%s> User doesn't exist" % recipient if action == "failed"
                                else "smtp; 250 2.0.0 <%s> Saved" % recipient)
    subject = {"failed": "Undelivered Mail Returned to Sender", "delayed": "Delayed Mail (still being retried)"}.get(
        action, "Successful Mail Delivery Report")
    per_message = f"Reporting-MTA: dns; {host}\r\n" + (f"Original-Envelope-Id: {envid}\r\n" if envid else "")
    headers = f"Message-ID: <{original_message_id}>\r\n" if original_message_id else ""
    return (
        f"Return-Path: <>\r\nDelivered-To: {to}\r\nFrom: MAILER-DAEMON@{domain} (Mail Delivery System)\r\n"
        f"To: {to}\r\nSubject: {subject}\r\nDate: {_date(date)}\r\nMessage-ID: {make_msgid(domain=domain)}\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n"
        f"--B\r\nContent-Type: text/plain\r\n\r\nThis is the mail system at host {host}.\r\n\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"{per_message}\r\nFinal-Recipient: rfc822; {recipient}\r\nOriginal-Recipient: rfc822;{recipient}\r\n"
        f"Action: {action}\r\nStatus: {status}\r\nRemote-MTA: dns; 127.0.0.1\r\nDiagnostic-Code: {diagnostic}\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\n{headers}From: support@example.test\r\n"
        f"Subject: a reply\r\n\r\n--B--\r\n").encode()


def mdn(*, sender: str, final_recipient: str, original_message_id: str, disposition: str = "displayed",
        to: str = "receipts@example.test", date: datetime | None = None, mode: str = PERSON,
        text: str = RECEIPT_TEXT, domain: str = "customer.test") -> bytes:
    """An RFC 8098 read receipt: a person's as Thunderbird sends it, or with ``mode=FILTER``
    and the filter's ``text`` one of a mail filter (Pigeonhole's ``reject`` sends
    ``deleted`` so)."""
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: Return Receipt ({disposition}) - a reply\r\nDate: {_date(date)}\r\n"
        f"Message-ID: {make_msgid(domain=domain)}\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=disposition-notification; boundary=\"M\"\r\n\r\n"
        f"--M\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n{text}\r\n\r\n"
        "--M\r\nContent-Type: message/disposition-notification\r\n\r\n"
        f"Reporting-UA: {domain}; {'Thunderbird 128.0' if mode == PERSON else 'Dovecot Mail Delivery Agent'}\r\n"
        f"Final-Recipient: rfc822;{final_recipient}\r\nOriginal-Message-ID: <{original_message_id}>\r\n"
        f"Disposition: {mode}; {disposition}\r\n\r\n"
        f"--M\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{original_message_id}>\r\n\r\n--M--\r\n").encode()
