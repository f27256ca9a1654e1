"""The tracking plugin object: its models, pages, slots, jobs and signal receivers."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from helpdesk.plugin_api import HelpdeskPlugin

DEFAULTS = {
    "RECEIPTS_NOTIFY_FROM": None,  # From of notification mail; default notify@MAIL_DOMAIN
    "RECEIPTS_NOTIFY_SECONDS": 30,  # how often the worker sends due notifications
    "RECEIPTS_OPEN_TRACKING_DAYS": 90,  # the tracking image stops recording after this
    "RECEIPTS_AUTOMATED_NETWORKS": [],  # extra CIDR ranges whose fetches count as automated
}


class TrackingPlugin(HelpdeskPlugin):
    name = "tracking"
    requires = ("receipts",)
    migrations_dir = Path(__file__).resolve().parent / "migrations" / "versions"

    def init_app(self, app: Flask) -> None:
        """Config defaults, the clock and the signal receivers."""
        from . import models  # noqa: F401 - the tables join the metadata
        from .clock import CLOCK_KEY, system_clock
        from .notifications import connect as connect_notifications
        from .outgoing import connect as connect_outgoing
        from .panel import connect as connect_panel
        from .settings import connect as connect_settings

        for key, value in DEFAULTS.items():
            app.config.setdefault(key, value)
        app.extensions.setdefault(CLOCK_KEY, system_clock)
        connect_notifications(app)
        connect_outgoing(app)
        connect_panel(app)
        connect_settings(app)

    def blueprints(self):
        from .views import bp

        return [bp]

    def template_hooks(self):
        from .hooks import TRACKING_HOOKS

        return TRACKING_HOOKS

    def jobs(self, app: Flask):
        from .notifications import notification_jobs

        return notification_jobs(app)


plugin = TrackingPlugin()
