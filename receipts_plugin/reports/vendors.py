"""Verdicts a vendor's bounce format carries by itself, as data.

Some mail systems write their own fixed sentences or codes into every bounce
(Lotus Domino's "not listed in Domino Directory", Exchange 2003's
``MSEXCH:...(000C05A6)`` codes, au's ``X-SPASIGN: NG`` filter header, fml's
list-manager notices ...). Inside such a bounce those texts decide the
reason before any generic phrase table does, the way Sisimai's per-vendor
(``lhost``) modules decide. A format is recognised only by the marks every
bounce of that vendor carries (its From, Subject, X-Mailer, its own header
fields or boundary), never by a sample's address or content.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from . import codes
from .mime import Headers
from .reasons import contains_any, literal_anchors

#: A sign that a bounce is in some vendor's format: (header name, pattern searched in its values,
#: literal strings one of which must occur for the pattern to match, or None),
#: or ("body", pattern whose text, taken literally, occurs in the notice, None).
Sign = tuple[str, re.Pattern[str], "tuple[str, ...] | None"]
_NOTICE_CHARS = 8000


@dataclass(frozen=True, slots=True)
class Format:
    """One vendor's bounce format: how it is recognised and what its own texts mean."""

    name: str
    signs: tuple[Sign, ...]
    #: How many signs must be present (most formats: one).
    needed: int
    #: reason -> texts as the vendor writes them (case-sensitive), tried in order.
    texts: tuple[tuple[str, tuple[str, ...]], ...]
    #: reason -> subject texts, used when the notice itself says nothing known.
    subjects: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: A header whose presence with this value decides by itself: (name, value, reason).
    header_verdict: tuple[str, str, str] | None = None
    #: The notice's own lines are the verdict; the delivery-status part's Status is not used
    #: (OpenSMTPD fills it with a placeholder such as 5.0.0 or 4.4.7).
    notice_only: bool = False
    #: SMTP command -> the format's verdict for a refusal at that stage, decided before any text is
    #: read; when the bounce writes no status code, the status is that verdict's pseudo code (Exim:
    #: a refusal at MAIL FROM is "onhold" until the texts say more, so its code stays X.0.901).
    command_verdicts: tuple[tuple[str, str], ...] = ()
    #: A specific status code quoted in the diagnostic (not X.Y.0) decides over the format's texts.
    specific_status_wins: bool = False
    #: Its signs alone show a message is a bounce (a list manager's error notice has no DSN wording).
    is_bounce: bool = False
    #: The whole notice is one recipient's diagnostic (formats that list one recipient and explain it
    #: elsewhere); otherwise only the recipient's own lines are read.
    whole_notice: bool = False

    def reason(self, diagnostic: str, notice: Callable[[], str], headers: Headers) -> str | None:
        """The verdict this format's own texts give for one recipient, if any (``notice`` is read
        only by formats whose notice as a whole explains the recipient)."""
        if self.header_verdict:
            name, value, verdict = self.header_verdict
            if (headers.get(name) or "").strip().upper() == value:
                return verdict
        if self.specific_status_wins:
            quoted = codes.find_status(diagnostic)
            if quoted and ".0" not in quoted and codes.reason_for_status(quoted):
                return codes.reason_for_status(quoted)
        pairs = _PHRASE_PAIRS[self.name]
        for source in (diagnostic, notice) if self.whole_notice else (diagnostic,):
            text = source if isinstance(source, str) else source()[:_NOTICE_CHARS]
            if "  " in text or "\n" in text or "\t" in text:
                text = " ".join(text.split())  # vendors' texts are matched with runs of blanks squeezed
            for phrase, reason in pairs:
                if phrase in text:
                    return reason
        subject = headers.get("subject") or ""
        for reason, phrases in self.subjects:
            if any(phrase in subject for phrase in phrases):
                return reason
        return None


def _signs(*pairs: tuple[str, str]) -> tuple[Sign, ...]:
    signs = []
    for name, pattern in pairs:
        compiled = re.compile(pattern, re.M)
        signs.append((name, compiled, literal_anchors(compiled)))
    return tuple(signs)


#: Exim's own error texts (exim/src: route.c, deliver.c, transports/*.c, retry.c).
_EXIM_TEXTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("userunknown", ("user not found",)),
    ("hostunknown", ("all host address lookups failed permanently", "all relevant MX records point to non-existent hosts",
                     "Unrouteable address")),
    ("mailboxfull", ("mailbox is full", "error: quota exceed")),
    ("notaccept", ("an MX or SRV record indicated no SMTP service", "no host found for existing SMTP connection")),
    ("syntaxerror", ("angle-brackets nested too deep", 'expected word or "<"', "domain missing in source-routed address",
                     "malformed address:")),
    ("systemerror", ("delivery to file forbidden", "delivery to pipe forbidden", "local delivery failed", "LMTP error after ")),
    ("contenterror", ('Too many "Received" headers',)),
    ("expired", ("retry timeout exceeded", "No action is required on your part",
                 "retry time not reached for any host after a long failure period",
                 "all hosts have been failing for a long time and were last tried", "Delay reason: ", "has been frozen",
                 "was frozen on arrival by ")),
)

FORMATS: tuple[Format, ...] = (
    Format("domino", _signs(("subject", r"^DELIVERY FAILURE:|DELIVERY_FAILURE")), 1, (
        ("filtered", ("Cannot route mail to user",)),
        ("systemerror", ("Several matches found in Domino Directory",)),
        ("userunknown", ("not listed in Domino Directory", "not listed in public Name & Address Book",
                         "no se encuentra en el Directorio de Domino", "non répertorié dans l'annuaire Domino",
                         "Domino ディレクトリには見つかりません")),
    )),
    Format("exchange2003", _signs(
        ("x-ms-embedded-report", r"."), ("x-mailer", r"^(?:Internet Mail Service \(|Microsoft Exchange Server Internet Mail Connector)"),
        ("x-mimeole", r"^Produced By Microsoft Exchange"), ("received", r"Internet Mail Service \("),
    ), 1, (
        # MSEXCH:IMS:... 0 (000C05A6) Unknown Recipient
        ("userunknown", ("(000C05A6)",)), ("filtered", ("(000C0595)",)),
        ("systemerror", ("(00010256)", "(000D06B5)")), ("networkerror", ("(00120270)",)),
        ("contenterror", ("(00050311)", "(000502CC)")), ("securityerror", ("(000B0981)",)),
        ("onhold", ("(000B099C)", "(000B09AA)", "(000B09B6)")),
    ), whole_notice=True),
    Format("imailserver", _signs(("subject", r"^Undeliverable Mail "), ("x-mailer", r"^<SMTP32 v")), 1, (
        ("hostunknown", ("Unknown host",)), ("userunknown", ("Unknown user", "Invalid final delivery userid")),
        ("mailboxfull", ("User mailbox exceeds allowed size",)),
        ("virusdetected", ("Requested action not taken: virus detected",)),
        ("spamdetected", ("Blacklisted URL in message",)), ("expired", ("Delivery failed ",)),
    )),
    Format("notes", _signs(("subject", r"^Undeliverable message")), 1, (
        ("networkerror", ("Message has exceeded maximum hop count",)),
        ("userunknown", ("User not listed in public Name & Address Book", "ディレクトリのリストにありません")),
    )),
    Format("verizon", _signs(("from", r"post_master@vtext\.com|sysadmin@[^>\s]*\.vzwpix\.com")), 1, (
        ("userunknown", ("550 - Requested action not taken: no such user here", "No valid recipients")),
    ), whole_notice=True),
    Format("interscan", _signs(("from", r'^"InterScan'), ("content-type", r"InterScan"), ("body", r" InterScan ")), 1, (
        ("userunknown", ("Unable to deliver",)),
    )),
    Format("fml", _signs(("x-mlserver", r"."), ("from", r".-admin@"), ("message-id", r"..\.FML")), 3, (
        ("rejected", (" header may cause mail loop", "NOT MEMBER article from ", "reject mail from ", "reject spammers:",
                      "You are not a member of this mailing list")),
        ("securityerror", ("Security alert:",)),
        ("systemerror", (" has detected a loop condition so that", "Loop Back Warning:")),
    ), subjects=(
        ("rejected", (" are not member", "NOT MEMBER article from ", "reject mail ", "Spam mail from a spammer is rejected")),
        ("systemerror", ("fml system error message", "Loop Alert: ", "Loop Back Warning: ", "WARNING: UNIX FROM Loop")),
        ("securityerror", ("Security Alert",)),
    ), is_bounce=True),
    Format("ezweb", _signs(
        ("from", r"Postmaster@ezweb\.ne\.jp|Postmaster@au\.com"), ("subject", r"^Mail System Error - Returned Mail$"),
        ("received", r"\(EZweb Mail\)\s+with|\.au\.com\s+\("), ("message-id", r"\.ezweb\.ne\.jp>|\.au\.com>"),
    ), 2, (
        ("expired", ("Your message was not delivered within ",)),
        ("mailboxfull", ("The user(s) account is temporarily over quota",)),
        ("suspend", ("The user(s) account is disabled.", "The user(s) account is temporarily limited.")),
        ("onhold", ("Each of the following recipients was rejected by a remote mail server",)),
    ), header_verdict=("x-spasign", "NG", "filtered"), whole_notice=True),
    Format("zoho", _signs(("x-zohomail", r".")), 1, (("expired", ("Host not reachable",)),)),
    Format("qmail", _signs(("subject", r"^(?:failure notice|Failure Notice)$"), ("received", r"\(qmail ")), 1, (
        ("hostunknown", ("Sorry, I couldn't find any host ",)), ("mailboxfull", ("disk quota exceeded",)),
        ("mesgtoobig", ("Message size exceeds fixed maximum message size:",)),
        ("networkerror", ("Sorry, I wasn't able to establish an SMTP connection",
                          "Sorry. Although I'm listed as a best-preference MX or A for that host")),
        ("notaccept", ("Sorry, I couldn't find a mail exchanger or IP address",)),
        ("systemerror", ("bad interpreter: No such file or directory", "system error", "Unable to")),
        ("systemfull", ("Requested action not taken: mailbox unavailable (not enough free space)",)),
        ("userunknown", ("no mailbox here by that name",)),
        # qmail-ldap
        ("exceedlimit", ("The message exeeded the maximum size the user accepts",)),
        ("suspend", ("Mailaddress is administrativly disabled", "Mailaddress is administrativley disabled",
                     "Mailaddress is administratively disabled", "Mailaddress is administrativeley disabled")),
        ("systemerror", ("Automatic homedir creator crashed", "Illegal value in LDAP attribute",
                         "LDAP attribute is not given but mandatory", "Timeout while performing search on LDAP server",
                         "Too many results returned but needs to be unique", "Permanent error while executing qmail-forward",
                         "Temporary error in automatic homedir creation", "Temporary error while executing qmail-forward",
                         "Temporary failure in LDAP lookup", "Unable to contact LDAP server",
                         "Unable to login into LDAP server, bad credentials")),
        ("expired", ("this message has been in the queue too long.",)),
    )),
    *(Format(name, signs, needed, _EXIM_TEXTS, command_verdicts=(("EHLO", "blocked"), ("HELO", "blocked"), ("MAIL", "onhold")))
      for name, signs, needed in (
          ("exim", _signs(("from", r"Mail Delivery System"),
                          ("subject", r"Delivery Status Notification|Mail delivery failed|Mail failure|Message frozen|"
                                      r"Warning: message |error\(s\) in forwarding or filtering"),
                          ("message-id", r"^<\w{6}-\w{6}-\w{2}@")), 2),
          # Exim clones: McAfee SaaS, formerly MXLogic
          ("mxlogic", _signs(("x-mx-bounce", r"."), ("x-mxl-hash", r"."), ("x-mxl-notehash", r"."),
                             ("message-id", r"<mxl~")), 1),
      )),
    # Gmail's older notices end the remote reply with "(state NN)", the SMTP stage it failed at.
    Format("gmail", _signs(("from", r"<mailer-daemon@googlemail\.com>"), ("subject", r"Delivery Status Notification")), 2, (
        ("failedstarttls", ("(state 6).", "(state 9).")), ("systemerror", ("(state 8).",)), ("norelaying", ("(state 12).",)),
        ("blocked", ("(state 13).",)), ("userunknown", ("(state 14).",)),
        ("filtered", ("(state 15).", "(state 17).", "(state 18).")),
        ("expired", ("DNS Error: Could not contact DNS servers", "Delivery to the following recipient has been delayed",
                     "The recipient server did not accept our requests to connect")),
        ("hostunknown", ("DNS Error: Domain name not found", "DNS Error: DNS server returned answer with no data")),
    ), specific_status_wins=True),
    Format("opensmtpd", _signs(("body", r"This is the MAILER-DAEMON, please DO NOT REPLY to this")), 1, (
        ("expired", ("Envelope expired",)), ("securityerror", ("Could not retrieve credentials",)),
        ("hostunknown", ("Invalid domain name", "Domain does not exist")),
        ("networkerror", ("Address family mismatch on destination MXs", "All routes to destination blocked",
                          "bad DNS lookup error code", "Could not retrieve source address", "Loop detected",
                          "Network error on destination MXs", "No valid route to remote MX",
                          "No valid route to destination", "Temporary failure in MX lookup")),
        ("notaccept", ("Destination seem to reject all mails", "No MX found for domain", "No MX found for destination")),
    ), notice_only=True),
)


#: Each format's texts as one ordered run of (text, reason): one plain loop per recipient.
_PHRASE_PAIRS: dict[str, tuple[tuple[str, str], ...]] = {
    candidate.name: tuple((phrase, reason) for reason, phrases in candidate.texts for phrase in phrases)
    for candidate in FORMATS
}


@dataclass(frozen=True, slots=True)
class Verdicts:
    """A recognised format bound to one bounce: what its own texts say about each recipient."""

    format: Format
    headers: Headers
    notice: Callable[[], str]

    def reason(self, diagnostic: str) -> str | None:
        return self.format.reason(diagnostic, self.notice, self.headers)

    def command_verdict(self, command: str | None) -> str | None:
        """The format's verdict for a refusal at this SMTP command, if it has one."""
        return next((verdict for name, verdict in self.format.command_verdicts if name == command), None)


def recognise(headers: Headers, body: str) -> Format | None:
    """The vendor format a bounce is written in, by the marks every bounce of that vendor carries."""
    values: dict[str, str] = {}
    for candidate in FORMATS:
        present = 0
        for name, pattern, anchors in candidate.signs:
            if name == "body":
                hit = body.find(pattern.pattern, 0, 20000) >= 0
            else:
                value = values.get(name)
                if value is None:
                    value = values[name] = headers.folded(name)
                hit = bool(value) and (anchors is None or contains_any(value, anchors)) and (
                    pattern.search(value) is not None
                )
            if hit:
                present += 1
                if present >= candidate.needed:
                    return candidate
    return None
