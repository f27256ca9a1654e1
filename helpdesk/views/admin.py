"""Admin setup: departments, agents, the settings menu plugins add to, and the intake log."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required, login_user
from sqlalchemy import select

from ..extensions import db
from ..forms import AgentForm, DepartmentForm, options, show_errors
from ..models import Agent, AgentRole, Department, InboundRecord
from ..services import people, sessions
from ..services.contacts import undeliverable_contacts
from ..services.errors import ValidationError
from ..services.storage import path_for

bp = Blueprint("admin", __name__, url_prefix="/admin")


def admin_required(view):
    """Admin pages are 403 for agents (they exist, but are not theirs)."""
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)
    return wrapper


@bp.route("/")
@admin_required
def index():
    return render_template("admin/index.html")


@bp.route("/departments")
@admin_required
def departments():
    items = db.session.scalars(select(Department).order_by(Department.name)).all()
    return render_template("admin/departments.html", departments=items)


@bp.route("/departments/new", methods=["GET", "POST"], defaults={"department_id": None})
@bp.route("/departments/<int:department_id>", methods=["GET", "POST"])
@admin_required
def department(department_id: int | None):
    item = db.session.get(Department, department_id) or abort(404) if department_id else None
    form = DepartmentForm(obj=item)
    if form.validate_on_submit():
        try:
            people.save_department(item, form.name.data, form.email.data, form.reopen_on_bounce.data,
                                   form.auto_assign.data, form.assign_on_reply.data)
        except ValidationError as error:
            show_errors(form, error)
        else:
            flash("Department saved.", "success")
            return redirect(url_for(".departments"))
    return render_template("admin/department_form.html", form=form, department=item), \
        400 if request.method == "POST" else 200


@bp.route("/agents")
@admin_required
def agents():
    items = db.session.scalars(select(Agent).order_by(Agent.name).options(db.selectinload(Agent.departments))).all()
    return render_template("admin/agents.html", agents=items)


@bp.route("/agents/new", methods=["GET", "POST"], defaults={"agent_id": None})
@bp.route("/agents/<int:agent_id>", methods=["GET", "POST"])
@admin_required
def agent(agent_id: int | None):
    item = db.session.get(Agent, agent_id) or abort(404) if agent_id else None
    form = AgentForm(obj=item)
    form.department_ids.choices = options(
        (d.id, d.name) for d in db.session.scalars(select(Department).order_by(Department.name)))
    if request.method == "GET" and item is not None:
        form.role.data = item.role.value
        form.department_ids.data = [d.id for d in item.departments]
    if form.validate_on_submit():
        data = people.AgentForm(
            email=form.email.data, name=form.name.data, role=AgentRole(form.role.data),
            department_ids=form.department_ids.data or [], timezone=(form.timezone.data or "UTC").strip(),
            active=form.active.data, password=form.password.data or "",
            **{k: getattr(form, k).data for k in ("work_start", "work_end") if getattr(form, k).data})
        try:
            saved = people.save_agent(item, data)
        except ValidationError as error:
            show_errors(form, error)
        else:
            if data.password or not saved.active:  # a new password or deactivation: signed out everywhere
                sessions.end_all_sessions(saved, keep_current=saved.id == current_user.id)
            if saved.id == current_user.id and data.password:
                login_user(saved)  # ... but here, for an admin changing their own password
            flash("Agent saved.", "success")
            return redirect(url_for(".agents"))
    return render_template("admin/agent_form.html", form=form, agent=item), 400 if request.method == "POST" else 200


@bp.route("/intake")
@admin_required
def intake():
    """What became of inbound mail; quarantined and ignored mail can be downloaded."""
    outcome = request.args.get("outcome") or None
    query = select(InboundRecord).order_by(InboundRecord.received_at.desc(), InboundRecord.id.desc()).limit(200)
    if outcome:
        query = query.where(InboundRecord.outcome == outcome)
    return render_template("admin/intake.html", records=db.session.scalars(query).all(), outcome=outcome)


@bp.route("/undeliverable")
@admin_required
def undeliverable():
    """The addresses marked undeliverable, with why and since when; each mark can be cleared."""
    return render_template("admin/undeliverable.html", contacts=undeliverable_contacts())


@bp.route("/intake/<int:record_id>/raw")
@admin_required
def intake_raw(record_id: int):
    record = db.session.get(InboundRecord, record_id) or abort(404)
    response = send_file(path_for(record.raw_sha256), mimetype="message/rfc822", as_attachment=True,
                         download_name=f"inbound-{record.id}.eml")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
