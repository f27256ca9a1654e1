"""What a tracked reply goes out with: download links and the open-tracking image.

Connected to the receipts plugin's ``receipts_requested`` signal (replies that ask for
receipts). The first attempt decides (department switches, link lifetime) and records it in
:class:`MessageTracking`; retries reuse that decision, so a link's expiry never moves. Each
recipient's copy is then personalised: links that name that recipient, an image that does.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import Flask

from helpdesk.plugin_api import append_to_bodies, db, DeliveryPlan, Message, Personaliser, remove_attachments

from receipts_plugin.plugin_api import receipts_requested

from .clock import now as clock_now
from .links import LinkedFile, download_urls, link_options, links_block
from .models import MessageTracking
from .pixel import pixel_expiry, pixel_html
from .settings import tracking_settings_for

def decide_tracking(message: Message, now: datetime) -> MessageTracking | None:
    """The reply's tracking, decided at its first attempt (added to the session, not committed)."""
    tracking = db.session.get(MessageTracking, message.id)
    if tracking is not None:
        return tracking
    settings = tracking_settings_for(message.ticket.department_id)
    links = bool(settings and settings.download_links and message.attachments)
    opens = bool(settings and settings.open_tracking)
    if not (links or opens):
        return None
    options = link_options(message.ticket.department_id)
    tracking = MessageTracking(message_id=message.id, download_links=links, open_tracking=opens,
                               keep_attachments=options.keep_attachments if links else False,
                               links_expire_at=now + timedelta(days=options.link_days) if links else None,
                               created_at=now)
    db.session.add(tracking)
    return tracking


def personaliser(message: Message, tracking: MessageTracking) -> Personaliser:
    """Changes one recipient's copy: their links (instead of or beside the files), their image."""
    recipient_ids = {r.address: r.id for r in message.recipients}
    files = [LinkedFile(a.id, a.filename, a.size) for a in message.attachments]
    image_expiry = pixel_expiry(tracking.created_at)

    def personalise(mail: EmailMessage, address: str) -> None:
        recipient_id = recipient_ids[address]
        text, rich = "", ""
        if tracking.download_links and files:
            if not tracking.keep_attachments:
                remove_attachments(mail)
            urls = download_urls(message.id, recipient_id, files, tracking.links_expire_at)
            text, rich = links_block(files, urls, tracking.links_expire_at)
        if tracking.open_tracking:
            rich += pixel_html(message.id, recipient_id, image_expiry)
        append_to_bodies(mail, text, rich)

    return personalise


def add_personalisers(app: Flask, message: Message, plan: DeliveryPlan) -> None:
    """``receipts_requested`` receiver: personalise each recipient's copy when the reply's department
    wants links or the image."""
    tracking = decide_tracking(message, clock_now())
    if tracking is None:
        return
    plan.per_recipient = True  # personalised copies need one transaction per recipient
    plan.personalisers.append(personaliser(message, tracking))


def connect(app: Flask) -> None:
    receipts_requested.connect(add_personalisers, app, weak=False)
