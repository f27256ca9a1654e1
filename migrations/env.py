"""Alembic environment: the core's branch here, each plugin's branch in its own folder
(added to ``version_locations`` by :func:`helpdesk._plugin_branches`). Deploy with
``flask --app wsgi db upgrade heads``."""
import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from helpdesk.models.search import described_by_the_models

config = context.config
if config.config_file_name:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

db = current_app.extensions["migrate"].db


def _skip_empty_autogenerate(context_, revision, directives):
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def run_migrations_offline() -> None:
    context.configure(url=db.engine.url.render_as_string(hide_password=False), target_metadata=db.metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    options = {"render_as_batch": True, "compare_type": True, "include_object": described_by_the_models,
               **current_app.extensions["migrate"].configure_args}
    options.setdefault("process_revision_directives", _skip_empty_autogenerate)
    with db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=db.metadata, **options)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
