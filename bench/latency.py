"""Benchmark: how long a report takes from the watched mailbox to the API, with the worker in IDLE.

Starts the real mail stack (tests/mailstack) and a fresh database (SQLite, or ``--database``
as bench/poll.py takes it), watches bounces@'s INBOX as the worker does (the plugin's
``idle_watcher``, on its own thread: IDLE, then a poll as soon as Dovecot says something
arrived), and sends ``--replies`` replies one after another through the real Postfix, each
asking for DSNs and a read receipt. For each reply, two reports reach the mailbox: Postfix's
own success DSN (to the reply's signed VERP address), then the recipient's read receipt,
sent over SMTP by the bench to the Disposition-Notification-To of the recipient's copy. A
Sieve rule files a copy of each report, in the same delivery, in a folder the worker never
touches (``Arrivals``): a second IMAP connection IDLEs there and stamps the moment Dovecot
announces each arrival (``EXISTS``; on INBOX itself the worker may take a report out before
the second connection is told of it, and Dovecot then never announces it). The bench then asks the read-info API
(``/api/v1/messages/<id>/read-info``, signed in as the agent) every few milliseconds until
it shows the new state (``delivered``, then ``read``). A report's latency runs from its
arrival to the first answer that shows it: IDLE's notice, the poll (connect, fetch, parse,
record, move), and the API's own answer.

Run: ``python bench/latency.py [--replies N] [--database NAME|URL]``. The last line is
``latency-bench: p50_ms=A p99_ms=B reports=N``.
"""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
import threading
import time
from email import message_from_bytes
from pathlib import Path
import smtplib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from helpdesk.extensions import db  # noqa: E402
from helpdesk.mail.outgoing import send_message  # noqa: E402
from helpdesk.models import Agent, Channel, SendState, Ticket  # noqa: E402
from receipts_plugin.poller import idle_watcher  # noqa: E402
from receipts_plugin.report_mail import mdn  # noqa: E402
from receipts_plugin.settings import save_switches  # noqa: E402
from tests.helpers import login, make_agent, make_department, make_reply, make_ticket, relay_config  # noqa: E402
from tests.mailstack import MailStack  # noqa: E402

from desk import bench_desk, watched_mailbox  # noqa: E402 - bench/ is first on the path

BOUNCES = "bounces@example.test"
CUSTOMER = "alice@customer.test"
ARRIVALS = "Arrivals"  # where each report's copy lands, with the original
API_EVERY = 0.005  # seconds between two asks of the API
WAIT = 30.0  # seconds a report may take before the bench gives up


class Arrivals:
    """Dovecot's announcements of new mail in a folder, stamped as they come (its own IDLE
    connection, as a second client of the mailbox)."""

    def __init__(self, stack: MailStack, user: str, folder: str) -> None:
        self.client = stack.imap(user)
        self.count = int(self.client.select_folder(folder, readonly=True)[b"EXISTS"])
        self.times: list[float] = []
        self.changed = threading.Condition()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="arrivals", daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        self.client.idle()
        while not self.stop.is_set():
            for response in self.client.idle_check(timeout=0.5):
                if len(response) < 2 or not isinstance(response[0], int):
                    continue
                if response[1] == b"EXISTS" and response[0] > self.count:
                    stamp = time.perf_counter()
                    with self.changed:
                        self.times += [stamp] * (response[0] - self.count)
                        self.changed.notify_all()
                    self.count = response[0]
        self.client.idle_done()
        self.client.logout()

    def wait_for(self, total: int) -> float:
        """When the ``total``-th arrival since the start was announced."""
        with self.changed:
            if not self.changed.wait_for(lambda: len(self.times) >= total, WAIT):
                raise TimeoutError(f"{total - len(self.times)} report(s) never reached the mailbox")
            return self.times[total - 1]

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)


def shown(client, message_id: int, state: str) -> float:
    """When the API first showed ``state`` for the message."""
    deadline = time.perf_counter() + WAIT
    while time.perf_counter() < deadline:
        answer = client.get(f"/api/v1/messages/{message_id}/read-info")
        stamp = time.perf_counter()
        if answer.status_code == 200 and answer.get_json()["state"]["state"] == state:
            return stamp
        time.sleep(API_EVERY)
    raise TimeoutError(f"message {message_id} never showed {state!r}")


def receipt_address(stack: MailStack, count: int) -> tuple[str, str]:
    """The newest copy in the customer's mailbox: its Disposition-Notification-To and Message-ID."""
    stack.wait_for(CUSTOMER, "ALL")
    deadline = time.perf_counter() + WAIT
    while (copies := stack.fetch_all(CUSTOMER)) and len(copies) < count and time.perf_counter() < deadline:
        time.sleep(0.01)
    copy = message_from_bytes(copies[-1])
    return str(copy["Disposition-Notification-To"]), str(copy["Message-ID"])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=50)
    parser.add_argument("--database", help="a PostgreSQL database (name or URL) to create, use and drop; "
                                           "default: a SQLite file")
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    stack = MailStack.start()
    try:
        with bench_desk(args.database, "latency-bench.", PLUGINS=["receipts"], **relay_config(stack)) as (app, database_url):
            print(f"database: {make_url(database_url).get_backend_name()}", flush=True)
            measure(app, stack, args.replies)
    finally:
        stack.stop()


def measure(app, stack: MailStack, replies: int) -> None:
    """Send the replies one after another, each with a DSN and a read receipt, and print the
    time from each report's arrival to the API showing what it says."""
    with app.app_context():
        upgrade(revision="heads")
        support = make_department("Support", "support@example.test")
        agent = make_agent("agent@example.test", [support])
        save_switches({support.id})
        ticket = make_ticket(agent, support, requester=CUSTOMER, channel=Channel.EMAIL)
        agent_id, ticket_id, mailbox_id = agent.id, ticket.id, watched_mailbox(stack).id
        db.session.remove()
    client = app.test_client()
    with app.app_context():
        login(client, db.session.get(Agent, agent_id))
        db.session.remove()
    stack.copy_deliveries(BOUNCES, ARRIVALS)
    arrivals = Arrivals(stack, BOUNCES, ARRIVALS)
    stop = threading.Event()
    worker = threading.Thread(target=idle_watcher(app, mailbox_id), args=(stop,), name="idle-worker", daemon=True)
    worker.start()
    try:
        time.sleep(1.0)  # its first connection and poll (of an empty folder)
        print(f"worker in IDLE on {BOUNCES}; {replies} replies, one after another, each with a DSN and a read receipt",
              flush=True)
        latencies: dict[str, list[float]] = {"delivered": [], "read": []}
        reports = 0
        for n in range(replies):
            with app.app_context():
                reply = make_reply(db.session.get(Ticket, ticket_id), db.session.get(Agent, agent_id), to=CUSTOMER,
                                   body=f"Reply {n}.")
                reply_id = reply.id
                assert send_message(reply_id).state is SendState.SENT
                db.session.remove()
            reports += 1
            arrived = arrivals.wait_for(reports)
            latencies["delivered"].append(shown(client, reply_id, "delivered") - arrived)
            to, message_id = receipt_address(stack, n + 1)
            with smtplib.SMTP(stack.smtp_host, stack.smtp_port, timeout=10) as smtp:
                smtp.sendmail(CUSTOMER, [to], mdn(sender=f"Alice <{CUSTOMER}>", final_recipient=CUSTOMER,
                                                  original_message_id=message_id, to=to))
            reports += 1
            arrived = arrivals.wait_for(reports)
            latencies["read"].append(shown(client, reply_id, "read") - arrived)
    finally:
        stop.set()
        arrivals.close()
        worker.join(10)
    every = [seconds * 1000 for values in latencies.values() for seconds in values]
    for kind, values in latencies.items():
        ms = [seconds * 1000 for seconds in values]
        print(f"{kind}: p50_ms={statistics.median(ms):.0f} p99_ms={percentile(ms, 0.99):.0f} "
              f"max_ms={max(ms):.0f} reports={len(ms)}")
    print(f"latency-bench: p50_ms={statistics.median(every):.0f} p99_ms={percentile(every, 0.99):.0f} "
          f"reports={len(every)}")


if __name__ == "__main__":
    main()
