"""The ticket list, a ticket's thread, replying, notes, new tickets, and attachments."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..mail.addresses import AddressError, parse_address_list
from ..forms import BulkAssignForm, NewTicketForm, NoteForm, ReplyForm, TicketUpdateForm, options, show_errors
from ..mail.outgoing import hand_over
from ..models import Attachment, Channel, Department, Message, TicketPriority, TicketStatus
from ..services import access, assignment, history, tickets as ticket_service
from ..services.contacts import clear_undeliverable, undeliverable_among
from ..services.errors import ValidationError
from ..services.storage import path_for
from ..services.tickets import ReplyDraft, UploadedFile
from ..text import safe_filename

from . import safe_next

bp = Blueprint("tickets", __name__)


def _uploads(field) -> list[UploadedFile]:
    return [UploadedFile(f.filename or "attachment", f.mimetype or "application/octet-stream", f.read())
            for f in (field.data or []) if getattr(f, "filename", "")]


def _enum_arg(enum_class, name: str):
    value = request.args.get(name, "")
    try:
        return enum_class(value) if value else None
    except ValueError:
        abort(400, f"unknown {name} {value!r}")


def _assignee_arg() -> str:
    value = request.args.get("assignee", "")
    if not ticket_service.is_assignee_filter(value):
        abort(400, f"unknown assignee {value!r}")
    return value


@bp.route("/")
@login_required
def index():
    department_id = request.args.get("department", type=int)
    status = _enum_arg(TicketStatus, "status")
    search = request.args.get("q", "")[:200]
    attention = request.args.get("attention") == "1"
    assignee = _assignee_arg()
    page = ticket_service.list_tickets(current_user, department_id, status, request.args.get("page", 1, type=int),
                                       after=request.args.get("after"), before=request.args.get("before"),
                                       search=search, attention=attention, assignee=assignee, with_view_counts=True)
    counts = page.view_counts  # None for a search
    filters = {"department": department_id, "status": status.value if status else None, "q": search or None,
               "attention": 1 if attention else None}  # carried by the pager's and the views' links
    colleagues = assignment.colleagues(current_user)
    bulk_form = BulkAssignForm(formdata=None)
    me_first = sorted(colleagues, key=lambda a: a.id != current_user.id)
    bulk_form.assign_to.choices = options([("", "Nobody (unassign)"), *(
        (str(a.id), f"Me ({a.name})" if a.id == current_user.id else a.name) for a in me_first)])
    return render_template("tickets/list.html", page=page, departments=access.visible_departments(current_user),
                           department_id=department_id, status=status, statuses=list(TicketStatus),
                           search=search, attention=attention, filters=filters, assignee=assignee,
                           views=ticket_service.VIEWS, counts=counts, colleagues=colleagues, bulk_form=bulk_form)


@bp.route("/tickets/assign", methods=["POST"])
@login_required
def assign_many():
    """The list's bulk action (and the sidebar's "Assign to me"): the ticked tickets to one
    agent or to nobody; back to where it was asked from."""
    form = BulkAssignForm()
    back = safe_next(request.form.get("next"))
    if not form.validate():
        abort(400)
    assignee_id = int(form.assign_to.data) if (form.assign_to.data or "").isdigit() else None
    try:
        result = assignment.assign_many(current_user, request.form.getlist("tickets", type=int), assignee_id)
    except ValidationError as error:
        for messages in error.errors.values():
            for text in messages:
                flash(text, "error")
        return redirect(back)
    count = len(result.changed) + len(result.unchanged)
    if count:
        whom = f"to {result.assignee.name}" if result.assignee else "to nobody"
        flash(f"{count} ticket{'s' if count != 1 else ''} assigned {whom}.", "success")
    prefix = current_app.config["TICKET_PREFIX"]
    for ticket, why in result.refused:
        flash(f"{ticket.reference(prefix)} was left as it was: {why}.", "warning")
    return redirect(back)


@bp.route("/tickets/new", methods=["GET", "POST"])
@login_required
def new():
    form = NewTicketForm()
    form.department.choices = options((d.id, d.name) for d in access.visible_departments(current_user))
    if form.validate_on_submit():
        try:
            ticket = ticket_service.open_ticket(
                current_user, form.department.data, form.requester.data, form.subject.data, form.body.data,
                Channel(form.channel.data), TicketPriority(form.priority.data), _uploads(form.attachments))
        except ValidationError as error:
            show_errors(form, error)
        else:
            flash("Ticket created.", "success")
            return redirect(url_for(".thread", ticket_id=ticket.id))
    status = 400 if request.method == "POST" else 200
    return render_template("tickets/new.html", form=form), status


def _update_form(ticket, formdata=None) -> TicketUpdateForm:
    """The sidebar's form: status, priority, assignee (an agent of the department, or
    nobody) and department."""
    form = TicketUpdateForm(formdata=formdata, status=ticket.status.value, priority=ticket.priority.value,
                            assignee=str(ticket.assignee_id or ""), department=ticket.department_id)
    agents = assignment.department_agents(ticket.department_id)
    if ticket.assignee is not None and ticket.assignee not in agents:  # kept until changed
        agents.append(ticket.assignee)
    form.assignee.choices = options([("", "Nobody"), *((str(a.id), a.name) for a in agents)])
    form.department.choices = options((d.id, d.name) for d in db.session.scalars(
        db.select(Department).order_by(Department.name)))
    return form


def _thread_page(ticket, reply_form=None, note_form=None, update_form=None, status=200):
    messages = ticket_service.thread_messages(ticket.id)
    events = history.ticket_history(ticket.id)
    requester_only = request.args.get("reply") == "requester"
    choices = {"all": ticket_service.reply_defaults(ticket, messages),
               "requester": ticket_service.reply_defaults(ticket, messages, requester_only=True)}
    reply_form = reply_form or ReplyForm(formdata=None, obj=choices["requester" if requester_only else "all"])
    warnings = undeliverable_among(_typed_addresses(reply_form))
    timeline = sorted([*(("message", m.created_at, m) for m in messages), *(("event", e.at, e) for e in events)],
                      key=lambda item: item[1])
    return render_template("tickets/thread.html", ticket=ticket, messages=messages, timeline=timeline,
                           reply_form=reply_form, note_form=note_form or NoteForm(formdata=None),
                           update_form=update_form or _update_form(ticket), undeliverable=warnings,
                           requester_only=requester_only, reply_choices=choices,
                           linked=ticket_service.linked_tickets(ticket),
                           clearable=access.visible_contact_ids(current_user, [c.id for c in warnings]),
                           may_take=assignment.works_in(current_user, ticket.department_id)
                           and ticket.assignee_id != current_user.id), status


def _typed_addresses(form: ReplyForm) -> list[str]:
    """The addresses in the composer's fields that parse (a field with an error shows it instead)."""
    found: list[str] = []
    for text in (form.to.data, form.cc.data, form.bcc.data):
        try:
            found += [address.email for address in parse_address_list(text or "")]
        except AddressError:
            pass
    return found


@bp.route("/tickets/<int:ticket_id>")
@login_required
def thread(ticket_id: int):
    return _thread_page(access.ticket_for(current_user, ticket_id))


@bp.route("/tickets/<int:ticket_id>/reply", methods=["POST"])
@login_required
def reply(ticket_id: int):
    ticket = access.ticket_for(current_user, ticket_id)
    form = ReplyForm()
    if not form.validate():
        return _thread_page(ticket, reply_form=form, status=400)
    draft = ReplyDraft(form.to.data, form.cc.data or "", form.bcc.data or "", form.body.data,
                       _uploads(form.attachments), TicketStatus(form.status.data) if form.status.data else None,
                       send_to_undeliverable=form.send_anyway.data)
    try:
        message = ticket_service.post_reply(ticket, current_user, draft)
    except ValidationError as error:
        show_errors(form, error)
        return _thread_page(ticket, reply_form=form, status=400)
    hand_over(message.id)
    db.session.refresh(message)
    flash(_send_summary(message), "success" if message.send_state.value in ("sent", "outbox") else "warning")
    return redirect(url_for(".thread", ticket_id=ticket.id, _anchor=f"message-{message.id}"))


@bp.route("/tickets/<int:ticket_id>/send-states")
@login_required
def send_states(ticket_id: int):
    """The replies' sending states alone, which the thread page asks for while one is queued."""
    ticket = access.ticket_for(current_user, ticket_id)
    return render_template("tickets/send_states.html", messages=ticket_service.outbound_messages(ticket.id))


def _send_summary(message: Message) -> str:
    state = message.send_state.value
    if state == "queued" and not message.send_attempts:
        return "Reply queued: sending it now."
    if state == "outbox":
        return "Reply saved to the outbox folder (no SMTP relay is configured, so nothing was sent)."
    if state == "sent":
        return "Reply sent."
    if state == "failed":
        return f"Reply could not be sent: {message.last_error}"
    return f"Reply queued; it will be retried ({message.last_error or 'waiting for the relay'})."


@bp.route("/tickets/<int:ticket_id>/note", methods=["POST"])
@login_required
def note(ticket_id: int):
    ticket = access.ticket_for(current_user, ticket_id)
    form = NoteForm()
    if not form.validate():
        return _thread_page(ticket, note_form=form, status=400)
    ticket_service.add_note(ticket, current_user, form.note.data)
    return redirect(url_for(".thread", ticket_id=ticket.id))


@bp.route("/tickets/<int:ticket_id>/update", methods=["POST"])
@login_required
def update(ticket_id: int):
    ticket = access.ticket_for(current_user, ticket_id)
    form = _update_form(ticket, request.form)
    if not form.validate():
        return _thread_page(ticket, update_form=form, status=400)
    try:
        ticket_service.update_ticket(ticket, current_user, TicketStatus(form.status.data),
                                     TicketPriority(form.priority.data), form.department.data,
                                     int(form.assignee.data) if (form.assignee.data or "").isdigit() else None)
    except ValidationError as error:
        show_errors(form, error)
        return _thread_page(ticket, update_form=form, status=400)
    if not access.can_use_department(current_user, ticket.department_id):
        flash(f"Ticket moved to {ticket.department.name}, which is not one of your departments.", "success")
        return redirect(url_for(".index"))
    flash("Ticket updated.", "success")
    return redirect(url_for(".thread", ticket_id=ticket.id))


@bp.route("/tickets/<int:ticket_id>/clear-attention", methods=["POST"])
@login_required
def clear_attention(ticket_id: int):
    ticket_service.clear_attention(access.ticket_for(current_user, ticket_id))
    flash("Marked as handled.", "success")
    return redirect(url_for(".thread", ticket_id=ticket_id))


@bp.route("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    item = db.session.get(Attachment, attachment_id) or abort(404)
    access.ticket_for(current_user, item.message.ticket_id)
    response = send_file(path_for(item.sha256), mimetype="application/octet-stream", as_attachment=True,
                         download_name=safe_filename(item.filename))
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/contacts/<int:contact_id>/clear-undeliverable", methods=["POST"])
@login_required
def clear_contact_mark(contact_id: int):
    contact = access.contact_for(current_user, contact_id)
    clear_undeliverable(contact, current_user)
    flash(f"{contact.email} is no longer marked as undeliverable.", "success")
    return redirect(safe_next(request.form.get("next")))
