"""State that template slots need, looked up on first need and kept for the rest of the request.

Slots are drawn in whatever order the core's templates call them; a receiver must not rely on
another slot having run first. Each asks :func:`per_request` for what it needs, keyed by what
it is about (a ticket id, a page's ticket ids): the first asker loads it, the others reuse it.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import g

T = TypeVar("T")


def per_request(name: str, key: Hashable, load: Callable[[], T]) -> T:
    """``load()`` once per request for (``name``, ``key``), then the kept value."""
    cache: dict = g.setdefault("_receipts_slot_cache", {})
    if (name, key) not in cache:
        cache[(name, key)] = load()
    return cache[(name, key)]
