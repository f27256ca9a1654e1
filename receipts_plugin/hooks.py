"""What the plugin draws in the core's template slots, from the macros of the plugin's
receipts/slots.html (:func:`.slot_cache.slot_macros`).

Slots may be drawn in any order: each receiver looks up the states it needs on first need
and keeps them for the request (:func:`.slot_cache.per_request`), keyed by the ticket (a
thread's check marks) or by the page's tickets (the list's column), never relying on a slot
that ran before it."""
from __future__ import annotations

from collections.abc import Sequence

from flask import current_app, g
from markupsafe import Markup

from helpdesk.plugin_api import Message, thread_messages, Ticket

from .live import change_marker
from .read_info import list_column, states_for
from .settings import enabled_department_ids
from .slot_cache import per_request, slot_macros
from .state import ReplyState

SLOTS = "receipts/slots.html"


def _enabled() -> set[int]:
    return per_request("enabled-departments", None, enabled_department_ids)


def thread_states(ticket: Ticket, messages: Sequence[Message] | None = None) -> dict[int, ReplyState]:
    """Check-mark states of the ticket's replies, once per request; ``messages`` (the thread
    as the page loaded it) spares loading them again when the caller has them."""
    return per_request("thread-states", ticket.id,
                       lambda: states_for(thread_messages(ticket.id) if messages is None else messages, _enabled()))


def list_cells(tickets: Sequence[Ticket]) -> dict[int, Markup] | None:
    """The ticket list's 'Last reply' column for this page of tickets, once per request: each
    ticket's cell, drawn from one query; None when the column is not shown (no listed
    ticket's department has receipts on)."""
    def load():
        shown, states = list_column([t.id for t in tickets])
        if not shown:
            return None
        cell = slot_macros(SLOTS).list_cell
        drawn = {}
        for ticket in tickets:
            message_id, state = states.get(ticket.id, (None, None))
            drawn[ticket.id] = Markup(cell(None if state is None or state.state.value == "none" else state,
                                           message_id))
        return drawn

    kept = g.get("_receipts_list_cells")  # the list asks once a row with the same page: no key to build
    if kept is None or kept[0] is not tickets:
        g._receipts_list_cells = kept = (tickets, per_request("list-cells", tuple(t.id for t in tickets), load))
    return kept[1]


def _shown_state(message: Message, ticket: Ticket) -> ReplyState | None:
    """The state drawn beside a reply; None for replies that show nothing."""
    state = thread_states(ticket).get(message.id)
    return None if state is None or state.state.value == "none" else state


def head() -> Markup:
    return Markup(slot_macros(SLOTS).head())


def thread_before(ticket: Ticket, messages: Sequence[Message]) -> Markup | None:
    thread_states(ticket, messages)  # the thread as the page has it, for the per-message slots
    if ticket.department_id not in _enabled():
        return None
    config = current_app.config
    live = config.get("RECEIPTS_LIVE_UPDATES", True)
    return Markup(slot_macros(SLOTS).toolbar(ticket, change_marker(ticket.id) if live else None,
                                             config.get("RECEIPTS_LIVE_CHECK_SECONDS", 5.0)))


def message_meta(message: Message, ticket: Ticket) -> Markup | None:
    state = _shown_state(message, ticket)
    if state is None:
        return None
    return Markup(slot_macros(SLOTS).state(state, message.id))


def message_menu(message: Message, ticket: Ticket) -> Markup | None:
    if _shown_state(message, ticket) is None:
        return None
    return Markup(slot_macros(SLOTS).track_link(message.id))


def ticket_list_head(tickets: Sequence[Ticket]) -> Markup | None:
    """The 'Last reply' column, only when some listed ticket's department shows read info."""
    return None if list_cells(tickets) is None else Markup(slot_macros(SLOTS).list_head())


def ticket_list_row(ticket: Ticket, tickets: Sequence[Ticket]) -> Markup | None:
    cells = list_cells(tickets)
    return None if cells is None else cells[ticket.id]


def admin_settings() -> Markup:
    return Markup(slot_macros(SLOTS).admin_tiles())


TEMPLATE_HOOKS = [
    ("head", head, 50),
    ("thread-before", thread_before, 50),
    ("message-meta", message_meta, 50),
    ("message-menu", message_menu, 50),
    ("ticket-list-head", ticket_list_head, 50),
    ("ticket-list-row", ticket_list_row, 50),
    ("admin-settings", admin_settings, 50),
]
