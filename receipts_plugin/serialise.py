"""JSON shapes of the read-info API."""
from __future__ import annotations

from datetime import datetime

from flask import url_for

from .read_info import MessageReadInfo, event_label
from .state import ReplyState


def iso_time(value: datetime | None) -> str | None:
    """A time for JSON (ISO 8601), or None."""
    return value.isoformat() if value else None


def state_json(state: ReplyState) -> dict:
    return {"state": state.state.value, "label": state.label, "tooltip": state.tooltip, "checks": state.checks,
            "highlight": state.highlight, "partial_problem": state.partial_problem,
            "problem_count": state.problem_count}


def read_info_json(info: MessageReadInfo) -> dict:
    message = info.message
    return {
        "message_id": message.id,
        "ticket_id": message.ticket_id,
        "tracked": info.tracked,
        "state": state_json(info.state),
        "missing_receipt_reasons": list(info.missing_receipt_reasons),
        "recipients": [{
            "role": r.role, "address": r.address, "name": r.name, "status": r.status,
            "sent_at": iso_time(r.sent_at), "delivered_at": iso_time(r.delivered_at),
            "first_read_at": iso_time(r.first_read_at), "last_read_at": iso_time(r.last_read_at),
            "bounced_at": iso_time(r.bounced_at), "receipt_declined": r.receipt_declined,
            "problem": {**r.problem, "at": iso_time(r.problem["at"]), "explanation": r.explanation} if r.problem else None,
            "events": [{"kind": e.kind, "label": event_label(e), "source": e.source, "at": iso_time(e.at),
                        "status_code": e.status_code,
                        "reason": e.reason, "diagnostic": e.diagnostic,
                        "report_url": url_for("receipts.raw_report", message_id=message.id, report_id=e.report_id)
                        if e.report_id else None} for e in r.events],
        } for r in info.recipients],
    }
