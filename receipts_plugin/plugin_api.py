"""The one surface of the receipts plugin another plugin may import (tracking, say):
``from receipts_plugin.plugin_api import ...``.

Like :mod:`helpdesk.plugin_api` for the core: everything here is kept stable for the plugins
that build on receipts (``requires = ("receipts",)``); everything else in ``receipts_plugin``
may change shape without notice (tests/core/test_plugin_api.py fails if such a plugin imports
any other module of it, and if the receipts plugin imports anything of one). The receipts
plugin never calls into a plugin built on it: it sends the signals below and draws the slots
below, and that plugin hooks in.

Each name, and why a plugin needs it:
"""
from __future__ import annotations

from .read_info import HistoryLine
from .models import RecipientStatusRow
from .serialise import iso_time
from .settings import receipts_enabled
from .signals import department_switches_saved, history_requested, receipts_requested, reply_outcome
from .slot_cache import per_request, slot_macros
from .state import DEAD
from .tokens import TokenCheck, make_link_token, read_link_token

#: Template slots the receipts plugin's pages offer (declared through ``ReceiptsPlugin.slots``):
#: fill them with ``template_hooks()`` like the core's. Its macro
#: ``{% from "receipts/_switch.html" import switch %}`` draws a switch cell like its own.
SLOTS = {
    "receipts-panel": "message; more of the Thread Read Info panel of one reply, after its recipients",
    "receipts-settings-notes": "nothing; paragraphs above the switches of the Read Receipts admin page",
    "receipts-settings-head": "nothing; column headers after 'Read receipts' (each switch named by a hidden "
                              "input, see department_switches_saved)",
    "receipts-settings-row": "department; the cells of those columns for one department",
}

__all__ = [
    # Signals (see receipts_plugin/signals.py for their arguments):
    "receipts_requested",  # personalise each recipient's copy of a reply that asks for receipts
    "reply_outcome",  # after the commit: recipients whose status changed (notifications hang off it)
    "history_requested",  # add lines to each recipient's history in the Thread Read Info
    "department_switches_saved",  # save your own switches drawn on the Read Receipts page
    "HistoryLine",  # what a history_requested receiver returns per recipient
    "SLOTS",  # the slots the receipts pages offer, and what they pass
    # Reading what receipts knows (read-only: never write these rows; statuses come from events):
    "RecipientStatusRow",  # a recipient's current status: delivered/read times, the latest problem
    "DEAD",  # the statuses that reached nobody (bounced, failed, rejected)
    "receipts_enabled",  # whether a department shows read info (hide yours while it does not)
    # Helpers a plugin's pages and links need, kept in one place:
    "make_link_token", "read_link_token", "TokenCheck",  # signed, expiring, purpose-bound link tokens
    "iso_time",  # a time in the read-info API's JSON form
    "per_request",  # slot receivers: load on first need, keep for the request (no slot order)
    "slot_macros",  # slot receivers: a plugin template's macros, called without render_template's cost
]
