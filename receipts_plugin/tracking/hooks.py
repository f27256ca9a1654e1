"""What the tracking extras draw in the core's template slots, from the macros of
receipts/tracking/slots.html: a
stylesheet, the agent's link to their notification preferences, and the admin tile for
download links."""
from __future__ import annotations

from markupsafe import Markup

from ..slot_cache import slot_macros

SLOTS = "receipts/tracking/slots.html"


def head() -> Markup:
    return Markup(slot_macros(SLOTS).head())


def nav() -> Markup:
    return Markup(slot_macros(SLOTS).nav())


def admin_settings() -> Markup:
    return Markup(slot_macros(SLOTS).admin_tile())


TRACKING_HOOKS = [
    ("head", head, 55),
    ("nav", nav, 55),
    ("admin-settings", admin_settings, 55),
]
