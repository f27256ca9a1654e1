"""The plugin's scheduled work in the worker: poll every watched mailbox every N seconds."""
from __future__ import annotations

from flask import Flask

from helpdesk.plugin_api import Job


def receipt_jobs(app: Flask) -> list[Job]:
    from .poller import scheduled_polls

    return [Job("receipts-poll", scheduled_polls(app), float(app.config["RECEIPTS_POLL_SECONDS"]))]
