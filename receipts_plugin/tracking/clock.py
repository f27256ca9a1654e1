"""The plugin's notion of "now", which tests can move.

Every time this package records or schedules (a download, an open, a notification and its
digest) comes from :func:`now`, which calls ``app.extensions["receipts_clock"]``. Tests put
a movable clock there to cross working hours and daylight-saving changes without waiting.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app

from helpdesk.plugin_api import utcnow

CLOCK_KEY = "receipts_clock"


def system_clock() -> datetime:
    return utcnow()


def now() -> datetime:
    """The current time, aware and in UTC, from the app's clock."""
    return current_app.extensions.get(CLOCK_KEY, system_clock)()
