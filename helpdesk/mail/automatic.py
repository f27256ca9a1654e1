"""Recognising mail that no person wrote: delivery reports, read receipts, auto-replies.

Without any plugin the core must never open a ticket for these, nor answer them (mail
loops). This is a deliberately broad net; the receipts plugin claims reports before this
runs and reads them properly.
"""
from __future__ import annotations

import re

from .inbound import InboundMail

_REPORT_TYPES = {
    "delivery-status": "delivery report",
    "disposition-notification": "read receipt",
    "feedback-report": "feedback report",
}
_DAEMON_SENDER = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon|bounces?|mdaemon)@", re.I)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (status notification|failure|has failed|report)|returned mail|"
    r"failure notice|mail delivery (failed|system|subsystem)|non[- ]?remis|unzustellbar|"
    r"nicht zustellbar|delivery notification", re.I)
_RECEIPT_SUBJECT = re.compile(
    r"^\s*(read|not read|gelesen|ungelesen|nicht gelesen|lu|non lu|le[ií]do|no le[ií]do|letto|non letto|"
    r"gelezen|niet gelezen|l[äa]st|ol[äa]st|lest|luettu|przeczytane|прочитано|не прочитано|lido|"
    r"read receipt|return receipt)\s*:", re.I)
_AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response|answer)|out of (the )?office|abwesenheit|absence|"
    r"r[ée]ponse automatique|respuesta autom[áa]tica|risposta automatica|automatisch antwoord|"
    r"automatische antwort|autosvar|vacation)", re.I)
_AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-AutoReply-From", "X-Mail-Autoreply",
                 "X-FC-MachineGenerated", "X-Auto-Response-Suppress")


def automatic_reason(mail: InboundMail) -> str | None:
    """Why ``mail`` looks machine-sent (a short phrase for the intake log), or None."""
    message = mail.message
    content_type = message.get_content_type()
    if content_type == "multipart/report":
        report_type = (message.get_param("report-type") or "").lower()
        return _REPORT_TYPES.get(report_type, f"report ({report_type or 'unknown type'})")
    for part in message.walk():
        if part.get_content_type() in ("message/delivery-status", "message/disposition-notification",
                                       "message/feedback-report"):
            return _REPORT_TYPES[part.get_content_type().split("/")[1]]
    auto_submitted = mail.header("Auto-Submitted").lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return f"Auto-Submitted: {auto_submitted}"
    for name in _AUTO_HEADERS:
        if message.get(name) is not None:
            return f"{name} header"
    precedence = mail.header("Precedence").lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    sender = mail.sender.email if mail.sender else ""
    return_path = mail.header("Return-Path").strip()
    if return_path in ("<>", "") and message.get("Return-Path") is not None:
        return "null return path (a bounce or notification)"
    if _DAEMON_SENDER.match(sender):
        return f"sent by {sender}"
    if _BOUNCE_SUBJECT.search(mail.subject) and _returns_a_message(mail):
        return "delivery report (subject and returned message)"
    if _RECEIPT_SUBJECT.match(mail.subject):
        return "read notice"
    if _AUTO_SUBJECT.match(mail.subject):
        return "auto-reply (by subject)"
    return None


def _returns_a_message(mail: InboundMail) -> bool:
    """A bounce quotes what it returns; a customer's "my parcel was undelivered" does not."""
    return any(part.get_content_type() in ("message/rfc822", "text/rfc822-headers")
               for part in mail.message.walk())
