"""Two processes recording events for the same recipient at once: the sender (our relay
accepted the reply) and the poller (a bounce that came back within milliseconds, as a local
unknown user's does). Each must fold the other's event into the status, and neither may fail
on the status row the other inserted (PostgreSQL, READ COMMITTED: SQLite serializes writers)."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from helpdesk.extensions import db
from helpdesk.models import Channel, MessageRecipient, utcnow
from receipts_plugin.inbound import consequences
from receipts_plugin.inbound.consequences import EventInput, record_events
from receipts_plugin.vocabulary import EventKind, EventSource
from tests.helpers import make_reply, make_ticket
from tests.receipts.poller_support import status_of


def test_the_relays_answer_and_a_bounce_recorded_at_once_both_count(app, desk, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer at a time: the PostgreSQL pass covers it")
    support, _, agent = desk
    ticket = make_ticket(agent, support, subject="Question", channel=Channel.EMAIL)
    reply = make_reply(ticket, agent, to="nobody@customer.test")
    recipient_id, sent = reply.recipients[0].id, utcnow()
    db.session.commit()
    both_read = threading.Barrier(2)
    real_load_known = consequences.load_known

    def load_known_then_meet(recipients):
        known = real_load_known(recipients)
        try:  # without a lock, both have read "no status row yet" before either writes
            both_read.wait(timeout=1)
        except threading.BrokenBarrierError:
            pass
        return known

    monkeypatch.setattr(consequences, "load_known", load_known_then_meet)
    errors = []

    def record(kind: str, source: str, at) -> None:
        with app.app_context():
            try:
                recipient = db.session.get(MessageRecipient, recipient_id)
                record_events([EventInput(recipient=recipient, kind=kind, source=source, key=f"{source}:{kind}", at=at,
                                          status_code="5.1.1" if kind == EventKind.DSN_FAILED else None)])
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - the test reports it
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=record, args=(EventKind.SMTP_ACCEPTED, EventSource.SMTP, sent)),
               threading.Thread(target=record, args=(EventKind.DSN_FAILED, EventSource.DSN, sent + timedelta(seconds=1)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []
    db.session.rollback()
    assert status_of(reply, "nobody@customer.test") == "bounced"
