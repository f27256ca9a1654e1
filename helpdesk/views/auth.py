"""Signing in and out, and the agent's own page (their sessions, "Sign out everywhere")."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..forms import LoginForm
from ..security import clear_login_failures, login_blocked, record_login_failure
from ..services import sessions
from ..services.access import visible_departments
from ..services.people import authenticate

from . import safe_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("tickets.index"))
    form = LoginForm()
    if form.validate_on_submit():
        config, address = current_app.config, request.remote_addr or "unknown"
        if login_blocked(config, form.email.data, address):
            form.password.errors = ["Too many failed attempts. Wait a few minutes and try again."]
            return render_template("auth/login.html", form=form), 429
        agent = authenticate(form.email.data, form.password.data)
        if agent is not None:
            clear_login_failures(form.email.data, address)
            session.clear()  # a fresh session for the signed-in agent (no fixation)
            sessions.start_session(agent)
            login_user(agent, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")))
        record_login_failure(config, form.email.data, address)
        form.password.errors = ["Wrong email or password."]
    return render_template("auth/login.html", form=form), (200 if request.method == "GET" else 400 if form.errors else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    sessions.end_session(current_user)
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/me")
@login_required
def account():
    return render_template("auth/account.html", departments=visible_departments(current_user),
                           sessions=sessions.open_sessions(current_user), is_current=sessions.is_current)


@bp.route("/me/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere():
    """End every session of this agent, in every browser, this one included."""
    ended = sessions.end_all_sessions(current_user)
    logout_user()
    flash(f"You are signed out everywhere ({ended} session{'s' if ended != 1 else ''} ended).", "info")
    return redirect(url_for("auth.login"))
