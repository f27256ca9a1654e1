"""What the tracking plugin draws in template slots, from the macros of
receipts/tracking/slots.html: in the core's (a stylesheet, the agent's link to their
notification preferences, the admin tile for download links) and in the receipts plugin's
(its part of the Thread Read Info panel, and its two switch columns on the Read Receipts page)."""
from __future__ import annotations

from markupsafe import Markup

from helpdesk.plugin_api import Department
from receipts_plugin.plugin_api import per_request, slot_macros

from .panel import panel_slot
from .settings import all_tracking_settings

SLOTS = "receipts/tracking/slots.html"


def head() -> Markup:
    return Markup(slot_macros(SLOTS).head())


def nav() -> Markup:
    return Markup(slot_macros(SLOTS).nav())


def admin_settings() -> Markup:
    return Markup(slot_macros(SLOTS).admin_tile())


def settings_notes() -> Markup:
    return Markup(slot_macros(SLOTS).settings_notes())


def settings_head() -> Markup:
    return Markup(slot_macros(SLOTS).settings_head())


def settings_row(department: Department) -> Markup:
    settings = per_request("tracking-settings", None, all_tracking_settings).get(department.id)
    return Markup(slot_macros(SLOTS).settings_row(department, settings))


TRACKING_HOOKS = [
    ("head", head, 55),
    ("nav", nav, 55),
    ("admin-settings", admin_settings, 55),
    ("receipts-panel", panel_slot, 50),
    ("receipts-settings-notes", settings_notes, 50),
    ("receipts-settings-head", settings_head, 50),
    ("receipts-settings-row", settings_row, 50),
]
