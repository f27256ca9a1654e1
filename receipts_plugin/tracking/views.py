"""Pages of the tracking extras: the public download link and image, revoking a reply's
links, an agent's notification preferences, and the departments' link options.

Thin: each view turns a request into a call of :mod:`.links`, :mod:`.pixel` or
:mod:`.notifications` and renders the answer."""
from __future__ import annotations

from flask import (Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, send_file,
                   url_for)
from flask_login import current_user, login_required

from helpdesk.plugin_api import (access, admin_required, db, Department, path_for, safe_filename, show_errors,
                                 ValidationError)

from receipts_plugin.plugin_api import receipts_enabled

from .clock import now as clock_now
from .forms import LinkOptionsForm, PreferencesForm
from .links import (LinkProblem, check_download, link_options, record_download, revoke_links,
                    revoke_recipient_links, save_link_options)
from .notifications import (PreferencesInput, agent_zone, next_digest_text, preferences_for, save_preferences,
                            undelivered_notice)
from .panel import tracking_json, tracking_panel
from .pixel import TRANSPARENT_GIF, Fetch, record_open
from .settings import all_tracking_settings

bp = Blueprint("receipts_tracking", __name__, template_folder="templates", static_folder="static",
               static_url_path="/receipts-tracking-static")

PRIVATE_NO_STORE = "private, no-store, max-age=0"
PROBLEM_STATUS = {LinkProblem.INVALID: 404, LinkProblem.EXPIRED: 410, LinkProblem.REVOKED: 410}


def _fetch() -> Fetch:
    return Fetch(request.headers.get("User-Agent"), request.remote_addr)


@bp.route("/download/<token>")
def download(token: str):
    """A recipient's personal link: the file, or a page saying why not (never the file)."""
    check = check_download(token, clock_now())
    if check.problem is not None:
        page = render_template("receipts/tracking/link_problem.html", problem=check.problem.value)
        return page, PROBLEM_STATUS[check.problem], {"Cache-Control": PRIVATE_NO_STORE,
                                                     "Referrer-Policy": "no-referrer"}
    record_download(check, _fetch(), clock_now())
    db.session.commit()
    response = send_file(path_for(check.attachment.sha256), mimetype="application/octet-stream",
                         as_attachment=True, download_name=safe_filename(check.attachment.filename), max_age=0)
    response.headers.update({"X-Content-Type-Options": "nosniff", "Cache-Control": PRIVATE_NO_STORE,
                             "Content-Security-Policy": "default-src 'none'; sandbox",
                             "Referrer-Policy": "no-referrer"})
    return response


@bp.route("/open/<token>.gif")
def pixel(token: str):
    """The open-tracking image: always a GIF; only a genuine, current token records an open."""
    if record_open(token, _fetch(), clock_now()) is not None:
        db.session.commit()
    return Response(TRANSPARENT_GIF, mimetype="image/gif",
                    headers={"Cache-Control": PRIVATE_NO_STORE, "X-Content-Type-Options": "nosniff",
                             "Referrer-Policy": "no-referrer"})


@bp.route("/messages/<int:message_id>/download-links/revoke", methods=["POST"])
@login_required
def revoke(message_id: int):
    message = access.message_for(current_user, message_id)
    if revoke_links(message, current_user, clock_now()):
        flash("The reply's download links were revoked; they now show a page saying so.", "success")
    else:
        flash("This reply has no download links that could be revoked.", "warning")
    return redirect(url_for("receipts.panel", message_id=message.id))


@bp.route("/messages/<int:message_id>/recipients/<int:recipient_id>/download-links/revoke", methods=["POST"])
@login_required
def revoke_recipient(message_id: int, recipient_id: int):
    message = access.message_for(current_user, message_id)
    recipient = next((r for r in message.recipients if r.id == recipient_id), None) or abort(404)
    if revoke_recipient_links(message, recipient, current_user, clock_now()):
        flash(f"{recipient.address}'s download links were revoked; the other recipients keep theirs.", "success")
    else:
        flash(f"{recipient.address} has no download links that could be revoked.", "warning")
    return redirect(url_for("receipts.panel", message_id=message.id))


@bp.route("/api/v1/messages/<int:message_id>/tracking")
@login_required
def api_tracking(message_id: int):
    """Downloads and open estimates of a reply; 404 while its department hides read info."""
    message = access.message_for(current_user, message_id)
    if not receipts_enabled(message.ticket.department_id):
        abort(404)
    return jsonify(tracking_json(message, tracking_panel(message)))


@bp.route("/me/notifications", methods=["GET", "POST"])
@login_required
def preferences():
    prefs = preferences_for(current_user.id)
    form = PreferencesForm(obj=prefs)
    if form.validate_on_submit():
        data = PreferencesInput(form.notify_read.data, form.notify_bounce.data, form.delivery.data,
                                form.digest_days.data)
        try:
            save_preferences(current_user, data, clock_now())
        except ValidationError as error:
            show_errors(form, error)
        else:
            flash("Notification preferences saved.", "success")
            return redirect(url_for(".preferences"))
    status = 400 if request.method == "POST" else 200
    return render_template("receipts/tracking/preferences.html", form=form, zone=agent_zone(current_user).key,
                           next_digest=next_digest_text(current_user, prefs, clock_now()),
                           undelivered=undelivered_notice(current_user.id)), status


def _link_rows(forms: dict[int, LinkOptionsForm] | None = None):
    forms = forms or {}
    rows = []
    switches = all_tracking_settings()
    for department in db.session.scalars(db.select(Department).order_by(Department.name)):
        settings = switches.get(department.id)
        options = link_options(department.id)
        form = forms.get(department.id) or LinkOptionsForm(
            formdata=None, prefix=f"d{department.id}", mode="beside" if options.keep_attachments else "instead",
            link_days=options.link_days)
        rows.append((department, bool(settings and settings.download_links), form))
    return rows


@bp.route("/admin/privacy/download-links", methods=["GET"])
@admin_required
def link_settings():
    return render_template("receipts/tracking/link_options.html", rows=_link_rows())


@bp.route("/admin/privacy/download-links/<int:department_id>", methods=["POST"])
@admin_required
def save_links(department_id: int):
    department = db.session.get(Department, department_id) or abort(404)
    form = LinkOptionsForm(prefix=f"d{department.id}")
    if form.validate_on_submit():
        try:
            save_link_options(department.id, form.mode.data == "beside", form.link_days.data)
        except ValidationError as error:
            show_errors(form, error)
        else:
            flash(f"Download links of {department.name} saved.", "success")
            return redirect(url_for(".link_settings"))
    return render_template("receipts/tracking/link_options.html", rows=_link_rows({department.id: form})), 400

