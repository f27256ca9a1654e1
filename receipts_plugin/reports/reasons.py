"""Bounce reason classification, as data.

The vocabulary is Sisimai's, so results compare with it. The decision is a
short ordered walk over phrase tables: each reason has a table of the
regular expressions of the phrases servers use for it (generalised from what
real servers write, many languages folded in), and a few reasons may also be implied by the
status code (see :data:`codes.STATUS_REASONS`). The order follows what is most
specific first: a full mailbox stays a full mailbox even when the server
wrapped it in a generic 5.1.1.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from . import codes

REASONS = (
    "userunknown", "mailboxfull", "hostunknown", "filtered", "rejected", "blocked", "spamdetected",
    "expired", "suspend", "norelaying", "mesgtoobig", "policyviolation", "securityerror", "systemerror",
    "toomanyconn", "networkerror", "hasmoved", "contenterror", "exceedlimit", "notaccept", "mailererror",
    "syntaxerror", "systemfull", "virusdetected", "authfailure", "badreputation", "requireptr",
    "notcompliantrfc", "speeding", "suppressed", "failedstarttls", "onhold", "undefined", "delivered",
    "vacation", "feedback",
)


@dataclass(frozen=True)
class PhraseTable:
    """One reason's phrases (regular expressions over the lower-cased text), searched one by one.

    Each phrase is compiled on its own, on the table's first use (the one-file CLI starts
    without the tables), with the literal strings every match of it contains: most texts hold
    none of a table's and are turned away by ``str in`` checks; a phrase whose anchor is there
    is searched alone, and one phrase mostly opens with a literal or a choice of literals, which
    sre skips to in C, where the table's whole alternation would try every phrase at every
    position.
    """

    phrases: tuple[str, ...]

    @property
    def pattern(self) -> str:
        """The table as one alternation (what it matches is what any of its phrases matches)."""
        return "|".join(self.phrases)

    @cached_property
    def _guarded(self):
        """(each table anchor with the phrases it stands for, or None when a phrase has no anchor;
        every phrase with its own anchors). A phrase is held as ``[source]`` and compiled the first
        time its anchor is found (:func:`_compiled`): most phrases of a one-file run never are."""
        guards = tuple((literal_anchors(phrase), [phrase]) for phrase in self.phrases)
        every = [anchors for anchors, _ in guards]
        if None in every:
            return None, guards
        # A phrase's anchor contains one of the table's (see _fewest): wherever the phrase's anchor
        # occurs, that table anchor does, so a phrase is searched only under a table anchor found in
        # the text, and then only if one of its own anchors that contain it is there too.
        by_anchor = tuple(
            (table_anchor, tuple((covered, phrase) for anchors, phrase in guards
                                 if (covered := tuple(a for a in anchors if table_anchor in a))))
            for table_anchor in _fewest(a for anchors in every for a in anchors)
        )
        return by_anchor, guards

    def search(self, text: str) -> bool:
        """Does the text use one of the phrases?"""
        by_anchor, guards = self._guarded
        if by_anchor is None:
            for anchors, phrase in guards:
                if (anchors is None or contains_any(text, anchors)) and _compiled(phrase).search(text):
                    return True
            return False
        for table_anchor, phrases in by_anchor:
            if table_anchor in text:
                for anchors, phrase in phrases:
                    if contains_any(text, anchors) and _compiled(phrase).search(text):
                        return True
        return False


def _compiled(holder: list) -> re.Pattern[str]:
    """A phrase held as ``[source]``, compiled on its first search and kept in its holder."""
    phrase = holder[0]
    if isinstance(phrase, str):
        phrase = holder[0] = re.compile(phrase)
    return phrase


def _rx(*phrases: str) -> PhraseTable:
    return PhraseTable(phrases)


def split_alternatives(pattern: str) -> tuple[str, ...]:
    """The top-level alternatives of a regular expression (``a|b(?:c|d)`` -> ``a``, ``b(?:c|d)``),
    so a table written as one alternation can be searched as a :class:`PhraseTable`. Escapes,
    groups and character sets are skipped over; a pattern that does not split cleanly (unbalanced,
    global inline flags, back-references: an alternative would not be a pattern of its own) is
    returned whole. Nothing is compiled here (the table compiles its phrases on first use)."""
    if _NOT_SPLIT.search(pattern):
        return (pattern,)
    parts, depth, start, index, in_set = [], 0, 0, 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_set:
            in_set = char != "]"
        elif char == "[":
            in_set = True
            index += 1
            if pattern[index:index + 1] == "^":
                index += 1
            if pattern[index:index + 1] == "]":  # "[]..." and "[^]...": a "]" right after opens nothing
                index += 1
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return (pattern,)
        elif char == "|" and depth == 0:
            parts.append(pattern[start:index])
            start = index + 1
        index += 1
    if depth or in_set:
        return (pattern,)
    parts.append(pattern[start:])
    return tuple(parts)


#: What keeps an alternation from being split: global inline flags, back-references.
_NOT_SPLIT = re.compile(r"^\(\?[aiLmsux]+\)|\\[1-9]|\(\?P=")


#: Phrase patterns per reason, matched against the lower-cased diagnostic.
PHRASES: dict[str, PhraseTable] = {
    "mailboxfull": _rx(
        r"mailbox[^.\n]{0,40}(?:full|quota|exceeded[^.\n]{0,30}limit|exceeds allowed size|size limit exceeded)",
        r"(?:over|exceed)[^.\n]{0,20}quota", r"quota[^.\n]{0,30}exceeded", r"disk[^.\n]{0,20}quota",
        r"maildir[^.\n]{0,10}quota", r"account is[^.\n]{0,40} quota", r"full mailbox", r"mail ?folder is full",
        r"exceeded storage allocation", r"insufficient disk space", r"not sufficient disk space",
        r"no space left on device", r"enough [^.\n]{0,20} ?space", r"user's space has been used up",
        r"too many messages on the server", r"quota violation", r"too much mail data",
        r"boite du destinataire pleine", r"postfach[^.\n]{0,20}voll", r"exceeding receiving limits",
        r"mailbox would exceed maximum allowed storage", r"is over ?quota", r"user has exceeded quota",
    ),
    "mesgtoobig": _rx(
        r"message (?:file |size )?too (?:big|large for this )", r"(?:max(?:imum)?|fixed) (?:inbound |incoming )?message size",
        r"message size exceeds", r"message length exceeds administrative limit", r"size limit",
        r"line limit exceeded", r"taille limite du message", r"exceeded the maximum incoming message size",
        r"max message size exceeded",
    ),
    "exceedlimit": _rx(r"message header size exceeds limit", r"message too large"),
    "suspend": _rx(
        r"(?:mailbox|account|user)[^.\n]{0,30}(?:suspended|disabled|deactivated|frozen|inactive|locked)",
        r"is currently suspended", r"has been (?:temporarily )?(?:suspended|disabled)", r"inactive account",
        r"invalid/inactive user", r"is a deactivated mailbox", r"user is terminated", r"temporar(?:il)?y (?:locked|inactive)",
        r"archived recipient", r"boite du destinataire archivee", r"email account that you tried to reach is (?:disabled|inactive)",
        r"recipient suspend the service", r"this address no longer accepts mail", r"disabled or discontinued",
        r"user or domain is disabled", r"mailbox unavailable or access denied",
        r"(?:casilla|cuenta|buz[oó]n)[^.\n]{0,40}(?:ha expirado|expirad[ao]|deshabilitad[ao]|desactivad[ao]|suspendid[ao]|bloquead[ao])",
        r"(?:mailbox|account)[^.\n]{0,20}has expired",
    ),
    "hasmoved": _rx(r" has been replaced by "),
    "norelaying": _rx(
        r"relay(?:ing)? (?:access )?(?:denied|not permitted|prohibited)", r"no relaying", r"unable to relay",
        r"not (?:allowed|permitted) to relay", r"as a relay", r"insecure mail relay", r"not an open relay",
        r"not a gateway", r"not local host", r"relaying mail to ", r"this system is not configured to relay",
        r"isn't in my list of allowed rcpthost", r"we don't handle mail for", r"specified domain is not allowed",
        r"requires authentication when attempting to send to a non-local",
        # A sending service that relays only for identities it has verified (Amazon SES).
        r"email address is not verified",
    ),
    "authfailure": _rx(
        r"spf\b[^.\n]{0,20}(?:fail|violation)", r"bad spf records", r"spf settings", r"sender policy framework",
        r"dmarc\b[^.\n]{0,20}(?:policy|fail|reject)",
        r"//spf\.pobox\.com", r"required authentication level", r"doesn't meet the authentication requirements",
        r"is not allowed to send from <[^>]*> per it's spf", r"please inspect your spf settings",
        r"dkim[^.\n]{0,30}(?:fail|invalid|not pass)", r"(?:does not have|without) authentication information",
        r"fails? to pass authentication checks",
    ),
    "userunknown": _rx(
        r"(?:user|recipient|mailbox|address|account|addressee)(?: name)? (?:is )?(?:unknown|not (?:found|known|exist|active|local|ok|valid))",
        r"(?:unknown|invalid|bad|non-?existent|illegal) (?:local ?part|user|recipient|mailbox|e-?mail address|addressee)",
        r"(?:invalid|bad|non-?existent|illegal) address",
        r"no (?:such(?! domain| host| file or directory)|mail ?box by that name|account by that name|mailbox found|valid recipients)",
        r"bad[_ ]recipient", r"(?:user|recipient|mailbox|address|account|rcpt) [\[<(\"'][^\]>)\"'\n]{1,120}[\]>)\"'] (?:does(?: not|n't)|not) exist",
        r"(?:user|recipient|mailbox|address|account)[^.\n]{0,60}(?:does(?: not|n't|n.t)|not) exist",
        r"(?:user|recipient|mailbox|account) [^\s@<>]+@[^\s<>]+ (?:does(?: not|n't)|not) exist",
        r"doesn't have an? \S+ account", r"not listed in (?:domino directory|public name & address book)",
        r"(?:address|mailbox) (?:wasn't|was not|couldn't be|could not be) found", r"invalid final delivery userid",
        r"recipient address rejected\.", r"not a (?:valid|known) (?:user|mailbox|recipient)",
        r"is not a (?:valid mailbox|known user)", r"not a local address", r"is not an active (?:e-?mail )?address", r"recipient address rejected: (?:user unknown|unknown user|invalid)",
        r"recipient (?:not found|refuses to accept|is not accepted|is not local|not exist|unknown)", r"recipient address rejected: (?:access denied|invalid|unknown|user ?unknown)", r"email address could not be found",
        r"the email account that you tried to reach does not exist", r"resolver\.adr\.recipient ?not ?found",
        r"sorry, (?:no mailbox|badrcptto|user unknown)", r"badrcptto list", r"not in my validrcptto list",
        r"address (?:does not exist|not present in directory|unknown|invalid)", r"5\.1\.0 address rejected",
        r"there is no one at this address", r"this email address is wrong", r"destination addresses were unknown",
        r"mailbox (?:is )?(?:unavailable|unavaiable|not available|inactive|invalid|not present)",
        r"requested action not taken: mailbox unavailable", r"invalid mailbox", r"user missing home directory",
        r"vdeliver: invalid or unknown virtual user", r"utilisateur inconnu", r"no existe (?:dicha persona|ese usuario)",
        r"(?:destinatario|usuario|buz[oó]n|direcci[oó]n)(?: de correo)? desconocid[oa]", r"(?:destinatario|usuario|buz[oó]n|cuenta) no existe",
        r"nessun utente simile", r"(?:adresse|utilisateur|destinataire|compte|bo[iî]te)[^.]{0,60}n'existe (?:pas|plus)", r"adresse nicht gefunden", r"unbekannt(?:er)? (?:empf.nger|benutzer)",
        r"can't accept user", r"that domain or user isn't in my list", r"destination server rejected recipients",
        r"not email addresses", r"recipient unknown", r"does not exist\.", r"5\.1\.1 bad address",
        r"no mail ?box (?:here|available)", r"<[^>\s]*> not found", r"rcpt[^.\n]{0,30}t exist",
        r"in name directory", r"was not found in", r"recipients was undeliverable",
        r"this spectator does not exist", r"account unavailable", r"recipient name is not recognized",
        r"did not (?:exactly )?match (?:an? |any )?[^.\n]{0,40}(?:e-?mail address|directory entry|user)",
    ),
    "filtered": _rx(
        r"message filtered", r"user refuses to receive", r"user reject", r"refused due to recipient preferences",
        r"is not accepting any mail", r"only accepting mail from specific", r"recipient id refuse to receive",
        r"you have been blocked by the recipient", r"message rejected due to user rules", r"bounced address",
        r"has restricted sms e-mail", r"account is protected by", r"not found recipient account",
    ),
    "requireptr": _rx(
        r"ptr\b", r"reverse dns", r"rdns", r"cannot find your hostname", r"cannot resolve your address",
        r"ip name lookup failed", r"reverse lookup rejected", r"unresolvable relay host name",
        r"forward dns entry does not point", r"mismatches client ip", r"dns lookup failure: [^\n]{0,60}try again later",
        r"unverifyable sending ips",
    ),
    "notcompliantrfc": _rx(
        r"duplicate header", r"not rfc ?5322 compliant", r"rfcmessagenoncompliant", r" multiple [a-z-]+ header",
        r"messages with multiple addresses in from:",
        # a message refused for a header it lacks (CommuniGate: "Messages without To: fields are not accepted")
        r"messages? (?:without|with no|missing) (?:an? )?(?:to|from|date|subject|message-id):? (?:header|field)s? (?:are|is) not accepted",
    ),
    "badreputation": _rx(
        r"poor (?:email )?reputation", r"reputation (?:problems|score)", r"low reputation", r"bad reputation",
        r"rate limited due to ip reputation", r"temporarily deferred due to unexpected volume or user complaints",
    ),
    "contenterror": _rx(
        r"header size exceeds maximum", r"8-bit data in message header", r"recipient list, exceeds policy limit",
        r"mime complexity", r"too many received: headers", r"invalid mime headers", r"improperly-formatted binary",
        r"unnecessary base64 encoding",
    ),
    "rejected": _rx(
        r"sender (?:address |email address )?(?:rejected|was rejected|verify failed|not pre-approved|domain is empty|is spammer|is in my black list)",
        r"sender address has been blacklisted", r"your email address has been blacklisted", r"(?:from|to/from) an address that (?:has been|is) black ?listed", r"address(?<!recipient address)(?<!sender ip address)(?<!5\.1\.0 address) rejected",
        r"administrative prohibition", r"batv\b", r"invalid sender", r"bogus mail from", r"null sender is not allowed",
        r"empty envelope senders", r"domain of sender address ", r"returned mail not accepted here",
        r"unroutable sender address", r"is not a registered gateway user", r"mail from not owned by user",
        r"fully qualified email address required", r"this server does not accept mail from",
        r"not allowed to post to this mailing list", r"delivery not authorized, message refused",
        r"permission to post", r"not a member of this (?:mailing )?list", r"groups\.google\.com/support",
        r"denied \[bouncedeny\]", r"emetteur invalide", r"spam reporting address", r"envelope blocked - ",
        r"access denied \((?:in reply to mail from command|sender blacklisted)\)", r"no third-party dsns",
        r"unsigned dsn for", r"sending this from a different address", r"isn't on the recipient's list of senders",
        r"can't determine purported responsible address", r"from: domain is invalid", r"mx records for ",
        r"senderfilterconfig", r"rule imposed mailbox access for",
        r"valid sender domain", r"syntax error: empty email address", r"backscatter protection",
        r"all recipient addresses rejected",
        r"send(?:er|ing) address (?:is )?not accepted", r"verification failed for <", r"callback setup failed while verifying <",
    ),
    "hostunknown": _rx(
        r"host(?: or domain name)? (?:unknown|not found|unreachable)", r"unknown host", r"no such domain",
        r"domain (?:does not exist|is not reachable|must exist)", r"name or service not known",
        r"unrout(?:e)?able address", r"unknown domain", r"mail domain mentioned in email address is unknown",
        r"the account or domain may not exist", r"553 [^\n]{0,60} does not exist",
        r"\bhost [a-z0-9-]+(?:\.[a-z0-9-]+)+ not found(?!, try again)",
    ),
    "spamdetected": _rx(
        r"spam\b", r"spamming", r"spamassassin", r"unsolicited", r"bulk e?-?mail", r"content filter rejection", r"message content rejected",
        r"rejecting (?:banned|mail) content", r"unacceptable content", r"mail content denied", r"uribl",
        r"message rejected for policy reasons", r"recurrent pattern detection", r"may consider spam",
        r"our system has detected that this message is ", r"antispam", r"greylisted[^\n]{0,40}please try again in",
        r"spam-like", r"sender domain listed at ", r"blacklisted url", r"junk mail", r"reject bulk\.advertising",
        r"classified as bulk mail", r"554 5\.7\.0 reject, id=", r"spam ?profiler",
    ),
    "speeding": _rx(r"please try again slower", r"temporarily rate limited", r"receiving mail at a rate that prevents"),
    "toomanyconn": _rx(
        r"too many (?:connections|concurrent smtp connections|recipients|smtp sessions|errors from your ip)",
        r"connection rate limit exceeded", r"maximum connection limit", r"per-domain connection limit",
        r"max emails per hour", r"throttling failure", r"frequency limited", r"trop de connexions", r"numerous attempts to deliver",
    ),
    "blocked": _rx(
        r"blacklisted by", r"is (?:in|on) (?:a|our|the) black ?list", r"(?:ip|domain|host|sender|email|address)[^.\n]{0,60} is black ?listed", r"black ?list(?:ed)? (?:ip|host|server|sender|domain)", r"block ?list", r"(?:rbl|dnsbl)\b", r"spamhaus", r"spamcop",
        r"blocked (?:using|by|- see)", r"was blocked by ", r"(?:ip|client host|network)\b[^.\n]{0,40}(?:blocked|rejected|not allowed|listed)",
        r"(?:access|service) (?:denied|refused)[^.\n]{0,30}(?:\bip\b|see http)", r"refused - see http", r"dynamic ?ips?\b",
        r"(?<!deferred: )connection (?:refused|dropped|reset|was dropped)", r"go away", r"helo command rejected",
        r"not accepting connections", r"not allowed to connect", r"not allowed to send mail from",
        r"currently sending spam", r"you are sending spam", r"open proxy", r"suspiciously like spammer",
        r"please use the smtp server of your isp", r"service not available, closing transmission channel",
        r"smtp error from remote mail server after initial connection", r"extreme bad ip profile",
        r"confirm this mail server", r"your server requires confirmation", r"too many (?:spams|unwanted messages)",
        r"no access from mail server", r"no matches to nameserver query", r"domain does not exist:",
        r"has not passed validation", r"to submit messages to this e-mail system has been rejected",
        r"not currently accepting mail from your ip", r"banned sending ip", r"said: 550 blocked",
        r"error: no valid recipients from ", r"listed as abusive", r"mail from [^\n]{0,80} refused",
        r"rejected based on blacklist", r"service refused, please try later", r"\(bl\)", r"\bip=\d{1,3}(?:\.\d{1,3}){3}\b",
        r"temporarily deferred due to user complaints", r"invalid ip for sending mail",
        # a list of spam sources, which a server consults before any content is sent ("denied due to spam list")
        r"spam ?list",
    ),
    "virusdetected": _rx(
        r"virus(?:es)? (?:detected|or spam|phishing)", r"infected with a virus", r"potentially executable attachment",
        r"used by recent viruses", r"prohibited virus",
    ),
    "policyviolation": _rx(
        r"policy reasons", r"denied by policy", r"organization(?:al)? (?:policy|settings)", r"local policy",
        r"illegal attachment", r"members-only list", r"closed mailing list", r"header are not accepted",
        r"header error", r"message given low priority", r"protocol violation",
        r"not subscribed to this group", r"content presents a potential", r"containing images or other attachments",
        r"mass mailer", r"security policies", r"not accepting mail with ", r"without solving a captcha",
    ),
    "systemerror": _rx(
        r"(?:local|server|system|mail system) config(?:uration)? error", r"local error in processing",
        r"aliasing/forwarding loop broken", r"it would create a mail loop", r"loops back to myself", r"loop was found", r"interrupted system call",
        r"internal (?:error reading data|server error)", r"queue file write error", r"remote server is misconfigured",
        r"service currently unavailable", r"temporary local problem", r"timeout waiting for input",
        r"transaction failed ", r"can't create user output file", r"temporary lookup failure", r"could not load drd", r"no mdb",
        r"encountered an error while being processed", r"unable to connect [^\n]{0,40}daemon", r"unable to contact ldap server",
        r"^(?:[45]\d\d )?(?:[45]\.\d{1,3}\.\d{1,3} )?service unavailable\b",
    ),
    "networkerror": _rx(
        r"host name lookup failure", r"host not found, try again", r"no route to host", r"host is unreachable",
        r"name server reply", r"too many hops", r"hop count exceeded", r"mail forwarding loop for ",
        r"forwarding loop count exceeded", r"message looping", r"routing loop", r"unable to resolve route",
        r"unrouteable mail domain", r"dns records for the destination computer could not be found",
        r"could not connect and send the mail", r"dns query failed", r"dns error", r"nxdomain\b",
    ),
    "systemfull": _rx(r"mail system full", r"requested mail action aborted: exceeded storage allocation"),
    "notaccept": _rx(
        r"does not accept mail", r"mail receiving disabled", r"name server: \.: host not found",
        r"no mx record found for domain", r"no route for current request", r"smtp protocol returned a permanent error",
        r"null ?mx", r"(?:mx|srv) record indicated no smtp service", r"no mx (?:record )?found",
        r"doesn't receive email according to the administrator",
    ),
    "expired": _rx(
        r"connection timed out", r"could not find a gateway", r"delivery (?:attempts will continue|expired|time expired)",
        r"failed to deliver to domain ", r"giving up on", r"failing for a long time", r"has been delayed",
        r"not been collected after", r"(?:message|retry) (?:expired|timed out|time not reached)",
        r"server did not respond", r"in the queue too long", r"after multiple retries", r"allowed queue period",
        r"(?:could not be|not been|wasn't|was not) delivered (?:for|within|after) [^\n]{0,20}(?:minutes?|hours?|days?|weeks?)\b",
        r"your message could not be delivered for more than", r"(?:gave up|giving up|given up)\b[^\n]{0,40}(?:after|attempts?|retr)",
        r"after \d+ attempts?", r"delivery failed \d+ attempts", r"maximum (?:delivery )?attempts", r"over a period of \d+ (?:minute|hour|day)",
        r"not been collected after",
        r"retry timeout exceeded", r"envelope expired", r"did not accept our requests to connect",
        r"not delivered within \d+ days?", r"operation timed out", r"will be retried for", r"could not deliver for the last",
    ),
    "failedstarttls": _rx(r"starttls is required", r"tls required but not supported", r"must issue a starttls",
                          r"does not support (?:tls|starttls)"),
    "securityerror": _rx(
        r"authentication (?:credentials invalid|failure|failed|required|turned on)", r"insecure mail relay",
        r"recipient address rejected: access denied", r"unauthenticated senders not allowed",
        r"verification failure", r"not authorized to send mail, authentication", r"executable files are not allowed",
        r"account not subscribed to ses", r"you don't authenticate", r"is a dead domain",
        r"not authorized to perform ses:sendrawemail",
    ),
    "suppressed": _rx(r"suppression list", r"on the account-level suppression"),
    "mailererror": _rx(
        r" \|\| exit ", r"procmail", r"bin/maildrop", r"command (?:failed|died with status|output)",
        r"mailer error", r"pipe to \|/", r"x-unix; ", r"command output: (?!.{0,40}(?:quota|full|unknown|no such))",
    ),
    "vacation": _rx(r"out of (?:the )?office", r"auto(?:matic)?[- ]?reply", r"on vacation", r"abwesenheit"),
}

#: Words naming a block list (DNSBL, Spamhaus ...): a refusal because of a list the sender's IP or
#: domain is on, whatever command it came at, is about reputation (blocked), not the sender's address.
_BLOCK_LISTS = _rx(r"spamhaus", r"spamcop", r"(?:rbl|dnsbl)\b", r"block ?list", r"black ?list", r"barracudacentral",
                   r"spam ?list")

#: A server's own verdict that the message was scored or judged spam: PTR, SPF or HELO named after it is
#: advice to the sender ("make sure your server is set up correctly (SPF, HELO, PTR)"), not the cause.
#: A receiving server's callout to the sender's own server failed (Exim writes "Verification failed for
#: <address>" only for the sender): the sender was refused, whatever status a relay summarised it as.
_SENDER_CALLOUT = _rx(r"verification failed for <", r"callback setup failed while verifying <", r"sender verify failed")
_SPAM_VERDICT = _rx(
    r"anti-?spam checks", r"spam score", r"scored [^.\n]{0,30}spam", r"(?:detected|identified|classified) as spam",
)

#: First pass, most specific first: (reason, may the status code alone decide it?).
#: ``userunknown``/``filtered``/``rejected`` need the SMTP command too, see below.
_FIRST_PASS: tuple[tuple[str, bool], ...] = (
    ("mailboxfull", True), ("mesgtoobig", True), ("exceedlimit", True), ("suspend", False),
    ("hasmoved", False), ("norelaying", False), ("authfailure", True),
    ("userunknown", True), ("filtered", True),
    ("requireptr", True), ("notcompliantrfc", False), ("badreputation", False), ("contenterror", True),
    ("rejected", True), ("hostunknown", True), ("spamdetected", True), ("speeding", False),
    ("toomanyconn", True), ("mailererror", False), ("blocked", True),
)
#: Second pass, when the status code says nothing definite: phrases only.
_SECOND_PASS = (
    "mailboxfull", "authfailure", "badreputation", "speeding", "spamdetected", "virusdetected",
    "policyviolation", "norelaying", "notaccept", "networkerror", "expired", "systemerror", "suspend", "contenterror",
    "systemfull", "failedstarttls", "securityerror", "suppressed", "mailererror",
)
#: Reasons a status code only hints at: the text is read again for something better.
RETRY = frozenset({"undefined", "onhold", "systemerror", "securityerror", "expired", "networkerror", "hostunknown", "userunknown"})
_BEFORE_DATA = frozenset({"CONN", "HELO", "EHLO", "STARTTLS", "AUTH", "MAIL", "RCPT"})
_USER_CONFLICTS = ("norelaying", "blocked", "mailboxfull", "hasmoved", "rejected", "notaccept")

#: How notices name the SMTP command a failure happened at: (command, words one of which
#: must occur, pattern). Searched in lower-cased text; a pattern runs only when its word is there.
_COMMANDS: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = tuple(
    (command, words, re.compile(pattern))
    for command, words, pattern in (
        ("RCPT", ("rcpt", "does not like recipient"),
         r"(?:after|in reply to|in response to|for|most progress was) (?:the )?rcpt(?: to)?\b|rcpt to:|"
         r"\[rcpt_to\]|smtp:rcpt\b|smtp command:? ?rcpt|does not like recipient|rcpt (?:to )?response"),
        ("DATA", ("data",),
         r"(?:after|in reply to|in response to) (?:the )?(?:end of data|data)\b|final data\b|"
         r"smtp command:? ?data|data (?:command|response)\b"),
        ("MAIL", ("mail from", "mail response", "smtp command"),
         r"(?:after|in reply to|in response to) (?:the )?mail from\b|mail from:|smtp command:? ?mail|"
         r"mail (?:from )?response"),
        ("HELO", ("helo", "ehlo"), r"(?:after|in reply to|in response to) (?:the )?(?:helo|ehlo)\b"),
        ("STARTTLS", ("starttls",), r"(?:after|in reply to) (?:the )?starttls\b"),
        ("CONN", ("initial connection", "greeting", "refused"),
         r"after (?:the )?initial connection\b|greeting\b|connect(?:ion)? to\b[^\n]{0,80}refused"),
    )
)
#: Only the start of a long diagnostic is classified: the verdict is stated early, boilerplate follows.
MAX_CLASSIFIED_CHARS = 2000


def literal_anchors(pattern: re.Pattern[str] | str) -> tuple[str, ...] | None:
    """Literal strings one of which every match of ``pattern`` must contain, or None.

    Each alternative of a phrase table is reduced to its longest run of plain
    characters (or, for an alternative opening with a group of choices, to the
    runs of those choices). ``str in`` checks on these are much cheaper than
    running the table's regex, so a table is only searched when one occurs.
    """
    try:
        from re import _constants as sre_constants, _parser as sre_parser
        tree = sre_parser.parse(pattern if isinstance(pattern, str) else pattern.pattern)
    except (ImportError, AttributeError, re.error):
        return None

    def branch_anchors(items) -> list[str] | None:
        best, run, fallback = "", "", None
        for op, value in items:
            if op is sre_constants.LITERAL:
                run += chr(value)
                continue
            best, run = max(best, run, key=len), ""
            if op is sre_constants.BRANCH and fallback is None:
                choices = [branch_anchors(list(choice)) for choice in value[1]]
                if all(choice is not None for choice in choices):
                    fallback = [anchor for choice in choices for anchor in choice]
        best = max(best, run, key=len)
        return [best] if len(best) >= 3 else fallback

    items = list(tree)
    branches = items[0][1][1] if len(items) == 1 and items[0][0] is sre_constants.BRANCH else [items]
    anchors: list[str] = []
    for branch in branches:
        found = branch_anchors(list(branch))
        if found is None:
            return None
        anchors.extend(found)
    return _fewest(anchors)


def _fewest(anchors) -> tuple[str, ...]:
    """The anchors without repeats and without those containing another one (wherever such
    an anchor occurs, the shorter one does too, so it adds nothing)."""
    unique = list(dict.fromkeys(anchors))
    return tuple(a for a in unique if not any(b != a and b in a for b in unique))


def matches(reason: str, text: str) -> bool:
    """Does the lower-cased text use one of the phrases of ``reason``?"""
    table = PHRASES.get(reason)
    return table is not None and table.search(text)


def contains_any(text: str, needles: tuple[str, ...]) -> bool:
    """``any(n in text for n in needles)`` without a generator: this runs thousands of times per mailbox."""
    for needle in needles:
        if needle in text:
            return True
    return False


class _Phrases(dict):
    """Which reasons' phrases a text uses, each table searched at most once."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def __missing__(self, reason: str) -> bool:
        table = PHRASES.get(reason)  # matches(), one call less: this runs a dozen times per diagnostic
        found = self[reason] = table is not None and table.search(self.text)
        return found




#: A multi-line SMTP reply repeats its codes on every line ("550-5.7.1 ... 550-5.7.1 ... 550 5.7.1"), and
#: servers wrap them into the middle of their sentences.
_CONTINUATION = re.compile(r"\b([245]\d\d)-([245]\.\d{1,3}\.\d{1,3})\b")
_CONTINUATION_ANCHORS = ("-2.", "-4.", "-5.")
#: A Sendmail transcript line names the address before its answer: ``554 <x@y>... Service unavailable``,
#: ``554 "|/usr/bin/procmail"... text``. The address (often a program) is no part of what went wrong.
_TRANSCRIPT_ADDRESS = re.compile(r'(?:<[^<>\n]{1,200}>|"[^"\n]{1,200}")\.\.\. ')


def join_reply_lines(text: str) -> str:
    """The lower-cased text with a multi-line reply read as one sentence: its continuation codes
    (``550-5.7.1``) and the last line's repeated code are dropped after their first occurrence, so
    phrases match across them; the addresses a Sendmail transcript line starts with are dropped too."""
    if contains_any(text, _CONTINUATION_ANCHORS):
        first = _CONTINUATION.search(text)
        if first:
            code, status = first.groups()
            repeated = re.compile(r"\b" + code + r"[- ]" + re.escape(status) + r"\b ?")
            head, tail = text[:first.start()], text[first.end():]
            text = head + code + " " + status + repeated.sub("", tail)
    if "..." in text:
        text = _TRANSCRIPT_ADDRESS.sub("", text)
    return text


#: A local delivery agent that cannot find the user: no filter after DATA is involved, the mailbox
#: does not exist (``mail.local: unknown user: x``, ``lmtp: ... user unknown``, ``procmail: Unknown user``).
_LOCAL_AGENT_UNKNOWN = re.compile(
    r"\b(?:mail\.local|local|lmtp|dovecot(?:-lda)?|deliver|maildrop|procmail|virtual)(?:\[\d+\])?: "
    r"(?:[^:\n]{0,40}: )?(?:unknown user|user unknown|no such (?:user|mailbox)|invalid user)"
)
_LOCAL_AGENT_ANCHORS = ("unknown user", "user unknown", "no such user", "no such mailbox", "invalid user")


def smtp_command(text: str) -> str | None:
    """The SMTP command a diagnostic says the failure happened at (RCPT, DATA, ...): the earliest mention wins."""
    lowered = text.lower()
    earliest: tuple[int, str] | None = None
    for command, words, pattern in _COMMANDS:
        for word in words:  # contains_any(), inline: this runs for every diagnostic and notice paragraph
            if word in lowered:
                match = pattern.search(lowered)
                if match and (earliest is None or match.start() < earliest[0]):
                    earliest = (match.start(), command)
                break
    return earliest[1] if earliest else None


def classify(
    status: str | None,
    diagnostic: str | None,
    reply_code: str | None = None,
    action: str | None = None,
    command: str | None = None,
    diagnostic_type: str | None = None,
    hint: str | None = None,
) -> str:
    """Decide the reason of one failed (or delayed, or delivered) recipient.

    Three passes: specific reasons the status or a phrase proves; then, when
    the status is vague, any phrase; then what the status, reply code, SMTP
    command or action imply. ``onhold`` when there was text but no verdict.
    ``hint`` is a tentative verdict of the report's own format (e.g. a
    vendor's "bad-mailbox" category): it takes its place in the first pass
    and otherwise wins over the later passes.
    """
    if (status and status.startswith("2.")) or action in ("delivered", "relayed", "expanded"):
        return "delivered"
    # Servers wrap their sentences anywhere: read the words as one line.
    text = " ".join((diagnostic or "")[:MAX_CLASSIFIED_CHARS].lower().replace("\u2019", "'").split())
    text = join_reply_lines(text)
    command = command or smtp_command(text)
    by_status = codes.reason_for_status(status)
    smtp_like = diagnostic_type != "X-UNIX"
    if not smtp_like and by_status == "filtered":
        # "filtered" (5.2.0) is a receiving server's refusal after DATA; a local program (X-Unix) filters
        # nothing: its own words decide, else it is a mailer error (below).
        by_status = None

    found = _Phrases(text)
    if smtp_like:
        for reason, status_decides in _FIRST_PASS:
            if reason == hint or _first_pass_hit(reason, status_decides, found, status, by_status, reply_code, command):
                return reason
    if hint and hint not in ("onhold", "undefined"):
        return hint
    if by_status is None or by_status in RETRY:
        # A local program's failure (X-Unix) is its own cause: the notice's giving-up or still-trying
        # sentence around it says what happened, not why.
        phrase_reason = next((r for r in _SECOND_PASS if found[r] and (smtp_like or r != "expired")), None)
        if phrase_reason:
            return phrase_reason
    return _implied(status, by_status, found, reply_code, action, command, diagnostic_type)


#: A status with the wording a directory-based recipient check gives when the address is not in the
#: directory (Exchange Online's "5.4.1 Recipient address rejected: Access denied", whoever relays it):
#: an unknown user at whatever stage the report names.
_DIRECTORY_REFUSALS = (("5.4.1", "recipient address rejected: access denied"),)


def _first_pass_hit(reason, status_decides, found: _Phrases, status, by_status, reply_code, command) -> bool:
    if reason in ("userunknown", "filtered") and by_status is None and " or domain " in found.text and found["hostunknown"]:
        return False  # "the account or domain may not exist": the domain's own sentence decides (hostunknown)
    if reason == "userunknown":
        if command != "MAIL" and any(status == code and wording in found.text for code, wording in _DIRECTORY_REFUSALS):
            return True
        if status == "4.1.1" and command in (None, "RCPT") and found["userunknown"]:
            return True  # X.1.1 names a bad mailbox in either class; the class only says whether to retry
        return command != "MAIL" and _is_user_unknown(found, by_status, command)
    if reason == "filtered":
        return _is_filtered(found, by_status, command)
    if reason == "rejected":
        if command in _BEFORE_DATA and _BLOCK_LISTS.search(found.text):
            return False  # "MailFrom domain is listed in Spamhaus": the block list decides (blocked)
        refused_sender = command == "MAIL" and (
            by_status == "userunknown" or found["userunknown"] or "access denied" in found.text
        )
        return by_status == "rejected" or refused_sender or _is_rejected(found, by_status, command)
    if reason == "requireptr" and by_status != "requireptr" and _SPAM_VERDICT.search(found.text):
        return False
    if reason == "suspend" and reply_code == "525":
        return True
    if reason == "mesgtoobig" and (by_status == "exceedlimit" or status == "5.2.3"):
        return False
    if reason == "hostunknown":  # "host not found, try again" is a DNS failure, not a missing domain
        return (by_status == "hostunknown" or found["hostunknown"]) and not found["networkerror"]
    if reason == "norelaying" and command in ("CONN", "EHLO", "HELO"):
        return False
    if reason == "spamdetected" and (not status or (command in _BEFORE_DATA and by_status != "spamdetected")):
        return False
    if reason == "contenterror" and _first_pass_hit("spamdetected", True, found, status, by_status, reply_code, command):
        return False
    return (status_decides and by_status == reason) or found[reason]


def _is_user_unknown(found: _Phrases, by_status: str | None, command: str | None) -> bool:
    """5.1.1 without contrary words, or user-unknown words at the RCPT stage (or at an
    unknown stage when no status code says otherwise)."""
    if by_status == "userunknown":
        return not any(found[other] for other in _USER_CONFLICTS)
    if contains_any(found.text, _LOCAL_AGENT_ANCHORS) and _LOCAL_AGENT_UNKNOWN.search(found.text):
        return True
    if command != "RCPT":
        return False
    return found["userunknown"]


def _is_filtered(found: _Phrases, by_status: str | None, command: str | None) -> bool:
    """Refused after the recipient was accepted (at DATA, or at an unknown stage)."""
    if by_status == "filtered":
        return found["userunknown"] or found["filtered"]
    if command in _BEFORE_DATA:
        return False
    return found["filtered"] or found["userunknown"]


def _is_rejected(found: _Phrases, by_status: str | None, command: str | None) -> bool:
    """The sender was refused: at MAIL FROM, at DATA, or when the status says nothing better."""
    if not found["rejected"]:
        return False
    if command == "MAIL" or _SENDER_CALLOUT.search(found.text):
        return True
    if command == "DATA":
        return by_status != "userunknown"
    return by_status in (None, "securityerror", "systemerror")


def _implied(status, by_status, found: _Phrases, reply_code, action, command, diagnostic_type) -> str:
    """What is left: the status code's own meaning, its class, reply code, command or action."""
    if by_status:
        return by_status
    if reply_code in ("521", "556"):
        return "notaccept"
    if reply_code in ("523", "524", "538") or command == "STARTTLS":
        return "failedstarttls"
    if status and status[1:4] in (".6.", ".7."):
        return "contenterror" if status[2] == "6" else "securityerror"
    if diagnostic_type == "X-UNIX":
        return "mailererror"
    if reply_code and reply_code[1] == "0" and reply_code[2] in "1234567":
        return "syntaxerror"
    if action in ("delayed", "expired"):
        return "expired"
    if command in ("HELO", "EHLO"):
        return "blocked"
    if found["vacation"]:
        return "vacation"
    return "onhold" if found.text.strip() else "undefined"
