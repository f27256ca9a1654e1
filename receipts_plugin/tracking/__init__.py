"""Downloads, open estimates and agent notifications: the Encyro-style extras of the receipts plugin.

- :mod:`.links`: per-recipient signed download links instead of (or beside) attachments.
- :mod:`.pixel`: the open-tracking image and the automated-fetch classifier.
- :mod:`.notifications`: agents' preferences, the notification outbox, immediate mail and digests.
- :mod:`.panel`: what the Thread Read Info panel shows of all this.
All of it is off until a department (links, image) or an agent (notifications) turns it on.
"""
from __future__ import annotations

from flask import Flask

DEFAULTS = {
    "RECEIPTS_NOTIFY_FROM": None,  # From of notification mail; default notify@MAIL_DOMAIN
    "RECEIPTS_NOTIFY_SECONDS": 30,  # how often the worker sends due notifications
    "RECEIPTS_OPEN_TRACKING_DAYS": 90,  # the tracking image stops recording after this
    "RECEIPTS_AUTOMATED_NETWORKS": [],  # extra CIDR ranges whose fetches count as automated
}


def init_app(app: Flask) -> None:
    """Config defaults, the clock, signal receivers and the panel's template function."""
    from . import models  # noqa: F401 - the tables join the metadata
    from .clock import CLOCK_KEY, system_clock
    from .notifications import connect
    from .outgoing import connect as connect_outgoing
    from .panel import tracking_panel

    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.extensions.setdefault(CLOCK_KEY, system_clock)
    app.jinja_env.globals["tracking_panel"] = tracking_panel
    connect(app)
    connect_outgoing(app)
