"""Named template slots that plugins fill (``{{ template_hook('message-meta', message=m) }}``).

A core template names a slot and passes objects; it never knows what is drawn there.
Plugins register a receiver for a slot with a priority; the rendered pieces are joined in
priority order (lower first). Receivers return markup (use ``render_template``) or None.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app
from markupsafe import Markup

SlotReceiver = Callable[..., "str | Markup | None"]

#: The slots core templates offer, with what they pass. Registering for another name fails.
SLOTS = {
    "head": "nothing; extra <link> tags for a plugin's stylesheet",
    "nav": "nothing; extra links in the top navigation",
    "ticket-list-head": "tickets; an extra column header in the ticket list (and a chance to prefetch for the rows)",
    "ticket-list-row": "ticket, tickets (the whole page's); an extra cell in the ticket list",
    "thread-before": "ticket, messages; once before the thread (prefetch, banners)",
    "message-meta": "message, ticket; beside each message's header (e.g. delivery state)",
    "message-menu": "message, ticket; extra items in a message's menu",
    "thread-sidebar": "ticket, messages; panels in the thread's sidebar",
    "composer": "ticket; notices above the reply composer",
    "contact-card": "contact; extra lines about a contact",
    "admin-settings": "nothing; links in the admin settings menu",
}


@dataclass(frozen=True, slots=True)
class _Registration:
    priority: int
    order: int
    receiver: SlotReceiver


class TemplateHooks:
    """Per-app registry of slot receivers (kept in ``app.extensions['template_hooks']``)."""

    def __init__(self) -> None:
        self._receivers: dict[str, list[_Registration]] = defaultdict(list)
        self._count = 0
        #: The core's slots and those the loaded plugins declared (``HelpdeskPlugin.slots``).
        self.slots: dict[str, str] = dict(SLOTS)

    def declare(self, slot: str, description: str) -> None:
        if slot in self.slots:
            raise ValueError(f"template slot {slot!r} is declared twice")
        self.slots[slot] = description

    def register(self, slot: str, receiver: SlotReceiver, priority: int = 50) -> None:
        if slot not in self.slots:
            raise ValueError(f"unknown template slot {slot!r}; known slots: {', '.join(self.slots)}")
        self._count += 1
        self._receivers[slot].append(_Registration(priority, self._count, receiver))
        self._receivers[slot].sort(key=lambda r: (r.priority, r.order))

    def render(self, slot: str, **context: object) -> Markup:
        pieces = (reg.receiver(**context) for reg in self._receivers.get(slot, ()))
        return Markup("").join(Markup(piece) for piece in pieces if piece)

    def has(self, slot: str) -> bool:
        return bool(self._receivers.get(slot))


def init_app(app: Flask) -> None:
    app.extensions["template_hooks"] = TemplateHooks()
    app.jinja_env.globals["template_hook"] = template_hook


def template_hook(slot: str, **context: object) -> Markup:
    """Render every receiver of ``slot`` with ``context`` (a Jinja global)."""
    return current_app.extensions["template_hooks"].render(slot, **context)


def declare_template_slot(app: Flask, slot: str, description: str) -> None:
    """A slot a plugin's templates offer (``HelpdeskPlugin.slots``); others may then fill it."""
    app.extensions["template_hooks"].declare(slot, description)


def register_template_hook(app: Flask, slot: str, receiver: SlotReceiver, priority: int = 50) -> None:
    app.extensions["template_hooks"].register(slot, receiver, priority)
