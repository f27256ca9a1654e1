"""State that template slots need, looked up on first need and kept for the rest of the request.

Slots are drawn in whatever order the core's templates call them; a receiver must not rely on
another slot having run first. Each asks :func:`per_request` for what it needs, keyed by what
it is about (a ticket id, a page's ticket ids): the first asker loads it, the others reuse it.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app, g

T = TypeVar("T")


def per_request(name: str, key: Hashable, load: Callable[[], T]) -> T:
    """``load()`` once per request for (``name``, ``key``), then the kept value."""
    cache: dict = g.setdefault("_receipts_slot_cache", {})
    if (name, key) not in cache:
        cache[(name, key)] = load()
    return cache[(name, key)]


def slot_macros(template: str):
    """The macros of a plugin template (one per slot it draws), from its module: calling one
    costs no template lookup, context or signal, as ``render_template`` does on every call
    (a cell of each row of the ticket list). They see Jinja's globals (``url_for``,
    ``config``), not a request's template context: what they show is passed in."""
    return current_app.jinja_env.get_template(template).module
