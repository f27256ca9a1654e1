"""Changing a composed email in place: what personalisers (``DeliveryPlan.personalisers``) need.

:func:`helpdesk.mail.compose.build_email` writes ``multipart/alternative`` (text, then HTML),
inside ``multipart/mixed`` when there are attachments. A personaliser gets a copy of that
email for one recipient; these helpers find the parts wherever they are, so a plugin can add
to the bodies (a personal link, a footer) or take the attached files out (to send links
instead) without knowing the layout.
"""
from __future__ import annotations

import re
from email.message import EmailMessage

_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


def append_to_bodies(mail: EmailMessage, text: str, html: str) -> None:
    """Add ``text`` at the end of the plain body and ``html`` just before ``</body>`` of the
    HTML body (or at its end). A body the email does not have is left out."""
    plain = mail.get_body(("plain",))
    if plain is not None and text:
        plain.set_content(plain.get_content().rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n")
    rich = mail.get_body(("html",))
    if rich is not None and html:
        content = rich.get_content()
        ends = list(_BODY_END.finditer(content))
        if ends:
            cut = ends[-1].start()
            content = content[:cut] + html + content[cut:]
        else:
            content += html
        rich.set_content(content, subtype="html")


def remove_attachments(mail: EmailMessage) -> list[EmailMessage]:
    """Take every attached file out of ``mail`` (at any depth) and return them in order.

    The bodies stay; a ``multipart/mixed`` left with only its body keeps that one part."""
    removed: list[EmailMessage] = []
    _remove_from(mail, removed)
    return removed


def _remove_from(part: EmailMessage, removed: list[EmailMessage]) -> None:
    if not part.is_multipart():
        return
    kept = []
    for child in part.get_payload():
        if child.is_attachment():
            removed.append(child)
        else:
            _remove_from(child, removed)
            kept.append(child)
    part.set_payload(kept)
