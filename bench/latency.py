"""Benchmark: from a report reaching the watched mailbox to the read-info API showing it.

Starts what production runs, on loopback (``tests.fullstack`` without its webmail): the real
Postfix and Dovecot (tests/mailstack), the desk's web server and its worker as separate
processes on a throw-away database (a SQLite file in a temp dir, or ``--database URL``: that
PostgreSQL database's schema is dropped and rebuilt by the migrations), with the receipts
plugin on, bounces@ watched over IMAPS, and the worker holding IMAP IDLE on it. Scheduled
polls are set an hour apart, so every report is picked up by IDLE.

Then it sends ``--replies`` replies (one recipient each, one every ``--interval`` seconds)
through the real Postfix, to recipients whose side answers with real reports:

- an unknown user (``nobody-N@customer.test``): Dovecot's LMTP refuses it and Postfix writes
  an RFC 3464 bounce (``Action: failed``) to the reply's return path;
- alice@customer.test: Postfix writes a success DSN (``Action: delivered``; the desk asks
  ``NOTIFY=SUCCESS``);
- erin@customer.test, whose Sieve script rejects it (RFC 5429): a success DSN, then
  Pigeonhole's MDN (``deleted``, sent automatically).

Each report's arrival is when Dovecot's LMTP server has put its file into bounces@'s Maildir
``new/`` (seen by inotify on that directory in this process): the mail is then committed to
the mailbox, and everything after it, Dovecot's IDLE notification included, is the desk's
latency. (The Received/Delivered-To headers carry whole seconds only; a second IMAP IDLE
client would wake exactly when the worker's does and hide that wake-up.) It is shown when
a GET of ``/api/v1/messages/<id>/read-info`` (signed in as an agent, as the page's script
is) returns that recipient with the report's event (``dsn-failed``, ``dsn-delivered``, or an
``mdn`` one): the time the response arrived, so the figure includes the API call and one
polling round of this loop (it asks again every ``--api-interval``, 20 ms, while anything
is pending).

Run: ``python bench/latency.py [--replies 50] [--interval 0.25] [--database URL]``. The last
line is ``latency-bench: p50_ms=A p99_ms=B reports=N`` (target p99 < 2000 ms).
"""
from __future__ import annotations

import argparse
import ctypes
import http.cookiejar
import json
import math
import os
import queue
import re
import secrets
import shutil
import statistics
import struct
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message as EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import select  # noqa: E402

from helpdesk import create_app  # noqa: E402
from helpdesk.extensions import db  # noqa: E402
from helpdesk.mail.outgoing import send_message  # noqa: E402
from helpdesk.models import Agent, Channel, Department, MessageRecipient  # noqa: E402
from receipts_plugin.models import DeliveryEventRow  # noqa: E402
from receipts_plugin.sending import receipt_address, verp_address  # noqa: E402
from tests.conftest import reset_schema  # noqa: E402
from tests.fullstack import ADMIN, ADMIN_PASSWORD, RECEIPTS, FullStack, seed_desk  # noqa: E402
from tests.helpers import make_reply, make_ticket  # noqa: E402

IN_CREATE, IN_MOVED_TO = 0x100, 0x80
EVENT = struct.Struct("iIII")
REJECTER = "erin@customer.test"
DELIVERED = "alice@customer.test"
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@dataclass
class Arrival:
    at: float  # time.monotonic() when the file appeared in new/
    wall: float  # time.time() then
    raw: bytes


@dataclass
class Pending:
    arrived: float
    arrived_wall: float
    message_id: int
    address: str
    kind: str  # what the report says: dsn-failed, dsn-delivered, mdn
    shown: float | None = None
    woke: float | None = None  # Dovecot's IDLE news (EXISTS) reached the probe's connection
    recorded_wall: float | None = None  # the event row's recorded_at (the worker built it)


class MaildirWatch:
    """Every mail Dovecot puts into a Maildir's ``new/``, with the moment it appeared
    (inotify, read on a thread of its own), read at once (or from wherever it was moved)."""

    def __init__(self, maildir: Path) -> None:
        self.maildir, self.arrivals = maildir, queue.Queue()
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self.fd = libc.inotify_init1(os.O_CLOEXEC)
        if self.fd < 0 or libc.inotify_add_watch(self.fd, str(maildir / "new").encode(), IN_CREATE | IN_MOVED_TO) < 0:
            raise OSError(ctypes.get_errno(), f"inotify on {maildir / 'new'}")
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            data = os.read(self.fd, 65536)
            at, wall = time.monotonic(), time.time()
            offset = 0
            while offset < len(data):
                _, mask, _, length = EVENT.unpack_from(data, offset)
                name = data[offset + EVENT.size:offset + EVENT.size + length].rstrip(b"\0").decode()
                offset += EVENT.size + length
                if mask & (IN_CREATE | IN_MOVED_TO) and name:
                    self.arrivals.put(Arrival(at, wall, self._read(name)))

    def _read(self, name: str) -> bytes:
        base = name.split(":", 1)[0]
        for _ in range(3):
            try:
                return (self.maildir / "new" / name).read_bytes()
            except FileNotFoundError:  # Dovecot moved it already (to cur/, or to Processed by a MOVE)
                for path in self.maildir.rglob(base + "*"):
                    if not path.name.startswith(base + ":"):
                        continue
                    try:
                        return path.read_bytes()
                    except FileNotFoundError:
                        continue
        raise FileNotFoundError(name)


class IdleProbe:
    """A second IMAP IDLE connection to the watched folder, as the worker's: when Dovecot's
    EXISTS news reaches a client. (Dovecot waits 500 ms after the first change it is told of
    before it looks, to gather more: ``NOTIFY_DELAY_MSECS`` in its lib-storage/mailbox-watch.c.)"""

    def __init__(self, stack: FullStack) -> None:
        self.client = stack.mail.imap(RECEIPTS)
        self.client.select_folder("INBOX", readonly=True)
        self.client.idle()
        self.wakes: list[float] = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            responses = self.client.idle_check(timeout=1)
            at = time.monotonic()
            if any(len(r) > 1 and r[1] == b"EXISTS" for r in responses):
                self.wakes.append(at)

    def woke_after(self, at: float) -> float | None:
        return next((w for w in self.wakes if w >= at), None)


def report_kind(mail: EmailMessage) -> str:
    """The event the desk should show for this report."""
    report_type = mail.get_param("report-type", "").lower()
    if report_type == "delivery-status":
        for part in mail.walk():
            if part.get_content_type() == "message/delivery-status":
                for block in part.get_payload():
                    if block.get("Action"):
                        return f"dsn-{block['Action'].strip().lower()}"
    if report_type == "disposition-notification":
        return "mdn"
    raise ValueError(f"not a report the bench sends for: {mail['Subject']!r}")


def shown(info: dict, pending: Pending) -> bool:
    for recipient in info["recipients"]:
        if recipient["address"].lower() == pending.address:
            return any(e["source"] == "mdn" if pending.kind == "mdn" else e["kind"] == pending.kind
                       for e in recipient["events"])
    return False


class Desk:
    """The web server's JSON API, signed in like a browser (session cookie, CSRF token)."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = self.opener.open(self.base + "/login", timeout=30).read().decode()
        form = {"email": ADMIN, "password": ADMIN_PASSWORD, "csrf_token": CSRF.search(page).group(1)}
        self.opener.open(self.base + "/login", urllib.parse.urlencode(form).encode(), timeout=30).read()

    def read_info(self, message_id: int) -> dict:
        with self.opener.open(f"{self.base}/api/v1/messages/{message_id}/read-info", timeout=30) as response:
            return json.load(response)


def recipients_for(n: int) -> str:
    return (f"nobody-{n}@customer.test", DELIVERED, REJECTER)[n % 3]


def expected_reports(replies: int) -> int:
    return sum({0: 1, 1: 1, 2: 2}[n % 3] for n in range(replies))


def send_replies(app, count: int, interval: float, addresses: dict, errors: list, slowest: list) -> None:
    """``count`` replies on email tickets of Support, through Postfix, one every ``interval``
    seconds; each recipient's return path and receipt address go into ``addresses``, the
    longest ``send_message`` in ``slowest[0]`` (a stall there is the machine's or the
    database's, not the poller's)."""
    try:
        with app.app_context():
            agent = db.session.query(Agent).filter_by(email=ADMIN).one()
            support = db.session.query(Department).filter_by(name="Support").one()
            started = time.monotonic()
            for n in range(count):
                ticket = make_ticket(agent, support, requester="Alice Martin <alice@customer.test>",
                                     subject=f"Question {n}", channel=Channel.EMAIL)
                reply = make_reply(ticket, agent, to=recipients_for(n))
                recipient = reply.recipients[0]
                for address in (verp_address(app, reply.id, recipient.id),
                                receipt_address(app, reply.id, recipient.id)):
                    addresses[address.lower()] = (reply.id, recipient.address.lower())
                sending = time.monotonic()
                send_message(reply.id)
                slowest[0] = max(slowest[0], time.monotonic() - sending)
                time.sleep(max(0.0, started + (n + 1) * interval - time.monotonic()))
            db.session.remove()
    except BaseException as err:  # the main thread reports it
        errors.append(err)


def measure(stack: FullStack, app, replies: int, interval: float, timeout: float, api_interval: float) -> list[Pending]:
    maildir = stack.mail.dir / "mail" / "example.test" / RECEIPTS.split("@")[0] / "Maildir"
    watch = MaildirWatch(maildir)
    probe = IdleProbe(stack)
    desk = Desk(stack.desk_url)
    addresses: dict[str, tuple[int, str]] = {}
    errors: list[BaseException] = []
    slowest = [0.0]
    sender = threading.Thread(target=send_replies, args=(app, replies, interval, addresses, errors, slowest),
                              daemon=True)
    sender.start()
    expected = expected_reports(replies)
    done: list[Pending] = []
    pending: list[Pending] = []
    arrived = 0
    deadline = time.monotonic() + replies * interval + timeout
    while len(done) < expected:
        if errors:
            raise errors[0]
        if time.monotonic() > deadline:
            raise TimeoutError(f"{arrived} of {expected} reports arrived, {len(done)} shown; never shown: "
                               f"{[(p.message_id, p.address, p.kind) for p in pending]}")
        while True:
            try:
                arrival = watch.arrivals.get(timeout=api_interval)
            except queue.Empty:
                break
            mail = message_from_bytes(arrival.raw)
            delivered_to = (mail["Delivered-To"] or "").strip().lower()
            while delivered_to not in addresses and sender.is_alive():  # sent, its ids not noted yet
                time.sleep(0.001)
            message_id, address = addresses[delivered_to]
            pending.append(Pending(arrival.at, arrival.wall, message_id, address, report_kind(mail)))
            arrived += 1
        for message_id in {p.message_id for p in pending}:
            info = desk.read_info(message_id)
            now = time.monotonic()
            for p in pending:
                if p.message_id == message_id and shown(info, p):
                    p.shown = now
        done += [p for p in pending if p.shown is not None]
        pending = [p for p in pending if p.shown is None]
    sender.join()
    print(f"slowest send_message: {slowest[0] * 1000:.0f} ms")
    for p in done:
        p.woke = probe.woke_after(p.arrived)
    with app.app_context():
        rows = db.session.execute(
            select(DeliveryEventRow.message_id, MessageRecipient.address, DeliveryEventRow.kind,
                   DeliveryEventRow.source, DeliveryEventRow.recorded_at)
            .join(MessageRecipient, MessageRecipient.id == DeliveryEventRow.recipient_id)).all()
        db.session.remove()
    for p in done:
        times = [r.recorded_at.timestamp() for r in rows if r.message_id == p.message_id
                 and r.address.lower() == p.address and (r.source == "mdn" if p.kind == "mdn" else r.kind == p.kind)]
        p.recorded_wall = min(times, default=None)
    return done


def percentile(values: list[float], fraction: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replies", type=int, default=50)
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between two replies")
    parser.add_argument("--api-interval", type=float, default=0.02,
                        help="seconds between two rounds of API calls while a report is pending")
    parser.add_argument("--database", help="a PostgreSQL URL whose schema may be dropped (default: SQLite)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the last report")
    parser.add_argument("--logs", type=Path, help="copy the desk's and the mail servers' logs to this directory")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="latency-bench."))
    url = args.database or f"sqlite:///{workdir / 'desk.sqlite3'}"
    reset_schema(url)
    stack = FullStack.start_mail(url, workdir, secrets.token_urlsafe(32), webmail=False)
    try:
        stack.config["RECEIPTS_POLL_SECONDS"] = 3600  # IDLE alone brings the reports
        stack.mail.set_reject(REJECTER, "I do not accept mail from help desks.")
        app = create_app(stack.config)
        with app.app_context():
            upgrade(revision="heads")
            seed_desk(stack.mail)
            db.session.remove()
        stack.start_desk()
        started = time.monotonic()
        results = measure(stack, app, args.replies, args.interval, args.timeout, args.api_interval)
        elapsed = time.monotonic() - started
        latencies = [(p.shown - p.arrived) * 1000 for p in results]
        by_kind: dict[str, list[float]] = {}
        for p, ms in zip(results, latencies):
            by_kind.setdefault(p.kind, []).append(ms)
        for kind, values in sorted(by_kind.items()):
            print(f"{kind}: reports={len(values)} p50_ms={statistics.median(values):.0f} "
                  f"max_ms={max(values):.0f}")
        woken = [p for p in results if p.woke and p.recorded_wall
                 and p.woke - p.arrived <= p.recorded_wall - p.arrived_wall]
        stages = {
            "idle_wake": [(p.woke - p.arrived) * 1000 for p in woken],
            "wake_to_recorded": [((p.recorded_wall - p.arrived_wall) - (p.woke - p.arrived)) * 1000 for p in woken],
            "recorded_to_api": [((p.shown - p.arrived) - (p.recorded_wall - p.arrived_wall)) * 1000
                                for p in results if p.recorded_wall],
        }
        print(f"where the time goes ({len(woken)} of {len(results)} reports woke IDLE; the others were taken "
              "by a poll already under way or by the check as IDLE began again): " + " ".join(
                  f"{name}_p50_ms={statistics.median(v):.0f} {name}_p99_ms={percentile(v, 0.99):.0f}"
                  for name, v in stages.items() if v))
        complaints = [line for line in (stack.workdir / "worker.log").read_text().splitlines()
                      if " WARNING " in line or " ERROR " in line]
        for line in complaints:
            print(f"worker: {line}")
        load = " ".join(f"{v:.2f}" for v in os.getloadavg())
        print(f"{args.replies} replies in {elapsed:.1f} s, database {url.split(':')[0]},"
              f" load average {load}")
        print(f"latency-bench: p50_ms={statistics.median(latencies):.0f} p99_ms={percentile(latencies, 0.99):.0f} "
              f"reports={len(latencies)}")
        return 0
    finally:
        if args.logs:
            args.logs.mkdir(parents=True, exist_ok=True)
            for log in [*workdir.glob("*.log"), *(stack.mail.dir / "log").glob("*.log")]:
                shutil.copy(log, args.logs / log.name)
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
