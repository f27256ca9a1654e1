"""Plain-language explanations for agents: why a reply bounced, why no receipt came."""
from __future__ import annotations

REASONS = {
    "userunknown": "The address does not exist at the recipient's mail server.",
    "mailboxfull": "The recipient's mailbox is full.",
    "hostunknown": "The recipient's domain does not exist or has no mail server.",
    "filtered": "The recipient's server refused it for this recipient (a filter, or an address that no longer accepts mail).",
    "rejected": "The recipient's server refused mail from our address.",
    "blocked": "The recipient's server refused our server (its address or network is blocked).",
    "spamdetected": "The recipient's server took the message for spam.",
    "expired": "Delivery was tried for too long without success and given up.",
    "suspend": "The recipient's mailbox is suspended or disabled.",
    "norelaying": "A server refused to pass the message on (relaying denied).",
    "mesgtoobig": "The message is too large for the recipient's server.",
    "policyviolation": "The message broke a policy of the recipient's organisation.",
    "securityerror": "A security check failed (authentication or encryption required).",
    "systemerror": "The recipient's mail system had an error.",
    "toomanyconn": "The recipient's server refused because of too many connections.",
    "networkerror": "A network problem (DNS or routing) stopped delivery.",
    "hasmoved": "The recipient has moved to another address.",
    "contenterror": "The message's content was refused (format or attachment).",
    "exceedlimit": "The message exceeded a limit of the recipient's server.",
    "notaccept": "The recipient's domain does not accept mail at all (null MX).",
    "mailererror": "The recipient's mail program failed.",
    "syntaxerror": "The mail servers could not understand each other (an SMTP syntax error).",
    "systemfull": "The recipient's mail server is out of disk space.",
    "virusdetected": "The recipient's server found a virus in the message.",
    "authfailure": "The message failed the sender authentication checks (SPF, DKIM or DMARC).",
    "badreputation": "The recipient's server refused us because of our sending reputation.",
    "requireptr": "The recipient's server requires our server's address to have reverse DNS.",
    "notcompliantrfc": "The message does not follow the mail standards closely enough for the recipient's server.",
    "speeding": "We sent too much too quickly; the recipient's server asked us to slow down.",
    "suppressed": "The address is on a suppression list of the sending service.",
    "failedstarttls": "An encrypted connection (STARTTLS) to the recipient's server could not be made.",
    "onhold": "Delivery is on hold at a server for an unknown reason.",
    "undefined": "The report gives no usable reason.",
    "delivered": "It was delivered.",
    "vacation": "An automatic reply (such as out of office) answered it.",
    "feedback": "The recipient reported the message (a complaint or feedback report).",
}

_CLASSES = {"2": "Success.", "4": "A temporary problem: the sending server keeps trying for a while.",
            "5": "A permanent failure: it will not be delivered as it is."}
_SUBJECTS = {
    "0": "", "1": "A problem with the recipient's address.", "2": "A problem with the recipient's mailbox.",
    "3": "A problem with the recipient's mail system.", "4": "A network or routing problem.",
    "5": "A mail protocol problem.", "6": "A problem with the message's content or format.",
    "7": "A security or policy refusal.",
}
_DETAILS = {"1.1": "The mailbox does not exist.", "1.2": "The domain does not exist.",
            "2.2": "The mailbox is full.", "2.1": "The mailbox is disabled.", "3.4": "The message is too large.",
            "4.7": "Delivery took too long and was given up.", "7.1": "Delivery was not authorised (refused)."}


def explain_status(status_code: str | None) -> str:
    """RFC 3463 meaning of an enhanced status code such as 5.1.1 (class, subject, detail)."""
    parts = (status_code or "").split(" ")[0].split(".")
    if len(parts) != 3 or parts[0] not in _CLASSES:
        return "No reason was given."
    detail = _DETAILS.get(f"{parts[1]}.{parts[2]}") or _SUBJECTS.get(parts[1], "")
    return " ".join(p for p in (_CLASSES[parts[0]], detail) if p)


def explain_reason(reason: str | None, status_code: str | None) -> str:
    """An explanation for agents: the reason class when known, else the status code's meaning."""
    if reason and reason in REASONS and reason != "undefined":
        return REASONS[reason]
    return explain_status(status_code)


#: Problems whose kind says more than any reason class or status code (they carry neither).
KIND_EXPLANATIONS = {
    "mdn-rejected": "A mail filter of the recipient (a Sieve rule, say) refused it: it was not put in their "
                    "mailbox, so nobody there saw it. The address itself works.",
}


def explain_problem(kind: str, reason: str | None, status_code: str | None) -> str:
    """The explanation of a recipient's problem, by its kind first, then as :func:`explain_reason`."""
    return KIND_EXPLANATIONS.get(kind) or explain_reason(reason, status_code)


def missing_receipt_reasons() -> list[str]:
    """Why a read receipt may never come, though the message was read (say so, honestly)."""
    return [
        "The recipient's mail client does not send read receipts (many web mail services never do).",
        "The recipient declined to send a read receipt, or their client is set never to send them.",
        "A receipt says the message was displayed, not that it was read closely; its absence proves nothing.",
    ]
