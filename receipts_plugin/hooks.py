"""What the plugin draws in the core's template slots. States are computed once per page
(in the slot that precedes the rows) and kept on ``g`` for the per-message slots."""
from __future__ import annotations

from flask import current_app, g, get_template_attribute, render_template, url_for
from markupsafe import Markup

from .live import change_marker
from .read_info import latest_reply_states, states_for
from .settings import enabled_department_ids


def _state_markup(state, message_id: int) -> Markup:
    """The check mark, from the cached template's macro (compiled once, not per reply)."""
    return Markup(get_template_attribute("receipts/_state.html", "reply_state")(state, message_id))


def head() -> Markup:
    css = url_for("receipts.static", filename="receipts.css")
    js = url_for("receipts.static", filename="receipts.js")
    return Markup(f'<link rel="stylesheet" href="{css}">\n  <script src="{js}" defer></script>')


def _shown_state(message_id: int):
    """The state drawn beside a reply; None for replies that show nothing."""
    state = getattr(g, "rr_states", {}).get(message_id)
    return None if state is None or state.state.value == "none" else state


def thread_before(ticket, messages) -> Markup | None:
    enabled = enabled_department_ids()
    g.rr_states = states_for(messages, enabled)
    if ticket.department_id not in enabled:
        return None
    config = current_app.config
    live = config.get("RECEIPTS_LIVE_UPDATES", True)
    return Markup(render_template("receipts/_toolbar.html", ticket=ticket,
                                  marker=change_marker(ticket.id) if live else None,
                                  check_seconds=config.get("RECEIPTS_LIVE_CHECK_SECONDS", 5.0)))


def message_meta(message, ticket) -> Markup | None:
    state = _shown_state(message.id)
    if state is None:
        return None
    return _state_markup(state, message.id)


def message_menu(message, ticket) -> Markup | None:
    if _shown_state(message.id) is None:
        return None
    panel = url_for("receipts.panel", message_id=message.id)
    fragment = url_for("receipts.panel", message_id=message.id, fragment=1)
    return Markup(f'<a class="rr-track" href="{panel}" data-rr-message="{message.id}" '
                  f'data-rr-fragment="{fragment}">Track delivery</a>')


def ticket_list_head(tickets) -> Markup | None:
    """The 'Last reply' column, only when some listed ticket's department shows read info."""
    enabled = enabled_department_ids()
    g.rr_list_column = any(t.department_id in enabled for t in tickets)
    if not g.rr_list_column:
        return None
    g.rr_ticket_states = latest_reply_states([t.id for t in tickets], enabled)
    return Markup("<th>Last reply</th>")


def ticket_list_row(ticket) -> Markup | None:
    if not getattr(g, "rr_list_column", False):
        return None
    message_id, state = getattr(g, "rr_ticket_states", {}).get(ticket.id, (None, None))
    if state is None or state.state.value == "none":
        return Markup("<td></td>")
    return Markup("<td>") + _state_markup(state, message_id) + Markup("</td>")


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
