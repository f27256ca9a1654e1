"""The receipts plugin object: registers the plugin's models, views, hooks, jobs and CLI with the core."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from helpdesk.plugin_api import HelpdeskPlugin

DEFAULTS = {
    "RECEIPTS_ADDRESS": None,  # where read receipts go; default receipts@MAIL_DOMAIN
    "RECEIPTS_BOUNCE_ADDRESS": None,  # base of the VERP return path; default RECEIPTS_ADDRESS
    "RECEIPTS_PER_RECIPIENT": True,  # one SMTP transaction per recipient, each with its own VERP sender
    "RECEIPTS_POLL_SECONDS": 60,
    "RECEIPTS_BATCH_SIZE": 500,  # mails fetched per IMAP FETCH, committed and moved together (bench/poll.py)
    "RECEIPTS_MAX_MESSAGE_BYTES": 10 * 1024 * 1024,  # larger mails are quarantined by their headers
    "RECEIPTS_IDLE": True,  # the worker also holds an IMAP IDLE connection per mailbox
    # Whose word a tokenless report's From is taken on (see trust.py): the authserv-ids of our
    # own mail server's Authentication-Results fields, and/or DKIM verified here (DNS lookups;
    # RECEIPTS_DKIM_DNSFUNC replaces the resolver, for tests).
    "RECEIPTS_TRUSTED_AUTHSERV_IDS": [],
    "RECEIPTS_VERIFY_DKIM": False,
    "RECEIPTS_DKIM_DNSFUNC": None,
    # Live updates of an open thread: the page asks for the thread's change marker this often
    # (not while its tab is hidden) and refreshes its check marks when it changes.
    "RECEIPTS_LIVE_UPDATES": True,
    "RECEIPTS_LIVE_CHECK_SECONDS": 5.0,
}


class ReceiptsPlugin(HelpdeskPlugin):
    name = "receipts"
    migrations_dir = Path(__file__).resolve().parent / "migrations" / "versions"

    @property
    def slots(self):  # what plugins built on this one may fill (see plugin_api.SLOTS)
        from .plugin_api import SLOTS

        return SLOTS

    def init_app(self, app: Flask) -> None:
        from . import demo, handlers, models, sending  # noqa: F401 - models join the metadata

        for key, value in DEFAULTS.items():
            app.config.setdefault(key, value)
        sending.connect(app)
        handlers.connect(app)
        demo.connect(app)

    def blueprints(self):
        from .views import bp

        return [bp]

    def template_hooks(self):
        from .hooks import TEMPLATE_HOOKS

        return TEMPLATE_HOOKS

    def jobs(self, app: Flask):
        from .jobs import receipt_jobs

        return receipt_jobs(app)

    def watchers(self, app: Flask):
        from .poller import idle_supervisor

        if not app.config.get("RECEIPTS_IDLE", True):
            return []
        return [idle_supervisor(app, rescan_seconds=app.config["RECEIPTS_POLL_SECONDS"])]

    def own_addresses(self, app: Flask):
        from .mailboxes import watched_addresses
        from .sending import receipts_address

        return [receipts_address(app), app.config.get("RECEIPTS_BOUNCE_ADDRESS") or "", *watched_addresses()]

    @property
    def cli_group(self):
        from .cli import receipts_cli

        return receipts_cli


plugin = ReceiptsPlugin()
