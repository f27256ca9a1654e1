"""What the Thread Read Info panel shows of downloads and opens (read-only, a fixed number of queries).

Opens are shown per recipient as an estimate ("opened (estimate)") or as "opened by an
automated fetch"; they never change the recipient's status or the reply's check marks.
The receipts plugin draws this in its ``receipts-panel`` slot (:func:`panel_slot`) and asks
for each recipient's history lines through ``history_requested`` (:func:`history_lines`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import Flask, render_template
from markupsafe import Markup
from sqlalchemy import select

from helpdesk.plugin_api import db, Message, MessageRecipient
from receipts_plugin.plugin_api import HistoryLine, history_requested, iso_time as _time

from .events import FetchKind
from .models import LinkRevocation, MessageTracking, TrackingEvent
from .pixel import read_detail

OPEN_KINDS = (FetchKind.PIXEL_OPEN.value, FetchKind.PIXEL_AUTOMATED.value)


@dataclass(frozen=True, slots=True)
class DownloadLine:
    filename: str
    recipient: str  # the recipient's name, else address
    address: str
    at: datetime
    automated_label: str | None  # set when the fetch looked like a link scanner


@dataclass(frozen=True, slots=True)
class OpenSummary:
    """One recipient's image fetches: a person's opens (an estimate) and automated fetches."""

    recipient: str
    address: str
    first_open: datetime | None = None
    last_open: datetime | None = None
    opens: int = 0
    automated: tuple[tuple[datetime, str], ...] = ()


@dataclass(frozen=True, slots=True)
class RecipientLinks:
    """One recipient's personal download links: still valid, or withdrawn (when, by whom)."""

    recipient_id: int
    recipient: str
    address: str
    revoked_at: datetime | None = None
    revoked_by: str | None = None


@dataclass(frozen=True, slots=True)
class TrackingPanel:
    tracking: MessageTracking | None
    downloads: tuple[DownloadLine, ...] = ()
    opens: tuple[OpenSummary, ...] = field(default_factory=tuple)
    links: tuple[RecipientLinks, ...] = ()  # per recipient, when the reply went out with links

    @property
    def can_revoke(self) -> bool:
        return self.tracking is not None and self.tracking.links_revocable

    @property
    def shows_opens(self) -> bool:
        return bool((self.tracking and self.tracking.open_tracking) or any(o.opens or o.automated for o in self.opens))


def fetches(message_id: int) -> list[TrackingEvent]:
    """The reply's image fetches and downloads, in time order (one query)."""
    return db.session.scalars(select(TrackingEvent).where(TrackingEvent.message_id == message_id)
                              .order_by(TrackingEvent.at, TrackingEvent.id)).all()


def tracking_panel(message: Message) -> TrackingPanel | None:
    """Downloads and open estimates of one reply; None when it had neither links nor the image."""
    tracking = db.session.get(MessageTracking, message.id)
    rows = fetches(message.id)
    if tracking is None and not rows:
        return None
    recipients = {r.id: r for r in message.recipients}
    downloads = []
    by_recipient: dict[int, list[TrackingEvent]] = {r: [] for r in recipients}
    for row in rows:
        recipient = recipients.get(row.recipient_id)
        if recipient is None:
            continue
        detail = read_detail(row.detail)
        if row.kind == "download":
            downloads.append(DownloadLine(detail.get("filename", "a file"), recipient.name or recipient.address,
                                          recipient.address, row.at,
                                          detail.get("label") if detail.get("automated") else None))
        else:
            by_recipient[row.recipient_id].append(row)
    opens = []
    for recipient_id, events in by_recipient.items():
        recipient = recipients[recipient_id]
        person = [e.at for e in events if e.kind == "pixel-open"]
        automated = tuple((e.at, read_detail(e.detail).get("label", "an automated service")) for e in events
                          if e.kind == "pixel-automated")
        opens.append(OpenSummary(recipient.name or recipient.address, recipient.address,
                                 min(person, default=None), max(person, default=None), len(person), automated))
    return TrackingPanel(tracking, tuple(downloads), tuple(opens), _links(tracking, recipients))


def _links(tracking: MessageTracking | None,
           recipients: dict[int, MessageRecipient]) -> tuple[RecipientLinks, ...]:
    if tracking is None or not tracking.download_links:
        return ()
    revoked = {row.recipient_id: row for row in db.session.scalars(
        select(LinkRevocation).where(LinkRevocation.message_id == tracking.message_id))}
    lines = []
    for recipient_id, recipient in recipients.items():
        row = revoked.get(recipient_id)
        lines.append(RecipientLinks(recipient_id, recipient.name or recipient.address, recipient.address,
                                    row.revoked_at if row else None,
                                    row.revoked_by.name if row and row.revoked_by else None))
    return tuple(lines)


def tracking_json(message: Message, panel: TrackingPanel | None) -> dict:
    """The JSON shape of :func:`tracking_panel` (opens are labelled as estimates there too)."""
    tracking = panel.tracking if panel else None
    return {
        "message_id": message.id,
        "download_links": bool(tracking and tracking.download_links),
        "links_expire_at": _time(tracking.links_expire_at) if tracking else None,
        "links_revoked_at": _time(tracking.links_revoked_at) if tracking else None,
        "links": [{"recipient": line.address, "revoked_at": _time(line.revoked_at),
                   "revoked_by": line.revoked_by} for line in (panel.links if panel else ())],
        "open_tracking": bool(tracking and tracking.open_tracking),
        "opens_are_estimates": True,
        "downloads": [{"file": d.filename, "recipient": d.address, "at": _time(d.at),
                       "automated": d.automated_label is not None, "automated_label": d.automated_label}
                      for d in (panel.downloads if panel else ())],
        "opens": [{"recipient": o.address, "estimated_opens": o.opens, "first_estimated_open": _time(o.first_open),
                   "last_estimated_open": _time(o.last_open),
                   "automated_fetches": [{"at": _time(at), "label": label} for at, label in o.automated]}
                  for o in (panel.opens if panel else ())],
    }


LABELS = {"pixel-open": "Opened (estimate)", "pixel-automated": "Image fetched by an automated service (not an open)",
          "download": "File downloaded"}


def fetch_label(event: TrackingEvent) -> str:
    """One line of a recipient's history. A download says which file and whether the fetch
    looked automated (and why); an image fetch by an automated service says which."""
    label = LABELS.get(event.kind, event.kind)
    if event.kind == FetchKind.PIXEL_OPEN.value:
        return label
    detail = read_detail(event.detail)
    reason = detail.get("label") or "an automated service"
    if event.kind == FetchKind.PIXEL_AUTOMATED.value:
        return f"{label}: {reason}"
    filename = detail.get("filename") or "a file"
    if detail.get("automated"):
        return f"{filename} fetched by an automated client, not a person: {reason}"
    return f"{label}: {filename} (by a person, an estimate)"


def history_lines(app: Flask, message: Message, recipients: list[MessageRecipient]) -> dict[int, list[HistoryLine]]:
    """``history_requested`` receiver: each recipient's fetches as lines of their history."""
    lines: dict[int, list[HistoryLine]] = {}
    for event in fetches(message.id):
        lines.setdefault(event.recipient_id, []).append(
            HistoryLine(at=event.at, kind=event.kind, source=event.source, label=fetch_label(event),
                        detail=event.detail))
    return lines


def panel_slot(message: Message) -> Markup | None:
    """The ``receipts-panel`` slot: downloads, links and open estimates of the reply."""
    panel = tracking_panel(message)
    if panel is None:
        return None
    return Markup(render_template("receipts/tracking/_panel_extras.html", message=message, tracking=panel))


def connect(app: Flask) -> None:
    history_requested.connect(history_lines, app, weak=False)
