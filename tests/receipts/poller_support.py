"""Shared pieces of the poller tests: the app wired to the real mail stack, a watched
bounce-and-receipt mailbox, and small readers of the recorded state.

Test modules import the fixtures they need by name (``from tests.receipts.poller_support
import app_config, stack``); importing ``app_config`` points that module's app at the stack.
"""
from __future__ import annotations

import re
import time
from collections.abc import Collection
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from helpdesk.extensions import db
from helpdesk.mail.outgoing import send_message
from flask import Flask

from helpdesk.models import Channel, MailboxCheckpoint, Message, RecipientRole, Ticket
from receipts_plugin.models import DeliveryEventRow, Mailbox, RecipientStatusRow, StoredReport, TrackedMessage
from receipts_plugin.sending import receipt_address, verp_address
from tests.helpers import make_reply, make_ticket, relay_config, stack_cafile
from tests.mailstack import MailStack
from tests.receipts.builders import mdn, postfix_dsn, read_notice

BOUNCES = "bounces@example.test"
PROCESSED = "Processed"
CORPUS = Path(__file__).resolve().parents[1] / "corpus"
ORIGINAL_ID = re.compile(rb"^(Original-Message-ID|In-Reply-To):[^\r\n]*", re.I | re.M)


@pytest.fixture
def app_config(app_config, clean_mailboxes):
    """Replies go out through the stack's Postfix with VERP return paths bounces+TOKEN@."""
    stack = clean_mailboxes
    return {**app_config, **relay_config(stack), "RECEIPTS_ADDRESS": BOUNCES}


@pytest.fixture
def stack(clean_mailboxes) -> MailStack:
    return clean_mailboxes


def add_mailbox(stack: MailStack, *, user: str = BOUNCES, folder: str = "INBOX",
                processed_folder: str | None = PROCESSED, **fields) -> Mailbox:
    """A watched mailbox over IMAPS, verified against the stack's own CA."""
    values = dict(name=user.split("@")[0], host=stack.imap_host, port=stack.imaps_port, security="ssl",
                  username=user, password=stack.password, cafile=stack_cafile(stack), folder=folder,
                  processed_folder=processed_folder)
    mailbox = Mailbox(**{**values, **fields})
    db.session.add(mailbox)
    db.session.commit()
    return mailbox


def send_reply(desk, to: str, cc: str = "", subject: str = "Printer on fire") -> Message:
    """An agent's reply on an email ticket of the Support department (receipts on), sent."""
    support, _, agent = desk
    ticket = make_ticket(agent, support, requester="Alice <alice@customer.test>", subject=subject,
                         channel=Channel.EMAIL)
    reply = make_reply(ticket, agent, to=to, cc=cc)
    send_message(reply.id)
    return reply


def status_of(reply: Message, address: str) -> str | None:
    recipient = next(r for r in reply.recipients if r.address == address)
    row = db.session.get(RecipientStatusRow, recipient.id)
    return row.status if row else None


def wait_for_count(stack: MailStack, count: int, user: str = BOUNCES, folder: str = "INBOX",
                   timeout: float = 20.0) -> None:
    """Until ``folder`` holds at least ``count`` messages (real bounces take a moment)."""
    deadline = time.monotonic() + timeout
    while True:
        with stack.imap(user) as client:
            if client.folder_exists(folder):
                held = client.folder_status(folder, ["MESSAGES"])[b"MESSAGES"]
                if held >= count:
                    return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{user}/{folder} holds {held} messages, not {count}; "
                               f"Postfix log tail:\n{stack.postfix_log()[-2000:]}")
        time.sleep(0.1)


def folder_size(stack: MailStack, folder: str, user: str = BOUNCES) -> int:
    with stack.imap(user) as client:
        if not client.folder_exists(folder):
            return 0
        return client.folder_status(folder, ["MESSAGES"])[b"MESSAGES"]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def ticket_count() -> int:
    return count(Ticket)


def recorded_state() -> dict:
    """Everything a poll may change, comparable between two runs (ids aside)."""
    db.session.rollback()  # see what other processes committed
    statuses = sorted((row.recipient.address, row.recipient.message.message_id, row.status)
                      for row in db.session.scalars(select(RecipientStatusRow)))
    events = sorted((e.recipient_id, e.kind, e.key) for e in db.session.scalars(select(DeliveryEventRow)))
    reports = sorted((r.identity, r.outcome, r.kind) for r in db.session.scalars(select(StoredReport)))
    return {"statuses": statuses, "events": events, "reports": reports}


def sent_replies(desk, count: int) -> list[Message]:
    """``count`` replies to To alice, CC bob and BCC carol, tracked for receipts (sent to
    whatever transport the app has: the outbox unless SMTP_HOST is set)."""
    support, _, agent = desk
    replies = []
    for n in range(count):
        ticket = make_ticket(agent, support, subject=f"Question {n}", channel=Channel.EMAIL)
        reply = make_reply(ticket, agent, to="alice@customer.test", cc="bob@customer.test", bcc="carol@customer.test")
        send_message(reply.id)
        replies.append(reply)
    return replies


def report_mix(app: Flask, replies: list[Message]) -> list[bytes]:
    """Six reports per reply (to a To, a CC and a BCC recipient, as ``sent_replies`` makes
    them), as servers and clients write them: the BCC recipient's bounce and the To
    recipient's success DSN (with the ENVID), each to that recipient's return path; the To
    recipient's read receipt, delivered twice (the same bytes), and the CC recipient's plain
    "Read:" notice, each to that recipient's receipt address; and a forged receipt from
    someone who got nothing."""
    raws = []
    for reply in replies:
        to, cc, bcc = (next(r for r in reply.recipients if r.role is role)
                       for role in (RecipientRole.TO, RecipientRole.CC, RecipientRole.BCC))
        envid = db.session.get(TrackedMessage, reply.id).envid
        receipt = mdn(sender=f"{to.address.split('@')[0].title()} <{to.address}>", final_recipient=to.address,
                      original_message_id=reply.message_id, to=receipt_address(app, reply.id, to.id))
        raws += [
            postfix_dsn(to=verp_address(app, reply.id, bcc.id), recipient=bcc.address),
            postfix_dsn(to=verp_address(app, reply.id, to.id), recipient=to.address, action="delivered",
                        status="2.0.0", envid=envid),
            receipt,
            receipt,
            read_notice(sender=cc.address, subject=reply.subject, in_reply_to=reply.message_id,
                        to=receipt_address(app, reply.id, cc.id)),
            mdn(sender="mallory@evil.test", final_recipient="mallory@evil.test",
                original_message_id=reply.message_id, to=BOUNCES),
        ]
    return raws


def referring_corpus(app: Flask, replies: list[Message], count: int) -> list[bytes]:
    """Corpus reports rewritten to be about our replies: delivered to a recipient's VERP
    address (as Dovecot's LMTP writes Delivered-To) and naming the reply's Message-ID."""
    files = [p.read_bytes() for p in sorted(CORPUS.rglob("*.eml"))]
    out = []
    for n in range(count):
        reply = replies[n % len(replies)]
        recipient = reply.recipients[n % len(reply.recipients)]
        raw = ORIGINAL_ID.sub(lambda m: m.group(1) + b": <" + reply.message_id.encode() + b">", files[n % len(files)])
        out.append(f"Delivered-To: {verp_address(app, reply.id, recipient.id)}\r\n".encode() + raw)
    return out


def forget_reports(message_ids: Collection[int] | None = None) -> None:
    """Back to "nothing read yet": no reports or checkpoints, and no events or statuses (of
    ``message_ids`` only, when given: the rest of the database keeps its own)."""
    for model in (DeliveryEventRow, RecipientStatusRow):
        query = delete(model)
        if message_ids is not None:
            query = query.where(model.message_id.in_(list(message_ids)))
        db.session.execute(query)
    for model in (StoredReport, MailboxCheckpoint):
        db.session.execute(delete(model))
    db.session.commit()


def append_all(stack: MailStack, raws: list[bytes], user: str = BOUNCES, folder: str = "INBOX",
               chunk: int = 200) -> None:
    """APPEND many mails quickly (MULTIAPPEND, one connection)."""
    with stack.imap(user) as client:
        if not client.folder_exists(folder):
            client.create_folder(folder)
        for start in range(0, len(raws), chunk):
            client.multiappend(folder, raws[start:start + chunk])
