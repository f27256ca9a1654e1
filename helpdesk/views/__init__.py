"""Core blueprints, error pages, and the login loader."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from urllib.parse import urlsplit

from flask import Flask, jsonify, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from ..extensions import login_manager
from ..formats import file_size
from ..models import Agent
from ..services import sessions
from ..services.history import describe


def init_app(app: Flask) -> None:
    from . import admin, api, auth, health, tickets

    for blueprint in (auth.bp, tickets.bp, admin.bp, api.bp, health.bp):
        app.register_blueprint(blueprint)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["event_text"] = describe
    app.jinja_env.filters["filesize"] = file_size
    app.jinja_env.globals["outbox_mode"] = lambda: not app.config.get("SMTP_HOST")

    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, _error_page)
    app.register_error_handler(CSRFError, _csrf_error)


@login_manager.user_loader
def _load_agent(identity: str) -> Agent | None:
    """The signed-in agent, while the session is open (see :mod:`helpdesk.services.sessions`)."""
    return sessions.agent_for(identity)


@login_manager.unauthorized_handler
def _unauthorized():
    from flask import flash, redirect, url_for

    if request.blueprint == "api" or request.path.startswith("/api/"):
        return jsonify(error="sign in required"), 401
    flash("Please sign in to continue.", "info")
    return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))


def safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a signed-in agent to another host."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) and not urlsplit(target).netloc:
        return target
    return url_for("tickets.index")


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _error_page(error):
    code = getattr(error, "code", 500) or 500
    if wants_json():
        return jsonify(error=getattr(error, "description", "error")), code
    return render_template("errors/error.html", code=code, error=error), code


def _csrf_error(error: CSRFError):
    if wants_json():
        return jsonify(error=f"CSRF check failed: {error.description}"), 400
    return render_template("errors/error.html", code=400, error=error,
                           hint="The form had expired or was not sent by this site. Go back, reload and try again."), 400


def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC time in the signed-in agent's time zone (UTC for anonymous pages)."""
    if value is None:
        return ""
    zone = getattr(current_user, "timezone", None) or "UTC"
    try:
        return value.astimezone(ZoneInfo(zone)).strftime(fmt)
    except Exception:  # noqa: BLE001 - an unknown zone falls back to UTC
        return value.strftime(fmt) + " UTC"
