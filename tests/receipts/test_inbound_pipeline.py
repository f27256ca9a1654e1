"""The inbound pipeline is the one write path for received mail: the poller, the
support-inbox handler, the CLI and reprocessing all record through ``record_chunk``; a chunk
that fails is retried mail by mail from the mails already parsed; a mail that still fails is
quarantined with its reason; a database outage records nothing and is retried later."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

import receipts_plugin
import receipts_plugin.inbound.pipeline as pipeline
from helpdesk.extensions import db
from receipts_plugin.handlers import on_message_received
from receipts_plugin.inbound.pipeline import Origin, read_mail, reapply, record
from receipts_plugin.models import DeliveryEventRow, StoredReport
from receipts_plugin.poller import poll_mailbox
from tests.receipts.builders import read_notice
from tests.receipts.poller_support import (  # noqa: F401 - fixtures
    add_mailbox,
    append_all,
    count,
    report_mix,
    sent_replies,
    stack,
)

PLUGIN = Path(receipts_plugin.__file__).parent
#: Where rows of reports, events and statuses may be written: the pipeline and its consequences.
WRITERS = {PLUGIN / "inbound" / "pipeline.py", PLUGIN / "inbound" / "consequences.py"}
WRITES = re.compile(r"(?<!class )\b(StoredReport|DeliveryEventRow|RecipientStatusRow)\(|"
                    r"insert\((StoredReport|DeliveryEventRow|RecipientStatusRow)\)")


@pytest.fixture
def chunk_calls(monkeypatch) -> list[int]:
    """The size of each chunk ``record_chunk`` is given (it still records: nothing is patched away)."""
    calls: list[int] = []
    real = pipeline.record_chunk

    def counted(mails):
        calls.append(len(mails))
        return real(mails)

    monkeypatch.setattr(pipeline, "record_chunk", counted)
    return calls


@pytest.fixture
def parses(monkeypatch) -> list[bytes]:
    seen: list[bytes] = []
    real = pipeline.parse_report
    monkeypatch.setattr(pipeline, "parse_report", lambda raw: seen.append(raw) or real(raw))
    return seen


def test_no_module_but_the_pipeline_writes_reports_events_or_statuses():
    writers = {path.relative_to(PLUGIN).as_posix() for path in PLUGIN.rglob("*.py")
               if "migrations" not in path.parts and path not in WRITERS and WRITES.search(path.read_text())}
    assert writers == set()


def test_the_handler_the_cli_and_reprocessing_record_through_record_chunk(app, desk, chunk_calls, tmp_path):
    notice = read_notice(sender="bob@customer.test", subject="Read: hello", in_reply_to="unknown@example.test")
    assert on_message_received(app, None, notice).startswith("receipts: read-notice")
    assert chunk_calls == [1]

    saved = tmp_path / "notice.eml"
    saved.write_bytes(read_notice(sender="carol@customer.test", subject="Read: hi", in_reply_to="other@example.test"))
    result = app.test_cli_runner().invoke(args=["receipts", "inspect", "--apply", str(saved)])
    assert result.exit_code == 0, result.output
    assert chunk_calls == [1, 1] and count(StoredReport) == 2

    reapply(db.session.scalars(select(StoredReport)).first())
    assert chunk_calls == [1, 1, 1] and count(StoredReport) == 2


@pytest.mark.mailstack
def test_the_poller_records_each_chunk_through_record_chunk(app, stack, desk, chunk_calls):
    app.config["RECEIPTS_BATCH_SIZE"] = 5
    raws = report_mix(app, sent_replies(desk, 2))  # 12 mails
    append_all(stack, raws)

    summary = poll_mailbox(add_mailbox(stack))

    assert summary.error is None and summary.fetched == 12
    assert chunk_calls == [5, 5, 2]


def test_a_chunk_that_fails_is_retried_mail_by_mail_without_parsing_again(app, desk, parses, monkeypatch):
    raws = report_mix(app, sent_replies(desk, 1)) + [
        read_notice(sender="bob@customer.test", subject="poison", in_reply_to="whatever@example.test")]
    mails = [read_mail(raw, Origin("test")) for raw in raws]
    assert len(parses) == len(raws)
    real_verdict = pipeline.verdict

    def verdict(report, correlation):
        assert "poison" not in (report.subject or ""), "a report nobody expected"
        return real_verdict(report, correlation)

    monkeypatch.setattr(pipeline, "verdict", verdict)

    done = record(mails)

    assert len(parses) == len(raws)  # nothing parsed a second time
    assert done.stopped is None
    assert [r.outcome for r in done.results][-1] == "quarantined"
    assert "quarantined" not in [r.outcome for r in done.results][:-1]
    quarantined = db.session.scalars(select(StoredReport).where(StoredReport.outcome == "quarantined")).one()
    assert quarantined.reason.startswith("processing failed: AssertionError: a report nobody expected")
    assert quarantined.source == "test" and quarantined.kind == "unknown"
    assert count(DeliveryEventRow) == 4


def test_a_database_outage_records_nothing_and_the_same_mails_are_recorded_on_the_retry(app, desk, monkeypatch):
    raws = report_mix(app, sent_replies(desk, 1))
    mails = [read_mail(raw, Origin("test")) for raw in raws]
    real_judge = pipeline._judge

    def database_away(item, lookup, now) -> None:
        if item.mail.raw == raws[2]:
            raise OperationalError("SELECT ...", {}, ConnectionError("server closed the connection"))
        real_judge(item, lookup, now)

    monkeypatch.setattr(pipeline, "_judge", database_away)
    first = record(mails)
    assert first.stopped == "database unavailable: OperationalError"
    assert first.results == [] and count(StoredReport) == 0 and count(DeliveryEventRow) == 0

    monkeypatch.setattr(pipeline, "_judge", real_judge)
    second = record(mails)
    assert second.stopped is None and len(second.results) == len(raws)
    assert "quarantined" not in [r.outcome for r in second.results]
    assert count(StoredReport) == len(raws) - 1 and count(DeliveryEventRow) == 4  # the 4th mail copies the 3rd
