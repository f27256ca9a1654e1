"""The support mailbox intake: ``flask mail fetch`` and the worker's scheduled job."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from ..services.locks import exclusive
from .imap import Deferred, ImapSettings, MailRef, PollStats, poll_folder, session
from .intake import IntakeDeferred, process_inbound, quarantine_oversize


def intake_settings(app: Flask) -> ImapSettings | None:
    """The support mailbox from configuration, or None when no IMAP host is set."""
    config = app.config
    if not config.get("IMAP_HOST"):
        return None
    return ImapSettings(
        host=config["IMAP_HOST"], port=int(config["IMAP_PORT"]), security=config["IMAP_SECURITY"],
        username=config.get("IMAP_USERNAME") or "", password=config.get("IMAP_PASSWORD") or "",
        cafile=config.get("IMAP_CAFILE"), verify=bool(config.get("IMAP_VERIFY_CERT", True)),
        folder=config["IMAP_FOLDER"], processed_folder=config.get("IMAP_PROCESSED_FOLDER"),
        batch_size=int(config["IMAP_BATCH_SIZE"]), max_bytes=int(config["IMAP_MAX_MESSAGE_BYTES"]),
    )


@dataclass(frozen=True, slots=True)
class FetchReport:
    skipped: str | None = None
    stats: PollStats | None = None


def fetch_support_mailbox() -> FetchReport:
    """Read what is new in the support mailbox, unless another process is doing it now."""
    settings = intake_settings(current_app)
    if settings is None:
        return FetchReport(skipped="no IMAP_HOST configured")
    source = f"imap:{settings.checkpoint_key}"

    def process(ref: MailRef, raw: bytes) -> str:
        try:
            return process_inbound(raw, source).outcome
        except IntakeDeferred as exc:
            raise Deferred(str(exc)) from exc

    def oversize(ref: MailRef, size: int, header: bytes) -> str:
        return quarantine_oversize(header, size, settings.max_bytes, source).outcome

    with exclusive(f"intake:{settings.checkpoint_key}") as lock:
        if lock is None:
            return FetchReport(skipped="another process is reading this mailbox")
        with session(settings) as client:
            return FetchReport(stats=poll_folder(client, settings, process, oversize, after_batch=lock.renew))
