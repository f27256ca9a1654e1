"""Delivering a composed email: over SMTP, or into the outbox folder when no relay is set.

The transport reports an outcome per recipient. It can run one SMTP transaction per
recipient (each with its own envelope sender, e.g. a VERP address) and passes RFC 3461
DSN parameters only when the relay advertises the DSN extension.
"""
from __future__ import annotations

import copy
import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Protocol

#: Changes a copy of the email for one recipient (e.g. personal download links).
Personaliser = Callable[[EmailMessage, str], None]


@dataclass(slots=True)
class DsnRequest:
    """RFC 3461 parameters: what to report (NOTIFY), how much to return (RET), our ENVID."""

    envid: str
    notify: str = "SUCCESS,FAILURE,DELAY"
    ret: str = "HDRS"


@dataclass(slots=True)
class DeliveryPlan:
    """How one outbound message goes out. Built by the core, adjustable by plugins through
    the ``message_before_send`` signal, and not stored (it is rebuilt for each attempt)."""

    envelope_from: str
    recipients: list[str]
    headers: dict[str, str] = field(default_factory=dict)
    per_recipient: bool = False
    envelope_senders: dict[str, str] = field(default_factory=dict)
    dsn: DsnRequest | None = None
    personalisers: list[Personaliser] = field(default_factory=list)

    def sender_for(self, recipient: str) -> str:
        return self.envelope_senders.get(recipient, self.envelope_from)


@dataclass(frozen=True, slots=True)
class RecipientResult:
    address: str
    accepted: bool
    #: True when the failure may pass (4xx, connection trouble): the recipient is retried.
    temporary: bool = False
    code: int | None = None
    response: str = ""

    @property
    def summary(self) -> str:
        return f"{self.code} {self.response}".strip() if self.code else self.response


class Transport(Protocol):
    name: str

    def deliver(self, mail: EmailMessage, plan: DeliveryPlan) -> list[RecipientResult]: ...


def personalised(mail: EmailMessage, plan: DeliveryPlan, recipient: str | None) -> EmailMessage:
    """The email with the plan's headers, personalised for ``recipient`` when given."""
    result = copy.deepcopy(mail) if (plan.personalisers and recipient) else mail
    for name, value in plan.headers.items():
        del result[name]
        result[name] = value
    if recipient:
        for personalise in plan.personalisers:
            personalise(result, recipient)
    return result


@dataclass
class SmtpSettings:
    host: str
    port: int = 25
    security: str = "none"  # none | starttls | ssl
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    cafile: str | None = None
    verify: bool = True
    timeout: float = 30
    local_hostname: str | None = None

    def __post_init__(self) -> None:
        if self.security not in ("none", "starttls", "ssl"):
            raise ValueError(f"SMTP_SECURITY must be none, starttls or ssl, not {self.security!r}")


def tls_context(cafile: str | None, verify: bool) -> ssl.SSLContext:
    """Certificate and host name checks on, unless explicitly switched off."""
    context = ssl.create_default_context(cafile=cafile)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class SmtpTransport:
    name = "smtp"

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def deliver(self, mail: EmailMessage, plan: DeliveryPlan) -> list[RecipientResult]:
        """Outcome per recipient. Trouble with the relay itself (down, TLS, login, a dropped
        connection) is temporary for every recipient it left without an answer."""
        results: dict[str, RecipientResult] = {}
        try:
            with self._connect() as smtp:
                dsn = plan.dsn if smtp.has_extn("dsn") else None
                groups = [[r] for r in plan.recipients] if plan.per_recipient else [plan.recipients]
                for group in groups:
                    one = personalised(mail, plan, group[0] if plan.per_recipient else None)
                    sender = plan.sender_for(group[0]) if plan.per_recipient else plan.envelope_from
                    for result in self._transaction(smtp, one, sender, group, dsn):
                        results[result.address] = result
        except (OSError, smtplib.SMTPException) as exc:
            reason = _describe(exc)
            for rcpt in plan.recipients:
                results.setdefault(rcpt, RecipientResult(rcpt, False, temporary=True, response=reason))
        return [results[r] for r in plan.recipients]

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = tls_context(s.cafile, s.verify)
        if s.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, local_hostname=s.local_hostname,
                                                  timeout=s.timeout, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, local_hostname=s.local_hostname, timeout=s.timeout)
        try:
            smtp.ehlo()
            if s.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _transaction(self, smtp: smtplib.SMTP, mail: EmailMessage, sender: str,
                     recipients: list[str], dsn: DsnRequest | None) -> list[RecipientResult]:
        """One MAIL FROM / RCPT TO... / DATA exchange; outcome per recipient."""
        mail_options = ["SMTPUTF8"] if _needs_smtputf8(sender, recipients) and smtp.has_extn("smtputf8") else []
        if dsn:
            mail_options += [f"RET={dsn.ret}", f"ENVID={xtext(dsn.envid)}"]
        code, response = smtp.mail(sender, mail_options)
        if code != 250:
            smtp.rset()
            return [_failure(r, code, response) for r in recipients]
        accepted: list[str] = []
        results: dict[str, RecipientResult] = {}
        for rcpt in recipients:
            options = [f"NOTIFY={dsn.notify}", f"ORCPT=rfc822;{xtext(rcpt)}"] if dsn else []
            code, response = smtp.rcpt(rcpt, options)
            if code in (250, 251):
                accepted.append(rcpt)
            else:
                results[rcpt] = _failure(rcpt, code, response)
        if not accepted:
            smtp.rset()
            return [results[r] for r in recipients]
        code, response = smtp.data(mail.as_bytes(policy=SMTP))
        for rcpt in accepted:
            results[rcpt] = (RecipientResult(rcpt, True, code=code, response=_text(response))
                             if code == 250 else _failure(rcpt, code, response))
        return [results[r] for r in recipients]


class OutboxTransport:
    """Writes each email to a folder as .eml instead of sending it (no SMTP configured)."""

    name = "outbox"

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def deliver(self, mail: EmailMessage, plan: DeliveryPlan) -> list[RecipientResult]:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        msgid = re.sub(r"[^A-Za-z0-9.@_-]", "", str(mail["Message-ID"] or "message"))
        groups = [[r] for r in plan.recipients] if plan.per_recipient else [plan.recipients]
        for index, group in enumerate(groups):
            one = personalised(mail, plan, group[0] if plan.per_recipient else None)
            envelope = (f"X-Outbox-Envelope-From: {plan.sender_for(group[0])}\r\n"
                        f"X-Outbox-Envelope-To: {', '.join(group)}\r\n").encode()
            path = self.folder / f"{stamp}-{msgid}-{index}.eml"
            path.write_bytes(envelope + one.as_bytes(policy=SMTP))
        return [RecipientResult(r, True, response=f"written to {self.folder}") for r in plan.recipients]


def xtext(value: str) -> str:
    """RFC 3461 xtext: '+', '=' and anything outside printable ASCII as +HH."""
    return "".join(c if 33 <= ord(c) <= 126 and c not in "+=" else f"+{ord(c):02X}" for c in value)


def _needs_smtputf8(sender: str, recipients: list[str]) -> bool:
    return not all(a.isascii() for a in [sender, *recipients])


def _text(response: bytes | str) -> str:
    return response.decode("utf-8", "replace") if isinstance(response, bytes) else str(response)


def _failure(rcpt: str, code: int, response: bytes | str) -> RecipientResult:
    return RecipientResult(rcpt, False, temporary=not (500 <= code < 600), code=code, response=_text(response))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate rejected: {exc.verify_message}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused by the relay"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "the relay did not answer in time"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "the relay closed the connection"
    return f"{type(exc).__name__}: {exc}"


__all__ = ["DeliveryPlan", "DsnRequest", "OutboxTransport", "RecipientResult", "SmtpSettings",
           "SmtpTransport", "Transport", "tls_context", "xtext"]
