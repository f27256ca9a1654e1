"""What the tracking extras draw in the core's template slots: a stylesheet, the agent's
link to their notification preferences, and the admin tile for download links."""
from __future__ import annotations

from flask import render_template_string, url_for
from markupsafe import Markup


def head() -> Markup:
    return Markup(f'<link rel="stylesheet" href="{url_for("receipts_tracking.static", filename="tracking.css")}">')


def nav() -> Markup:
    return Markup(f'<a href="{url_for("receipts_tracking.preferences")}">Notifications</a>')


def admin_settings() -> Markup:
    return Markup(render_template_string(
        '<a class="card tile" href="{{ url_for(\'receipts_tracking.link_settings\') }}">'
        '<h2>Privacy Settings › Download links</h2>'
        '<p>Whether files go out as personal download links instead of or beside attachments, '
        'and how long the links work.</p></a>'))


TRACKING_HOOKS = [
    ("head", head, 55),
    ("nav", nav, 55),
    ("admin-settings", admin_settings, 55),
]
