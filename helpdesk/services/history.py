"""A ticket's history: who changed its assignee, department, status or priority, and when."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from ..models import Agent, Ticket, TicketEvent, TicketEventKind, utcnow


def record(ticket: Ticket, kind: TicketEventKind, actor: Agent | None, old: str | None, new: str | None,
           reason: str | None = None, at: datetime | None = None) -> TicketEvent:
    """Add one change to the ticket's history (committed with the change itself)."""
    event = TicketEvent(kind=kind, actor=actor, old_value=old, new_value=new, reason=reason, at=at or utcnow())
    ticket.events.append(event)
    return event


def ticket_history(ticket_id: int) -> list[TicketEvent]:
    """The ticket's changes, oldest first, with who made them (one query)."""
    return list(db.session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.at, TicketEvent.id)
        .options(db.joinedload(TicketEvent.actor))))


def describe(event: TicketEvent) -> str:
    """One line for the thread, e.g. "Sam Support assigned this to Bea Billing"."""
    who = event.actor.name if event.actor else "The desk"
    if event.kind is TicketEventKind.ASSIGNEE:
        if event.reason == "round-robin":
            return f"Assigned to {event.new_value} (round-robin)"
        if event.reason == "reply":
            return f"{who} took this ticket by replying"
        if event.reason == "moved":
            return f"{event.old_value} was unassigned: not in the new department"
        if event.new_value is None:
            return f"{who} unassigned {event.old_value}"
        if event.actor and event.actor.name == event.new_value:
            return f"{who} took this ticket"
        return f"{who} assigned this to {event.new_value}"
    if event.kind is TicketEventKind.DEPARTMENT:
        return f"{who} moved this from {event.old_value} to {event.new_value}"
    label = event.kind.value
    return f"{who} changed the {label} from {(event.old_value or '').capitalize()} to {(event.new_value or '').capitalize()}"

