"""The database restarts during a poll (PostgreSQL): every connection dies mid-batch. The
poll stops without quarantining anything, the mail stays on the server, the error backs
off, and the next poll applies each report exactly once."""
from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

import receipts_plugin.inbound.pipeline as bulk
from helpdesk.extensions import db
from helpdesk.models import utcnow
from receipts_plugin.models import DeliveryEventRow, StoredReport
from receipts_plugin.poller import poll_mailbox
from tests.receipts.poller_support import (  # noqa: F401 - fixtures
    PROCESSED,
    add_mailbox,
    append_all,
    count,
    folder_size,
    report_mix,
    sent_replies,
    stack,
)

pytestmark = [pytest.mark.mailstack]
APPLICATION = "helpdesk-restart-test"


@pytest.fixture
def app_config(app_config):
    if not app_config["DATABASE_URL"].startswith("postgresql"):
        pytest.skip("a database server restart needs PostgreSQL")
    options = {"pool_pre_ping": True, "connect_args": {"application_name": APPLICATION}}
    return {**app_config, "SQLALCHEMY_ENGINE_OPTIONS": options}


def kill_our_connections(url: str) -> int:
    """What a restart does to the app: every connection it holds is cut."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as admin:
        return len(admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                                 (APPLICATION,)).fetchall())


def test_the_database_restarting_mid_poll_loses_nothing_and_quarantines_nothing(app, stack, desk, monkeypatch):
    app.config["RECEIPTS_BATCH_SIZE"] = 10
    raws = report_mix(app, sent_replies(desk, 5))  # 30 mails, 25 distinct reports
    append_all(stack, raws)
    mailbox = add_mailbox(stack)
    real_record = bulk.record_chunk
    batches = []

    def record_with_a_restart(mails):
        batches.append(1)
        if len(batches) == 2:  # the second batch: the first one is committed and moved
            assert kill_our_connections(app.config["DATABASE_URL"]) >= 1
        return real_record(mails)

    monkeypatch.setattr(bulk, "record_chunk", record_with_a_restart)
    before = utcnow()
    first = poll_mailbox(mailbox)
    monkeypatch.setattr(bulk, "record_chunk", real_record)

    assert first.error and "database unavailable" in first.error
    assert first.outcomes["quarantined"] == 0 and count(StoredReport) < len(raws) - 5
    db.session.refresh(mailbox)
    assert mailbox.failures == 1 and mailbox.retry_at > before
    assert folder_size(stack, "INBOX") == len(raws) - 10  # only the first batch was moved

    second = poll_mailbox(mailbox, now=mailbox.retry_at + timedelta(seconds=1))
    assert second.error is None and second.outcomes["quarantined"] == 0
    assert count(StoredReport) == len(raws) - 5  # each distinct report once
    assert db.session.query(StoredReport).filter_by(outcome="quarantined").count() == 0
    assert count(DeliveryEventRow) == 5 * 4
    assert folder_size(stack, "INBOX") == 0 and folder_size(stack, PROCESSED) == len(raws)
