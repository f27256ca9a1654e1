"""Sign in and out."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..forms import LoginForm
from ..security import clear_login_failures, login_blocked, record_login_failure
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
            clear_login_failures(form.email.data)
            session.clear()  # a fresh session for the signed-in agent (no fixation)
            login_user(agent, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")))
        record_login_failure(config, form.email.data, address)
        form.password.errors = ["Wrong email or password."]
    return render_template("auth/login.html", form=form), (200 if request.method == "GET" else 400 if form.errors else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
