"""A help desk that knows whether its replies arrived and were read."""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask

from . import security, templating
from .config import load_config
from .extensions import create_private_sqlite_file, csrf, db, login_manager, migrate
from .plugins import load_plugins, plugin_migration_dirs

__all__ = ["create_app"]

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, core blueprints, then the allowed plugins."""
    app = Flask(__name__, instance_relative_config=True)
    load_config(app, config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    create_private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    logging.basicConfig(level=app.config.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    csrf.init_app(app)
    login_manager.init_app(app)
    templating.init_app(app)
    security.init_app(app)

    from . import cli, views
    from .services import events  # noqa: F401 - registers the after-commit listeners

    views.init_app(app)
    cli.init_app(app)
    load_plugins(app)
    return app


@migrate.configure
def _plugin_branches(alembic_config):
    """Each plugin's Alembic branch lives in its own folder; Alembic reads them all."""
    from flask import current_app

    locations = [str(MIGRATIONS_DIR / "versions"), *plugin_migration_dirs(current_app)]
    alembic_config.set_main_option("path_separator", "os")
    alembic_config.set_main_option("version_locations", os.pathsep.join(locations))
    return alembic_config
