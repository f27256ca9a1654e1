"""The tracking plugin's own events: image fetches and downloads, in ``tracking_events``.

They are not delivery events: recording one is a single INSERT, with no status recomputed,
no contact or ticket touched and no ``reply_outcome`` sent (an open never marks a reply as
read; only a read receipt does). Unique per (recipient, key): a fetch recorded meanwhile by
another request is skipped.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite

from helpdesk.plugin_api import db, MessageRecipient

from .models import TrackingEvent


class FetchKind(str, enum.Enum):
    PIXEL_OPEN = "pixel-open"
    PIXEL_AUTOMATED = "pixel-automated"
    DOWNLOAD = "download"


class FetchSource(str, enum.Enum):
    PIXEL = "pixel"
    LINK = "link"


def record_fetch(recipient: MessageRecipient, kind: FetchKind, source: FetchSource, key: str, at: datetime,
                 detail: str | None = None) -> None:
    """Store one fetch (one statement; does not commit)."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    db.session.execute(dialect.insert(TrackingEvent).values(
        recipient_id=recipient.id, message_id=recipient.message_id, kind=kind.value, source=source.value,
        key=key[:200], at=at, detail=detail).on_conflict_do_nothing(index_elements=["recipient_id", "key"]))
