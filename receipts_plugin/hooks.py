"""What the plugin draws in the core's template slots, from the plugin's templates.

Slots may be drawn in any order: each receiver looks up the states it needs on first need
and keeps them for the request (:func:`.slot_cache.per_request`), keyed by the ticket (a
thread's check marks) or by the page's tickets (the list's column), never relying on a slot
that ran before it."""
from __future__ import annotations

from collections.abc import Sequence

from flask import current_app, render_template
from markupsafe import Markup

from helpdesk.plugin_api import Message, thread_messages, Ticket

from .live import change_marker
from .read_info import latest_reply_states, states_for
from .settings import enabled_department_ids
from .slot_cache import per_request
from .state import ReplyState


def _enabled() -> set[int]:
    return per_request("enabled-departments", None, enabled_department_ids)


def thread_states(ticket: Ticket, messages: Sequence[Message] | None = None) -> dict[int, ReplyState]:
    """Check-mark states of the ticket's replies, once per request; ``messages`` (the thread
    as the page loaded it) spares loading them again when the caller has them."""
    return per_request("thread-states", ticket.id,
                       lambda: states_for(thread_messages(ticket.id) if messages is None else messages, _enabled()))


def list_states(tickets: Sequence[Ticket]) -> tuple[bool, dict[int, tuple[int, ReplyState]]]:
    """Whether the ticket list shows the 'Last reply' column, and each ticket's newest reply
    state, once per request for this page of tickets."""
    def load():
        enabled = _enabled()
        if not any(t.department_id in enabled for t in tickets):
            return False, {}
        return True, latest_reply_states([t.id for t in tickets], enabled)

    return per_request("list-states", tuple(t.id for t in tickets), load)


def _shown_state(message: Message, ticket: Ticket) -> ReplyState | None:
    """The state drawn beside a reply; None for replies that show nothing."""
    state = thread_states(ticket).get(message.id)
    return None if state is None or state.state.value == "none" else state


def head() -> Markup:
    return Markup(render_template("receipts/slots/head.html"))


def thread_before(ticket: Ticket, messages: Sequence[Message]) -> Markup | None:
    thread_states(ticket, messages)  # the thread as the page has it, for the per-message slots
    if ticket.department_id not in _enabled():
        return None
    config = current_app.config
    live = config.get("RECEIPTS_LIVE_UPDATES", True)
    return Markup(render_template("receipts/_toolbar.html", ticket=ticket,
                                  marker=change_marker(ticket.id) if live else None,
                                  check_seconds=config.get("RECEIPTS_LIVE_CHECK_SECONDS", 5.0)))


def message_meta(message: Message, ticket: Ticket) -> Markup | None:
    state = _shown_state(message, ticket)
    if state is None:
        return None
    return Markup(render_template("receipts/slots/state.html", state=state, message_id=message.id))


def message_menu(message: Message, ticket: Ticket) -> Markup | None:
    if _shown_state(message, ticket) is None:
        return None
    return Markup(render_template("receipts/slots/track_link.html", message=message))


def ticket_list_head(tickets: Sequence[Ticket]) -> Markup | None:
    """The 'Last reply' column, only when some listed ticket's department shows read info."""
    shown, _ = list_states(tickets)
    return Markup(render_template("receipts/slots/list_head.html")) if shown else None


def ticket_list_row(ticket: Ticket, tickets: Sequence[Ticket]) -> Markup | None:
    shown, states = list_states(tickets)
    if not shown:
        return None
    message_id, state = states.get(ticket.id, (None, None))
    if state is not None and state.state.value == "none":
        state = None
    return Markup(render_template("receipts/slots/list_cell.html", state=state, message_id=message_id))


def admin_settings() -> Markup:
    return Markup(render_template("receipts/_admin_tiles.html"))


TEMPLATE_HOOKS = [
    ("head", head, 50),
    ("thread-before", thread_before, 50),
    ("message-meta", message_meta, 50),
    ("message-menu", message_menu, 50),
    ("ticket-list-head", ticket_list_head, 50),
    ("ticket-list-row", ticket_list_row, 50),
    ("admin-settings", admin_settings, 50),
]
