"""Who works on a ticket: an agent of its department, or nobody.

Set by hand (one ticket, or many from the list), by round-robin when a ticket arrives in a
department that has it on, by replying to an unassigned ticket where the department says a
reply takes it, and dropped when the ticket moves to a department its assignee is not in.
Every change goes to the ticket's history. Nothing here commits unless it says so."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from werkzeug.exceptions import NotFound

from ..extensions import db
from ..models import Agent, Department, Ticket, TicketEventKind, agent_departments, utcnow
from . import access, history
from .access import restrict_tickets
from .errors import ValidationError

ROUND_ROBIN = "round-robin"
TAKEN_BY_REPLY = "reply"
DROPPED_BY_MOVE = "moved"


def department_agents(department_id: int) -> list[Agent]:
    """The active agents of a department (those a ticket there can be assigned to), by name."""
    return list(db.session.scalars(
        select(Agent).join(agent_departments, agent_departments.c.agent_id == Agent.id)
        .where(agent_departments.c.department_id == department_id, Agent.active.is_(True)).order_by(Agent.name)))


def colleagues(agent: Agent) -> list[Agent]:
    """The active agents who share a department with ``agent`` (every assignable agent, for
    admins): whom the list's bulk action offers."""
    query = select(Agent).join(agent_departments, agent_departments.c.agent_id == Agent.id) \
        .where(Agent.active.is_(True)).distinct().order_by(Agent.name)
    if not agent.is_admin:
        mine = select(agent_departments.c.department_id).where(agent_departments.c.agent_id == agent.id)
        query = query.where(agent_departments.c.department_id.in_(mine))
    return list(db.session.scalars(query))


def works_in(agent: Agent, department_id: int) -> bool:
    """Whether ``agent`` is one of the department's agents (for an agent, from the departments
    looked up once per request; an admin may work in none)."""
    if (mine := access.department_ids(agent)) is not None:
        return department_id in mine
    return db.session.scalar(select(agent_departments.c.agent_id).where(
        agent_departments.c.agent_id == agent.id, agent_departments.c.department_id == department_id)) is not None


def within_working_hours(agent: Agent, now: datetime) -> bool:
    """Whether ``now`` falls in the agent's working hours, on their own clock (every day)."""
    try:
        zone = ZoneInfo(agent.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return agent.work_start <= now.astimezone(zone).time() < agent.work_end


def set_assignee(ticket: Ticket, assignee: Agent | None, actor: Agent | None, reason: str | None = None) -> bool:
    """Change the assignee and write it to the history; True if it changed. The caller has
    checked that the assignee may have the ticket (:func:`check_assignee`)."""
    if ticket.assignee_id == (assignee.id if assignee else None):
        return False
    old = ticket.assignee.name if ticket.assignee else None
    ticket.assignee = assignee
    history.record(ticket, TicketEventKind.ASSIGNEE, actor, old, assignee.name if assignee else None, reason)
    return True


def check_assignee(department_id: int, assignee_id: int | None) -> Agent | None:
    """The agent ``assignee_id`` names if a ticket of that department can be theirs (None:
    nobody); otherwise :class:`ValidationError` on the ``assignee`` field."""
    if assignee_id is None:
        return None
    agent = db.session.get(Agent, assignee_id)
    department = db.session.get(Department, department_id)
    if agent is None or not agent.active:
        raise ValidationError({"assignee": ["Choose an active agent, or nobody."]})
    if not works_in(agent, department_id):
        raise ValidationError({"assignee": [f"{agent.name} does not work in {department.name}."]})
    return agent


def assign(ticket: Ticket, assignee_id: int | None, actor: Agent) -> bool:
    """An agent (un)assigns one ticket; True if it changed. Commits."""
    changed = set_assignee(ticket, check_assignee(ticket.department_id, assignee_id), actor)
    if changed:
        ticket.updated_at = utcnow()
    db.session.commit()
    return changed


@dataclass
class BulkAssignment:
    assignee: Agent | None
    changed: list[Ticket] = field(default_factory=list)
    unchanged: list[Ticket] = field(default_factory=list)
    #: (ticket, why not): the assignee does not work in the ticket's department.
    refused: list[tuple[Ticket, str]] = field(default_factory=list)


def assign_many(actor: Agent, ticket_ids: Sequence[int], assignee_id: int | None) -> BulkAssignment:
    """The list's bulk action: assign the chosen tickets (all of them visible to ``actor``, else
    404) to one agent, or to nobody. A ticket of a department the assignee does not work in is
    left as it was, and said so. Commits."""
    wanted = set(ticket_ids)
    tickets = list(db.session.scalars(restrict_tickets(select(Ticket).where(Ticket.id.in_(wanted)), actor)
                                      .order_by(Ticket.id).options(db.joinedload(Ticket.assignee))))
    if len(tickets) != len(wanted):
        raise NotFound()
    if not tickets:
        raise ValidationError({"tickets": ["Tick the tickets to assign first."]})
    assignee = db.session.get(Agent, assignee_id) if assignee_id is not None else None
    if assignee_id is not None and (assignee is None or not assignee.active):
        raise ValidationError({"assignee": ["Choose an active agent, or nobody."]})
    result = BulkAssignment(assignee)
    now = utcnow()
    for ticket in tickets:
        if assignee is not None and not works_in(assignee, ticket.department_id):
            result.refused.append((ticket, f"{assignee.name} does not work in {ticket.department.name}"))
        elif set_assignee(ticket, assignee, actor):
            ticket.updated_at = now
            result.changed.append(ticket)
        else:
            result.unchanged.append(ticket)
    db.session.commit()
    return result


def auto_assign(ticket: Ticket, now: datetime | None = None) -> Agent | None:
    """Round-robin for a new, unassigned ticket of a department that has it on: the next
    agent in turn (by id, after the one who got the last ticket) among its active agents who
    are within their working hours; nobody when none is. Does not commit.

    The turn is kept on the department's row and taken under a lock on it (``FOR NO KEY
    UPDATE`` on PostgreSQL, which the foreign-key checks of concurrent new tickets do not
    conflict with; on SQLite the ticket's insert, flushed first, already holds the database's
    write lock), so concurrent intake never hands out the same turn twice, and a restart
    resumes where it stopped."""
    department = ticket.department
    if not department.auto_assign or ticket.assignee_id is not None:
        return None
    db.session.flush()
    last = db.session.scalar(select(Department.last_assigned_agent_id)
                             .where(Department.id == department.id).with_for_update(key_share=True))
    now = now or utcnow()
    candidates = sorted((a for a in department_agents(department.id) if within_working_hours(a, now)),
                        key=lambda a: a.id)
    if not candidates:
        return None
    chosen = next((a for a in candidates if last is None or a.id > last), candidates[0])
    department.last_assigned_agent_id = chosen.id
    set_assignee(ticket, chosen, None, ROUND_ROBIN)
    return chosen


def take_on_reply(ticket: Ticket, agent: Agent) -> bool:
    """A reply by an agent of the department takes an unassigned ticket, where its department
    says so. Does not commit."""
    if ticket.assignee_id is not None or not ticket.department.assign_on_reply or not works_in(agent, ticket.department_id):
        return False
    return set_assignee(ticket, agent, agent, TAKEN_BY_REPLY)


def move(ticket: Ticket, department: Department, actor: Agent) -> None:
    """Move a ticket to another department; an assignee who does not work there is dropped.
    Does not commit."""
    if department.id == ticket.department_id:
        return
    history.record(ticket, TicketEventKind.DEPARTMENT, actor, ticket.department.name, department.name)
    ticket.department = department
    if ticket.assignee is not None and not works_in(ticket.assignee, department.id):
        set_assignee(ticket, None, actor, DROPPED_BY_MOVE)
