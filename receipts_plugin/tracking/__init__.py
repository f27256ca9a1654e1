"""Downloads, open estimates and agent notifications: the tracking plugin, built on receipts.

Its own plugin (entry point ``tracking``, ``requires = ("receipts",)``), kept in this package
directory beside the plugin it builds on. It imports the core only from
:mod:`helpdesk.plugin_api` and the receipts plugin only from :mod:`receipts_plugin.plugin_api`;
the receipts plugin imports nothing of it. It hooks in through the receipts signals
(``receipts_requested``, ``reply_outcome``, ``history_requested``,
``department_switches_saved``) and slots (``receipts-panel``, ``receipts-settings-*``).

- :mod:`.links`: per-recipient signed download links instead of (or beside) attachments.
- :mod:`.pixel`: the open-tracking image and the automated-fetch classifier.
- :mod:`.events`: its own table of image fetches and downloads (never a delivery event: a
  fetch does not recompute any recipient's status).
- :mod:`.settings`: its per-department switches (open tracking, download links).
- :mod:`.notifications`: agents' preferences, the notification outbox, immediate mail and digests.
- :mod:`.panel`: what the Thread Read Info panel shows of all this.
All of it is off until a department (links, image) or an agent (notifications) turns it on.
"""
from __future__ import annotations

__all__ = ["DEFAULTS", "TrackingPlugin", "plugin"]


def __getattr__(name: str):
    """The plugin object is imported on first use (as ``receipts_plugin`` does)."""
    if name in __all__:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.registration"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
