"""Telling agents what happened to their replies: preferences, an outbox, immediate mail, digests.

An agent opts in (everything is off by default) to hear when a recipient reads their reply
and when a reply bounced for every recipient. Read notices go out immediately or in a
digest every N days (1-7) at the end of the agent's working hours in their time zone;
bounce notices always go out immediately, since they call for action.

How "exactly once" is kept:

1. The ``reply_outcome`` receiver queues a :class:`NotificationItem` per fact, unique per
   agent (``read:<recipient>``, ``bounce:<message>``): a receipt seen twice is one item.
2. The job (under a cross-process lock) puts due items into :class:`NotificationBatch`
   rows, one per email, and commits that before sending. A batch key is unique per agent
   (``item:<id>``, ``digest:<local date>``), so no item or digest day is mailed twice.
3. It sends each unsent batch through the core's transport and then commits ``sent_at``.

A restart therefore resends nothing that was marked sent. The one window left
(at-least-once) is a crash after the relay accepted a batch and before ``sent_at`` was
committed: that batch is sent again on the next run, with the same Message-ID, which many
mail stores use to drop the copy. Notification mail is ``Auto-Submitted: auto-generated``
and never asks for receipts (it does not pass through ``message_before_send``).
"""
from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app, render_template
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from helpdesk.plugin_api import (Agent, db, DeliveryPlan, exclusive, external_url, is_database_outage, Job,
                                 mailbox_header, Message, MessageRecipient, one_line, RecipientResult, retry_delay,
                                 Transport, transport_for, ValidationError)

from receipts_plugin.plugin_api import DEAD, RecipientStatusRow, reply_outcome

from .clock import now as clock_now
from .models import NotificationBatch, NotificationItem, NotificationPreferences

log = logging.getLogger(__name__)

IMMEDIATE, DIGEST = "immediate", "digest"
READ, BOUNCE = "read", "bounce"
MAX_DIGEST_DAYS = 7
MAX_ATTEMPTS = 10
LOCK_NAME = "receipts-notifications"
_DEAD = {status.value for status in DEAD}  # bounced, failed or rejected: reached nobody


# --------------------------------------------------------------------------- preferences

@dataclass(frozen=True, slots=True)
class PreferencesInput:
    notify_read: bool
    notify_bounce: bool
    delivery: str
    digest_days: int | None


def preferences_for(agent_id: int) -> NotificationPreferences:
    """The agent's preferences; unsaved defaults (everything off) when they never chose."""
    return db.session.get(NotificationPreferences, agent_id) or NotificationPreferences(
        agent_id=agent_id, notify_read=False, notify_bounce=False, delivery=IMMEDIATE, digest_days=1)


def agent_zone(agent: Agent) -> ZoneInfo:
    """The agent's time zone; UTC if the stored name is unknown to this system."""
    try:
        return ZoneInfo(agent.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def save_preferences(agent: Agent, data: PreferencesInput, now: datetime) -> NotificationPreferences:
    """Validate every field, then save (commits). Choosing a digest, or another length,
    starts its N-day cycle on the agent's current local date."""
    errors: dict[str, list[str]] = {}
    if data.delivery not in (IMMEDIATE, DIGEST):
        errors["delivery"] = ["Choose immediately or a digest."]
    days = data.digest_days
    if data.delivery == DIGEST and (days is None or not 1 <= days <= MAX_DIGEST_DAYS):
        errors["digest_days"] = [f"A digest covers 1 to {MAX_DIGEST_DAYS} days."]
    if errors:
        raise ValidationError(errors)
    prefs = db.session.get(NotificationPreferences, agent.id)
    if prefs is None:
        prefs = NotificationPreferences(agent_id=agent.id, delivery=IMMEDIATE, digest_days=1)
        db.session.add(prefs)
    cycle_changed = data.delivery == DIGEST and (prefs.delivery != DIGEST or prefs.digest_days != days
                                                 or prefs.digest_anchor is None)
    prefs.notify_read, prefs.notify_bounce, prefs.delivery = data.notify_read, data.notify_bounce, data.delivery
    if data.delivery == DIGEST:
        prefs.digest_days = days
    if cycle_changed:
        prefs.digest_anchor = now.astimezone(agent_zone(agent)).date()
    db.session.commit()
    return prefs


# --------------------------------------------------------------------------- digest schedule (pure)

def end_of_work(day: date, work_end: time, zone: ZoneInfo) -> datetime:
    """``work_end`` on local ``day`` in ``zone``, as UTC. Local times follow the zone's rules
    on that very day (so 17:00 in Berlin is 15:00 UTC in summer, 16:00 UTC in winter); a
    time the clocks skip counts from after the jump, a repeated one is its first occurrence."""
    return datetime.combine(day, work_end, tzinfo=zone).astimezone(timezone.utc)


def is_digest_day(day: date, anchor: date, days: int) -> bool:
    """Every ``days``-th local day, the last of each cycle that starts on ``anchor``."""
    offset = (day - anchor).days
    return offset >= 0 and offset % days == days - 1


def latest_digest_due(now: datetime, anchor: date, days: int, work_end: time, zone: ZoneInfo) -> datetime | None:
    """The latest end of working hours on a digest day at or before ``now``; None before the first."""
    today = now.astimezone(zone).date()
    for back in range(days + 1):
        day = today - timedelta(days=back)
        if is_digest_day(day, anchor, days):
            moment = end_of_work(day, work_end, zone)
            if moment <= now:
                return moment
    return None


def next_digest_due(now: datetime, anchor: date, days: int, work_end: time, zone: ZoneInfo) -> datetime:
    """The first end of working hours on a digest day after ``now``."""
    today = max(now.astimezone(zone).date(), anchor)
    for ahead in range(2 * days + 1):
        day = today + timedelta(days=ahead)
        if is_digest_day(day, anchor, days) and end_of_work(day, work_end, zone) > now:
            return end_of_work(day, work_end, zone)
    raise AssertionError("a digest day comes within two cycles")


def next_digest_text(agent: Agent, prefs: NotificationPreferences, now: datetime) -> str | None:
    """When the agent's next digest is due, in their zone; None when they get no digests."""
    if prefs.delivery != DIGEST or not prefs.notify_read or prefs.digest_anchor is None:
        return None
    zone = agent_zone(agent)
    return local_time(next_digest_due(now, prefs.digest_anchor, prefs.digest_days, agent.work_end, zone), zone)


# --------------------------------------------------------------------------- the outbox

def queue_notifications(message: Message, changed: Sequence[MessageRecipient], now: datetime) -> list[NotificationItem]:
    """Items for the reply's author about ``changed`` recipients, as their preferences ask.

    Facts already queued are skipped (unique per agent and fact). Does not commit."""
    agent = message.author
    if agent is None or not agent.active:
        return []
    prefs = db.session.get(NotificationPreferences, agent.id)
    if prefs is None:
        return []
    statuses = {r.id: db.session.get(RecipientStatusRow, r.id) for r in message.recipients}
    wanted: list[NotificationItem] = []
    if prefs.notify_read:
        for recipient in changed:
            status = statuses.get(recipient.id)
            if status is not None and status.first_read_at is not None:
                wanted.append(NotificationItem(agent_id=agent.id, kind=READ, key=f"read:{recipient.id}",
                                               message_id=message.id, recipient_id=recipient.id,
                                               happened_at=status.first_read_at, created_at=now))
    dead = [s for s in statuses.values() if s is not None and s.status in _DEAD]
    if prefs.notify_bounce and statuses and len(dead) == len(statuses):
        happened = max((s.problem_at or s.bounced_at or s.failed_at or now) for s in dead)
        wanted.append(NotificationItem(agent_id=agent.id, kind=BOUNCE, key=f"bounce:{message.id}",
                                       message_id=message.id, happened_at=happened, created_at=now))
    return [item for item in wanted if _add_once(item)]


def _add_once(item: NotificationItem) -> bool:
    exists = db.session.scalar(select(NotificationItem.id).where(NotificationItem.agent_id == item.agent_id,
                                                                 NotificationItem.key == item.key))
    if exists is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(item)
    except IntegrityError:  # queued at the same moment by another worker
        return False
    return True


def on_reply_outcome(app: Flask, outcomes: list[tuple[Message, list[MessageRecipient]]]) -> None:
    """``reply_outcome`` receiver (runs after the reports' commit): queue and commit. The
    authors' preferences are read in one query; most agents have none, and are skipped."""
    authors = {message.author_id for message, _ in outcomes if message.author_id is not None}
    opted = set(db.session.scalars(select(NotificationPreferences.agent_id)
                                   .where(NotificationPreferences.agent_id.in_(authors)))) if authors else set()
    now = clock_now()
    queued = [item for message, recipients in outcomes if message.author_id in opted
              for item in queue_notifications(message, recipients, now)]
    if queued:
        db.session.commit()


def connect(app: Flask) -> None:
    reply_outcome.connect(on_reply_outcome, app, weak=False)


# --------------------------------------------------------------------------- the job

@dataclass
class NotifySummary:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    discarded: int = 0
    skipped: str | None = None


def _wants(item: NotificationItem, prefs: NotificationPreferences | None, agent: Agent) -> bool:
    if prefs is None or not agent.active:
        return False
    return prefs.notify_read if item.kind == READ else prefs.notify_bounce


def _new_batch(agent_id: int, key: str, kind: str, now: datetime, covers_until: datetime | None = None) -> NotificationBatch:
    domain = current_app.config["MAIL_DOMAIN"]
    batch = NotificationBatch(agent_id=agent_id, key=key, kind=kind, created_at=now, covers_until=covers_until,
                              mail_message_id=f"notify.{secrets.token_hex(12)}@{domain}")
    db.session.add(batch)
    return batch


def _batch_exists(agent_id: int, key: str) -> bool:
    return db.session.scalar(select(NotificationBatch.id).where(
        NotificationBatch.agent_id == agent_id, NotificationBatch.key == key)) is not None


def form_batches(now: datetime) -> int:
    """Put every due pending item into a batch (one per email); drop unwanted ones. Commits.

    Returns how many items were discarded because the agent turned that notice off."""
    pending = db.session.scalars(select(NotificationItem).where(
        NotificationItem.batch_id.is_(None), NotificationItem.discarded_at.is_(None))
        .order_by(NotificationItem.created_at, NotificationItem.id)).all()
    discarded = 0
    digest_items: dict[int, list[NotificationItem]] = defaultdict(list)
    for item in pending:
        agent = db.session.get(Agent, item.agent_id)
        prefs = db.session.get(NotificationPreferences, item.agent_id)
        if not _wants(item, prefs, agent):
            item.discarded_at = now
            discarded += 1
        elif item.kind == BOUNCE or prefs.delivery == IMMEDIATE:
            _new_batch(item.agent_id, f"item:{item.id}", IMMEDIATE, now).items.append(item)
        else:
            digest_items[item.agent_id].append(item)
    for agent_id, items in digest_items.items():
        _form_digest(db.session.get(Agent, agent_id), db.session.get(NotificationPreferences, agent_id), items, now)
    db.session.commit()
    return discarded


def _form_digest(agent: Agent, prefs: NotificationPreferences, items: list[NotificationItem], now: datetime) -> None:
    zone = agent_zone(agent)
    anchor = prefs.digest_anchor or min(i.created_at for i in items).astimezone(zone).date()
    due = latest_digest_due(now, anchor, prefs.digest_days, agent.work_end, zone)
    if due is None:
        return
    covered = [i for i in items if i.created_at <= due]
    key = f"digest:{due.astimezone(zone).date().isoformat()}"
    if not covered or _batch_exists(agent.id, key):  # late arrivals wait for the next digest
        return
    batch = _new_batch(agent.id, key, DIGEST, now, covers_until=due)
    batch.items.extend(covered)


def mark_outcome(batch: NotificationBatch, result: RecipientResult, now: datetime) -> str:
    """Record what the relay said about one batch and commit: the sent marker."""
    batch.attempts += 1
    if result.accepted:
        batch.sent_at, batch.last_error, batch.next_attempt_at = now, None, None
        outcome = "sent"
    elif result.temporary and batch.attempts < MAX_ATTEMPTS:
        batch.last_error = result.summary[:2000]
        batch.next_attempt_at = now + retry_delay(batch.attempts, 60, 3600)
        outcome = "retrying"
    else:
        batch.failed_at, batch.last_error = now, result.summary[:2000]
        outcome = "failed"
    db.session.commit()
    return outcome


def unsent_batches(now: datetime) -> list[NotificationBatch]:
    return list(db.session.scalars(select(NotificationBatch).where(
        NotificationBatch.sent_at.is_(None), NotificationBatch.failed_at.is_(None),
        (NotificationBatch.next_attempt_at.is_(None)) | (NotificationBatch.next_attempt_at <= now))
        .order_by(NotificationBatch.id)))


def undelivered_notice(agent_id: int) -> NotificationBatch | None:
    """The agent's newest notification email, when it could not be sent (shown on their page)."""
    newest = db.session.scalar(select(NotificationBatch).where(
        NotificationBatch.agent_id == agent_id, NotificationBatch.items.any(),
        (NotificationBatch.sent_at.is_not(None)) | (NotificationBatch.failed_at.is_not(None)))
        .order_by(NotificationBatch.id.desc()).limit(1))
    return newest if newest is not None and newest.failed_at is not None else None


def notify_from() -> str:
    return current_app.config.get("RECEIPTS_NOTIFY_FROM") or f"notify@{current_app.config['MAIL_DOMAIN']}"


def send_due_notifications(now: datetime, transport: Transport | None = None) -> NotifySummary:
    """One run of the notification job: form due batches, send every unsent one, mark each."""
    summary = NotifySummary()
    with exclusive(LOCK_NAME) as lock:
        if lock is None:
            summary.skipped = "another worker is sending notifications"
            return summary
        summary.discarded = form_batches(now)
        transport = transport or transport_for(current_app._get_current_object())
        for batch in unsent_batches(now):
            if not batch.items:  # nothing left to say (its items were deleted with their reply)
                batch.failed_at, batch.last_error = now, "nothing to send"
                db.session.commit()
                continue
            outcome = mark_outcome(batch, _deliver(batch, transport, now), now)
            setattr(summary, outcome, getattr(summary, outcome) + 1)
            lock.renew()
    return summary


def _deliver(batch: NotificationBatch, transport: Transport, now: datetime) -> RecipientResult:
    """Compose and send one batch. One that cannot be composed (an agent's address that is
    not one) fails alone with the reason: the job goes on to the other agents."""
    try:
        mail = compose(batch, now)
        return transport.deliver(mail, DeliveryPlan(envelope_from=notify_from(), recipients=[batch.agent.email]))[0]
    except Exception as exc:  # noqa: BLE001 - one bad notification must not stop the others
        if is_database_outage(exc):
            raise
        log.warning("notification %s could not be composed: %s", batch.id, exc, exc_info=True)
        return RecipientResult(batch.agent.email, False, response=f"could not be composed: {exc}")


def notification_job() -> NotifySummary:
    """The worker's job: :func:`send_due_notifications` at the app clock's time."""
    summary = send_due_notifications(clock_now())
    if summary.sent or summary.failed:
        log.info("notifications: %s", summary)
    return summary


def notification_jobs(app: Flask) -> list[Job]:
    return [Job("receipts-notifications", notification_job, float(app.config["RECEIPTS_NOTIFY_SECONDS"]))]


# --------------------------------------------------------------------------- composing

@dataclass(frozen=True, slots=True)
class Notice:
    headline: str
    ticket: str
    when: str
    url: str
    details: tuple[str, ...] = ()


def local_time(value: datetime, zone: ZoneInfo) -> str:
    return f"{value.astimezone(zone):%a %d %b %Y %H:%M} ({zone.key})"


def _notice(item: NotificationItem, zone: ZoneInfo) -> Notice:
    message = item.message
    ticket = message.ticket
    reference = f"[{ticket.reference(current_app.config['TICKET_PREFIX'])}] {ticket.subject}"
    url = external_url("tickets.thread", ticket_id=ticket.id, _anchor=f"message-{message.id}")
    if item.kind == READ:
        recipient = item.recipient
        return Notice(f"{recipient.display} ({recipient.role.value.upper()}) read your reply.", reference,
                      local_time(item.happened_at, zone), url)
    details = []
    for recipient in message.recipients:
        status = db.session.get(RecipientStatusRow, recipient.id)
        problem = " ".join(p for p in (status.problem_status, status.problem_diagnostic) if p) if status else ""
        details.append(f"{recipient.address}: {problem or 'not delivered'}")
    return Notice("Your reply bounced for every recipient.", reference, local_time(item.happened_at, zone), url,
                  tuple(details))


def _subject(batch: NotificationBatch, notices: list[Notice], zone: ZoneInfo) -> str:
    if batch.kind == DIGEST:
        count = len(notices)
        return f"Delivery digest: {count} update{'s' if count != 1 else ''} to {local_time(batch.covers_until, zone)}"
    item = batch.items[0]
    reference = notices[0].ticket.split("]")[0] + "]"
    if item.kind == READ:
        return f"{reference} {item.recipient.name or item.recipient.address} read your reply"
    return f"{reference} Your reply bounced for every recipient"


def compose(batch: NotificationBatch, now: datetime) -> EmailMessage:
    """The notification email for ``batch``: plain text and the same in HTML, linking to the tickets."""
    agent = batch.agent
    zone = agent_zone(agent)
    notices = [_notice(item, zone) for item in batch.items]
    mail = EmailMessage()
    mail["From"] = formataddr(("Help desk notifications", notify_from()))
    mail["To"] = mailbox_header(agent.name, agent.email, "agent's")
    mail["Subject"] = one_line(_subject(batch, notices, zone))
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = f"<{batch.mail_message_id}>"
    mail["Auto-Submitted"] = "auto-generated"
    mail["X-Auto-Response-Suppress"] = "All"
    context = {"agent": agent, "notices": notices, "digest": batch.kind == DIGEST, "subject": mail["Subject"],
               "preferences_url": external_url("receipts_tracking.preferences")}
    mail.set_content(render_template("receipts/tracking/mail/notification.txt", **context))
    mail.add_alternative(render_template("receipts/tracking/mail/notification.html", **context), subtype="html")
    return mail
