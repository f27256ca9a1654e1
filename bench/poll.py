"""Benchmark: a full poll of 2,000 reports against a bare IMAPClient fetch of the same mail.

Starts the real mail stack (tests/mailstack), builds a fresh SQLite database through the
migrations, sends replies (to the outbox) so the database holds real messages, then APPENDs
2,000 mixed reports to bounces@'s INBOX: the corpus files (tests/corpus) made to refer to
those messages (a Delivered-To VERP address, an Original-Message-ID), plus DSNs, MDNs and
"Read:" notices from tests/receipts/builders.py. Each round first fetches them bare (SELECT,
SEARCH, one FETCH BODY.PEEK[] of them all, nothing else: a lean client's way, whatever our
batch size) and then polls them for real
(parse, correlate, record, commit, MOVE to Processed, checkpoint), from the same INBOX. It
also times Python's own email package parsing the same mails: a floor for the ratio.

The empty poll is a whole ``poll_mailbox`` (connect, TLS, login, STATUS, logout) on a folder
whose mail was all processed already, in flag mode (processed mail stays in the folder,
flagged: the case where the folder keeps growing), with 10 and with 10,000 messages in it.

Run: ``python bench/poll.py [--reports N] [--rounds N] [--profile] [--database NAME|URL]
[--batch-sizes N,M,...]``.
The last line is ``poll-bench: poll/floor=R poll/fetch=F peak_rss_mb=M empty_poll_ms_10=A
empty_poll_ms_10000=B`` (medians over the rounds), where the floor is the bare fetch plus
Python's own parse of the same mails, measured in the same round. The database is a fresh
SQLite file, or with ``--database`` a PostgreSQL database (a name on the local server, or a
``postgresql://`` URL) that is created for the run and dropped after it: never name one
that holds anything.

``--batch-sizes 100,500`` compares ``RECEIPTS_BATCH_SIZE`` values A/B in the same run: each
round polls once with each (in turn, the order reversed every other round), each poll with its
own floor measured right before and after it, and a line per size gives its medians and the
time from the poll's start to the first batch's new states (``first_state_ms``, sent with
``reply_outcome`` after the first commit). Peak memory is the process's, so one figure for all
sizes: run a size alone for its own.
"""
from __future__ import annotations

import argparse
import cProfile
import logging
import pstats
import resource
import shutil
import statistics
import sys
import time
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from imapclient import IMAPClient  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from helpdesk.extensions import db  # noqa: E402
from receipts_plugin.models import Mailbox  # noqa: E402
from receipts_plugin.poller import poll_mailbox  # noqa: E402
from receipts_plugin.settings import save_switches  # noqa: E402
from receipts_plugin.signals import reply_outcome  # noqa: E402
from tests.helpers import make_agent, make_department  # noqa: E402
from tests.mailstack import MailStack  # noqa: E402
from tests.receipts.poller_support import (  # noqa: E402
    BOUNCES, append_all, forget_reports, referring_corpus, report_mix, sent_replies)

from desk import bench_desk, watched_mailbox  # noqa: E402 - bench/ is first on the path

def bare_fetch(stack: MailStack) -> tuple[float, int]:
    """SELECT, SEARCH, one FETCH BODY.PEEK[] of every UID: the least any poller must do, the
    way a lean client does it (measured against batches of 100, 500 and 1,000: as fast as the
    fastest of them, and it depends on no batch size of ours)."""
    started = time.perf_counter()
    client = IMAPClient(stack.imap_host, port=stack.imaps_port, ssl=True, ssl_context=stack.ssl_context())
    client.login(BOUNCES, stack.password)
    client.select_folder("INBOX")
    uids = client.search(["UID", "1:*"])
    bodies = client.fetch(uids, ["BODY.PEEK[]"])
    assert len(bodies) == len(uids), (len(bodies), len(uids))
    client.logout()
    return time.perf_counter() - started, len(uids)


def stdlib_parse(reports: list[bytes]) -> float:
    """Seconds Python's own email package (compat32, its fastest policy) takes to parse the
    same mails and decode their parts: a floor for any poller written in Python."""
    started = time.perf_counter()
    for raw in reports:
        for part in BytesParser(policy=compat32).parsebytes(raw).walk():
            part.get_payload(decode=True)
    return time.perf_counter() - started


def forget(app) -> None:
    """As before the first poll: no reports, events, statuses, checkpoints or stored files."""
    forget_reports()
    shutil.rmtree(app.config["ATTACHMENT_DIR"], ignore_errors=True)


def empty_poll_ms(mailbox: Mailbox, polls: int = 10) -> float:
    times = []
    for _ in range(polls):
        summary = poll_mailbox(mailbox, force=True)
        assert summary.error is None and summary.fetched == 0, summary.line()
        times.append(summary.seconds * 1000)
    return statistics.median(times)


def filler(count: int) -> list[bytes]:
    return [(f"From: someone@customer.test\r\nTo: {BOUNCES}\r\nSubject: note {n}\r\n"
             f"Message-ID: <filler{n}@customer.test>\r\n\r\nnot a report\r\n").encode() for n in range(count)]


def measured_poll(app, stack: MailStack, mailbox_id: int, reports: list[bytes], run: dict[str, list[float]],
                  profile: bool = False):
    """One poll of ``reports`` from a fresh start, with its floor (the bare fetch right before
    it, Python's parse right after it); appends its figures to ``run``. The poll starts with a
    new database session, as the worker's do: nothing the set-up loaded is in it."""
    forget(app)
    stack.clear(BOUNCES)
    append_all(stack, reports)
    fetch_seconds, fetched = bare_fetch(stack)
    db.session.remove()
    mailbox = db.session.get(Mailbox, mailbox_id)
    first: list[float] = []

    def first_states(sender, **_) -> None:
        first.append(time.perf_counter())

    reply_outcome.connect(first_states, weak=False)
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    started = time.perf_counter()
    try:
        summary = poll_mailbox(mailbox, force=True)
    finally:
        if profiler:
            profiler.disable()
        reply_outcome.disconnect(first_states)
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    assert summary.error is None and summary.fetched == fetched == len(reports), summary.line()
    assert first, "no batch changed a state"
    run["poll"].append(summary.seconds)
    run["fetch"].append(fetch_seconds)
    run["parse"].append(stdlib_parse(reports))
    run["floor"].append(summary.seconds / (fetch_seconds + run["parse"][-1]))
    run["first"].append((first[0] - started) * 1000)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="print the poll's top functions")
    parser.add_argument("--batch-sizes", help="RECEIPTS_BATCH_SIZE values to compare in turn, e.g. 100,500; "
                                              "the last line is the first one's")
    parser.add_argument("--database", help="a PostgreSQL database (name or URL) to create, use and drop; "
                                           "default: a SQLite file")
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    stack = MailStack.start()
    try:
        with bench_desk(args.database, "poll-bench.", PLUGINS=["receipts", "tracking"],
                        MAIL_DOMAIN="example.test") as (app, database_url), app.app_context():
            print(f"database: {make_url(database_url).get_backend_name()}")
            upgrade(revision="heads")
            support = make_department("Support", "support@example.test")
            agent = make_agent("agent@example.test", [support])
            save_switches({support.id})
            replies = sent_replies((support, None, agent), 200)
            built = report_mix(app, replies)
            reports = (built + referring_corpus(app, replies, args.reports))[:args.reports]
            mailbox_id = watched_mailbox(stack).id
            print(f"{len(replies)} replies in the database; {len(reports)} reports, "
                  f"{sum(map(len, reports)) / len(reports):.0f} bytes on average")

            sizes = [int(size) for size in args.batch_sizes.split(",")] if args.batch_sizes else [
                int(app.config["RECEIPTS_BATCH_SIZE"])]
            runs: dict[int, dict[str, list[float]]] = {
                size: {"poll": [], "fetch": [], "parse": [], "floor": [], "first": []} for size in sizes}
            for round_ in range(args.rounds):
                for size in sizes if round_ % 2 == 0 else sizes[::-1]:
                    app.config["RECEIPTS_BATCH_SIZE"] = size
                    run = runs[size]
                    summary = measured_poll(app, stack, mailbox_id, reports, run,
                                            profile=args.profile and round_ == 0 and size == sizes[0])
                    print(f"round {round_ + 1}, batch {size}: bare fetch {run['fetch'][-1]:.3f} s, "
                          f"parse {run['parse'][-1]:.3f} s, poll {run['poll'][-1]:.3f} s = {run['floor'][-1]:.2f} "
                          f"x the floor, first states after {run['first'][-1]:.0f} ms "
                          f"({run['poll'][-1] / len(reports) * 1000:.2f} ms/report): {summary.line()}")
            for size, run in runs.items():
                print(f"batch {size}: poll/floor={statistics.median(run['floor']):.2f} "
                      f"poll/fetch={statistics.median(run['poll']) / statistics.median(run['fetch']):.2f} "
                      f"poll_s={statistics.median(run['poll']):.3f} fetch_s={statistics.median(run['fetch']):.3f} "
                      f"parse_s={statistics.median(run['parse']):.3f} "
                      f"first_state_ms={statistics.median(run['first']):.0f} "
                      f"(floors {' '.join(f'{f:.2f}' for f in run['floor'])})")
            run = runs[sizes[0]]
            ratio = statistics.median(run["poll"]) / statistics.median(run["fetch"])
            print(f"floor: Python's email package alone parses the same mails in {statistics.median(run['parse']):.3f} s "
                  f"= {statistics.median(run['parse']) / statistics.median(run['fetch']):.2f} x the bare fetch")

            app.config["RECEIPTS_BATCH_SIZE"] = sizes[0]
            mailbox = db.session.get(Mailbox, mailbox_id)
            moved_10 = empty_poll_ms(mailbox)
            print(f"empty poll, move mode (INBOX empty, {len(reports)} in Processed): {moved_10:.1f} ms")
            mailbox.processed_folder = None
            db.session.commit()
            empties = {}
            for size in (10, 10_000):
                forget(app)
                stack.clear(BOUNCES)
                append_all(stack, filler(size), chunk=500)
                started = time.perf_counter()
                first = poll_mailbox(mailbox, force=True)
                assert first.fetched == size, first.line()
                print(f"flag mode: processed {size} messages in {time.perf_counter() - started:.2f} s")
                empties[size] = empty_poll_ms(mailbox)
                print(f"empty poll, flag mode, {size} processed messages in the folder: {empties[size]:.1f} ms")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"poll-bench: poll/floor={statistics.median(run['floor']):.2f} poll/fetch={ratio:.2f} peak_rss_mb={rss:.0f} "
              f"empty_poll_ms_10={empties[10]:.1f} empty_poll_ms_10000={empties[10_000]:.1f}")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
