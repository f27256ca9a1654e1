"""Signal receivers: reports reaching the support inbox are claimed, never become tickets."""
from __future__ import annotations

from flask import Flask

from helpdesk.plugin_api import InboundMail

from .inbound.pipeline import Origin, read_mail, record
from .vocabulary import CLAIMED_KINDS


def on_message_received(app: Flask, mail: InboundMail, raw: bytes) -> str | None:
    """Claim delivery reports, read receipts and feedback reports; leave the rest to the core.
    The mail is parsed once, here, and recorded through the inbound pipeline."""
    parsed = read_mail(raw, Origin("support-inbox"))
    if parsed.report.kind not in CLAIMED_KINDS:
        return None
    done = record([parsed])
    if done.stopped:
        raise RuntimeError(f"receipts: not recorded now: {done.stopped}")
    return f"receipts: {parsed.report.kind} ({done.results[0].outcome})"


def connect(app: Flask) -> None:
    from helpdesk.plugin_api import message_received

    message_received.connect(on_message_received, app, weak=False)
