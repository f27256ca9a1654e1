"""Departments and agents, as admins set them up."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import time
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..mail.addresses import AddressError, validate_address
from ..models import Agent, AgentRole, Department
from . import access
from .errors import ValidationError

MIN_PASSWORD_LENGTH = 10


@cache
def _dummy_password_hash() -> str:
    """Checked against when no agent has the address, so that an unknown address costs the
    same password hashing as a known one and the answer's timing tells no address exists."""
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(email: str, password: str) -> Agent | None:
    """The active agent with these credentials, or None (the same answer, after the same one
    password hash, for every failure: unknown address, inactive agent, wrong password)."""
    agent = db.session.scalar(select(Agent).where(Agent.email == email.strip().lower()))
    if agent is None:
        check_password_hash(_dummy_password_hash(), password)
        return None
    if not agent.check_password(password) or not agent.active:
        return None
    return agent


def _check_email(errors: dict[str, list[str]], field_name: str, value: str) -> str:
    try:
        return validate_address(value)
    except AddressError as exc:
        errors[field_name] = [str(exc)]
        return value


def save_department(department: Department | None, name: str, email: str, reopen_on_bounce: bool = False,
                    auto_assign: bool = False, assign_on_reply: bool = False) -> Department:
    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not name:
        errors["name"] = ["A name is required."]
    else:
        clash = db.session.scalar(select(Department).where(func.lower(Department.name) == name.lower()))
        if clash is not None and clash is not department:
            errors["name"] = [f"A department named {name!r} already exists."]
    address = _check_email(errors, "email", email)
    if errors:
        raise ValidationError(errors)
    department = department or Department()
    department.name, department.email, department.reopen_on_bounce = name, address, reopen_on_bounce
    department.auto_assign, department.assign_on_reply = auto_assign, assign_on_reply
    db.session.add(department)
    db.session.commit()
    return department


@dataclass
class AgentForm:
    email: str
    name: str
    role: AgentRole = AgentRole.AGENT
    department_ids: list[int] = field(default_factory=list)
    timezone: str = "UTC"
    work_start: time = time(9, 0)
    work_end: time = time(17, 0)
    active: bool = True
    password: str = ""  # empty on edit: keep the current password


def save_agent(agent: Agent | None, form: AgentForm) -> Agent:
    errors: dict[str, list[str]] = {}
    address = _check_email(errors, "email", form.email)
    if "email" not in errors:
        clash = db.session.scalar(select(Agent).where(Agent.email == address))
        if clash is not None and clash is not agent:
            errors["email"] = ["Another agent already uses this address."]
    if not form.name.strip():
        errors["name"] = ["A name is required."]
    try:
        ZoneInfo(form.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = [f"Unknown time zone {form.timezone!r} (use a name like Europe/Berlin)."]
    if form.work_end <= form.work_start:
        errors["work_end"] = ["Working hours must end after they start."]
    if (agent is None or form.password) and len(form.password) < MIN_PASSWORD_LENGTH:
        errors["password"] = [f"Use at least {MIN_PASSWORD_LENGTH} characters."]
    departments = list(db.session.scalars(select(Department).where(Department.id.in_(form.department_ids))))
    if len(departments) != len(set(form.department_ids)):
        errors["department_ids"] = ["Unknown department."]
    if form.role is AgentRole.AGENT and not departments:
        errors["department_ids"] = ["An agent needs at least one department."]
    if agent is not None and agent.is_admin and (form.role is not AgentRole.ADMIN or not form.active):
        if _other_active_admins(agent) == 0:
            errors["role"] = ["This is the last active admin; make another admin first."]
    if errors:
        raise ValidationError(errors)
    agent = agent or Agent()
    agent.email, agent.name, agent.role = address, form.name.strip(), form.role
    agent.departments = departments
    access.forget_department_ids()
    agent.timezone, agent.work_start, agent.work_end, agent.active = (
        form.timezone, form.work_start, form.work_end, form.active)
    if form.password:
        agent.set_password(form.password)
    db.session.add(agent)
    db.session.commit()
    return agent


def _other_active_admins(agent: Agent) -> int:
    return db.session.scalar(select(func.count()).select_from(Agent).where(
        Agent.role == AgentRole.ADMIN, Agent.active.is_(True), Agent.id != agent.id)) or 0


def create_admin(email: str, name: str, password: str) -> Agent:
    return save_agent(None, AgentForm(email=email, name=name, role=AgentRole.ADMIN, password=password))
