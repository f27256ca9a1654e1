"""Unit tests of the parser's pieces, each on a small message written here."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from io import StringIO

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from receipts_plugin.reports import Report, parse_mailbox, parse_report
from receipts_plugin.reports import codes, reasons
from receipts_plugin.reports.addresses import bare_recipient, message_id
from receipts_plugin.reports.cli import main
from receipts_plugin.reports.dsn import normalise_status, split_fields
from receipts_plugin.reports.mdn import parse_disposition
from receipts_plugin.reports.mime import split_mbox


def dsn_message(fields: str, notice: str = "Delivery failed.", extra_headers: str = "") -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example.net\r\n"
        "To: bounces+t0k3N@help.example.org\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <report-1@mx.example.net>\r\n"
        "Date: Mon, 3 Mar 2025 10:00:00 +0000\r\n"
        f"{extra_headers}"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        f"--B\r\nContent-Type: text/plain\r\n\r\n{notice}\r\n"
        f"--B\r\nContent-Type: message/delivery-status\r\n\r\n{fields}\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        "Message-ID: <ticket-42@help.example.org>\r\nFrom: Help <help@example.org>\r\nTo: alice@example.com\r\n"
        "Subject: Re: [#42] Printer\r\nIn-Reply-To: <c1@example.com>\r\nReferences: <c0@example.com> <c1@example.com>\r\n"
        "\r\n--B--\r\n"
    ).encode()


# --- status codes --------------------------------------------------------------------------

def test_find_status_prefers_specific_code_and_ignores_ip_addresses():
    assert codes.find_status("host 192.5.1.1 said: 550 5.0.0 <a@b.c>: 5.1.1 user unknown") == "5.1.1"
    assert codes.find_status("connect to 10.4.4.7 failed") is None
    assert codes.find_status("smtp; 550 5.7.509 Access denied") == "5.7.509"


def test_find_reply_skips_numbers_inside_addresses():
    assert codes.find_reply("[192.0.2.55]: 550-5.7.1 blocked") == "550"
    assert codes.find_reply("no code here 1234") is None


def test_prefer_status_keeps_specific_field_over_vague_quote():
    assert codes.prefer_status("5.1.1", "5.0.0") == "5.1.1"
    assert codes.prefer_status("5.0.0", "5.2.2") == "5.2.2"
    assert codes.prefer_status("4.4.7", "5.1.1", "550") == "5.1.1"


def test_pseudo_status_codes_follow_sisimai():
    assert codes.pseudo_status("userunknown", temporary=False) == "5.0.911"
    assert codes.pseudo_status("expired", temporary=True) == "4.0.947"
    assert codes.pseudo_status("filtered", temporary=True) == "4.0.924"


def test_normalise_status_strips_comments():
    assert normalise_status("5.0.0 (permanent failure)") == "5.0.0"
    assert normalise_status("4. 4. 7") == "4.4.7"
    assert normalise_status("unknown") is None


# --- reasons -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "status, diagnostic, expected",
    [
        ("5.1.1", "550 5.1.1 <a@b.example>: Recipient address rejected: User unknown", "userunknown"),
        ("5.2.2", "552 5.2.2 Mailbox full", "mailboxfull"),
        ("5.1.1", "550 5.1.1 mailbox is full", "mailboxfull"),
        ("5.7.1", "550 5.7.1 Service unavailable; client host blocked using zen.spamhaus.org", "blocked"),
        ("5.7.26", "550 5.7.26 Unauthenticated email is not accepted due to domain's DMARC policy", "authfailure"),
        (None, "554 Message rejected as spam", "spamdetected"),
        ("5.7.1", "554 5.7.1 Message rejected as spam", "spamdetected"),
        ("4.4.7", "Connection timed out", "expired"),
        ("5.4.4", "Host or domain name not found", "hostunknown"),
        ("2.1.5", "250 OK", "delivered"),
        (None, "", "undefined"),
    ],
)
def test_classify(status, diagnostic, expected):
    assert reasons.classify(status, diagnostic) == expected


def test_reason_tables_use_sisimai_vocabulary():
    assert set(reasons.PHRASES) <= set(reasons.REASONS)
    assert set(codes.STATUS_REASONS.values()) <= set(reasons.REASONS)
    assert set(codes.PSEUDO_CODES) <= set(reasons.REASONS)


def test_user_unknown_at_data_stage_is_filtered():
    text = "550 unknown user <a@b.example> (in reply to end of DATA command)"
    assert reasons.classify(None, text) == "filtered"
    assert reasons.classify(None, "550 unknown user (in reply to RCPT TO command)") == "userunknown"


def test_refusal_at_mail_from_is_about_the_sender():
    assert reasons.classify("5.1.0", "553 5.1.0 <a@b.example> does not exist (in reply to MAIL FROM command)") == "rejected"


def test_null_mx_wins_over_dns_error():
    text = "DNS Error: lookup of example.org responded with code NOERROR, returned Null MX"
    assert reasons.classify("4.0.0", text) == "notaccept"


def test_hard_bounce_rules():
    assert codes.is_hard("userunknown", "5.1.1") is True
    assert codes.is_hard("mailboxfull", "5.2.2") is False
    assert codes.is_hard("notaccept", "521 5.3.2 no mail here") is True
    assert codes.is_hard("notaccept", "421 4.3.2 try later") is False


# --- DSN fields ----------------------------------------------------------------------------

def test_recipient_groups_without_blank_lines_and_with_folding():
    text = (
        "Reporting-MTA: dns; mx.example.net\n"
        "Final-Recipient: rfc822; one@example.com\n"
        "Action: failed\n"
        "Status: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 no such\n"
        "    user here\n"
        "Final-Recipient: rfc822; two@example.com\n"
        "   Action: delayed\n"
        "Status: 4.2.2\n"
    )
    defects: list[str] = []
    per_message, groups = split_fields(text, defects)
    assert per_message["reporting-mta"] == "dns; mx.example.net"
    assert [g["final-recipient"] for g in groups] == ["rfc822; one@example.com", "rfc822; two@example.com"]
    assert groups[0]["diagnostic-code"] == "smtp; 550 5.1.1 no such user here"
    assert groups[1]["action"] == "delayed"
    assert any("blank line" in d for d in defects) and any("indented" in d for d in defects)


def test_action_written_before_final_recipient_stays_in_one_group():
    _, groups = split_fields("Action: failed\nFinal-Recipient: rfc822; x@example.com\nOriginal-Recipient: rfc822; x@example.com\nStatus: 5.1.1\n", [])
    assert len(groups) == 1 and groups[0]["status"] == "5.1.1"


def test_full_dsn_report():
    report = parse_report(dsn_message(
        "Reporting-MTA: dns; mx.example.net\r\nOriginal-Envelope-Id: env-77\r\n"
        "Arrival-Date: Mon, 3 Mar 2025 09:59:00 +0000\r\n\r\n"
        "Final-Recipient: rfc822; Alice@Example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Remote-MTA: dns; mx.example.com\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        "Last-Attempt-Date: Mon, 3 Mar 2025 10:00:00 +0000\r\n"
    ))
    assert report.kind == "dsn"
    rcpt = report.recipients[0]
    assert (rcpt.recipient, rcpt.action, rcpt.status, rcpt.reason, rcpt.hard) == ("alice@example.com", "failed", "5.1.1", "userunknown", True)
    assert rcpt.final_recipient_raw == "rfc822; Alice@Example.com"
    assert rcpt.reply_code == "550" and rcpt.remote_mta == "mx.example.com" and rcpt.diagnostic_type == "SMTP"
    assert rcpt.last_attempt_date == datetime(2025, 3, 3, 10, 0, tzinfo=timezone.utc)
    assert report.envid == "env-77" and report.reporting_mta == "mx.example.net"
    assert report.original.message_id == "ticket-42@help.example.org" == report.original_message_id
    assert report.original.references == ("c0@example.com", "c1@example.com")
    assert report.original.source == "text/rfc822-headers"
    assert report.verp_local_parts == ("t0k3N",)
    assert report.sources["recipients"] == "structured"


def test_dsn_fields_in_a_text_plain_part_are_still_read():
    raw = dsn_message("x").replace(b"message/delivery-status", b"text/plain").replace(
        b"\r\nx\r\n", b"\r\nFinal-Recipient: rfc822; bob@example.com\r\nAction: failed\r\nStatus: 5.2.2\r\n"
    )
    report = parse_report(raw)
    assert report.kind == "dsn" and report.recipients[0].reason == "mailboxfull"
    assert any("text/plain" in d for d in report.defects)


def test_eight_bit_headers_and_body_do_not_break_parsing():
    raw = dsn_message(
        "Final-Recipient: rfc822; jos\xe9@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n",
        extra_headers="X-Note: caf\xe9 cr\xe8me\r\n",
    ).replace("jos\xe9".encode(), b"jos\xe9").replace("caf\xe9 cr\xe8me".encode(), b"caf\xe9 cr\xe8me")
    report = parse_report(raw)
    assert report.kind == "dsn" and report.recipients[0].status == "5.1.1"


# --- MDN -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "value, expected",
    [
        ("manual-action/MDN-sent-manually; displayed", ("displayed", "manual-action", "mdn-sent-manually", ())),
        ("automatic-action/MDN-sent-automatically; deleted", ("deleted", "automatic-action", "mdn-sent-automatically", ())),
        ("automatic-action/MDN-sent-automatically; processed/error", ("processed", "automatic-action", "mdn-sent-automatically", ("error",))),
        ("manual-action/MDN-sent-manually; denied", ("denied", "manual-action", "mdn-sent-manually", ())),
        ("automatic-action/MDN-sent-automatically; failed/expired,mailbox-terminated",
         ("failed", "automatic-action", "mdn-sent-automatically", ("expired", "mailbox-terminated"))),
        ("displayed", ("displayed", None, None, ())),
    ],
)
def test_parse_disposition(value, expected):
    assert parse_disposition(value) == expected


def test_mdn_report():
    raw = (
        b"From: bob@example.com\r\nTo: help@example.org\r\nSubject: Read: Printer\r\n"
        b'Content-Type: multipart/report; report-type=disposition-notification; boundary="M"\r\n\r\n'
        b"--M\r\nContent-Type: text/plain\r\n\r\nYour message was read.\r\n"
        b"--M\r\nContent-Type: message/disposition-notification\r\n\r\n"
        b"Reporting-UA: pc.example.com; Mailer 1.0\r\nFinal-Recipient: rfc822; Bob@example.com\r\n"
        b"Original-Message-ID: <ticket-42@help.example.org>\r\n"
        b"Disposition: automatic-action/MDN-sent-automatically; displayed\r\n--M--\r\n"
    )
    report = parse_report(raw)
    assert report.kind == "mdn"
    assert report.original_message_id == "ticket-42@help.example.org"
    assert report.mdn.disposition == "displayed" and report.mdn.reporting_ua == "pc.example.com; Mailer 1.0"
    assert report.recipients[0].recipient == "bob@example.com" and report.recipients[0].action is None


@pytest.mark.parametrize(
    "subject, disposition",
    [
        ("Read: Printer", "displayed"),
        ("Gelesen: Drucker", "displayed"),
        ("Lu : Imprimante", "displayed"),
        ("Leído: Impresora", "displayed"),
        ("Letto: Stampante", "displayed"),
        ("Gelezen: Printer", "displayed"),
        ("Not read: Printer", "deleted"),
        ("Nicht gelesen: Drucker", "deleted"),
    ],
)
def test_plain_read_notices_in_several_languages(subject, disposition):
    raw = (
        f"From: bob@example.com\r\nTo: help@example.org\r\nSubject: {subject}\r\n"
        "In-Reply-To: <ticket-42@help.example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Your message was read on Monday.\r\n"
    ).encode()
    report = parse_report(raw)
    assert report.kind == "read-notice"
    assert report.mdn.disposition == disposition and report.mdn.source == "heuristic"
    assert report.original_message_id == "ticket-42@help.example.org"


# --- auto-replies, feedback, none ----------------------------------------------------------

def customer_mail(headers: str = "", subject: str = "Printer is broken again") -> bytes:
    return (
        f"From: Carol <carol@example.com>\r\nTo: help@example.org\r\nSubject: {subject}\r\n"
        f"Message-ID: <c9@example.com>\r\n{headers}Content-Type: text/plain\r\n\r\n"
        "Hello, the printer on floor 2 does not print. It says the user is unknown. Thanks, Carol\r\n"
    ).encode()


@pytest.mark.parametrize(
    "headers, subject",
    [
        ("Auto-Submitted: auto-replied\r\n", "Re: Printer"),
        ("X-Autoreply: yes\r\n", "Re: Printer"),
        ("X-Autorespond: Printer\r\n", "Re: Printer"),
        ("Precedence: auto_reply\r\n", "Re: Printer"),
        ("", "Out of Office: Printer"),
        ("", "Automatic reply: Printer"),
        ("", "Abwesenheitsnotiz: Drucker"),
    ],
)
def test_auto_replies(headers, subject):
    report = parse_report(customer_mail(headers, subject))
    assert report.kind == "auto-reply"
    assert report.recipients[0].reason == "vacation" and report.recipients[0].recipient == "carol@example.com"


def test_auto_response_suppress_alone_is_not_an_auto_reply():
    assert parse_report(customer_mail("X-Auto-Response-Suppress: All\r\n")).kind == "none"


def test_normal_customer_mail_is_none():
    report = parse_report(customer_mail())
    assert report.kind == "none" and report.recipients == ()


def test_bounce_with_auto_submitted_is_still_a_bounce():
    raw = dsn_message(
        "Final-Recipient: rfc822; x@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n",
        extra_headers="Auto-Submitted: auto-replied\r\n",
    )
    assert parse_report(raw).kind == "dsn"


def test_non_standard_bounce_qmail_style():
    raw = (
        b"From: MAILER-DAEMON@mx.example.net\r\nTo: bounces+abc@help.example.org\r\nSubject: failure notice\r\n\r\n"
        b"Hi. This is the qmail-send program at mx.example.net.\r\n"
        b"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n\r\n"
        b"<dave@example.com>:\r\n192.0.2.1 does not like recipient.\r\n"
        b"Remote host said: 550 5.1.1 <dave@example.com>... User Unknown\r\n\r\n"
        b"--- Below this line is a copy of the message.\r\n\r\n"
        b"Message-ID: <ticket-7@help.example.org>\r\nFrom: help@example.org\r\nTo: dave@example.com\r\nSubject: Hi\r\n\r\nbody\r\n"
    )
    report = parse_report(raw)
    assert report.kind == "bounce"
    rcpt = report.recipients[0]
    assert (rcpt.recipient, rcpt.status, rcpt.reason, rcpt.hard, rcpt.source) == ("dave@example.com", "5.1.1", "userunknown", True, "heuristic")
    assert report.original_message_id == "ticket-7@help.example.org" and report.original.source == "quoted"
    assert report.verp_local_parts == ("abc",)


def test_arf_feedback_report():
    raw = (
        b"From: fbl@isp.example\r\nTo: abuse@example.org\r\nSubject: FW: complaint\r\n"
        b'Content-Type: multipart/report; report-type=feedback-report; boundary="F"\r\n\r\n'
        b"--F\r\nContent-Type: text/plain\r\n\r\nA complaint.\r\n"
        b"--F\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: FBL/1.0\r\n"
        b"Version: 1\r\nOriginal-Rcpt-To: <erin@isp.example>\r\n"
        b"--F\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: <n1@example.org>\r\nTo: erin@isp.example\r\n\r\nhi\r\n--F--\r\n"
    )
    report = parse_report(raw)
    assert report.kind == "feedback" and report.feedback_type == "abuse"
    assert report.recipients[0].recipient == "erin@isp.example" and report.recipients[0].reason == "feedback"
    assert report.original_message_id == "n1@example.org"


# --- robustness, identity, helpers, CLI ----------------------------------------------------

@pytest.mark.parametrize("raw", [b"", b"\x00\xff" * 100, b"garbage without headers", b"X: " + b"a" * 2_000_000])
def test_hostile_inputs_yield_a_report(raw):
    report = parse_report(raw)
    assert isinstance(report, Report) and report.kind == "none"


def test_identity_is_stable_and_content_sensitive():
    raw = dsn_message("Final-Recipient: rfc822; x@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n")
    other = raw.replace(b"5.1.1", b"5.2.2")
    assert parse_report(raw).identity == parse_report(raw).identity != parse_report(other).identity


def test_address_helpers():
    assert bare_recipient("rfc822; <Jane.Doe@Example.COM>") == "jane.doe@example.com"
    assert bare_recipient("unknown; nair_s") == "nair_s"
    assert message_id(" <a@b> <c@d>") == "a@b"


def test_cli_json_lines(tmp_path):
    path = tmp_path / "bounce.eml"
    path.write_bytes(dsn_message(
        "Original-Envelope-Id: env-1\r\n\r\nFinal-Recipient: rfc822; a@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        "Final-Recipient: rfc822; b@example.com\r\nAction: delayed\r\nStatus: 4.2.2\r\n"
    ))
    plain = tmp_path / "plain.eml"
    plain.write_bytes(customer_mail())
    out = StringIO()
    assert main(["--json", str(path), str(plain)], out) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["recipient"], r["action"], r["status"]) for r in rows[:2]] == [("a@example.com", "failed", "5.1.1"), ("b@example.com", "delayed", "4.2.2")]
    assert rows[0]["envid"] == "env-1" and rows[0]["original_message_id"] == "ticket-42@help.example.org"
    assert rows[2]["kind"] == "none" and rows[2]["file"] == str(plain)
    for key in ("file", "kind", "recipient", "action", "status", "reason", "hard", "disposition", "original_message_id", "envid"):
        assert key in rows[0]


def test_cli_reads_every_message_of_an_mbox_file(tmp_path):
    """Sisimai's samples and mail archives are mbox files; one may hold two bounces."""
    first = dsn_message("Final-Recipient: rfc822; a@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n")
    second = dsn_message("Final-Recipient: rfc822; b@example.com\r\nAction: delayed\r\nStatus: 4.2.2\r\n")
    path = tmp_path / "two.mbox"
    path.write_bytes(b"From MAILER-DAEMON  Thu Apr 29 23:34:45 2015\n" + first + b"\n"
                     + b"From MAILER-DAEMON  Thu Apr 29 23:35:02 2015\n" + second)
    out = StringIO()
    assert main(["--json", str(path)], out) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["recipient"], r["status"]) for r in rows] == [("a@example.com", "5.1.1"), ("b@example.com", "4.2.2")]


def test_only_a_dated_from_line_before_a_header_starts_another_message():
    body = (b"From MAILER-DAEMON  Thu Apr 29 23:34:45 2015\nFrom: a@example.com\nSubject: x\n\n"
            b"From the team, Mon Jan  5 10:00:00 2015\nthanks\nFrom nobody Mon Jan  5 10:00:00 2015\nnot a header\n")
    assert split_mbox(body) == [body]
    assert split_mbox(b"Subject: not an mbox\n\nbody\n") == [b"Subject: not an mbox\n\nbody\n"]
    assert len(parse_mailbox(body)) == 1


def test_cli_summary(tmp_path):
    path = tmp_path / "plain.eml"
    path.write_bytes(customer_mail())
    out = StringIO()
    main([str(path)], out)
    assert out.getvalue().startswith(f"{path}: none")


def test_phrase_prefilter_never_hides_a_match():
    """The literal anchors that guard each phrase table must be present whenever the table matches."""
    from pathlib import Path

    texts = [path.read_bytes().decode("latin-1").lower() for path in sorted((Path(__file__).parents[1] / "corpus").rglob("*.eml"))]
    for reason, table in reasons.PHRASES.items():
        pattern = re.compile(table.pattern)
        for text in texts:
            for line in text.splitlines()[:400]:
                assert reasons.matches(reason, line) == bool(pattern.search(line)), (reason, line)


# --- shortcuts that replace a regex: the same answer on any input ----------------------------

_BREAKS = st.text(alphabet="\r\nab: \t", max_size=40)


@given(_BREAKS.map(str.encode))
@settings(max_examples=500, deadline=None)
def test_the_blank_line_found_with_find_is_the_one_the_regex_finds(raw):
    from receipts_plugin.reports.mime import _blank_line

    match = re.compile(rb"\r?\n\r?\n").search(raw, 0, 30)
    assert _blank_line(raw, 30) == ((match.start(), match.end()) if match else None)


@given(st.text(alphabet="after 3 attempts over 2 hours.xy", max_size=120))
@settings(max_examples=500, deadline=None)
def test_the_sentence_around_a_phrase_is_what_a_leading_not_a_full_stop_run_matched(text):
    from receipts_plugin.reports.heuristics.scan import _ATTEMPTS_OVER, _sentence_around

    whole = re.compile(r"[^.]*(?:" + _ATTEMPTS_OVER.pattern + r")[^.]*\.?", re.I).search(text)
    core = _ATTEMPTS_OVER.search(text)
    assert (whole.group(0).strip() if whole else None) == (_sentence_around(text, core.start(), core.end()) if core else None)


def test_a_notice_that_gave_up_after_attempts_over_hours_carries_that_sentence_for_every_recipient():
    from receipts_plugin.reports.heuristics.scan import _for_every_recipient

    lines = ["Delivery to the following recipients failed.", "", "  bob@example.com",
             "The server gave up. It tried after 5 attempts over 2 hours without", "success. Sorry."]
    assert _for_every_recipient(lines) == "\nIt tried after 5 attempts over 2 hours without success."


@given(st.text(alphabet="\r\n \tab:\x80", max_size=40))
@settings(max_examples=1000, deadline=None)
def test_a_header_block_counted_stray_free_has_no_stray_line(text):
    from receipts_plugin.reports.mime import _FIELD_RUN, _STRAY_LINE, _every_line_a_field_or_continuation

    fields = len(_FIELD_RUN.findall(text))
    if _every_line_a_field_or_continuation(text, fields):
        assert not _STRAY_LINE.search(text)
    elif "\n\n" not in text:
        assert _STRAY_LINE.search(text)


@given(st.text(alphabet="ab@ \n\t.", max_size=40))
@settings(max_examples=1000, deadline=None)
def test_blanking_addresses_from_word_starts_blanks_what_any_position_did(text):
    from receipts_plugin.reports.heuristics.scan import _ANY_ADDRESS

    assert _ANY_ADDRESS.sub(" ", text) == re.compile(r"\S+@\S+").sub(" ", text)


_CODE_TEXT = st.text(alphabet="0245.:-+#/a ;,)\n", max_size=30)


@pytest.mark.parametrize("module, name, original, flags", [
    ("codes", "_STATUS", r"(?<![0-9A-Za-z.])([245])\.([0-7])\.(\d{1,3})(?![0-9]|\.\d)", 0),
    ("codes", "_REPLY", r"(?<![0-9A-Za-z.\-+#/])(?<![0-9A-Za-z]:)([245][0-5][0-9])(?=[ \-]|$|\.?\s*$|[,;\]\)])", re.M),
    ("codes", "_IPV4", r"\b\d{1,3}(?:\.\d{1,3}){3}\b", 0),
    ("heuristics.scan", "_CODE", r"(?<![\d.])[245]\d\d(?![\d]|\.\d)|\b[245]\.\d{1,3}\.\d{1,3}\b", 0),
])
def test_code_patterns_that_open_with_a_digit_match_what_their_lookbehind_first_forms_matched(module, name, original, flags):
    import importlib

    pattern = getattr(importlib.import_module(f"receipts_plugin.reports.{module}"), name)
    reference = re.compile(original, flags)

    @given(_CODE_TEXT)
    @settings(max_examples=1500, deadline=None)
    def same(text):
        assert [(m.span(), m.groups()) for m in pattern.finditer(text)] == [(m.span(), m.groups()) for m in reference.finditer(text)]

    same()
