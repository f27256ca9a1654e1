"""The plugin's pages and API: the Read Receipts switch, mailboxes and poller health, the
Thread Read Info panel (its own page without JavaScript, a fragment with it), raw reports,
and the JSON read-info API."""
from __future__ import annotations

from io import BytesIO

from flask import (Blueprint, abort, flash, jsonify, redirect, render_template, request,
                   send_file, url_for)
from flask_login import current_user, login_required
from sqlalchemy import select

from helpdesk.plugin_api import access, admin_required, db, show_errors, thread_messages, ValidationError

from . import mailboxes as mailbox_service
from .forms import MailboxForm
from .inbound.pipeline import raw_copy, reapply
from .models import Mailbox, StoredReport
from .live import change_marker
from .read_info import PROBLEM_LABELS, event_label, message_read_info, states_for
from .serialise import read_info_json, state_json
from .settings import all_settings, receipts_enabled, save_switches
from .state import ROLE_NAMES, STATUS_LABELS
from .vocabulary import Outcome

bp = Blueprint("receipts", __name__, template_folder="templates", static_folder="static",
               static_url_path="/receipts-static")


def _ids(name: str) -> set[int]:
    return {int(v) for v in request.form.getlist(name) if v.isdigit()}


@bp.route("/admin/privacy/read-receipts", methods=["GET", "POST"])
@admin_required
def settings():
    if request.method == "POST":
        others = set(request.form.getlist("switches")) - {"receipts"}  # named by the plugins' columns
        save_switches(_ids("receipts"), **{name: _ids(name) for name in others})
        flash("Read receipt settings saved.", "success")
        return redirect(url_for(".settings"))
    return render_template("receipts/settings.html", rows=all_settings())


@bp.route("/admin/receipts/health")
@admin_required
def health():
    reports = db.session.scalars(
        select(StoredReport).where(StoredReport.outcome.in_((Outcome.UNMATCHED, Outcome.SUSPECT, Outcome.QUARANTINED)))
        .order_by(StoredReport.received_at.desc(), StoredReport.id.desc()).limit(200)).all()
    boxes = db.session.scalars(select(Mailbox).order_by(Mailbox.name)).all()
    return render_template("receipts/health.html", mailboxes=boxes, reports=reports)


@bp.route("/admin/receipts/mailboxes/new", methods=["GET", "POST"], defaults={"mailbox_id": None})
@bp.route("/admin/receipts/mailboxes/<int:mailbox_id>", methods=["GET", "POST"])
@admin_required
def mailbox(mailbox_id: int | None):
    item = (db.session.get(Mailbox, mailbox_id) or abort(404)) if mailbox_id else None
    form = MailboxForm(obj=item)
    if form.validate_on_submit():
        try:
            mailbox_service.save_mailbox(item, mailbox_service.MailboxInput.from_form(form))
        except ValidationError as error:
            show_errors(form, error)
        else:
            flash("Mailbox saved.", "success")
            return redirect(url_for(".health"))
    form.password.data = ""  # never sent back to the browser
    return render_template("receipts/mailbox_form.html", form=form, mailbox=item), \
        400 if request.method == "POST" else 200


@bp.route("/admin/receipts/reports/<int:report_id>/raw")
@admin_required
def admin_raw_report(report_id: int):
    return _raw(db.session.get(StoredReport, report_id) or abort(404))


@bp.route("/admin/receipts/reports/<int:report_id>/reprocess", methods=["POST"])
@admin_required
def reprocess(report_id: int):
    """Apply a stored report again (after a fix, or once its message exists)."""
    report = db.session.get(StoredReport, report_id) or abort(404)
    outcome = reapply(report)
    flash(f"Reprocessed: {outcome}.", "success" if outcome in (Outcome.MATCHED, Outcome.PARTIAL) else "warning")
    return redirect(url_for(".health"))


def _raw(report: StoredReport):
    response = send_file(BytesIO(raw_copy(report)), mimetype="message/rfc822", as_attachment=True,
                         download_name=f"report-{report.id}.eml")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/messages/<int:message_id>/read-info")
@login_required
def panel(message_id: int):
    """The Thread Read Info panel; ``?fragment=1`` returns only the panel for in-page use."""
    message = access.message_for(current_user, message_id)
    info = message_read_info(message) or abort(404)
    template = "receipts/panel_fragment.html" if request.args.get("fragment") else "receipts/panel_page.html"
    return render_template(template, info=info, message=message, ticket=message.ticket,
                           status_labels=STATUS_LABELS, event_label=event_label, problem_labels=PROBLEM_LABELS,
                           role_names=ROLE_NAMES)


@bp.route("/messages/<int:message_id>/reports/<int:report_id>/raw")
@login_required
def raw_report(message_id: int, report_id: int):
    message = access.message_for(current_user, message_id)
    report = db.session.get(StoredReport, report_id)
    if report is None or report.message_id != message.id or message_read_info(message) is None:
        abort(404)
    return _raw(report)


@bp.route("/api/v1/messages/<int:message_id>/read-info")
@login_required
def api_read_info(message_id: int):
    message = access.message_for(current_user, message_id)
    info = message_read_info(message) or abort(404)
    return jsonify(read_info_json(info))


def _tracked_ticket(ticket_id: int):
    """The ticket if the agent may see it and its department shows read info; else 404."""
    ticket = access.ticket_for(current_user, ticket_id)
    if not receipts_enabled(ticket.department_id):
        abort(404)
    return ticket


@bp.route("/api/v1/tickets/<int:ticket_id>/read-states")
@login_required
def api_read_states(ticket_id: int):
    ticket = _tracked_ticket(ticket_id)
    states = states_for(thread_messages(ticket.id))
    return jsonify(ticket_id=ticket.id, messages={str(k): state_json(v) for k, v in states.items()})


@bp.route("/tickets/<int:ticket_id>/read-states")
@login_required
def states_fragment(ticket_id: int):
    """The check marks of a thread's replies, rendered, for the refresh control to swap in."""
    ticket = _tracked_ticket(ticket_id)
    return render_template("receipts/states_fragment.html", states=states_for(thread_messages(ticket.id)))


@bp.route("/tickets/<int:ticket_id>/read-info/marker")
@login_required
def live_marker(ticket_id: int):
    """Live updates: what an open thread asks every few seconds; a new marker means news."""
    ticket = _tracked_ticket(ticket_id)
    response = jsonify(marker=change_marker(ticket.id))
    response.headers["Cache-Control"] = "no-store"
    return response
