"""Reports built the way real servers and clients write them (Postfix DSNs, Thunderbird-style
MDNs, Outlook-style "Read:" notices), for tests that need a specific message's references.
The DSN and MDN writers are the plugin's own (the demo data feeds them to the intake too)."""
from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime, make_msgid

from helpdesk.models import utcnow
from receipts_plugin.report_mail import mdn, postfix_dsn

__all__ = ["exchange_mdn", "mdn", "postfix_dsn", "read_notice"]


def _date(when: datetime | None = None) -> str:
    return format_datetime(when or utcnow())


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
