"""Small reports written for unit tests: a DSN around given fields, a plain notice."""
from __future__ import annotations

from receipts_plugin.reports import parse_report


def dsn(fields: str, notice: str = "Delivery failed.", headers: str = "") -> bytes:
    return (
        "From: MAILER-DAEMON@relay.example.net\r\nTo: bounces@help.example.org\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"{headers}MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        f"--B\r\nContent-Type: text/plain\r\n\r\n{notice}\r\n"
        f"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay.example.net\r\n\r\n{fields}\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <t-1@help.example.org>\r\nTo: x@example.com\r\n\r\n--B--\r\n"
    ).encode()


def notice(body: str, subject: str = "Undeliverable", sender: str = "MAILER-DAEMON@relay.example.net", headers: str = "") -> bytes:
    return (
        f"From: {sender}\r\nTo: bounces@help.example.org\r\nSubject: {subject}\r\n{headers}"
        f"Content-Type: text/plain\r\n\r\n{body}"
    ).encode()


def only(raw: bytes):
    report = parse_report(raw)
    assert len(report.recipients) == 1, report.recipients
    return report.recipients[0]
