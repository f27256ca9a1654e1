"""Read receipts and delivery reports for agents' replies: a help-desk plugin.

Plugs into the core only through its extension points: signals (asking for receipts as a
reply is sent, recording SMTP outcomes, claiming reports that reach the support inbox),
template slots (check marks, the Thread Read Info panel, admin pages), a blueprint, its
own tables and Alembic branch, scheduled jobs, and ``flask receipts ...`` commands.
"""
from __future__ import annotations

__all__ = ["DEFAULTS", "ReceiptsPlugin", "plugin"]


def __getattr__(name: str):
    """The plugin object is imported on first use, so ``python -m receipts_plugin.reports`` (the
    pure report parser) starts without loading Flask and the help desk."""
    if name in __all__:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.registration"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
