"""Self-tests of the real mail stack: each capability the help desk's tests rely on, proven."""

from __future__ import annotations

import email.policy
import smtplib
import ssl
import threading
import time
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import make_msgid

import pytest
from imapclient import IMAPClient

from tests.mailstack import MailStack, MailStackError

SUPPORT = "support@example.test"
BOUNCES = "bounces@example.test"
AGENT = "agent@example.test"
ALICE = "alice@customer.test"
BOB = "bob@customer.test"

pytestmark = pytest.mark.usefixtures("clean_mailboxes")


def message(sender: str, to: str, subject: str, body: str = "Hello.\n") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="example.test")
    msg.set_content(body)
    return msg


def parse(raw: bytes) -> EmailMessage:
    return BytesParser(policy=email.policy.default).parsebytes(raw)


def only_message(stack: MailStack, user: str, criteria: list[object]) -> EmailMessage:
    """Wait for exactly one message matching ``criteria`` and parse it."""
    uids = stack.wait_for(user, criteria)
    assert len(uids) == 1, uids
    with stack.imap(user) as client:
        client.select_folder("INBOX", readonly=True)
        return parse(client.fetch(uids, ["BODY.PEEK[]"])[uids[0]][b"BODY[]"])


def delivery_status(report: EmailMessage) -> tuple[EmailMessage, list[EmailMessage]]:
    """The per-message and per-recipient field blocks of an RFC 3464 report."""
    assert report.get_content_type() == "multipart/report"
    assert report.get_param("report-type") == "delivery-status"
    (status,) = (p for p in report.walk() if p.get_content_type() == "message/delivery-status")
    blocks = [block for block in status.get_payload() if isinstance(block, EmailMessage)]
    per_message, *per_recipient = blocks
    return per_message, per_recipient


def test_delivers_one_message_to_two_customers(mailstack: MailStack) -> None:
    msg = message(SUPPORT, f"{ALICE}, {BOB}", "Your ticket #1", "We are on it.\n")
    mailstack.send(msg)
    for user in (ALICE, BOB):
        mailstack.wait_for(user, ["HEADER", "Message-ID", msg["Message-ID"]])
        (raw,) = mailstack.fetch_all(user)
        delivered = parse(raw)
        assert delivered["Delivered-To"] == user
        assert delivered.get_content().strip() == "We are on it."


def test_unknown_user_gets_a_real_bounce(mailstack: MailStack) -> None:
    mailstack.send(message(SUPPORT, "nobody@customer.test", "to nobody"))
    bounce = only_message(mailstack, SUPPORT, ["SUBJECT", "Undelivered Mail Returned to Sender"])
    assert bounce["Auto-Submitted"] == "auto-replied"
    per_message, (recipient,) = delivery_status(bounce)
    assert per_message["Reporting-MTA"] == "dns; mail.example.test"
    assert recipient["Final-Recipient"] == "rfc822; nobody@customer.test"
    assert recipient["Action"] == "failed"
    assert recipient["Status"] == "5.1.1"
    assert "User doesn't exist" in recipient["Diagnostic-Code"]


def test_notify_success_gives_a_delivered_dsn(mailstack: MailStack) -> None:
    mailstack.send(
        message(SUPPORT, AGENT, "dsn please"),
        mail_options=["RET=HDRS", "ENVID=ENVID-OK-1"],
        rcpt_options=["NOTIFY=SUCCESS,FAILURE", f"ORCPT=rfc822;{AGENT}"],
    )
    report = only_message(mailstack, SUPPORT, ["SUBJECT", "Successful Mail Delivery Report"])
    per_message, (recipient,) = delivery_status(report)
    assert per_message["Original-Envelope-Id"] == "ENVID-OK-1"
    assert recipient["Original-Recipient"] == f"rfc822;{AGENT}"
    assert recipient["Action"] == "delivered"
    assert recipient["Status"] == "2.0.0"
    assert mailstack.wait_for(AGENT, ["SUBJECT", "dsn please"])


def test_verp_bounce_reaches_the_bounce_mailbox_with_its_token(mailstack: MailStack) -> None:
    """Dovecot LMTP's Delivered-To keeps the full VERP address; Postfix's LMTP client adds no
    X-Original-To (only its local/virtual/pipe agents do)."""
    verp = "bounces+tok123@example.test"
    mailstack.send(message(SUPPORT, "ghost@example.test", "verp"), envelope_from=verp)
    bounce = only_message(mailstack, BOUNCES, ["HEADER", "Content-Type", "delivery-status"])
    assert bounce["Delivered-To"] == verp
    assert bounce["To"] == verp
    assert bounce["X-Original-To"] is None
    assert bounce["Return-Path"] == "<>"
    _, (recipient,) = delivery_status(bounce)
    assert recipient["Final-Recipient"] == "rfc822; ghost@example.test"
    assert recipient["Status"] == "5.1.1"


def test_vacation_sends_one_real_auto_reply_per_sender(mailstack: MailStack) -> None:
    mailstack.set_vacation(ALICE, "Out of office", "Back on Monday.")
    first = message(SUPPORT, ALICE, "Re: ticket #7")
    mailstack.send(first)
    reply = only_message(mailstack, SUPPORT, ["HEADER", "Auto-Submitted", "auto-replied"])
    assert reply["Auto-Submitted"].startswith("auto-replied")  # "auto-replied (vacation)"
    assert reply["Subject"] == "Out of office"
    assert reply["In-Reply-To"] == first["Message-ID"]
    assert reply["Return-Path"] == "<>"
    assert reply.get_content().strip() == "Back on Monday."

    mailstack.send(message(SUPPORT, ALICE, "Re: ticket #7, again"))
    assert mailstack.wait_for(ALICE, ["SUBJECT", "again"])
    assert mailstack.settle()
    assert len(mailstack.fetch_all(SUPPORT)) == 1


def test_imaps_verifies_against_the_cafile(mailstack: MailStack) -> None:
    host, port = mailstack.imap_host, mailstack.imaps_port
    with IMAPClient(host, port=port, ssl=True, ssl_context=mailstack.ssl_context()) as client:
        client.login(SUPPORT, mailstack.password)
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
    with pytest.raises(ssl.SSLCertVerificationError):
        IMAPClient(host, port=port, ssl=True, ssl_context=ssl.create_default_context())


def test_starttls_on_imap_and_smtp(mailstack: MailStack) -> None:
    with IMAPClient(mailstack.imap_host, port=mailstack.imap_port, ssl=False) as client:
        client.starttls(mailstack.ssl_context())
        client.login(SUPPORT, mailstack.password)
    with smtplib.SMTP(mailstack.smtp_host, mailstack.smtp_port) as smtp:
        smtp.starttls(context=mailstack.ssl_context())
        smtp.send_message(message(SUPPORT, BOB, "over tls"))
    assert mailstack.wait_for(BOB, ["SUBJECT", "over tls"])


def test_postfix_outage_refuses_smtp_and_keeps_queued_mail(mailstack: MailStack) -> None:
    mailstack.stop_dovecot()  # Postfix accepts and defers: the mail waits in its queue
    mailstack.send(message(SUPPORT, ALICE, "queued during the outage"))
    mailstack.stop_postfix()
    with pytest.raises(ConnectionRefusedError):
        smtplib.SMTP(mailstack.smtp_host, mailstack.smtp_port, timeout=5)
    mailstack.start_postfix()
    mailstack.start_dovecot()
    mailstack.send(message(SUPPORT, ALICE, "sent after the outage"))
    assert mailstack.wait_for(ALICE, ["SUBJECT", "queued during the outage"])
    assert mailstack.wait_for(ALICE, ["SUBJECT", "sent after the outage"])


def test_dovecot_restart_keeps_the_mail_store(mailstack: MailStack) -> None:
    mailstack.append(BOB, b"Subject: kept\r\n\r\nstill here\r\n", folder="Archive")
    mailstack.stop_dovecot()
    with pytest.raises(ConnectionRefusedError):
        mailstack.imap(BOB)
    mailstack.start_dovecot()
    (raw,) = mailstack.fetch_all(BOB, folder="Archive")
    assert raw.endswith(b"still here\r\n")


def test_idle_pushes_exists(mailstack: MailStack) -> None:
    responses: list[tuple[object, ...]] = []
    with mailstack.imap(SUPPORT) as client:
        client.select_folder("INBOX")
        client.idle()
        sender = threading.Timer(0.2, mailstack.send, [message(ALICE, SUPPORT, "ping")])
        sender.start()
        try:
            deadline = time.monotonic() + 10
            while (1, b"EXISTS") not in responses and time.monotonic() < deadline:
                responses += client.idle_check(timeout=1)
        finally:
            sender.join()
            client.idle_done()
    assert (1, b"EXISTS") in responses


def test_clear_empties_every_folder(mailstack: MailStack) -> None:
    mailstack.append(BOB, b"Subject: a\r\n\r\na\r\n")
    mailstack.append(BOB, b"Subject: b\r\n\r\nb\r\n", folder="Archive")
    mailstack.clear(BOB)
    assert mailstack.fetch_all(BOB) == []
    assert mailstack.fetch_all(BOB, folder="Archive") == []


def test_refuses_to_start_on_a_taken_port(mailstack: MailStack) -> None:
    with pytest.raises(MailStackError, match="already in use"):
        MailStack.start(base_port=mailstack.smtp_port)
