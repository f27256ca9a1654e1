"""Helpers for the download-link, open-estimate and notification tests."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace

from helpdesk.mail.transport import RecipientResult
from helpdesk.models import Channel, Department, utcnow
from helpdesk.services.tickets import ReplyDraft, UploadedFile, post_reply
from receipts_plugin.tracking.models import TrackingSettings
from receipts_plugin.tracking.clock import CLOCK_KEY
from tests.helpers import make_ticket

PDF = b"%PDF-1.4\n% a small test file\n" + bytes(range(256))
DESKTOP_CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/126.0.0.0 Safari/537.36")
GMAIL_PROXY = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
LINK = re.compile(r"https?://[^/\s\"]+(/download/[A-Za-z0-9.]+)")
PIXEL = re.compile(r'<img src="https?://[^/\s"]+(/open/[A-Za-z0-9.]+\.gif)"')


class MovableClock:
    """A clock the tests move; installed as ``app.extensions["receipts_clock"]``."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> datetime:
        self.now = moment
        return moment


def install_clock(app, start: datetime | None = None) -> MovableClock:
    clock = MovableClock(start)
    app.extensions[CLOCK_KEY] = clock
    return clock


def switch_on(department: Department, links: bool = True, opens: bool = True) -> None:
    from helpdesk.extensions import db

    settings = db.session.get(TrackingSettings, department.id) or TrackingSettings(department_id=department.id)
    db.session.add(settings)
    settings.download_links, settings.open_tracking = links, opens
    db.session.commit()


def reply_with_file(agent, department, to="Alice <alice@customer.test>", cc="bob@customer.test", bcc="",
                    filename="file.pdf", data=PDF):
    """An email ticket from alice and the agent's reply carrying one file (stored, not sent)."""
    ticket = make_ticket(agent, department, requester="Alice <alice@customer.test>", channel=Channel.EMAIL)
    return post_reply(ticket, agent, ReplyDraft(to=to, cc=cc, bcc=bcc, body="The file you asked for.",
                                                files=[UploadedFile(filename, "application/pdf", data)]))


def outbox_copies(app) -> dict[str, EmailMessage]:
    """Each recipient's copy in the outbox folder, by envelope recipient."""
    copies = {}
    for path in sorted(Path(app.config["OUTBOX_DIR"]).glob("*.eml")):
        mail = message_from_bytes(path.read_bytes(), policy=policy.default)
        copies[str(mail["X-Outbox-Envelope-To"])] = mail
    return copies


def full_text(mail: EmailMessage) -> str:
    """Everything a recipient could read in the bodies (decoded)."""
    return "\n".join(part.get_content() for part in mail.walk()
                     if part.get_content_maintype() == "text" and not part.is_attachment())


def download_paths(mail: EmailMessage) -> list[str]:
    return sorted(set(LINK.findall(full_text(mail))))


def pixel_paths(mail: EmailMessage) -> list[str]:
    return PIXEL.findall(full_text(mail))


class RecordingTransport:
    """Stands in for the relay in notification tests: keeps every email, accepts them all."""

    name = "smtp"

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.plans = []

    def deliver(self, mail, plan):
        self.sent.append(mail)
        self.plans.append(plan)
        return [RecipientResult(r, True, code=250, response="2.0.0 Ok: queued") for r in plan.recipients]


def department_switches(department_id: int) -> SimpleNamespace:
    """A department's read receipts switch and its tracking switches together, as they were
    read from one settings row before tracking kept its own (``tracking_department_settings``)."""
    from receipts_plugin.settings import receipts_enabled
    from receipts_plugin.tracking.settings import tracking_settings_for

    tracking = tracking_settings_for(department_id)
    return SimpleNamespace(receipts_enabled=receipts_enabled(department_id),
                           open_tracking=bool(tracking and tracking.open_tracking),
                           download_links=bool(tracking and tracking.download_links))
