"""The poll's parse worker (receipts_plugin.inbound.parse_ahead): the same reports as a parse
here, none for the first chunk (a small poll starts no process), and a worker that dies or
cannot parse a mail leaves the mail to the poll's own parse: nothing is lost."""
from __future__ import annotations

import os

from receipts_plugin.inbound.parse_ahead import ParseAhead, parse_all
from receipts_plugin.report_mail import mdn, postfix_dsn
from receipts_plugin.reports import parse_report


def reports(count: int) -> list[tuple[int, bytes]]:
    mails = []
    for n in range(count):
        if n % 2:
            raw = postfix_dsn(to="bounces@example.test", recipient=f"user{n}@customer.test",
                              original_message_id=f"<m{n}@example.test>")
        else:
            raw = mdn(sender=f"user{n}@customer.test", final_recipient=f"user{n}@customer.test",
                      original_message_id=f"<m{n}@example.test>")
        mails.append((n + 1, raw))
    return mails


def die(raws: list[bytes]) -> list:
    os._exit(3)  # the worker process dies mid-chunk, as a crash or the OOM killer would have it


def choke_on_second(raws: list[bytes]) -> list:
    if len(raws) > 1:
        raws = [raws[0], b"", *raws[2:]]
    return [parse_report(raw) if raw else None for raw in raws]


def test_the_worker_parses_every_chunk_but_the_first_as_the_poll_would():
    mails = reports(6)
    with ParseAhead() as ahead:
        ahead.submit(mails[:2])
        ahead.submit(mails[2:])
        assert [ahead.report(uid) for uid, _ in mails[:2]] == [None, None]  # the first chunk: parsed by the poll
        assert [ahead.report(uid) for uid, _ in mails[2:]] == [parse_report(raw) for _, raw in mails[2:]]
        assert ahead.report(4) is None  # handed over once


def test_a_mail_the_parser_rejects_in_the_worker_is_left_to_the_poll():
    assert parse_all([b"\xff" * 10, reports(1)[0][1]])[1] is not None
    mails = reports(4)
    with ParseAhead(parse=choke_on_second) as ahead:
        ahead.submit([])
        ahead.submit(mails)
        got = [ahead.report(uid) for uid, _ in mails]
    assert got[1] is None and [got[0], *got[2:]] == [parse_report(raw) for n, (_, raw) in enumerate(mails) if n != 1]


def test_a_dead_worker_leaves_every_mail_to_the_poll_and_starts_no_other(caplog):
    mails = reports(6)
    with ParseAhead(parse=die) as ahead:
        ahead.submit([])
        ahead.submit(mails[:3])
        assert [ahead.report(uid) for uid, _ in mails[:3]] == [None, None, None]
        ahead.submit(mails[3:])  # after a failure, the poll parses everything itself
        assert [ahead.report(uid) for uid, _ in mails[3:]] == [None, None, None]
    assert "the parse worker failed" in caplog.text
