"""Reports built the way real servers and clients write them (Postfix DSNs, Thunderbird-style
MDNs, Outlook-style "Read:" notices), for tests that need a specific message's references."""
from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime, make_msgid

from helpdesk.models import utcnow


def _date(when: datetime | None = None) -> str:
    return format_datetime(when or utcnow())


def postfix_dsn(*, to: str, recipient: str, action: str = "failed", status: str = "5.1.1", envid: str | None = None,
                original_message_id: str | None = None, diagnostic: str | None = None,
                date: datetime | None = None) -> bytes:
    """A Postfix-style RFC 3464 report delivered to ``to`` (our VERP address, say)."""
    diagnostic = diagnostic or ("smtp; 550 5.1.1 <%s> User doesn't exist" % recipient if action == "failed"
                                else "smtp; 250 2.0.0 <%s> Saved" % recipient)
    subject = "Undelivered Mail Returned to Sender" if action == "failed" else "Successful Mail Delivery Report"
    per_message = "Reporting-MTA: dns; mail.example.test\r\n" + (f"Original-Envelope-Id: {envid}\r\n" if envid else "")
    headers = f"Message-ID: <{original_message_id}>\r\n" if original_message_id else ""
    return (
        f"Return-Path: <>\r\nDelivered-To: {to}\r\nFrom: MAILER-DAEMON@example.test (Mail Delivery System)\r\n"
        f"To: {to}\r\nSubject: {subject}\r\nDate: {_date(date)}\r\nMessage-ID: {make_msgid(domain='example.test')}\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n"
        "--B\r\nContent-Type: text/plain\r\n\r\nThis is the mail system at host mail.example.test.\r\n\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"{per_message}\r\nFinal-Recipient: rfc822; {recipient}\r\nOriginal-Recipient: rfc822;{recipient}\r\n"
        f"Action: {action}\r\nStatus: {status}\r\nRemote-MTA: dns; 127.0.0.1\r\nDiagnostic-Code: {diagnostic}\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\n{headers}From: support@example.test\r\n"
        f"Subject: a reply\r\n\r\n--B--\r\n").encode()


def mdn(*, sender: str, final_recipient: str, original_message_id: str, disposition: str = "displayed",
        to: str = "receipts@example.test", date: datetime | None = None) -> bytes:
    """An RFC 8098 read receipt as Thunderbird sends it."""
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: Return Receipt (displayed) - a reply\r\nDate: {_date(date)}\r\n"
        f"Message-ID: {make_msgid(domain='customer.test')}\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=disposition-notification; boundary=\"M\"\r\n\r\n"
        "--M\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nThis is a Return Receipt for the mail that you sent.\r\n\r\n"
        "--M\r\nContent-Type: message/disposition-notification\r\n\r\n"
        "Reporting-UA: customer.test; Thunderbird 128.0\r\n"
        f"Final-Recipient: rfc822;{final_recipient}\r\nOriginal-Message-ID: <{original_message_id}>\r\n"
        f"Disposition: manual-action/MDN-sent-manually; {disposition}\r\n\r\n"
        f"--M\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{original_message_id}>\r\n\r\n--M--\r\n").encode()


def read_notice(*, sender: str, subject: str, in_reply_to: str, to: str = "receipts@example.test") -> bytes:
    """A plain "Read:" notice without a machine-readable part (Outlook, some servers)."""
    return (f"From: {sender}\r\nTo: {to}\r\nSubject: Read: {subject}\r\nDate: {_date()}\r\n"
            f"Message-ID: {make_msgid(domain='customer.test')}\r\nIn-Reply-To: <{in_reply_to}>\r\n"
            f"References: <{in_reply_to}>\r\nContent-Type: text/plain\r\n\r\n"
            f"Your message\r\n\r\n  Subject: {subject}\r\n\r\nwas read on Monday.\r\n").encode()


def exchange_mdn(*, sender: str, display_name: str, subject: str, in_reply_to: str,
                 to: str = "receipts@example.test", date: datetime | None = None) -> bytes:
    """A read receipt as Exchange/Outlook sends it (modelled on tests/corpus/chatmail-core-mdn):
    the original is named only by In-Reply-To, the human part is multipart/alternative, and
    the machine part has Final-recipient and Disposition but no Original-Message-ID."""
    boundary, inner = "_000_exchange_mdn_", "_002_exchange_mdn_"
    return (
        f"From: {display_name} <{sender}>\r\nTo: {to}\r\nSubject: Read: {subject}\r\nThread-Topic: {subject}\r\n"
        f"Date: {_date(date)}\r\nMessage-ID: {make_msgid(domain='customer.test')}\r\nIn-Reply-To: <{in_reply_to}>\r\n"
        "Content-Language: en-US\r\nX-MS-Has-Attach:\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: multipart/report;\r\n\tboundary=\"{boundary}\";\r\n\treport-type=disposition-notification\r\n\r\n"
        f"--{boundary}\r\nContent-Type: multipart/alternative;\r\n\tboundary=\"{inner}\"\r\n\r\n"
        f"--{inner}\r\nContent-Type: text/plain; charset=\"iso-8859-1\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        f"Your message\r\n\r\n   To: {display_name}\r\n   Subject: {subject}\r\n\r\n were read.\r\n\r\n"
        f"--{inner}\r\nContent-Type: text/html; charset=\"iso-8859-1\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        f"<html><body><p>Your message</p><p>&nbsp;&nbsp; Subject: {subject}</p><p>was read.</p></body></html>\r\n"
        f"--{inner}--\r\n"
        f"--{boundary}\r\nContent-Type: message/disposition-notification\r\n\r\n"
        f"Final-recipient: RFC822; {sender}\r\nDisposition: automatic-action/MDN-sent-automatically; displayed\r\n"
        f"X-MSExch-Correlation-Key: nf7/jgN6Qk+WzsrkY5s9WA==\r\nX-Display-Name: {display_name}\r\n\r\n"
        f"--{boundary}--\r\n").encode()


#: The authserv-id of "our" mail server in the tests (see the ``our_mx`` fixture).
OUR_MX = "mx.desk.example.test"


def authenticated(raw: bytes, signer: str, reporter: str | None = None) -> bytes:
    """``raw`` as our mail server delivers it after a DKIM signature of ``signer`` verified:
    its Authentication-Results on top (and, for a delivery report, ``reporter`` as the
    mailer daemon's domain, so that the From is aligned with the signature)."""
    if reporter:
        raw = raw.replace(b"MAILER-DAEMON@example.test", f"MAILER-DAEMON@{reporter}".encode())
    return (f"Authentication-Results: {OUR_MX}; dkim=pass header.d={signer} header.s=s1\r\n"
            f"Received: from mx.{signer} by {OUR_MX}\r\n").encode() + raw
