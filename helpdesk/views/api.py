"""JSON API (session sign-in, same department isolation as the pages)."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, request
from flask_login import current_user, login_required

from ..models import Agent, Message, Ticket, TicketEvent, TicketStatus
from ..services import access, history, tickets as ticket_service

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _agent_json(agent: Agent | None) -> dict | None:
    return {"id": agent.id, "name": agent.name, "email": agent.email} if agent else None


def ticket_json(ticket: Ticket) -> dict:
    return {
        "id": ticket.id, "subject": ticket.subject, "status": ticket.status.value,
        "priority": ticket.priority.value, "channel": ticket.channel.value,
        "department": {"id": ticket.department_id, "name": ticket.department.name},
        "requester": {"email": ticket.requester.email, "name": ticket.requester.name},
        "assignee": _agent_json(ticket.assignee),
        "attention": ticket.attention,
        "created_at": ticket.created_at.isoformat(), "updated_at": ticket.updated_at.isoformat(),
    }


def message_json(message: Message) -> dict:
    return {
        "id": message.id, "direction": message.direction.value, "message_id": message.message_id,
        "from": {"email": message.from_address, "name": message.from_name},
        "subject": message.subject, "text": message.text_body, "created_at": message.created_at.isoformat(),
        "send_state": message.send_state.value if message.send_state else None,
        "last_error": message.last_error,
        "recipients": [{"role": r.role.value, "email": r.address, "name": r.name,
                        "delivery_state": r.delivery_state.value, "smtp_code": r.smtp_code,
                        "smtp_response": r.smtp_response} for r in message.recipients],
        "attachments": [{"id": a.id, "filename": a.filename, "size": a.size} for a in message.attachments],
    }


def event_json(event: TicketEvent) -> dict:
    """One change of the ticket's history; ``actor`` None: the desk (round-robin)."""
    return {"kind": event.kind.value, "at": event.at.isoformat(), "actor": _agent_json(event.actor),
            "from": event.old_value, "to": event.new_value, "reason": event.reason, "text": history.describe(event)}


@bp.route("/tickets")
@login_required
def tickets():
    """``?department=``, ``status=``, ``assignee=`` (``mine``, ``unassigned`` or an agent's
    id), ``q=`` (the list's search), ``page=``."""
    status = request.args.get("status")
    assignee = request.args.get("assignee", "")
    if not ticket_service.is_assignee_filter(assignee):
        abort(400, f"unknown assignee {assignee!r}")
    page = ticket_service.list_tickets(current_user, request.args.get("department", type=int),
                                       TicketStatus(status) if status in {s.value for s in TicketStatus} else None,
                                       request.args.get("page", 1, type=int), assignee=assignee,
                                       search=request.args.get("q", "")[:200])
    return jsonify(tickets=[ticket_json(t) for t in page.tickets], page=page.page, pages=page.pages, total=page.total)


@bp.route("/tickets/<int:ticket_id>")
@login_required
def ticket(ticket_id: int):
    item = access.ticket_for(current_user, ticket_id)
    return jsonify(ticket=ticket_json(item), messages=[message_json(m) for m in item.messages],
                   history=[event_json(e) for e in history.ticket_history(item.id)])
