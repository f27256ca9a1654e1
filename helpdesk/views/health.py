"""Liveness and readiness for a load balancer (no sign-in, no data in the answers)."""
from __future__ import annotations

from alembic.script import ScriptDirectory
from alembic.script.revision import ResolutionError
from flask import Blueprint, current_app, jsonify
from flask_migrate import Migrate
from sqlalchemy import text

from ..extensions import db

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    """The process serves requests."""
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():
    """The database answers and its schema is at the newest revision of every branch."""
    try:
        applied = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    except Exception:  # noqa: BLE001 - any database trouble means "not ready"
        db.session.rollback()
        return jsonify(status="unavailable", reason="database unreachable or not migrated"), 503
    migrate: Migrate = current_app.extensions["migrate"].migrate
    script = ScriptDirectory.from_config(migrate.get_config())
    try:
        # Alembic records only the newest revisions; what they depend on is applied too.
        reached = {r.revision for r in script.revision_map.iterate_revisions(tuple(applied), "base")}
    except ResolutionError:
        return jsonify(status="unavailable", reason="the database has revisions this app does not know "
                                                    "(is a plugin missing from PLUGINS?)"), 503
    if not set(script.get_heads()) <= reached:
        return jsonify(status="unavailable", reason="database schema is not at the newest revision"), 503
    return jsonify(status="ok")
