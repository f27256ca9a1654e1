"""Signal receivers: reports reaching the support inbox are claimed, never become tickets."""
from __future__ import annotations

from flask import Flask

from helpdesk.plugin_api import InboundMail

from .ingest import REPORT_KINDS, ingest
from .reports import parse_report

CLAIMED_KINDS = (*REPORT_KINDS, "feedback")


def on_message_received(app: Flask, mail: InboundMail, raw: bytes) -> str | None:
    """Claim delivery reports, read receipts and feedback reports; leave the rest to the core."""
    report = parse_report(raw)
    if report.kind not in CLAIMED_KINDS:
        return None
    result = ingest(raw, "support-inbox", report=report)
    return f"receipts: {report.kind} ({result.outcome})"


def connect(app: Flask) -> None:
    from helpdesk.plugin_api import message_received

    message_received.connect(on_message_received, app, weak=False)
