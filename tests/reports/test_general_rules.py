"""The rules of issue 13, each on a small message written here in the shape real servers use:
what happened decides failed/delayed, which code wins, who the failed recipient is, and what is
no bounce at all."""
from __future__ import annotations

import pytest

from receipts_plugin.reports import codes, parse_report, reasons

from messages import dsn, notice, only

# --- what happened: returned, or still trying ------------------------------------------------


def test_a_warning_that_delivery_goes_on_is_delayed():
    result = only(notice(
        "This is an automated message created by mail delivery software.\n\nYour message to:\n\n"
        "\tcustomer@example.com\n\nhas not yet been delivered because the recipient server did not respond.\n"
        "This is just a warning, you do not need to take any action. We will continue to attempt delivery.\n",
        subject="Warning: message has not yet been delivered"))
    assert (result.recipient, result.action, result.reason) == ("customer@example.com", "delayed", "expired")


def test_a_returned_message_is_failed_even_after_a_temporary_last_attempt():
    result = only(notice(
        "A message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. "
        "The following address(es) failed:\n\n  customer@example.com\n    retry timeout exceeded\n",
        subject="Mail delivery failed: returning message to sender"))
    assert (result.action, result.reason) == ("failed", "expired")


@pytest.mark.parametrize("sentence", [
    "could not be delivered for 3 hours", "could not be delivered for 45 minutes", "Delivery failed 20 attempts:",
])
def test_giving_up_sentences_in_any_unit(sentence):
    assert reasons.classify(None, f"Your message {sentence} customer@example.com") == "expired"


def test_action_delayed_in_a_report_that_gave_up_is_failed():
    raw = dsn("Final-Recipient: rfc822; customer@example.com\r\nAction: delayed\r\nStatus: 4.4.7\r\n",
              notice="Could not send message for past 5 days: giving up.")
    assert only(raw).action == "failed"


def test_action_delayed_with_a_permanent_status_is_failed():
    raw = dsn("Final-Recipient: rfc822; customer@example.com\r\nAction: delayed\r\nStatus: 5.4.7\r\n")
    assert only(raw).action == "failed"


def test_a_real_delay_warning_keeps_action_delayed():
    raw = dsn("Final-Recipient: rfc822; customer@example.com\r\nAction: delayed\r\nStatus: 4.4.1\r\n",
              notice="This is only a warning. The mail system will continue to try to deliver your message.")
    assert only(raw).action == "delayed"


# --- which code wins --------------------------------------------------------------------------


def test_a_permanent_status_field_beats_the_last_attempts_temporary_reply():
    raw = dsn("Final-Recipient: rfc822; customer@example.com\r\nAction: failed\r\nStatus: 5.0.0\r\n"
              "Diagnostic-Code: smtp; 451 4.3.0 Temporary server error\r\n")
    assert only(raw).status == "5.0.0"


def test_status_4_4_7_beats_a_vague_quoted_code_but_not_a_specific_one():
    assert codes.prefer_status("4.4.7", "4.3.0", "451") == "4.4.7"
    assert codes.prefer_status("4.4.7", "4.4.2", "421") == "4.4.2"


def test_a_success_report_of_a_notice_only_vendor_keeps_its_status():
    raw = dsn("Final-Recipient: rfc822; customer@example.com\r\nAction: delivered\r\nStatus: 2.0.0\r\n",
              notice="Hi!\n\nThis is the MAILER-DAEMON, please DO NOT REPLY to this email.\n\n"
                     "Your message was successfully delivered to these recipients.\n")
    result = only(raw)
    assert (result.action, result.status, result.reason) == ("delivered", "2.0.0", "delivered")


# --- reasons ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, reason", [
    ("550 User [customer@example.com] does not exist", "userunknown"),
    ("550 BAD_RECIPIENT", "userunknown"),
    ("550 Spamming not allowed", "spamdetected"),
    ("550 No such domain at this location", "hostunknown"),
    ("Name service error for domain example.com: Host not\n    found, try again", "networkerror"),
    ("temporary failure. Command output: avpcheck: unable to connect to avp daemon: Connection refused", "mailererror"),
    ("451 4.3.0 <customer@example.com>: Temporary lookup failure", "systemerror"),
    ("451 4.3.0 <customer@example.com>: Temporary lookup failure: retry timeout exceeded", "expired"),
])
def test_reasons_from_what_servers_write(text, reason):
    assert reasons.classify(None, text, text[:3] if text[:1].isdigit() else None, command="RCPT") == reason


def test_unrouteable_address_on_the_reporting_hosts_own_domain_is_an_unknown_user():
    local = only(notice("The following address(es) failed:\n\n  ghost@example.net\n    Unrouteable address\n",
                        subject="Mail delivery failed: returning message to sender", sender="Mailer-Daemon@mail.example.net"))
    remote = only(notice("The following address(es) failed:\n\n  ghost@elsewhere.org\n    Unrouteable address\n",
                         subject="Mail delivery failed: returning message to sender", sender="Mailer-Daemon@mail.example.net"))
    assert (local.reason, remote.reason) == ("userunknown", "hostunknown")


# --- who failed ---------------------------------------------------------------------------------


@pytest.mark.parametrize("final", ["x400; /S=customer/OU=example/ADMD= /C=GB/", "rfc822; customer@mailhost",
                                   "rfc822; @relay.example.org:customer@mailhost"])
def test_a_non_internet_final_recipient_gives_way_to_the_original_recipient(final):
    raw = dsn(f"Original-Recipient: rfc822; customer@example.com\r\nFinal-Recipient: {final}\r\nAction: failed\r\n"
              "Status: 5.0.0\r\n")
    assert only(raw).recipient == "customer@example.com"


def test_a_non_internet_final_recipient_without_an_original_takes_the_notices_address():
    raw = dsn("Final-Recipient: rfc822; @mx.example.com\r\nAction: failed\r\nStatus: 5.1.2\r\n",
              notice="----- The following addresses had permanent fatal errors -----\n<customer@example.com>\n")
    assert only(raw).recipient == "customer@example.com"


@pytest.mark.parametrize("body", [
    "Undeliverable Address: customer@example.com\n\nReason: the recipient is over disk quota.\n",
    "Delivery failed 20 attempts: customer@example.com\n\nOriginal message follows.\n",
    "Your message\n\n  Subject: hello\n\ndid not reach the following recipient(s):\n\n"
    "c=US;a= ;p=CORP;o=Hub;dda:SMTP=customer@example.com; on Fri, 4 Oct 2002\n    The recipient name is not recognized\n",
    "User's mailbox is full: <customer@example.com>\nUnable to deliver mail.\n",
    "Your message has encountered delivery problems\nto local user customer.\n(Originally addressed to customer@example.com)\n",
])
def test_addresses_next_to_failure_words_in_notices_of_no_known_shape(body):
    assert only(notice(body)).recipient == "customer@example.com"


def test_the_sender_of_a_refused_message_is_not_its_failed_recipient():
    raw = notice("Your mail to the following recipients could not be delivered because they are not accepting "
                 "mail from sender@lists.example.org:\n\tscreenname\n")
    assert parse_report(raw).recipients == ()


def test_a_message_sent_to_oneself_still_names_its_failed_recipient():
    raw = notice("I'm sorry to have to inform you that the message returned\nbelow could not be delivered.\n\n"
                 "<self@example.com>: Name service error for domain example.com: Host not found\n\n"
                 "--- Below this line is a copy of the message.\n\nFrom: self@example.com\nTo: self@example.com\n"
                 "Subject: test\nMessage-ID: <m1@example.com>\n\nhello\n")
    assert only(raw).recipient == "self@example.com"


def test_a_list_messages_to_is_no_fallback_recipient():
    raw = notice("The following mail could not be delivered. Reason: Exceeded Maximum Delivery Attempts.\n\n"
                 "--- Original message follows.\n\nFrom: member@example.com\nTo: list@lists.example.org\n"
                 "List-Id: <list.lists.example.org>\nMessage-ID: <m2@example.com>\nSubject: hi\n\nhello\n")
    assert parse_report(raw).recipients == ()


def test_every_failed_recipient_of_a_multi_recipient_notice_gets_the_shared_reason():
    report = parse_report(notice(
        "Your message was not delivered because the destination computer was not reachable within the allowed "
        "queue period.\n\nThe following recipients did not receive your message:\n     <one@example.com>\n\n"
        "The following recipients did not receive your message:\n     <two@example.com>\n\n"
        "Please reply to Postmaster@example.net if you feel this message to be in error.\n"))
    assert [(r.recipient, r.reason) for r in report.recipients] == [("one@example.com", "expired"), ("two@example.com", "expired")]


def test_a_recipient_listed_many_times_is_one_result():
    group = "Final-Recipient: rfc822; customer@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
    assert len(parse_report(dsn(group * 5)).recipients) == 1


def test_no_boundary_is_sniffed_from_a_message_quoted_inline():
    raw = notice("The following message, addressed to 'customer@example.com',\nfailed because it has not been "
                 "collected after 30 days\n\n---- START OF RETURNED MESSAGE ----\nReceived: from a by b\n"
                 "Content-type: multipart/mixed; boundary=XYZ\nSubject: digest\n\n--XYZ\nContent-type: text/plain\n\n"
                 "Send submissions to\n\tlist@lists.example.org\n--XYZ\nContent-type: text/plain\n\nmore\n--XYZ--\n",
                 subject="Mail delivery failure")
    result = only(raw)
    assert (result.recipient, result.reason) == ("customer@example.com", "expired")


# --- not bounces ----------------------------------------------------------------------------------


def test_a_challenge_response_request_is_an_auto_reply_not_a_bounce():
    raw = dsn("Final-Recipient: rfc822; customer@example.com\r\nAction: failed\r\nStatus: 4.7.0\r\n"
              "Diagnostic-Code: X-Notice; Sender not pre-approved.  Follow instructions in above notice\r\n",
              notice="Your message about \"hello\" has been waitlisted.\n\nPlease add yourself to my Guest List so "
                     "your messages will go to my Inbox.\n")
    report = parse_report(raw)
    assert report.kind == "auto-reply"
    assert [(r.recipient, r.hard) for r in report.recipients] == [("customer@example.com", False)]


def test_a_delay_warning_with_auto_submitted_is_a_delay_not_an_auto_reply():
    raw = notice("This message was created automatically by mail delivery software.\nA message that you sent has "
                 "not yet been delivered to one or more of its\nrecipients after 2 days.\n\n"
                 "The message has not yet been delivered to the following addresses:\n\n  <customer@example.com>\n"
                 "    host mx.example.com: connection to mail exchanger failed\n\nNo action is required on your part.\n",
                 subject="Warning: message 1abc-00 delayed 48 hours", sender="Mailer-Daemon@mail.example.net",
                 headers="Auto-Submitted: auto-replied\r\n")
    report = parse_report(raw)
    assert report.kind == "bounce"
    assert report.recipients[0].action == "delayed"


def test_a_null_senders_refusal_without_subject_is_a_bounce_not_an_auto_reply():
    raw = notice("You sent mail to customer@example.com. That's not a valid user here.\n", subject="", sender="<>",
                 headers="Auto-Submitted: auto-replied\r\n")
    report = parse_report(raw)
    assert report.kind == "bounce"
    assert [(r.recipient, r.action) for r in report.recipients] == [("customer@example.com", "failed")]


# --- round 2: phrase classes and notice shapes seen in unseen Exim, Sendmail and qmail mail -----


def test_an_angle_address_after_an_address_like_display_name_is_the_recipient():
    result = only(notice(
        "Some recipient addresses in your message were badly formed:\n\n"
        "  sales@example.com <orders@customer.example>: malformed address: <orders@customer.example> may not follow sales@example.com\n",
        subject="Mail failure - malformed recipient address"))
    assert result.recipient == "orders@customer.example"


def test_a_failed_pipe_is_a_mailer_error_even_when_its_output_says_no_such_file():
    result = only(notice(
        "Your message could not be delivered to one or more of its recipients. This is a permanent error.\n\n"
        "  pipe to |/opt/helper/bin/autoresponder customer@example.com\n    generated by customer@example.com\n\n"
        "autoresponder: cannot open /var/spool/templates/customer: No such file or directory\n",
        subject="Mail delivery failed: returning message to sender"))
    assert (result.recipient, result.reason, result.hard) == ("customer@example.com", "mailererror", False)


def test_an_address_on_a_blacklist_is_a_refused_sender():
    assert reasons.classify(None, "customer@example.com\n \"Mail refused: you are sending from an address that is blacklisted\"") == "rejected"


def test_a_missing_domain_that_is_the_senders_own_is_a_refused_sender_not_a_dead_recipient():
    result = only(notice(
        "A message that you sent could not be delivered to one or more of its recipients. This is a permanent error.\n\n"
        "  customer@example.com\n    host mx.example.com [192.0.2.7]\n    SMTP error from remote mail server after end of data:\n"
        "    553 relay.example.net: domain does not exist\n",
        subject="Mail delivery failed: returning message to sender"))
    assert (result.reason, result.hard) == ("rejected", False)
    elsewhere = only(notice(
        "A message that you sent could not be delivered to one or more of its recipients. This is a permanent error.\n\n"
        "  customer@example.com\n    host mx.example.com [192.0.2.7]\n    SMTP error from remote mail server after RCPT TO:\n"
        "    553 example.com: domain does not exist\n",
        subject="Mail delivery failed: returning message to sender"))
    assert (elsewhere.reason, elsewhere.hard) == ("hostunknown", True)


def test_the_paragraph_after_additional_information_follows_is_the_error_text():
    report = parse_report(notice(
        "This is a delivery failure notification. Your message addressed to:\n-- customer@example.com\n"
        "-- sales@example.com\ncould not be delivered. The problem appears to be :\n-- Something went wrong\n\n"
        "Additional information follows :\n-- 552 5.2.2 Mailbox over quota, please contact the recipient\n\n"
        "Please do not reply to this message.\n",
        subject="Delivery failure"))
    assert [(r.recipient, r.status, r.reason) for r in report.recipients] == [
        ("customer@example.com", "5.2.2", "mailboxfull"), ("sales@example.com", "5.2.2", "mailboxfull")]


def test_attempts_over_a_period_across_a_line_break_is_a_returned_expired_message():
    report = parse_report(notice(
        "Your message to:\n-- customer@example.com\n-- sales@example.com\ncould not be delivered. The problem appears to be :\n"
        "-- Recipient server not answering\n\nThis happened after 12\nattempts to deliver over\na period of 3 day(s).\n",
        subject="Delivery failure"))
    assert [(r.action, r.reason) for r in report.recipients] == [("failed", "expired"), ("failed", "expired")]


def test_a_message_its_sender_also_sent_to_itself_reports_that_address():
    raw = (b"From: MAILER-DAEMON@mx.example.org\r\nTo: agent@help.example.org\r\nSubject: failure notice\r\n\r\n"
           b"Hi. This is the qmail-send program at mx.example.org.\r\nI'm afraid I wasn't able to deliver your message "
           b"to the following addresses.\r\nThis is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
           b"<agent@help.example.org>:\r\n198.51.100.4 does not like recipient.\r\nRemote host said: 552 Mailbox quota exceeded\r\n")
    result = only(raw)
    assert (result.recipient, result.reason) == ("agent@help.example.org", "mailboxfull")


def test_the_reports_own_addressee_named_only_in_a_sentence_is_no_failed_recipient():
    raw = notice("Your message could not be delivered.\nIt was sent by bounces@help.example.org to a list that no longer exists.\n")
    assert parse_report(raw).recipients == ()


def test_a_status_field_written_as_a_reply_and_words_is_read_as_the_diagnostic():
    result = only(dsn("Final-Recipient: rfc822; customer@example.com\r\nAction: failed\r\n"
                      "Status: 552 Message size exceeds fixed maximum message size\r\n"))
    assert (result.reason, result.status) == ("mesgtoobig", "5.0.934")


def test_a_dsn_recipient_without_diagnostic_borrows_the_sentence_after_its_line():
    result = only(dsn("Final-Recipient: rfc822; customer@example.com\r\nAction: failed\r\nStatus: 5.0.0\r\n",
                      notice="Your message could not be delivered to:\r\n\r\n    customer@example.com\r\n\r\n"
                             "The recipient's mailbox is full and cannot accept messages now.\r\n"))
    assert result.reason == "mailboxfull"


def test_a_dsn_recipients_original_address_in_the_notice_is_the_same_recipient():
    result = only(dsn("Final-Recipient: rfc822; c.ustomer@mailhost.example.com\r\nOriginal-Recipient: rfc822; customer@example.com\r\n"
                      "Action: failed\r\nStatus: 5.0.0\r\n",
                      notice="Your message cannot be delivered to the following recipients:\r\n\r\n"
                             "  Recipient address: c.ustomer@mailhost.example.com\r\n  Original address: customer@example.com\r\n"
                             "%MAIL-E-OPENOUT, error opening file\r\n-SYSTEM-F-EXDISKQUOTA, disk quota exceeded\r\n"))
    assert result.reason == "mailboxfull"


def _mdn(disposition: str, text: str, auto_submitted: str = "auto-replied") -> bytes:
    return (
        "From: Mail Delivery Subsystem <postmaster@mail.example.com>\r\nTo: support@help.example.org\r\n"
        f"Subject: Message status\r\nAuto-Submitted: {auto_submitted}\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=disposition-notification; boundary="M"\r\n\r\n'
        f"--M\r\nContent-Type: text/plain\r\n\r\n{text}\r\n--M\r\nContent-Type: message/disposition-notification\r\n\r\n"
        "Reporting-UA: mail.example.com; Sieve filter\r\nFinal-Recipient: rfc822; customer@example.com\r\n"
        f"Original-Message-ID: <t-1@help.example.org>\r\nDisposition: {disposition}\r\n--M--\r\n"
    ).encode()


def test_a_sieve_reject_sent_as_an_automatic_deleted_mdn_stays_an_mdn_with_its_notice():
    """RFC 5429's reject answers with a "deleted" MDN: the desk shows it as a problem with the
    notice's reason (an 'mdn-rejected' event), not as a bounce; a deliberate difference from
    flufl.bounce, which returns its recipient as failed (README, Agreement)."""
    report = parse_report(_mdn("automatic-action/MDN-sent-automatically; deleted",
                               "Your message to <customer@example.com> was rejected by the recipient's filter:\r\nMailbox quota exceeded"))
    assert (report.kind, report.mdn.disposition) == ("mdn", "deleted")
    assert [r.recipient for r in report.recipients] == ["customer@example.com"]


def test_a_receipt_for_a_message_deleted_unread_stays_a_receipt():
    report = parse_report(_mdn("automatic-action/MDN-sent-automatically; deleted",
                               "Your message to customer@example.com was deleted without being read."))
    assert report.kind == "mdn"


def test_a_sentence_naming_the_account_or_the_domain_as_missing_is_a_missing_domain():
    assert reasons.classify(None, "We could not hand your mail to customer@example.com: the user or domain does not exist.") == "hostunknown"
    assert reasons.classify(None, "550 User customer@example.com does not exist") != "hostunknown"


def test_an_address_that_did_not_match_a_directory_entry_is_an_unknown_user_at_no_stated_stage():
    report = parse_report(notice(
        "Our staff addresses follow one standard form. The mailbox your message was addressed, customer@example.com,\n"
        "did not match any employee email address.\n",
        subject='FAILED MAIL to "customer" regarding "Your ticket"', sender="postmaster@example.com"))
    assert report.kind == "bounce"
    assert [(r.recipient, r.reason) for r in report.recipients] == [("customer@example.com", "filtered")]


def test_listserv_error_for_blocks_and_a_boundary_named_only_in_a_report_header():
    raw = (b"From: postmaster@mail.example.com\r\nTo: bounces@help.example.org\r\nSubject: Undelivered mail\r\n"
           b'X-Report-Type: Nondelivery; boundary="> Error description:"\r\n\r\n'
           b"An error was detected while processing the enclosed message. A list of the affected recipients follows.\r\n\r\n"
           b"--> Error description:\r\nError-for:  customer@example.com\r\nError-Code: 0\r\n"
           b"Error-Text: Mailer mx.example.com said:\r\n            \"550 Mailbox quota exceeded\"\r\n\r\nError-End:  One error reported.\r\n")
    result = only(raw)
    assert (result.recipient, result.reason) == ("customer@example.com", "mailboxfull")


# --- round 3: classes of wording from the blind sisimai-extra2 misses ---------------------------


@pytest.mark.parametrize("reply, reason", [
    # Gmail-style multi-line replies: the codes repeat on every line, wrapped into the sentence.
    ("550-5.2.1 The user you are trying to contact is receiving mail at a rate that 550-5.2.1 prevents "
     "additional messages from being delivered. 550 5.2.1 https://support.example/?p=Rate", "speeding"),
    ("550-5.7.1 [192.0.2.1 13] Messages with multiple 550 5.7.1 addresses in From: header are not accepted.",
     "notcompliantrfc"),
    ("451-4.7.0 Temporarily rate limited 451-4.7.0 due to IP reputation 451 4.7.0 see the help page", "badreputation"),
])
def test_a_multi_line_replys_repeated_codes_do_not_split_its_phrase(reply, reason):
    assert reasons.classify(reply[4:9], reply, reply_code=reply[:3]) == reason


def test_joining_reply_lines_keeps_the_first_code():
    joined = reasons.join_reply_lines("550-5.7.1 words here 550-5.7.1 more words 550 5.7.1 end")
    assert joined == "550 5.7.1 words here more words end"


@pytest.mark.parametrize("agent", ["mail.local: unknown user: customer", "lmtp: customer: User unknown",
                                   "procmail: Unknown user customer", "dovecot-lda[123]: no such user"])
def test_a_local_delivery_agents_unknown_user_is_userunknown_at_any_stage(agent):
    # No SMTP stage and a vague status: user-unknown wording alone would be read as 'filtered'.
    assert reasons.classify("5.5.0", f"{agent} 554 <customer@example.net>... Service unavailable") == "userunknown"


def test_a_stated_network_cause_beats_the_giving_up_sentence():
    text = ("<customer@example.com>... Deferred: Name server: example.com.: host name lookup failure\n"
            "Message could not be delivered for 8 hours\nMessage will be deleted from queue")
    assert reasons.classify("4.4.7", text) == "networkerror"
    assert reasons.classify("4.4.7", "Message could not be delivered for 8 hours") == "expired"


@pytest.mark.parametrize("reply", [
    "554 IP=192.0.2.254 - A problem occurred. (Ask your postmaster for help.) (BL)",
    "550 Rejected: ip=198.51.100.7 is not welcome here",
])
def test_a_refusal_that_names_the_clients_ip_or_a_blocklist_mark_is_blocked(reply):
    assert reasons.classify("5.5.0", reply, reply_code=reply[:3]) == "blocked"


def test_all_recipient_addresses_rejected_is_a_refused_sender():
    reply = "550 5.4.1 All recipient addresses rejected : Access denied [mx.example.net]"
    assert reasons.classify("5.4.1", reply, reply_code="550", command="DATA") == "rejected"


@pytest.mark.parametrize("text, reason", [
    ('554 "|/usr/local/bin/procmail -f- || exit 75 #customer"... Service unavailable', "systemerror"),
    ("554 5.0.0 Service unavailable", "systemerror"),
    # Sendmail's closing "Service unavailable" after a stated cause is no verdict of its own.
    ("<<< 554 Access denied: DMARC policy of reject\n554 5.0.0 Service unavailable", "authfailure"),
])
def test_a_bare_service_unavailable_answer_is_a_system_error(text, reason):
    assert reasons.classify("5.5.0", text) == reason


_PIPE_NOTICE = (
    "   ----- The following addresses had permanent fatal errors -----\r\n"
    "\"|/home/customer/bin/filter.pl\"\r\n    (reason: 255)\r\n    (expanded from: <customer@example.com>)\r\n\r\n"
    "   ----- Transcript of session follows -----\r\n"
    "filter.pl: cannot open database\r\n554 5.3.0 unknown mailer error 255\r\n"
)


def test_a_bare_exit_number_as_diagnostic_gives_way_to_the_single_recipients_transcript():
    raw = dsn("Final-Recipient: rfc822; customer@example.com\r\nAction: failed\r\nStatus: 5.0.0\r\n"
              "Diagnostic-Code: X-Unix; 255\r\n", notice=_PIPE_NOTICE)
    result = only(raw)
    assert (result.status, result.reason) == ("5.3.0", "mailererror")


def test_a_listing_with_its_own_reason_still_decides_over_the_transcript():
    notice = _PIPE_NOTICE.replace('"|/home/customer/bin/filter.pl"', "<customer@example.com>").replace(
        "(reason: 255)", "(reason: Insufficient permission)").replace(
        "filter.pl: cannot open database", "maildrop: maildir over quota.")
    raw = dsn("Final-Recipient: rfc822; customer@example.com\r\nAction: failed\r\nStatus: 5.3.0\r\n"
              "Diagnostic-Code: X-Unix; 77\r\n", notice=notice)
    assert only(raw).reason == "systemerror"


def test_delivery_status_fields_quoted_in_the_text_are_no_sentence_about_the_recipient():
    # No MIME boundary in the body: the report's fields stand in its text, and the recipient, a
    # program it was expanded to, is named in the transcript only.
    raw = (
        "From: MAILER-DAEMON@relay.example.net\r\nTo: bounces@help.example.org\r\n"
        "Subject: Returned mail: Service unavailable\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="X"\r\n\r\n'
        "   ----- The following addresses had permanent fatal errors -----\r\n"
        "\"|exec /usr/bin/procmail #customer\"\r\n    (expanded from: <customer@example.com>)\r\n\r\n"
        "   ----- Transcript of session follows -----\r\n"
        "554 \"|exec /usr/bin/procmail #customer\"... Service unavailable\r\n\r\n"
        "Reporting-MTA: dns; relay.example.net\r\n\r\n"
        "Final-Recipient: RFC822; customer@relay.example.net\r\nAction: failed\r\nStatus: 5.5.0\r\n"
    ).encode()
    result = only(raw)
    assert (result.recipient, result.status, result.reason) == ("customer@relay.example.net", "5.5.0", "systemerror")


def test_a_local_programs_failure_stays_a_mailer_error_in_a_delay_warning():
    notice = ("    **      THIS IS A WARNING MESSAGE ONLY      **\r\n\r\n"
              "   ----- Transcript of session follows -----\r\n451 4.0.0 Operating system error\r\n"
              "Warning: message still undelivered after 4 hours\r\nWill keep trying until message is 8 hours old\r\n")
    raw = dsn("Final-Recipient: RFC822; customer@example.com\r\nX-Actual-Recipient: X-Unix; |/usr/local/bin/filter\r\n"
              "Action: delayed\r\nStatus: 4.5.0\r\nDiagnostic-Code: X-Unix; 71\r\n", notice=notice)
    result = only(raw)
    assert (result.action, result.reason) == ("delayed", "mailererror")


def test_a_connection_refused_while_deferring_is_no_block_when_the_message_expires():
    text = ("customer... Deferred: Connection refused by [192.0.2.1]\nMessage could not be delivered for 5 days\n"
            "Message will be deleted from queue")
    assert reasons.classify("4.4.7", text) == "expired"
    assert reasons.classify("5.0.0", "554 5.7.1 Connection refused - see http://block.example/") == "blocked"


def test_a_diagnostic_that_kept_only_a_replys_first_line_is_read_whole_from_the_transcript():
    notice = ("   ----- The following addresses had permanent fatal errors -----\r\n<customer@example.com>\r\n"
              "    (reason: 550-5.7.1 Unauthenticated email from example.net is not accepted due to domain's)\r\n\r\n"
              "   ----- Transcript of session follows -----\r\n... while talking to mx.example.com.:\r\n>>> DATA\r\n"
              "<<< 550-5.7.1 Unauthenticated email from example.net is not accepted due to domain's\r\n"
              "<<< 550-5.7.1 DMARC policy. Please contact the administrator of example.net\r\n"
              "<<< 550 5.7.1 domain if this was a legitimate mail.\r\n554 5.0.0 Service unavailable\r\n")
    raw = dsn("Final-Recipient: RFC822; customer@example.com\r\nAction: failed\r\nStatus: 5.7.1\r\n"
              "Diagnostic-Code: SMTP; 550-5.7.1 Unauthenticated email from example.net is not accepted due to domain's\r\n",
              notice=notice)
    result = only(raw)
    assert (result.status, result.reason) == ("5.7.1", "authfailure")


def test_a_message_without_authentication_information_is_an_authentication_failure():
    reply = ("550-5.7.1 This message does not have authentication information or fails to pass 550-5.7.1 "
             "authentication checks. 550 5.7.1 See the help page.")
    assert reasons.classify("5.7.1", reply, reply_code="550") == "authfailure"


def test_a_sending_service_refusing_an_unverified_identity_does_not_relay_for_it():
    reply = ("554 Message rejected: Email address is not verified. The following identities failed the check "
             "in region EU-WEST-1: sender@example.org")
    assert reasons.classify("5.0.0", reply, reply_code="554", command="DATA") == "norelaying"


@pytest.mark.parametrize("text", [
    "DNS lookup failure: host mail.example.org not found",
    "Host example-shop.co.uk not found",
])
def test_a_named_host_that_does_not_resolve_is_an_unknown_host(text):
    assert reasons.classify(None, text) == "hostunknown"
    # the temporary form of the same failure is a network problem, not a dead domain
    assert reasons.classify(None, "Host mail.example.org not found, try again") != "hostunknown"


def test_a_bare_policy_violation_names_no_policy_so_the_status_decides():
    reply = "550 5.7.0 <customer@example.com>: Recipient address rejected: Policy violation"
    assert reasons.classify("5.7.0", reply, reply_code="550") == "securityerror"
    # a named policy still is one
    assert reasons.classify("5.7.0", "550 5.7.0 Local policy violation", reply_code="550") == "policyviolation"
    assert reasons.classify("5.7.9", "554 5.7.9 Message not accepted for policy reasons") == "policyviolation"


def test_a_directory_refusal_is_an_unknown_user_whoever_relays_it():
    # Exchange Online's directory check, quoted by a gateway's notice that names no SMTP stage
    text = "-- 5.4.1 Recipient address rejected: Access denied. [AB1PR01MB0001.prod.outlook.com]"
    assert reasons.classify("5.4.1", text) == "userunknown"
    # the same words refusing the sender at MAIL FROM stay about the sender
    assert reasons.classify("5.4.1", "550 5.4.1 Recipient address rejected: Access denied (in reply to MAIL FROM command)") != "userunknown"


def test_a_stale_failed_recipients_header_gives_way_to_the_notices_own_list():
    body = ("|------------------------- Failed addresses follow: ---------------------|\r\n"
            " <first@example.de>\r\n   552 5.2.2 <first@example.de> Quota exceeded (mailbox for user is full)\r\n"
            " <second@example.de>\r\n   550 5.1.1 <second@example.de> unknown user\r\n")
    raw = notice(body, subject="Mail delivery failed: returning message to sender",
                 headers="X-Failed-Recipients: someone-else@example.de\r\n")
    got = {r.recipient: r.reason for r in parse_report(raw).recipients}
    assert got == {"first@example.de": "mailboxfull", "second@example.de": "userunknown"}
    # when the notice does name the header's address, the header still decides who failed
    raw = notice(body.replace("second@example.de", "someone-else@example.de"),
                 subject="Mail delivery failed: returning message to sender",
                 headers="X-Failed-Recipients: someone-else@example.de\r\n")
    assert [r.recipient for r in parse_report(raw).recipients] == ["someone-else@example.de"]


def test_an_original_recipient_then_other_fields_then_its_final_recipient_is_one_recipient():
    fields = ("Action : failed\r\nStatus : 5.0.0\r\nDiagnostic-Code : smtp;550 5.7.54 SMTP; Unable to relay recipient\r\n"
              "Original-Recipient : rfc/822;customer@example.net\r\nRemote-MTA : example.net\r\n"
              "Final-Recipient : rfc/822;customer@example.net\r\n")
    results = parse_report(dsn(fields)).recipients
    assert [(r.recipient, r.status) for r in results] == [("customer@example.net", "5.7.54")]
    # a Final-Recipient of another address after the first one's status fields is the next recipient
    two = fields.replace("Final-Recipient : rfc/822;customer@example.net", "Final-Recipient : rfc/822;other@example.net")
    assert len(parse_report(dsn(two)).recipients) == 2


def test_a_local_programs_failure_with_a_generic_code_is_a_mailer_error():
    # a local delivery program (x-unix) failing with 5.2.0, which read as a server's code means filtered
    # after DATA: a program filters nothing, its own words decide
    text = 'procmail: Lock failure on "/var/mail/customer.lock" procmail: Error while writing to "/var/mail/customer"'
    assert reasons.classify("5.2.0", text, diagnostic_type="X-UNIX") == "mailererror"
    fields = ("Final-Recipient: rfc822; customer@example.com\r\nAction: failed\r\nStatus: 5.2.0\r\n"
              f"Diagnostic-Code: x-unix; {text}\r\n")
    assert only(dsn(fields)).reason == "mailererror"
    # the program's words still say what they say, and a specific code still decides
    assert reasons.classify("5.2.0", "procmail: Quota exceeded while writing", diagnostic_type="X-UNIX") == "mailboxfull"
    assert reasons.classify("5.2.2", text, diagnostic_type="X-UNIX") == "mailboxfull"
    assert reasons.classify("5.3.0", "(reason: Insufficient permission)", diagnostic_type="X-UNIX") == "systemerror"


def test_a_sender_refused_because_of_a_block_list_is_blocked():
    reply = ("550-5.1.0 MXIN506 MailFrom domain is listed in Spamhaus. To request removal from this list see "
             "https://www.spamhaus.org/query/lookup/ (in reply to MAIL FROM command)")
    assert reasons.classify("5.1.0", reply, reply_code="550") == "blocked"
    # a sender refused for what its address is, not for a list it is on, stays rejected
    assert reasons.classify("5.1.0", "550 5.1.0 Sender address rejected: domain not found (in reply to MAIL FROM command)",
                            reply_code="550") == "rejected"


def test_the_remote_host_after_host_colon_names_the_provider():
    # Exim-style "host: NAME (IP)": the provider's own error label decides (Orange's ofr_506 is spam)
    body = ("A message that you sent could not be delivered to one or more of\nits recipients. This is a permanent error. "
            "The following address(es)\nfailed:\n\ncustomer@example.fr:\nSMTP error from remote server for TEXT command, "
            "host: smtp-in.orange.fr (192.0.2.65) reason: 550 5.2.0 Mail rejete. Mail rejected. ofr_506 [506]\n")
    result = only(notice(body, subject="Mail delivery failed: returning message to sender"))
    assert (result.recipient, result.reason) == ("customer@example.fr", "spamdetected")


# --- round 3: non-failures seen in Mail-DeliveryStatus-BounceParser's corpus ------------------------


def test_a_challenge_sent_as_a_plain_message_asking_to_be_added_to_an_allowed_list_is_an_auto_reply():
    raw = notice("We got your message about \"Invoice 12\".\n\nThis mailbox only takes mail from known senders. "
                 "Follow the link below to get your address added to the approved list, and your email will be "
                 "passed on.\n\nhttps://filter.example.com/confirm/abc\n",
                 subject="Re: Invoice 12", sender="customer@example.com")
    assert parse_report(raw).kind == "auto-reply"


def test_a_customer_asking_to_be_added_to_a_list_is_not_an_auto_reply():
    raw = notice("Hello,\n\nCould you have my address added to the mailing list for the newsletter?\n\nThanks\n",
                 subject="Newsletter", sender="customer@example.com")
    assert parse_report(raw).kind == "none"


def test_a_null_sender_message_with_precedence_bulk_is_an_auto_reply():
    raw = notice("Thanks for writing. I read my mail once a week and will answer then.\n",
                 subject="Thanks for writing", sender="Pat <pat@example.com>",
                 headers="Return-Path: <>\r\nPrecedence: bulk\r\n")
    assert parse_report(raw).kind == "auto-reply"


def test_precedence_bulk_from_a_real_sender_is_not_an_auto_reply():
    raw = notice("Our offers this week.\n", subject="Offers", sender="news@example.com",
                 headers="Return-Path: <news@example.com>\r\nPrecedence: bulk\r\n")
    assert parse_report(raw).kind == "none"


def test_an_address_in_brackets_after_rcpt_that_does_not_exist_is_an_unknown_user():
    # "Rcpt <x> does not exist" names the recipient as the SMTP command does: an unknown user, which
    # after DATA is a filter's refusal by the SMTP-stage rule
    assert reasons.classify("5.0.0", "554 Rcpt <customer@example.com> does not exist (in reply to RCPT TO command)") == "userunknown"
    assert reasons.classify("5.0.0", "554 RCPT <customer@example.com> does not exist (in reply to end of DATA command)") == "filtered"


def test_not_an_active_address_at_this_host_is_an_unknown_user():
    reply = "550 customer@example.com is not an active address at this host (in reply to RCPT TO command)"
    assert reasons.classify("5.0.0", reply, reply_code="550") == "userunknown"


def test_a_content_scanners_name_for_spam_says_spam():
    # "Blocked by SpamAssassin" after DATA: the message was scored as spam, not the sending host listed
    reply = "550 5.7.1 Blocked by SpamAssassin (in reply to end of DATA command)"
    assert reasons.classify("5.7.1", reply, reply_code="550") == "spamdetected"
    # before DATA no content was seen: a host block stays blocked
    assert reasons.classify("5.7.1", "554 5.7.1 Client host blocked by zen.example (in reply to RCPT TO command)") == "blocked"


def test_mailbox_not_available_at_rcpt_is_an_unknown_user():
    # 5.2.1 (mailbox disabled) alone reads as filtered; "mailbox not available" at RCPT TO names the mailbox
    reply = "550 5.2.1 Mailbox not available (in reply to RCPT TO command)"
    assert reasons.classify("5.2.1", reply, reply_code="550") == "userunknown"
    # a mailbox said to be disabled stays suspended
    assert reasons.classify("5.2.1", "550 5.2.1 The email account that you tried to reach is disabled. (in reply to RCPT TO command)") == "suspend"


def test_a_polish_automatic_reply_subject_in_either_word_order_is_an_auto_reply():
    for subject in ("[Automatyczna =?iso-8859-2?Q?odpowied=BC?=] Re: your ticket", "Odpowiedz automatyczna: Re: your ticket"):
        raw = (f"From: Customer <customer@example.com>\r\nTo: help@help.example.org\r\nSubject: {subject}\r\n"
               "Precedence: junk\r\nContent-Type: text/plain\r\n\r\nI am away until Monday.\r\n").encode()
        assert parse_report(raw).kind == "auto-reply", subject


# --- spam refusals: what the server judged, and when ----------------------------------------------


def _postfix_refusal(said: str, command: str, status: str = "5.0.0") -> bytes:
    """A Postfix-style DSN whose notice names the SMTP command and whose Diagnostic-Code does not."""
    return dsn(f"Final-Recipient: rfc822; customer@example.com\r\nAction: failed\r\nStatus: {status}\r\n"
               f"Remote-MTA: dns; mx.example.com\r\nDiagnostic-Code: smtp; {said}\r\n",
               notice=f"<customer@example.com>: host mx.example.com[192.0.2.7] said: {said} "
                      f"(in reply to {command} command)")


def test_a_spam_list_named_before_any_content_was_sent_is_blocked():
    # at RCPT TO the server has seen no content: a "spam list" is a list of spam sources, like a DNSBL
    assert only(_postfix_refusal("550 Refused, your server is on our spam list", "RCPT TO")).reason == "blocked"
    assert reasons.classify("5.0.0", "554 rejected: sender host found in spam list", command="RCPT") == "blocked"
    # a sender refused at MAIL FROM for a spam list it is on: the list decides, as with Spamhaus
    listed = "550 5.7.1 Sender address rejected: listed on our spam list (in reply to MAIL FROM command)"
    assert reasons.classify("5.7.1", listed) == "blocked"
    # after DATA a spam verdict stays a spam verdict
    assert only(_postfix_refusal("550 Message is spam", "end of DATA")).reason == "spamdetected"


def test_a_sending_address_refused_at_mail_from_is_rejected_whatever_filter_refused_it():
    raw = _postfix_refusal("554 Sending address not accepted by our spam filter", "MAIL FROM")
    assert only(raw).reason == "rejected"
    assert reasons.classify("5.0.0", "553 sender address is not accepted here", command="MAIL") == "rejected"


def test_ptr_named_in_advice_after_a_spam_verdict_is_no_ptr_failure():
    # the verdict is the spam score; "check your SPF, HELO and PTR" is what the sender might fix
    text = ("554 5.7.1 Your message failed our antispam checks (score 9.1) and was rejected. Please make sure your "
            "server is set up correctly (SPF, HELO, PTR) or use another relay.")
    assert reasons.classify("5.7.1", text, command="DATA") == "spamdetected"
    # a refusal for the missing PTR record itself stays requireptr
    assert reasons.classify("5.7.1", "550 5.7.1 Client host rejected: no PTR record for 192.0.2.9") == "requireptr"
    no_ptr = "550 5.7.25 The sending IP has no PTR record; spam score not computed"
    assert reasons.classify("5.7.25", no_ptr) == "requireptr"


def test_a_spam_profiler_product_refusing_the_message_is_spamdetected():
    raw = _postfix_refusal("550 Message refused by ExampleGate SpamProfiler", "end of DATA")
    assert only(raw).reason == "spamdetected"


def test_a_status_field_with_a_subject_no_rfc_defines_is_no_code():
    # RFC 3463 defines subjects 0-7: "5.9.8" names nothing, so the reason's pseudo code stands in
    fields = ("Final-Recipient: rfc822; customer@example.com\r\nAction: failed\r\nStatus: 5.9.8\r\n"
              "Diagnostic-Code: X-Gateway; 5.9.8 Spam\r\n")
    result = only(dsn(fields, notice="Reason: Spam. The message seems to be spam and was not delivered."))
    assert (result.status, result.reason) == ("5.0.980", "spamdetected")
    # a defined subject is kept as written
    assert only(dsn(fields.replace("5.9.8", "5.7.1"))).status == "5.7.1"


# --- php-bounce-handler-b: sender callouts, Spanish notices, Microsoft complaints --------------------


def test_a_failed_sender_callout_is_the_sender_refused_whatever_status_the_relay_wrote():
    # Exim writes "Verification failed for <address>" only when verifying the sender failed; a relay
    # that summarised the refusal as 5.1.1 "User unknown" did not make the recipient unknown
    fields = ("Final-Recipient: rfc822; customer@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
              "Diagnostic-Code: smtp; 550-Verification failed for <bounces@help.example.org>\r\n")
    assert only(dsn(fields)).reason == "rejected"
    assert reasons.classify(None, "550-Verification failed for <news@example.net> 550 Sender verify failed") == "rejected"
    # a recipient the server does not know stays unknown
    assert reasons.classify("5.1.1", "550 5.1.1 <customer@example.com>... User unknown") == "userunknown"


@pytest.mark.parametrize("said", [
    "550 <cliente@example.com>: Destinatario desconocido o mailbox lleno",
    "550 Usuario desconocido",
    "550 El destinatario no existe",
])
def test_spanish_unknown_recipient_wordings_at_rcpt_are_userunknown(said):
    assert reasons.classify(None, said, command="RCPT") == "userunknown"


@pytest.mark.parametrize("said", [
    "Esta casilla ha expirado por falta de uso.",
    "La cuenta de correo esta deshabilitada",
    "El buzon del destinatario ha sido suspendido",
])
def test_spanish_disabled_or_expired_mailbox_wordings_are_suspend(said):
    assert reasons.classify(None, said) == "suspend"


def _complaint(subject: str) -> bytes:
    return (f"From: staff@mail.example.com\r\nTo: fbl@help.example.org\r\nSubject: {subject}\r\n"
            'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="C"\r\n\r\n'
            "--C\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n"
            "X-HmXmrOriginalRecipient: reader@example.com\r\nFrom: Help <help@help.example.org>\r\n"
            "To: reader@example.com\r\nSubject: Your ticket\r\nMessage-ID: <t-9@help.example.org>\r\n\r\n"
            "Hello\r\n--C--\r\n").encode()


def test_a_microsoft_style_complaint_about_a_message_from_an_ip_is_a_feedback_report():
    report = parse_report(_complaint("complaint about message from 192.0.2.44"))
    assert report.kind == "feedback"
    assert report.feedback_type == "abuse"
    assert [r.recipient for r in report.recipients] == ["reader@example.com"]
    # the same words without the returned message, or about something else, are no report
    assert parse_report(notice("complaint about message from 192.0.2.44", subject="Re: hi")).kind != "feedback"
    assert parse_report(_complaint("complaint about our service")).kind != "feedback"


@pytest.mark.parametrize("text", [
    "Esta casilla ha expirado por falta de uso.",  # Spanish: this mailbox has expired for lack of use
    "550 The mailbox has expired due to inactivity",
    "This account has expired.",
])
def test_a_mailbox_said_to_have_expired_is_a_disabled_account(text):
    # the mailbox (not the message) has expired: the account was closed, as a suspended one
    assert reasons.classify(None, text) == "suspend"
    # a message that expired in the queue stays expired
    assert reasons.classify(None, "Message expired after 5 days in queue") != "suspend"


def test_a_message_refused_for_a_missing_header_field_is_not_rfc_compliant():
    fields = "Original-Recipient: rfc822;<kept@example.net>\r\nFinal-Recipient: system;<>\r\nAction: failed\r\nStatus: 5.0.0\r\n"
    result = only(dsn(fields, notice="Failed to deliver to '<kept@example.net>'\r\nMessages without Date: fields are not accepted here\r\n"))
    assert (result.recipient, result.reason) == ("kept@example.net", "notcompliantrfc")
    assert reasons.classify("5.0.0", "550 message without a From: header is not accepted") == "notcompliantrfc"


def test_a_domain_name_not_found_with_no_code_in_a_permanent_failure_is_an_unknown_domain():
    body = ("Delivery to the following recipient failed permanently:\r\n\r\n     someone@no-such-domain.example\r\n\r\n"
            "Technical details of permanent failure: \r\nDNS Error: Domain name not found\r\n")
    raw = notice(body, subject="Delivery Status Notification (Failure)", sender="Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
                 headers="X-Failed-Recipients: someone@no-such-domain.example\r\n")
    result = only(raw)
    assert (result.recipient, result.reason, result.status) == ("someone@no-such-domain.example", "hostunknown", "5.0.912")


def test_a_baltic_automatic_reply_subject_is_an_auto_reply():
    # Latvian "automātiskā atbilde", Lithuanian "automatinis atsakymas", Estonian "automaatne vastus":
    # an automatic reply named in the subject, with or without the diacritics, and no auto header at all
    for subject in ("Biroja prombutnes automatiska atbilde: your ticket", "Automātiskā atbilde: Re: your ticket",
                    "Automatinis atsakymas: Re: your ticket", "Automaatne vastus: your ticket"):
        raw = (f"From: Customer <customer@example.com>\r\nTo: help@help.example.org\r\nSubject: {subject}\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n\r\nI am away until Monday.\r\n").encode()
        assert parse_report(raw).kind == "auto-reply", subject
    # the same words outside the subject's start of a phrase do not make a customer's question an auto-reply
    raw = (b"From: Customer <customer@example.com>\r\nTo: help@help.example.org\r\nSubject: Question about my order\r\n"
           b"Content-Type: text/plain\r\n\r\nWhy did I get an automatiska atbilde?\r\n")
    assert parse_report(raw).kind == "none"


def test_a_user_named_by_a_full_address_that_does_not_exist_is_an_unknown_user():
    # "user x@y.example does not exist": the address's dots must not hide the sentence; at RCPT TO it names
    # an unknown user even under a policy-class 5.7.1, and after DATA the SMTP-stage rule makes it filtered
    reply = "554 5.7.1 <pat@customer.example.com>: Recipient address rejected: user pat@customer.example.com does not exist (in reply to RCPT TO command)"
    assert reasons.classify("5.7.1", reply, reply_code="554") == "userunknown"
    assert reasons.classify("5.0.0", reply, reply_code="554") == "userunknown"
    assert reasons.classify("5.7.1", reply.replace("RCPT TO", "end of DATA"), reply_code="554") == "filtered"


def test_a_temporary_bad_mailbox_code_with_unknown_user_words_is_an_unknown_user():
    # X.1.1 is "bad destination mailbox address" in either class: 4.1.1 with "unknown user" at no stated
    # stage (or at RCPT TO) names an unknown user, not a filter; after DATA the stage rule still decides
    assert reasons.classify("4.1.1", 'X-Postfix; unknown user: "pat"', action="failed") == "userunknown"
    assert reasons.classify("4.1.1", "450 4.1.1 <pat@example.com>: Recipient address rejected: User unknown (in reply to RCPT TO command)") == "userunknown"
    assert reasons.classify("4.1.1", "451 4.1.1 User unknown (in reply to end of DATA command)") == "filtered"
    # without the code the same words at no stated stage stay filtered (the shared convention)
    assert reasons.classify("4.0.0", 'X-Postfix; unknown user: "pat"', action="failed") == "filtered"
