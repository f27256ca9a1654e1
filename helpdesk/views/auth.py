"""Sign in and out."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..forms import LoginForm
from ..services.people import authenticate

from . import safe_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("tickets.index"))
    form = LoginForm()
    if form.validate_on_submit():
        agent = authenticate(form.email.data, form.password.data)
        if agent is not None:
            login_user(agent, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")))
        form.password.errors = ["Wrong email or password."]
    return render_template("auth/login.html", form=form), (200 if request.method == "GET" else 400 if form.errors else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
