"""Turn a stored outbound message into an RFC 5322 email (never with a Bcc header)."""
from __future__ import annotations

import html
import re
import secrets
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from ..models import Message, RecipientRole, Ticket
from ..services.storage import read_bytes
from ..text import has_control_characters, one_line, safe_filename

MAX_REFERENCES = 20


def new_message_id(ticket_id: int, domain: str) -> str:
    """A Message-ID in our own domain, made once when the reply is stored (without <>)."""
    return f"hd.{ticket_id}.{secrets.token_hex(10)}@{domain}"


def reply_subject(ticket: Ticket, prefix: str) -> str:
    """"Re: [HD-12] Subject": the reference lets replies thread even with broken headers."""
    reference = f"[{ticket.reference(prefix)}]"
    subject = ticket.subject if reference in ticket.subject else f"{reference} {ticket.subject}"
    return subject if re.match(r"(?i)re\s*:", subject) else f"Re: {subject}"


def thread_references(parent: Message | None) -> tuple[str | None, str]:
    """In-Reply-To and References for a reply to ``parent`` (RFC 5322 section 3.6.4)."""
    if parent is None or not parent.message_id:
        return None, ""
    chain = parent.references.split() + [f"<{parent.message_id}>"]
    if len(chain) > MAX_REFERENCES:  # keep the thread's root and the newest ones
        chain = chain[:1] + chain[-(MAX_REFERENCES - 1):]
    return parent.message_id, " ".join(chain)


def text_to_html(text: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p]
    body = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return f'<!DOCTYPE html><html><body style="font-family:sans-serif">{body}</body></html>'


class UncomposableMessage(ValueError):
    """The stored message cannot become an email (an address that is not one); the reason is
    shown to the agent on the thread."""


def mailbox_header(name: str, address: str, what: str) -> str:
    """One ``Name <address>`` for a header: the name flattened to one line (see
    :mod:`helpdesk.text`); an address holding a line break or control character is refused,
    since changing it would send to someone else."""
    if has_control_characters(address) or "@" not in address:
        raise UncomposableMessage(f"the {what} address {address!r} is not a valid address")
    return formataddr((one_line(name), address))


def build_email(message: Message, from_name: str) -> EmailMessage:
    """The email for ``message`` as every recipient sees it (plugins may add headers later).

    Every header is built from one-line text, whatever is stored: a subject or a name with a
    line break or NUL (stored before forms refused them, or by another path) is flattened, and
    an address that is not one raises :class:`UncomposableMessage`."""
    mail = EmailMessage()
    mail["From"] = mailbox_header(from_name, message.from_address, "From")
    to = [mailbox_header(r.name, r.address, "recipient") for r in message.recipients_with_role(RecipientRole.TO)]
    cc = [mailbox_header(r.name, r.address, "recipient") for r in message.recipients_with_role(RecipientRole.CC)]
    for bcc in message.recipients_with_role(RecipientRole.BCC):
        mailbox_header(bcc.name, bcc.address, "recipient")
    if to:
        mail["To"] = ", ".join(to)
    elif not cc:
        mail["To"] = "undisclosed-recipients:;"
    if cc:
        mail["Cc"] = ", ".join(cc)
    mail["Subject"] = one_line(message.subject)
    mail["Date"] = format_datetime(message.created_at)
    mail["Message-ID"] = f"<{one_line(message.message_id)}>"
    if message.in_reply_to:
        mail["In-Reply-To"] = f"<{one_line(message.in_reply_to)}>"
    if message.references:
        mail["References"] = one_line(message.references)
    if message.auto_submitted:
        mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.text_body or "")
    mail.add_alternative(message.html_body or text_to_html(message.text_body or ""), subtype="html")
    for attachment in message.attachments:
        maintype, _, subtype = one_line(attachment.content_type).partition("/")
        mail.add_attachment(
            read_bytes(attachment.sha256),
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=safe_filename(attachment.filename),
        )
    return mail
