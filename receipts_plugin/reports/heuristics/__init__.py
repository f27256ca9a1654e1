"""Non-standard bounces: reading the failed recipients out of a notice written for people.

The notice (the text before the returned copy) is scanned for recipient
lines in the shapes servers use, each recipient gets the lines that follow
it as its diagnostic, and the same status/reason logic as for standard DSNs
(:func:`dsn.build_result`) turns that into a verdict.
"""
from __future__ import annotations

from .scan import notice_text, recipient_blocks
from .signals import BODY, SENDER, SUBJECT, outcome

__all__ = ["notice_text", "recipient_blocks", "looks_like_bounce", "outcome"]


def looks_like_bounce(sender: str, subject: str, notice: str) -> bool:
    """Enough signs, from sender, subject and notice together, that this is a bounce."""
    null_sender = "<>" in sender and "@" not in sender  # "From: <>": only mail systems send that
    score = bool(null_sender or SENDER.search(sender.lower())) + bool(SUBJECT.search(subject.lower()))
    return score == 2 or (score == 1 and bool(BODY.search(notice[:20000].lower())))
