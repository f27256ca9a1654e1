"""Sending stored outbound messages: one attempt, retries with backoff, never twice per recipient.

A reply is stored queued and the worker's send job (:func:`send_due`) sends it: a web request
never talks to an SMTP relay (:func:`hand_over`), so a slow relay holds no web thread, and a
reply is never lost while the worker is down (the queue is the ``message`` table).

A message is claimed before an attempt (a compare-and-set on ``next_attempt_at``), so two
workers never send it at once; only recipients still pending are attempted, and each
recipient's outcome is committed with the attempt, so a retry never repeats a recipient
that the relay already accepted or refused.
"""
from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import or_, select, update

from ..extensions import db, is_database_outage
from ..models import DeliveryState, Message, MessageRecipient, SendState, utcnow
from ..services.contacts import mark_undeliverable
from ..services.events import after_commit
from ..signals import message_before_send, message_sent
from .compose import build_email
from .transport import DeliveryPlan, OutboxTransport, RecipientResult, SmtpSettings, SmtpTransport, Transport

log = logging.getLogger(__name__)

#: How long a claimed message is reserved for the worker that claimed it.
CLAIM_LEASE = timedelta(minutes=5)
#: How often :func:`hand_over` looks whether the worker has tried the reply yet.
SEND_WAIT_STEP = 0.1


def transport_for(app: Flask) -> Transport:
    config = app.config
    if not config.get("SMTP_HOST"):
        return OutboxTransport(config["OUTBOX_DIR"])
    return SmtpTransport(SmtpSettings(
        host=config["SMTP_HOST"], port=int(config["SMTP_PORT"]), security=config["SMTP_SECURITY"],
        username=config.get("SMTP_USERNAME"), password=config.get("SMTP_PASSWORD"),
        cafile=config.get("SMTP_CAFILE"), verify=bool(config.get("SMTP_VERIFY_CERT", True)),
        timeout=float(config["SMTP_TIMEOUT"]), local_hostname=config.get("SMTP_LOCAL_HOSTNAME"),
    ))


def retry_delay(attempts: int, base: float, cap: float, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter: base * 2^(n-1), capped, times a random 0.5-1.0."""
    ceiling = min(cap, base * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=ceiling * (0.5 + (rng or random).random() / 2))


@dataclass(frozen=True, slots=True)
class AttemptReport:
    message_id: int
    state: SendState
    results: tuple[RecipientResult, ...]


def claim(message_id: int, now: datetime) -> bool:
    """Reserve a queued, due message for this worker; False if someone else has it."""
    claimed = db.session.execute(
        update(Message)
        .where(Message.id == message_id, Message.send_state == SendState.QUEUED,
               or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now))
        .values(next_attempt_at=now + CLAIM_LEASE)
    ).rowcount
    db.session.commit()
    return claimed == 1


def send_message(message_id: int, now: datetime | None = None) -> AttemptReport | None:
    """Make one delivery attempt of a queued message if it is due; None if not ours to send."""
    now = now or utcnow()
    if not claim(message_id, now):
        return None
    message = db.session.get(Message, message_id)
    pending = [r for r in message.recipients if r.delivery_state is DeliveryState.PENDING]
    app = current_app._get_current_object()
    transport = transport_for(app)
    results = _attempt(app, transport, message, pending) if pending else []
    _record(message, pending, results, transport.name, now)
    state = message.send_state
    after_commit(lambda: message_sent.send(app, message=message, results=results, transport=transport.name))
    db.session.commit()
    return AttemptReport(message_id, state, tuple(results))


def _attempt(app: Flask, transport: Transport, message: Message,
             pending: list[MessageRecipient]) -> list[RecipientResult]:
    """Compose the email and deliver it to the pending recipients. A message that cannot be
    composed or handed over fails alone, with the reason for each of them (temporary only
    when reading its stored files failed, as with a share not mounted yet), so the send job
    goes on to the next message instead of stopping at this one for ever."""
    plan = DeliveryPlan(envelope_from=app.config.get("ENVELOPE_FROM") or message.from_address,
                        recipients=[r.address for r in pending])
    stage = "composed"
    try:
        message_before_send.send(app, message=message, plan=plan)
        mail = build_email(message, message.from_name)
        stage = "sent"
        return transport.deliver(mail, plan)
    except Exception as exc:  # noqa: BLE001 - one bad message must not stop the others
        if is_database_outage(exc):
            raise
        log.warning("message %s could not be %s: %s", message.id, stage, exc, exc_info=True)
        reason = f"could not be {stage}: {exc}"
        return [RecipientResult(r.address, False, temporary=isinstance(exc, OSError), response=reason)
                for r in pending]


def _record(message: Message, pending: list[MessageRecipient], results: list[RecipientResult],
            transport: str, now: datetime) -> None:
    config = current_app.config
    by_address = {r.address: r for r in results}
    message.send_attempts += 1
    give_up = message.send_attempts >= int(config["SEND_MAX_ATTEMPTS"])
    for recipient in pending:
        result = by_address[recipient.address]
        recipient.last_attempt_at = now
        recipient.smtp_code = result.code
        recipient.smtp_response = result.response[:2000]
        if result.accepted:
            recipient.delivery_state = DeliveryState.OUTBOX if transport == "outbox" else DeliveryState.ACCEPTED
            recipient.accepted_at = now
        elif not result.temporary or give_up:
            recipient.delivery_state = DeliveryState.REFUSED
            if give_up and result.temporary:
                recipient.smtp_response = f"gave up after {message.send_attempts} attempts: {result.summary}"
            elif _is_bad_mailbox(result):
                mark_undeliverable(recipient.address, f"refused at send time: {result.summary}", now)
    still_pending = [r for r in message.recipients if r.delivery_state is DeliveryState.PENDING]
    failures = [by_address[r.address] for r in pending if not by_address[r.address].accepted]
    message.last_error = failures[0].summary if failures else None
    if still_pending:
        message.send_state = SendState.QUEUED
        message.next_attempt_at = now + retry_delay(
            message.send_attempts, float(config["SEND_RETRY_BASE_SECONDS"]), float(config["SEND_RETRY_MAX_SECONDS"]))
        return
    message.next_attempt_at = None
    states = {r.delivery_state for r in message.recipients}
    if states <= {DeliveryState.REFUSED}:
        message.send_state = SendState.FAILED
    else:
        message.send_state = SendState.OUTBOX if transport == "outbox" else SendState.SENT
        message.sent_at = message.sent_at or now


def _is_bad_mailbox(result: RecipientResult) -> bool:
    """A permanent refusal that says the mailbox does not exist (RFC 3463 X.1.x)."""
    return result.code in (550, 551, 553) and " 5.1." in f" {result.response}"


def hand_over(message_id: int) -> None:
    """What the web request does with the reply it has just stored. With no relay (the outbox
    folder: a local file, nothing to wait for) it is written at once. Otherwise it stays queued
    for the worker, whose first attempt this waits for at most ``SEND_WAIT_SECONDS`` by reading
    the row (never the relay), so that a prompt worker's answer is on the page the agent
    comes back to; past that the page says "Sending..." and shows the answer when it comes."""
    config = current_app.config
    if not config.get("SMTP_HOST"):
        send_message(message_id)
        return
    deadline = time.monotonic() + float(config["SEND_WAIT_SECONDS"])
    while time.monotonic() < deadline:
        time.sleep(SEND_WAIT_STEP)
        db.session.rollback()  # a fresh read of what the worker committed
        if db.session.scalar(select(Message.send_attempts).where(Message.id == message_id)):
            return


def due_message_ids(now: datetime, limit: int = 100) -> list[int]:
    return list(db.session.scalars(
        select(Message.id)
        .where(Message.send_state == SendState.QUEUED,
               or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now))
        .order_by(Message.created_at, Message.id).limit(limit)
    ))


def send_due(now: datetime | None = None) -> list[AttemptReport]:
    """Attempt every due queued message, oldest first (the retry job)."""
    now = now or utcnow()
    reports = []
    for message_id in due_message_ids(now):
        report = send_message(message_id, now)
        if report is not None:
            reports.append(report)
    return reports
