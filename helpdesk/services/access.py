"""Who may see what: an agent sees the tickets of their departments; an admin sees all."""
from __future__ import annotations

from collections.abc import Iterable

from flask import g, has_request_context
from sqlalchemy import ColumnElement, Select, exists, or_, select
from sqlalchemy.orm import contains_eager, joinedload
from werkzeug.exceptions import NotFound

from ..extensions import db
from ..models import Agent, Contact, Department, Message, MessageRecipient, Ticket, agent_departments


def department_ids(agent: Agent) -> list[int] | None:
    """The departments ``agent`` works in; None means every department (admins). Looked up
    once per request (a list page restricts its count, its page and its department menu by
    them), outside a request every time."""
    if agent.is_admin:
        return None
    if not has_request_context():
        return _department_ids(agent.id)
    kept = g.setdefault("_department_ids", {})
    if agent.id not in kept:
        kept[agent.id] = _department_ids(agent.id)
    return list(kept[agent.id])


def forget_department_ids() -> None:
    """After an agent's departments changed: this request looks them up again."""
    if has_request_context():
        g.pop("_department_ids", None)


def _department_ids(agent_id: int) -> list[int]:
    return list(db.session.scalars(
        select(agent_departments.c.department_id).where(agent_departments.c.agent_id == agent_id)))


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
    exist, so ids of other departments' tickets reveal nothing. Loaded with its department
    and requester (every page about a ticket shows them): no query for each later."""
    ticket = db.session.scalar(restrict_tickets(
        select(Ticket).where(Ticket.id == ticket_id)
        .options(joinedload(Ticket.department), joinedload(Ticket.requester)), agent))
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


def _appears_in(allowed: list[int]) -> ColumnElement[bool]:
    """The contact takes part in a ticket of these departments: its requester, or the sender
    or a recipient of one of its messages."""
    tickets = select(Ticket.id).where(Ticket.department_id.in_(allowed))
    return or_(
        exists().where(Ticket.requester_id == Contact.id, Ticket.department_id.in_(allowed)),
        exists().where(Message.contact_id == Contact.id, Message.ticket_id.in_(tickets)),
        exists().where(MessageRecipient.contact_id == Contact.id, MessageRecipient.message_id == Message.id,
                       Message.ticket_id.in_(tickets)),
    )


def restrict_contacts(query: Select, agent: Agent) -> Select:
    """Contacts ``agent`` may see and change: those taking part in a ticket of their
    departments (admins: all), so an agent cannot read or clear other departments' people."""
    allowed = department_ids(agent)
    return query if allowed is None else query.where(_appears_in(allowed))


def contact_for(agent: Agent, contact_id: int) -> Contact:
    """The contact if ``agent`` may see it (:func:`restrict_contacts`); otherwise 404, the
    same as a contact that does not exist."""
    contact = db.session.scalar(restrict_contacts(select(Contact).where(Contact.id == contact_id), agent))
    if contact is None:
        raise NotFound()
    return contact


def visible_contact_ids(agent: Agent, contact_ids: Iterable[int]) -> set[int]:
    """Which of ``contact_ids`` ``agent`` may see, in one query."""
    wanted = set(contact_ids)
    if not wanted:
        return set()
    return set(db.session.scalars(restrict_contacts(select(Contact.id).where(Contact.id.in_(wanted)), agent)))
