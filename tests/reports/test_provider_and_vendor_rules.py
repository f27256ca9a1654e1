"""Unit tests of the provider (rhost) rules, vendor formats and Sisimai's stage rules, on messages written here."""
from __future__ import annotations

from receipts_plugin.reports import codes, parse_report, reasons, rhost, vendors
from receipts_plugin.reports.heuristics import recipient_blocks
from receipts_plugin.reports.mime import parse_message

from messages import dsn, notice, only


# --- providers ------------------------------------------------------------------------------

def test_provider_is_found_by_recipient_domain_then_remote_then_reporting_host():
    assert rhost.provider(rhost.Where("wanadoo.fr")) == "franceptt"
    assert rhost.provider(rhost.Where("docomo.ne.jp")) == "nttdocomo"
    assert rhost.provider(rhost.Where("example.com", ("mx1.mail.protection.outlook.com",))) == "microsoft"
    assert rhost.provider(rhost.Where("example.com", (), ("server-7.bemta-3.messagelabs.com",))) == "messagelabs"
    assert rhost.provider(rhost.Where("example.com", ("mx.example.com",), ("relay.example.net",))) is None
    assert rhost.provider(rhost.Where("notoutlook.com", ("evil-protection.outlook.com.example",))) is None


def test_provider_error_labels_decide():
    orange = rhost.Where("orange.fr")
    assert rhost.remote_reason(orange, "5.2.0", "550", None, "550 5.2.0 Mail rejete. Mail rejected. OFR_506 [506]") == "spamdetected"
    assert rhost.remote_reason(orange, "5.1.1", "550", None, "550 5.1.1 Invalid recipient. LPN416") == "userunknown"
    cox = rhost.Where("cox.net")
    assert rhost.remote_reason(cox, "5.1.0", "550", None, "550 5.1.0 <a@b.example> sender rejected. AUP#CXBL") == "blocked"
    spectrum = rhost.Where("charter.net")
    assert rhost.remote_reason(spectrum, "5.1.0", "550", None, "550 see AUP#In-1320 for more") == "toomanyconn"
    godaddy = rhost.Where("example.com", ("smtp.secureserver.net",))
    assert rhost.remote_reason(godaddy, "5.1.1", "550", None, "550 5.1.1 too many recipients this hour. IB607") == "speeding"
    facebook = rhost.Where("facebook.com")
    assert rhost.remote_reason(facebook, "5.1.1", "550", None, "550 5.1.1 RCP-P2 Refused due to recipient preferences") == "filtered"


def test_provider_rows_with_status_ranges_and_reply_codes():
    microsoft = rhost.Where("example.com", (), ("NEKO01.namprd22.prod.outlook.com",))
    text = "550 5.7.606 Access denied, banned sending IP [192.0.2.1]"
    assert rhost.remote_reason(microsoft, "5.7.606", "550", None, text.lower()) == "blocked"
    assert rhost.remote_reason(microsoft, "5.7.650", "550", None, text.lower()) is None
    mimecast = rhost.Where("example.com", ("eu-smtp-inbound-1.mimecast.com",))
    assert rhost.remote_reason(mimecast, "5.0.0", "554", None, "554 Host network not allowed") == "policyviolation"
    assert rhost.remote_reason(mimecast, "5.0.0", "550", None, "550 Host network not allowed") is None


def test_kddi_and_nttdocomo_tell_filter_from_missing_mailbox():
    kddi = rhost.Where("ezweb.ne.jp")
    assert rhost.remote_reason(kddi, "5.0.0", "550", None, "550 : User unknown") == "filtered"
    assert rhost.remote_reason(kddi, "5.0.0", "550", None, "550 <a@ezweb.ne.jp>: User unknown") == "userunknown"
    docomo = rhost.Where("example.jp", ("mfsmax.docomo.ne.jp",))
    assert rhost.remote_reason(docomo, "5.0.0", "550", "RCPT", "550 Unknown user a@docomo.ne.jp") == "userunknown"
    assert rhost.remote_reason(docomo, "5.0.0", "550", "DATA", "550 Unknown user a@docomo.ne.jp") == "rejected"


def test_remote_provider_rule_applies_inside_a_report():
    fields = ("Final-Recipient: rfc822; kijitora@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
              "Remote-MTA: dns; smtp.secureserver.net\r\n"
              "Diagnostic-Code: smtp; 550 5.1.1 <kijitora@example.com> has sent to too many recipients this hour. IB607")
    assert only(dsn(fields)).reason == "speeding"


# --- vendor formats -------------------------------------------------------------------------

def test_vendor_format_is_recognised_by_its_own_marks_only():
    head = parse_message(notice("x", subject="DELIVERY FAILURE: User kijitora not listed"))[0].headers
    assert vendors.recognise(head, "").name == "domino"
    plain = parse_message(notice("x", subject="Undeliverable: Printer"))[0].headers
    assert vendors.recognise(plain, "") is None
    fml = parse_message(notice("x", sender="list-admin@example.org", headers="X-MLServer: fml\r\nMessage-ID: <1.FML@x>\r\n"))[0]
    assert vendors.recognise(fml.headers, "").name == "fml"


def test_domino_text_decides_even_without_a_stage():
    body = "Your message\r\n\r\n  Subject: Hi\r\n\r\nwas not delivered to:\r\n\r\n  kijitora@example.jp\r\n\r\nbecause:\r\n\r\n" \
           "  User some.name (kijitora@example.jp) not listed in Domino Directory\r\n"
    result = only(notice(body, subject="DELIVERY FAILURE: User some.name (kijitora@example.jp) not listed"))
    assert (result.status, result.reason) == ("5.0.911", "userunknown")


def test_au_spam_filter_header_decides():
    body = "<kijitora@ezweb.ne.jp>\r\nEach of the following recipients was rejected by a remote mail server.\r\n"
    raw = notice(body, subject="Mail System Error - Returned Mail", sender="<Postmaster@ezweb.ne.jp>", headers="X-SPASIGN: NG\r\n")
    assert only(raw).reason == "filtered"


def test_opensmtpd_notice_overrides_its_placeholder_status():
    text = ("    Hi!\r\n\r\n    This is the MAILER-DAEMON, please DO NOT REPLY to this email.\r\n\r\n"
            "    An error has occurred while attempting to deliver a message for\r\n    the following list of recipients:\r\n\r\n"
            "neko@nyaan.example: Domain does not exist\r\n\r\n    Below is a copy of the original message:\r\n")
    result = only(dsn("Final-Recipient: rfc822; neko@nyaan.example\r\nAction: failed\r\nStatus: 5.0.0", notice=text))
    assert (result.status, result.reason) == ("5.0.912", "hostunknown")


def test_exim_refusal_at_mail_from_keeps_the_onhold_code():
    body = ("This message was created automatically by mail delivery software.\r\n\r\n"
            "A message that you sent could not be delivered to one or more of its\r\n"
            "recipients. This is a permanent error. The following address(es) failed:\r\n\r\n"
            "  kijitora@example.edu\r\n    host mail.example.edu [192.0.2.2]\r\n"
            "    SMTP error from remote mail server after MAIL FROM:<s@example.com> SIZE=1024:\r\n"
            "    550 Unroutable sender address\r\n")
    result = only(notice(body, subject="Mail delivery failed: returning message to sender",
                         sender="Mail Delivery System <Mailer-Daemon@relay.example.net>"))
    assert (result.status, result.reason) == ("5.0.901", "rejected")


def test_powermta_category_and_status_comment():
    fields = ("Final-Recipient: rfc822;kijitora@example.jp\r\nAction: failed\r\n"
              "Status: 5.2.1 (mailbox disabled, not accepting messages)\r\n"
              "Diagnostic-Code: smtp;550 5.2.1 <kijitora@example.jp>... User Unknown\r\n"
              "X-PowerMTA-BounceCategory: bad-mailbox")
    assert only(dsn(fields)).reason == "suspend"
    fields = fields.replace(" (mailbox disabled, not accepting messages)", "").replace("5.2.1", "5.0.0")
    assert only(dsn(fields)).reason == "userunknown"


# --- stage rules and notices ----------------------------------------------------------------

def test_user_unknown_wording_is_userunknown_only_at_rcpt():
    assert reasons.classify(None, "550 unknown user kijitora@example.jp") == "filtered"
    assert reasons.classify(None, "550 unknown user kijitora@example.jp", command="RCPT") == "userunknown"
    assert reasons.classify("5.1.1", "550 5.1.1 unknown user") == "userunknown"
    assert reasons.classify(None, "550 unknown user", command="MAIL") == "rejected"


def test_temporary_means_a_4xx_code_or_the_word():
    assert not codes.is_temporary("Message will be retried for 2 more day(s)")
    assert codes.is_temporary("Resources temporarily unavailable")
    assert codes.is_temporary("ERROR_CODE :421, Host not reachable")


def test_repeated_listing_and_transcript_replies_belong_to_the_recipient():
    text = ("Delivery has failed to these recipients or groups:\n\nkijitora@example.com\nThe address wasn't found.\n\n"
            "Diagnostic information for administrators:\n\nkijitora@example.com\n"
            "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; not found'\n")
    (address, block, _), = recipient_blocks(text, set())
    assert address == "kijitora@example.com" and "5.1.10" in block
    transcript = "While talking to mx.example.edu:\n>>> MAIL From:<s@example.jp>\n<<< 550 Insecure Mail Relay\n" \
                 "554 <kijitora@example.edu>... Remote protocol error\n"
    (address, block, _), = recipient_blocks(transcript, set())
    assert "Insecure Mail Relay" in block


def test_field_summary_line_takes_the_error_stated_above_it():
    text = ("Error: Invalid user address\nError message below:\n550 - Requested action not taken: no such user here\n"
            "Message details:\n  Subject: Test\n  MAIL FROM: s@example.com\n  RCPT TO: kijitora@example.com\n"
            "  From: s@example.com\n  Size (in bytes): 39\n")
    (address, block, context), = recipient_blocks(text, {"s@example.com"})
    assert address == "kijitora@example.com" and "no such user" in block and "MAIL FROM" not in block and not context


def test_bounce_of_a_bounce_reports_the_returned_bounce():
    inner = dsn("Final-Recipient: rfc822; kijitora@example.jp\r\nAction: failed\r\nStatus: 5.1.1\r\n"
                "Diagnostic-Code: smtp; 550 5.1.1 <kijitora@example.jp>... User unknown").decode()
    raw = ("From: MAILER-DAEMON@gw.example.net\r\nTo: bounces@help.example.org\r\nSubject: Returned mail: User unknown\r\n"
           'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="O"\r\n\r\n'
           "--O\r\nContent-Type: text/plain\r\n\r\nThe original message was received at Thu Oct 13 2015\r\n"
           "----- The following addresses had permanent delivery errors -----\r\n\r\n"
           f"--O\r\nContent-Type: message/rfc822\r\n\r\n{inner}\r\n--O--\r\n").encode()
    result = only(raw)
    assert (result.recipient, result.status, result.reason) == ("kijitora@example.jp", "5.1.1", "userunknown")


def test_google_workspace_dns_failures_by_class():
    gsuite = rhost.Where("example.com", (), ("googlemail.com",))
    text = "dns error: dns type 'mx' lookup of example.com responded with code nxdomain"
    assert rhost.remote_reason(gsuite, "4.0.0", None, None, text) == "networkerror"
    assert rhost.remote_reason(gsuite, "5.1.2", "550", None, text) == "hostunknown"


def test_gmail_state_codes_name_the_stage_unless_a_specific_status_is_quoted():
    def gmail(error: str) -> bytes:
        body = ("Delivery to the following recipient failed permanently:\r\n\r\n     kijitora@example.co.jp\r\n\r\n"
                "Technical details of permanent failure:\r\nGoogle tried to deliver your message, but it was rejected by the "
                f"recipient domain. The error that the other server returned was: {error}\r\n")
        return notice(body, subject="Delivery Status Notification (Failure)",
                      sender="Mail Delivery Subsystem <mailer-daemon@googlemail.com>")
    assert only(gmail("554 554 5.7.0 Header error (state 18).")).reason == "filtered"
    assert only(gmail("550 550 5.2.2 <kijitora@example.co.jp>... Mailbox Full (state 14).")).reason == "mailboxfull"


def test_zohos_own_refusal_texts_decide_when_zoho_answered():
    def reason(diagnostic: str, status: str) -> str | None:
        raw = dsn("Final-Recipient: rfc822; customer@shop.example.com\r\nAction: failed\r\n"
                  f"Status: {status}\r\nRemote-MTA: dns; mx.zoho.com\r\nDiagnostic-Code: smtp; {diagnostic}\r\n")
        return only(raw).reason

    assert reason("554 5.7.7 Email policy violation detected", "5.7.7") == "policyviolation"
    assert reason("554 5.7.1 Email cannot be delivered. Reason: Email flagged as Spam.", "5.7.1") == "rejected"
    assert reason("541 5.4.1 Mail rejected by destination domain", "5.4.1") == "rejected"
    assert reason("550 5.1.1 User does not exist - <customer@shop.example.com>", "5.1.1") == "userunknown"
