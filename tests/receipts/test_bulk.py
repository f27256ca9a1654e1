"""Recording reports a batch at a time (the poller's fast path): the same rows and effects as
one at a time, a fixed number of statements per batch, and the fallbacks (a batch that fails
is recorded mail by mail, quarantining only the culprit), and each report's raw mail kept in
its row."""
from __future__ import annotations

import hashlib
import random
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

import receipts_plugin.inbound.pipeline as ingest_module
from helpdesk.extensions import db
from helpdesk.mail.outgoing import send_message
from helpdesk.models import Channel, Contact, Ticket, TicketStatus
from receipts_plugin.inbound.pipeline import Origin, ingest, read_mail, record_chunk
from receipts_plugin.models import DeliveryEventRow, RecipientStatusRow, StoredReport, TrackedMessage
from receipts_plugin.inbound.consequences import reply_outcome
from receipts_plugin.poller import poll_mailbox
from receipts_plugin.sending import verp_address
from tests.helpers import make_reply, make_ticket
from tests.receipts.builders import authenticated, exchange_mdn, mdn, postfix_dsn, read_notice
from tests.receipts.factories import receipt_to
from tests.receipts.poller_support import (  # noqa: F401 - fixtures
    BOUNCES,
    PROCESSED,
    add_mailbox,
    append_all,
    count,
    folder_size,
    report_mix,
    sent_replies,
    stack,
)
from tests.receipts.test_queries import counted_statements

FROZEN = datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)


def varied_reports(app, desk) -> list[bytes]:
    """Every kind of outcome: report_mix's six per reply, a reply that bounces for everyone
    (its ticket is flagged and reopened, its contact marked), delays (one by its ENVID, signed
    by the recipient's domain), a deletion, a declined receipt that nothing binds to its
    recipient (unverified), an Exchange receipt, a bounce with no date (recorded at "now"),
    and mail that is no report at all."""
    support, _, agent = desk
    support.reopen_on_bounce = True
    replies = sent_replies(desk, 4)
    ticket = make_ticket(agent, support, requester="gone@customer.test", channel=Channel.EMAIL)
    doomed = make_reply(ticket, agent, to="gone@customer.test")
    send_message(doomed.id)
    first, second = replies[0], replies[1]
    alice = next(r for r in first.recipients if r.address == "alice@customer.test")
    envid = db.session.get(TrackedMessage, second.id).envid
    raws = report_mix(app, replies) + [
        postfix_dsn(to=verp_address(app, doomed.id, doomed.recipients[0].id), recipient="gone@customer.test"),
        postfix_dsn(to=verp_address(app, first.id, alice.id), recipient="alice@customer.test", action="delayed",
                    status="4.2.2"),
        authenticated(postfix_dsn(to=BOUNCES, recipient="bob@customer.test", action="delayed", status="4.4.1",
                                  envid=envid), "customer.test", reporter="mx.customer.test"),
        with_a_stranger(postfix_dsn(to=verp_address(app, second.id, carol(second).id),
                                    recipient="carol@customer.test", action="delivered", status="2.0.0", envid=envid)),
        mdn(sender="carol@customer.test", final_recipient="carol@customer.test",
            original_message_id=second.message_id, disposition="deleted", to=receipt_to(app, second, CAROL)),
        mdn(sender="bob@customer.test", final_recipient="bob@customer.test",
            original_message_id=first.message_id, disposition="denied", to=BOUNCES),
        exchange_mdn(sender="carol@customer.test", display_name="Carol", subject=first.subject,
                     in_reply_to=first.message_id, to=receipt_to(app, first, CAROL)),
        read_notice(sender="nobody@elsewhere.test", subject="Something", in_reply_to="unknown@example.test"),
        b"From: someone@customer.test\r\nSubject: hello\r\nMessage-ID: <plain@customer.test>\r\n\r\nJust mail.\r\n",
    ]
    raws.append(raws[-3])  # a copy in the same batch
    random.Random(8).shuffle(raws)
    return raws


CAROL = "carol@customer.test"


def carol(reply):
    return next(r for r in reply.recipients if r.address == CAROL)


def with_a_stranger(dsn: bytes) -> bytes:
    """The DSN with a second recipient line, about someone the message never went to."""
    return dsn.replace(b"\r\n\r\n--B\r\nContent-Type: text/rfc822-headers",
                       b"\r\n\r\nFinal-Recipient: rfc822; stranger@customer.test\r\nAction: failed\r\n"
                       b"Status: 5.1.1\r\n\r\n--B\r\nContent-Type: text/rfc822-headers", 1)


def recorded() -> dict:
    """Every row recording changes, ids and recording times aside (events name their report
    by its identity)."""
    db.session.expire_all()

    def columns(row, skip=()) -> tuple:
        return tuple((c.key, getattr(row, c.key)) for c in row.__table__.columns if c.key not in skip)

    identity = {r.id: r.identity for r in db.session.scalars(select(StoredReport))}
    return {
        "reports": sorted(columns(r, ("id", "received_at")) for r in db.session.scalars(select(StoredReport))),
        "events": sorted((*columns(e, ("id", "recorded_at", "report_id")), identity.get(e.report_id))
                         for e in db.session.scalars(select(DeliveryEventRow))),
        "statuses": sorted(columns(s, ("updated_at",)) for s in db.session.scalars(select(RecipientStatusRow))),
        "contacts": sorted((c.email, c.undeliverable_since, c.undeliverable_reason, c.reached_at)
                           for c in db.session.scalars(select(Contact))),
        "tickets": sorted((t.id, t.status, t.attention) for t in db.session.scalars(select(Ticket))),
    }


def forget() -> None:
    for model in (DeliveryEventRow, RecipientStatusRow, StoredReport):
        db.session.execute(delete(model))
    db.session.execute(update(Contact).values(undeliverable_since=None, undeliverable_reason=None, reached_at=None))
    db.session.execute(update(Ticket).values(attention=None, status=TicketStatus.PENDING))
    db.session.commit()


def announced(app) -> set[tuple[int, int]]:
    """(message id, recipient id) named by ``reply_outcome`` from now on (filled as sent)."""
    seen: set[tuple[int, int]] = set()

    def receive(sender, outcomes):
        seen.update((message.id, recipient.id) for message, recipients in outcomes for recipient in recipients)

    reply_outcome.connect(receive, app, weak=False)
    return seen


def in_batches(raws: list[bytes], size: int) -> list[str]:
    outcomes = []
    for start in range(0, len(raws), size):
        chunk = [read_mail(raw, Origin("test")) for raw in raws[start:start + size]]
        outcomes += [result.outcome for result in record_chunk(chunk)]
    return outcomes


def test_a_batch_records_exactly_what_one_report_at_a_time_records(app, desk, monkeypatch, our_mx):
    monkeypatch.setattr(ingest_module, "utcnow", lambda: FROZEN)  # reports without a usable date
    raws = varied_reports(app, desk)
    signals = announced(app)
    one_by_one = [ingest(raw, "test").outcome for raw in raws]
    expected, expected_signals = recorded(), set(signals)
    assert {"matched", "partial", "unmatched", "suspect", "ignored", "duplicate"} <= set(one_by_one)
    assert any(t[2] for t in expected["tickets"]) and any(c[1] for c in expected["contacts"])
    assert any(dict(e[:-1])["kind"].startswith("unverified-") for e in expected["events"])

    for size in (7, len(raws)):
        forget()
        signals.clear()
        assert in_batches(raws, size) == one_by_one
        assert recorded() == expected
        assert signals == expected_signals


def test_a_batch_costs_the_same_statements_for_6_and_36_reports(app, desk):
    few, many = report_mix(app, sent_replies(desk, 1)), report_mix(app, sent_replies(desk, 6))
    counts = []
    for raws in (few, many):
        chunk = [read_mail(raw, Origin("test")) for raw in raws]
        db.session.commit()
        with counted_statements() as statements:
            record_chunk(chunk)
        counts.append(len(statements))
    assert count(StoredReport) == 5 + 30
    assert counts[0] == counts[1] and counts[0] <= 20, counts


@pytest.mark.mailstack
def test_a_batch_that_fails_is_recorded_mail_by_mail_and_only_the_culprit_is_quarantined(
        app, stack, desk, monkeypatch):
    raws = report_mix(app, sent_replies(desk, 2)) + [
        read_notice(sender="bob@customer.test", subject="poison", in_reply_to="whatever@example.test")]
    real_summarise = ingest_module.summarise

    def summarise(report):
        if "poison" in (report.subject or ""):
            raise ValueError("a parser result nobody expected")
        return real_summarise(report)

    monkeypatch.setattr(ingest_module, "summarise", summarise)
    append_all(stack, raws)

    summary = poll_mailbox(add_mailbox(stack))

    assert summary.error is None
    assert (summary.fetched, summary.outcomes["quarantined"], summary.outcomes["duplicate"]) == (13, 1, 2)
    quarantined = db.session.scalars(select(StoredReport).where(StoredReport.outcome == "quarantined")).one()
    assert "ValueError: a parser result nobody expected" in quarantined.reason
    assert count(StoredReport) == 13 - 2 and count(DeliveryEventRow) == 2 * 4
    assert folder_size(stack, "INBOX") == 0 and folder_size(stack, PROCESSED) == 13


@pytest.mark.mailstack
def test_a_polls_raw_copies_are_kept_in_the_report_rows_and_no_file_is_written(app, stack, desk):
    """The raw mail is written in the batch's transaction: nothing to write and flush per report."""
    raws = report_mix(app, sent_replies(desk, 2))  # 12 mails, the 4th is a copy of the 3rd
    append_all(stack, raws)

    summary = poll_mailbox(add_mailbox(stack))

    assert summary.error is None and summary.fetched == 12
    rows = db.session.scalars(select(StoredReport)).all()
    assert sorted(row.raw for row in rows) == sorted(set(raws))
    assert all(row.raw_sha256 == hashlib.sha256(row.raw).hexdigest() and row.size == len(row.raw) for row in rows)
    assert [path for path in Path(app.config["ATTACHMENT_DIR"]).rglob("*") if path.is_file()] == []
