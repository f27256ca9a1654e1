"""Who may see what: an agent sees the tickets of their departments; an admin sees all."""
from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import contains_eager
from werkzeug.exceptions import NotFound

from ..extensions import db
from ..models import Agent, Department, Message, Ticket, agent_departments


def department_ids(agent: Agent) -> list[int] | None:
    """The departments ``agent`` works in; None means every department (admins)."""
    if agent.is_admin:
        return None
    return list(db.session.scalars(
        select(agent_departments.c.department_id).where(agent_departments.c.agent_id == agent.id)
    ))


def visible_departments(agent: Agent) -> list[Department]:
    query = select(Department).order_by(Department.name)
    allowed = department_ids(agent)
    if allowed is not None:
        query = query.where(Department.id.in_(allowed))
    return list(db.session.scalars(query))


def restrict_tickets(query: Select, agent: Agent) -> Select:
    allowed = department_ids(agent)
    return query if allowed is None else query.where(Ticket.department_id.in_(allowed))


def ticket_for(agent: Agent, ticket_id: int) -> Ticket:
    """The ticket if ``agent`` may see it; otherwise 404, the same as a ticket that does not
    exist, so ids of other departments' tickets reveal nothing."""
    ticket = db.session.scalar(restrict_tickets(select(Ticket).where(Ticket.id == ticket_id), agent))
    if ticket is None:
        raise NotFound()
    return ticket


def message_for(agent: Agent, message_id: int) -> Message:
    """The message if ``agent`` may see its ticket (loaded with it, from the same join); else 404."""
    message = db.session.scalar(
        restrict_tickets(select(Message).join(Message.ticket).options(contains_eager(Message.ticket))
                         .where(Message.id == message_id), agent)
    )
    if message is None:
        raise NotFound()
    return message


def can_use_department(agent: Agent, department_id: int) -> bool:
    allowed = department_ids(agent)
    return allowed is None or department_id in allowed
