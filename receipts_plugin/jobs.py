"""The plugin's scheduled work in the worker: poll every watched mailbox every N seconds."""
from __future__ import annotations

from flask import Flask

from helpdesk.plugin_api import Job


def receipt_jobs(app: Flask) -> list[Job]:
    from .poller import poll_all

    return [Job("receipts-poll", poll_all, float(app.config["RECEIPTS_POLL_SECONDS"]))]
