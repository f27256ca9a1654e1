"""Read receipts and delivery reports for agents' replies: a help-desk plugin.

Plugs into the core only through its extension points: signals (asking for receipts as a
reply is sent, recording SMTP outcomes, claiming reports that reach the support inbox),
template slots (check marks, the Thread Read Info panel, admin pages), a blueprint, its
own tables and Alembic branch, scheduled jobs, and ``flask receipts ...`` commands.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from helpdesk.plugins import HelpdeskPlugin


class ReceiptsPlugin(HelpdeskPlugin):
    name = "receipts"
    migrations_dir = Path(__file__).resolve().parent / "migrations" / "versions"

    def init_app(self, app: Flask) -> None:
        from . import models  # noqa: F401 - the plugin's tables join the metadata

        app.config.setdefault("RECEIPTS_PER_RECIPIENT", True)


plugin = ReceiptsPlugin()
