"""What the tracking extras draw in the core's template slots, from their templates: a
stylesheet, the agent's link to their notification preferences, and the admin tile for
download links."""
from __future__ import annotations

from flask import render_template
from markupsafe import Markup


def head() -> Markup:
    return Markup(render_template("receipts/tracking/slots/head.html"))


def nav() -> Markup:
    return Markup(render_template("receipts/tracking/slots/nav.html"))


def admin_settings() -> Markup:
    return Markup(render_template("receipts/tracking/slots/admin_tile.html"))


TRACKING_HOOKS = [
    ("head", head, 55),
    ("nav", nav, 55),
    ("admin-settings", admin_settings, 55),
]
