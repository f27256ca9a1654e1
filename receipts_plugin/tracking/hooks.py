"""What the tracking plugin draws in template slots, from its templates: in the core's (a
stylesheet, the agent's link to their notification preferences, the admin tile for download
links) and in the receipts plugin's (its part of the Thread Read Info panel, and its two
switch columns on the Read Receipts page)."""
from __future__ import annotations

from flask import render_template
from markupsafe import Markup

from helpdesk.plugin_api import Department
from receipts_plugin.plugin_api import per_request

from .panel import panel_slot
from .settings import all_tracking_settings


def head() -> Markup:
    return Markup(render_template("receipts/tracking/slots/head.html"))


def nav() -> Markup:
    return Markup(render_template("receipts/tracking/slots/nav.html"))


def admin_settings() -> Markup:
    return Markup(render_template("receipts/tracking/slots/admin_tile.html"))


def settings_notes() -> Markup:
    return Markup(render_template("receipts/tracking/slots/settings_notes.html"))


def settings_head() -> Markup:
    return Markup(render_template("receipts/tracking/slots/settings_head.html"))


def settings_row(department: Department) -> Markup:
    settings = per_request("tracking-settings", None, all_tracking_settings).get(department.id)
    return Markup(render_template("receipts/tracking/slots/settings_row.html", department=department,
                                  settings=settings))


TRACKING_HOOKS = [
    ("head", head, 55),
    ("nav", nav, 55),
    ("admin-settings", admin_settings, 55),
    ("receipts-panel", panel_slot, 50),
    ("receipts-settings-notes", settings_notes, 50),
    ("receipts-settings-head", settings_head, 50),
    ("receipts-settings-row", settings_row, 50),
]
