"""Benchmark: the web tier under load while the worker processes reports (issue 8).

On loopback only, bounded in time. A fresh PostgreSQL database ``helpdesk_bench`` (dropped and
created again, schema from the real migrations) gets generated data with bulk inserts: 3
departments with read receipts on, 20 agents and an admin, 2,000 contacts, 10,000 tickets and
100,000 messages (inbound and outbound in turn, replies to To, CC and BCC recipients, most of
them tracked with delivery events and recipient statuses, so read info has content). On top of
it, 200 replies are sent through the real services (to the outbox) and 5,000 reports about them
are built as bench/poll.py builds them.

gunicorn serves ``wsgi:app`` with 4 workers (deploy/gunicorn.conf.py, access log off); the admin
signs in with a real POST to /login. wrk (Debian's package, bench/load.lua) then asks for the
ticket list (a few pages and filters), thread pages and the read-info API in turn, every URL
checked first to answer 200; 10 s of it alone first give the web tier's own figures (and warm
it up). The worker's side is a one-shot ``flask receipts poll`` process at the priority the
deployment gives the worker (deploy/helpdesk-worker.service: ``Nice=-5``), timed on the wall
clock: once alone (``poll_idle``), then, with the same reports appended again, started 2 s
into 30 s of wrk at 16 connections (``poll_under_load``).

Run: ``bench/load.sh [--tickets N] [--messages N] [--reports N] [--seconds S]`` (installs wrk
and starts PostgreSQL if needed), or ``python bench/load.py`` with both in place. The last line
is ``load-bench: rps=X p50_ms=A p99_ms=B errors=E poll_under_load/poll_idle=R``; errors are
wrk's socket errors (connect, read, write, timeout) plus every answer other than 2xx. The
database and its generated data are bench/load_data.py's.
"""
from __future__ import annotations

import argparse
import html
import http.client
import json
import logging
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import select, update  # noqa: E402

from helpdesk import create_app  # noqa: E402
from helpdesk.extensions import db  # noqa: E402
from helpdesk.models import Agent, Contact, Department, Message  # noqa: E402
from receipts_plugin.models import Mailbox, TrackedMessage  # noqa: E402
from tests.helpers import stack_cafile  # noqa: E402
from tests.mailstack import MailStack  # noqa: E402
from tests.receipts.poller_support import (  # noqa: E402
    BOUNCES,
    append_all,
    forget_reports,
    referring_corpus,
    report_mix,
    sent_replies,
)

import open_loop  # noqa: E402 - bench/ is the script's folder, first on the path
from load_data import (  # noqa: E402 - bench/ is the script's folder, first on the path
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    DATABASE,
    PG_SERVER,
    drop_database,
    generate,
    recreate_database,
    sizes,
    vacuum_analyze,
)

USER_AGENT = "load-bench"
SECRET_KEY = "load-bench secret"
REPORT_REPLIES = 200
POLL_DELAY = 2.0
POLL_COMMAND = ["nice", "-n", "-5", str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "receipts", "poll",
                "--mailbox", "bounces", "--force"]  # Nice=-5: as deploy/helpdesk-worker.service runs the worker


def app_config(work: Path, database: str = DATABASE) -> dict:
    return {"DATABASE_URL": f"{PG_SERVER}/{database}", "SECRET_KEY": SECRET_KEY, "PLUGINS": ["receipts", "tracking"],
            "ALLOW_TEST_DOMAINS": True, "MAIL_DOMAIN": "example.test", "OUTBOX_DIR": str(work / "outbox"),
            "ATTACHMENT_DIR": str(work / "files"), "SECRETS_DIR": str(work / "secrets"), "RECEIPTS_ADDRESS": BOUNCES,
            "LOG_LEVEL": "WARNING", "BASE_URL": "http://127.0.0.1:5000"}


def process_env(config: dict) -> dict[str, str]:
    """The same configuration for gunicorn and the poll (``HELPDESK_*``, values as JSON), and
    this worktree's code first on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_") and k != "SECRET_KEY"}
    env.update({f"HELPDESK_{key}": json.dumps(value) for key, value in config.items()})
    env["PYTHONPATH"] = str(ROOT)
    return env


# ------------------------------------------------------------------ the web tier
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    command = [str(ROOT / ".venv/bin/gunicorn"), "--config", str(ROOT / "deploy/gunicorn.conf.py"),
               "--chdir", str(ROOT), "--bind", f"127.0.0.1:{port}", "-w", "4", "--access-logfile", "/dev/null",
               "wsgi:app"]
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def stop(process: subprocess.Popen | None, timeout: float = 30) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Browser:
    """Plain HTTP to the server, no redirects followed, with the session cookie kept."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    @property
    def cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        # 120 s: an overloaded open-loop step leaves a backlog that the checks after it wait out
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"User-Agent": USER_AGENT}
        if self.cookies:
            headers["Cookie"] = self.cookie
        body = urllib.parse.urlencode(form) if form is not None else None
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            for value in response.headers.get_all("Set-Cookie") or []:
                self.cookies.update({k: m.value for k, m in SimpleCookie(value).items()})
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            connection.close()

    def wait_ready(self, server: subprocess.Popen, log: Path, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({server.returncode}):\n{log.read_text()[-3000:]}")
            try:
                if self.request("GET", "/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn not ready after {timeout:.0f} s:\n{log.read_text()[-3000:]}")

    def sign_in(self, email: str, password: str) -> None:
        status, page = self.request("GET", "/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert status == 200 and token, f"/login: {status}"
        status, _ = self.request("POST", "/login", {"csrf_token": token.group(1), "email": email, "password": password})
        assert status == 302, f"sign-in answered {status}, not a redirect"


@dataclass
class Targets:
    lists: list[str]
    threads: list[str]
    apis: list[str]

    def rotation(self) -> list[str]:
        """The list, a thread and the API in turn (a third each), every path in the rotation."""
        rounds = max(len(self.lists), len(self.threads), len(self.apis))
        return [group[n % len(group)] for n in range(rounds) for group in (self.lists, self.threads, self.apis)]


def pick_targets(browser: Browser, seed: int = 8) -> Targets:
    """A few pages and filters of the list; thread pages and the read-info API of tracked
    replies from tickets across the data."""
    rng = random.Random(seed)
    tracked = list(db.session.execute(select(TrackedMessage.message_id, Message.ticket_id)
                                      .join(Message, Message.id == TrackedMessage.message_id)
                                      .where(Message.message_id.like("%.bench@%")).order_by(TrackedMessage.message_id)))
    chosen = sorted(rng.sample(tracked, min(16, len(tracked))))
    status, first_page = browser.request("GET", "/")
    older = re.search(r'href="(/\?[^"]*after=[^"]*)"', first_page)
    lists = ["/", "/?page=2", "/?page=40", "/?status=open", "/?department=2", "/?department=3&status=pending"]
    if older:
        lists.append(html.unescape(older.group(1)))
    threads = list(dict.fromkeys(f"/tickets/{ticket_id}" for _, ticket_id in chosen))[:8]
    return Targets(lists, threads,
                   [f"/api/v1/messages/{message_id}/read-info" for message_id, _ in chosen])


def check_targets(browser: Browser, targets: Targets) -> None:
    """Every URL answers 200 to the admin, so that any error under load is a real one."""
    for path in dict.fromkeys(targets.rotation()):
        status, body = browser.request("GET", path)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}, not 200")
        if "/read-info" in path:
            assert json.loads(body)["recipients"], f"{path}: no recipients"


# ------------------------------------------------------------------ the worker's side
def reset_reports(app: Flask, stack: MailStack, reports: list[bytes], reply_ids: list[int]) -> None:
    """As before the first poll (for the report replies: the generated data keeps its read
    info), with the same reports appended again."""
    forget_reports(reply_ids)
    db.session.execute(update(Contact).where(Contact.undeliverable_since.is_not(None) | Contact.reached_at.is_not(None))
                       .values(undeliverable_since=None, undeliverable_reason=None, reached_at=None))
    db.session.commit()
    db.session.remove()
    shutil.rmtree(app.config["ATTACHMENT_DIR"], ignore_errors=True)
    stack.clear(BOUNCES)
    append_all(stack, reports)


@dataclass
class Poll:
    started: float
    ended: float
    line: str

    @property
    def seconds(self) -> float:
        return self.ended - self.started


def poll(env: dict[str, str], expected: int) -> Poll:
    started = time.monotonic()
    done = subprocess.run(POLL_COMMAND, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    ended = time.monotonic()
    line = done.stdout.strip()
    if done.returncode != 0 or f"fetched={expected} " not in line:
        raise RuntimeError(f"poll failed ({done.returncode}): {line}\n{done.stderr[-3000:]}")
    return Poll(started, ended, line)


# ------------------------------------------------------------------ wrk
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * UNITS_MS[unit]


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    detail: str


def parse_wrk(output: str) -> WrkResult:
    rps = float(re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M).group(1))
    p50 = milliseconds(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = milliseconds(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    socket_errors = sum(map(int, sockets.groups())) if sockets else 0
    non_2xx_3xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    not_2xx = int(re.search(r"Responses other than 2xx: (\d+)", output).group(1))  # includes non_2xx_3xx
    detail = (f"socket errors {socket_errors}, non-2xx/3xx {int(non_2xx_3xx.group(1)) if non_2xx_3xx else 0}, "
              f"other than 2xx (3xx too) {not_2xx}")
    return WrkResult(rps, p50, p99, socket_errors + not_2xx, detail)


class Wrk:
    """wrk running in the background; its output and the moment it ended are kept."""

    def __init__(self, port: int, seconds: int, paths_file: Path, cookie: str) -> None:
        command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-s", str(ROOT / "bench/load.lua"),
                   f"http://127.0.0.1:{port}", "--", str(paths_file), cookie, USER_AGENT]
        self.timeout = seconds + 60
        self.started = time.monotonic()
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.output, self.ended = "", 0.0
        self.waiter = threading.Thread(target=self._wait, daemon=True)
        self.waiter.start()

    def _wait(self) -> None:
        self.output = self.process.communicate()[0]
        self.ended = time.monotonic()

    def join(self) -> str:
        self.waiter.join(self.timeout)
        if self.waiter.is_alive():
            self.process.kill()
            raise RuntimeError("wrk did not finish in time")
        if self.process.returncode != 0:
            raise RuntimeError(f"wrk exited with {self.process.returncode}: {self.output}")
        return self.output


# ------------------------------------------------------------------ open loop
def worker_cpu_seconds(master: subprocess.Popen) -> float:
    """The CPU time (user + system, all threads) of gunicorn's workers so far, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    total = 0
    for pid in children:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # a worker restarted since
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / tick


@dataclass
class Step:
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    cpu_ms_per_request: float
    ratio: float
    lag_ms_p99: float
    cpu_share: float

    @property
    def passed(self) -> bool:
        return self.errors == 0 and self.p99_ms < P99_TARGET_MS

    def line(self) -> str:
        return (f"rate={self.rate:.0f}/s: p50_ms={self.p50_ms:.1f} p99_ms={self.p99_ms:.1f} errors={self.errors} "
                f"requests={self.requests} cpu_ms_per_request={self.cpu_ms_per_request:.1f} "
                f"poll_under_load/poll_idle={self.ratio:.2f} (generator: lag_ms_p99={self.lag_ms_p99:.1f} "
                f"cpu_share={self.cpu_share:.0%}) {'pass' if self.passed else 'FAIL'}")


P99_TARGET_MS = 250


def open_step(server: subprocess.Popen, port: int, paths: list[str], headers: dict[str, str], rate: float,
              env: dict[str, str], expected: int, idle: Poll) -> Step:
    """The fixed rate for as long as the poll of ``expected`` reports runs (started 2 s in); the
    figures are those of the requests scheduled while it ran."""
    polled: list[Poll] = []
    failure: list[BaseException] = []

    def poll_later() -> None:
        time.sleep(POLL_DELAY)
        try:
            polled.append(poll(env, expected))
        except BaseException as error:  # noqa: BLE001 - raised again in the main thread
            failure.append(error)

    poller = threading.Thread(target=poll_later, daemon=True)
    cpu = worker_cpu_seconds(server)
    poller.start()
    result = open_loop.run(port, paths, headers, rate, 600, until=lambda: not poller.is_alive())
    cpu = worker_cpu_seconds(server) - cpu
    poller.join()
    if failure:
        raise failure[0]
    during = result.window(polled[0].started, polled[0].ended)
    p50, p99, errors = open_loop.summary(during)
    return Step(rate, p50, p99, errors, len(during), cpu * 1000 / len(result.samples),
                polled[0].seconds / idle.seconds, result.lag_ms_p99, result.cpu_share)


def cpu_rounds(server: subprocess.Popen, port: int, paths: list[str], headers: dict[str, str], rate: float,
               seconds: float, rounds: int) -> list[float]:
    """The workers' CPU per request at a fixed rate with the web tier alone, ``rounds`` times."""
    figures = []
    for _ in range(rounds):
        cpu = worker_cpu_seconds(server)
        result = open_loop.run(port, paths, headers, rate, seconds)
        figures.append((worker_cpu_seconds(server) - cpu) * 1000 / len(result.samples))
        _, p99, errors = open_loop.summary(result.samples)
        print(f"web alone at {rate:.0f}/s for {seconds:.0f} s: cpu_ms_per_request={figures[-1]:.2f} "
              f"p99_ms={p99:.1f} errors={errors}", flush=True)
    return figures


# ------------------------------------------------------------------ main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--reports", type=int, default=5000)
    parser.add_argument("--seconds", type=int, default=30, help="how long wrk runs")
    parser.add_argument("--alone-seconds", type=int, default=10,
                        help="wrk on the web tier alone first (also its warm-up); 0: not at all")
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--closed-loop", action=argparse.BooleanOptionalAction, default=True,
                        help="the closed-loop (wrk) phases and their line")
    parser.add_argument("--open-loop", action=argparse.BooleanOptionalAction, default=True,
                        help="the open-loop capacity search and its line")
    parser.add_argument("--start-rate", type=float, default=10, help="the open loop's first rate (requests/s)")
    parser.add_argument("--step", type=float, default=1.25, help="each next rate: the last one times this")
    parser.add_argument("--max-steps", type=int, default=8)
    parser.add_argument("--cpu-rounds", type=int, default=3,
                        help="rounds of the web tier alone at a fixed rate, for cpu_ms_per_request's median")
    parser.add_argument("--cpu-rate", type=float, default=20)
    parser.add_argument("--cpu-seconds", type=float, default=15)
    parser.add_argument("--database", default=DATABASE, help="the PostgreSQL database to recreate and fill")
    parser.add_argument("--keep-database", action="store_true", help="leave the database behind for a look")
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    work = Path(tempfile.mkdtemp(prefix="load-bench."))
    config = app_config(work, args.database)
    env = process_env(config)
    app = create_app(config)
    stack = server = wrk = None
    try:
        recreate_database(args.database)
        with app.app_context():
            upgrade(revision="heads")
            started = time.perf_counter()
            generate(args.tickets, args.messages, args.contacts, args.agents)
            generation = time.perf_counter() - started
            vacuum_analyze(args.database)
            print(f"generated in {generation:.1f} s (then VACUUM ANALYZE): {sizes()}", flush=True)

            desk = (db.session.get(Department, 1), None, db.session.get(Agent, 1))  # the admin, on Support
            replies = sent_replies(desk, min(REPORT_REPLIES, args.reports))
            reports = (report_mix(app, replies) + referring_corpus(app, replies, args.reports))[:args.reports]
            reply_ids = [reply.id for reply in replies]
            stack = MailStack.start()
            db.session.add(Mailbox(name="bounces", host=stack.imap_host, port=stack.imaps_port, username=BOUNCES,
                                   password=stack.password, cafile=stack_cafile(stack), processed_folder="Processed"))
            db.session.commit()
            print(f"{len(replies)} replies sent on top; {len(reports)} reports about them, "
                  f"{sum(map(len, reports)) / len(reports):.0f} bytes on average", flush=True)

            port = free_port()
            log = work / "gunicorn.log"
            server = start_gunicorn(env, port, log)
            browser = Browser(port)
            browser.wait_ready(server, log)
            browser.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)
            targets = pick_targets(browser)
            db.session.remove()
            check_targets(browser, targets)
            paths_file = work / "paths.txt"
            paths_file.write_text("\n".join(targets.rotation()) + "\n")
            print(f"gunicorn on 127.0.0.1:{port}, signed in; {len(targets.lists)} list pages, "
                  f"{len(targets.threads)} thread pages, {len(targets.apis)} read-info URLs: all 200", flush=True)

            headers = {"Cookie": browser.cookie, "User-Agent": USER_AGENT}
            paths = targets.rotation()
            if args.cpu_rounds:
                open_loop.run(port, paths, headers, args.cpu_rate, 5)  # warm-up
                figures = cpu_rounds(server, port, paths, headers, args.cpu_rate, args.cpu_seconds, args.cpu_rounds)
                print(f"cpu-bench: cpu_ms_per_request={statistics.median(figures):.2f} (median of {len(figures)}; "
                      f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())})", flush=True)
            if not (args.closed_loop or args.open_loop):
                return
            if args.closed_loop and args.alone_seconds:
                alone = parse_wrk(Wrk(port, args.alone_seconds, paths_file, browser.cookie).join())
                print(f"web alone (no poll, {args.alone_seconds} s, also the warm-up): rps={alone.rps:.1f} "
                      f"p50_ms={alone.p50_ms:.1f} p99_ms={alone.p99_ms:.1f} errors={alone.errors}", flush=True)
            poll(env, 0)  # warm-up (an empty folder): the first run of a process pays for more than polling
            reset_reports(app, stack, reports, reply_ids)
            idle = poll(env, len(reports))
            print(f"poll_idle: {idle.seconds:.2f} s wall; {idle.line}", flush=True)

            if args.open_loop:
                steps = []
                rate = args.start_rate
                for _ in range(args.max_steps):
                    reset_reports(app, stack, reports, reply_ids)
                    steps.append(open_step(server, port, paths, headers, rate, env, len(reports), idle))
                    print(f"open loop {steps[-1].line()}", flush=True)
                    if not steps[-1].passed:
                        break
                    rate *= args.step
                check_targets(browser, targets)
                passed = [step for step in steps if step.passed]
                best = passed[-1] if passed else Step(0, 0, 0, steps[0].errors, 0, steps[0].cpu_ms_per_request,
                                                      steps[0].ratio, 0, 0)
                open_line = (f"load-bench: capacity_rps={best.rate:.0f} p99_ms_at_capacity={best.p99_ms:.1f} "
                             f"errors={best.errors} cpu_ms_per_request={best.cpu_ms_per_request:.1f} "
                             f"poll_under_load/poll_idle={best.ratio:.2f}")
                if not args.closed_loop:
                    print(open_line)
                    return
            reset_reports(app, stack, reports, reply_ids)
            wrk = Wrk(port, args.seconds, paths_file, browser.cookie)
            time.sleep(POLL_DELAY)
            loaded = poll(env, len(reports))
            output = wrk.join()
            check_targets(browser, targets)  # still signed in, everything still there
        overlap = max(0.0, min(loaded.ended, wrk.ended) - loaded.started)
        print(f"poll_under_load: {loaded.seconds:.2f} s wall, started {loaded.started - wrk.started:.1f} s into wrk, "
              f"{overlap:.1f} s of it ({overlap / loaded.seconds:.0%}) while wrk ran"
              + ("" if loaded.ended <= wrk.ended else
                 f"; it finished {loaded.ended - wrk.ended:.1f} s after wrk") + f"; {loaded.line}")
        print(output.rstrip(), flush=True)
        result = parse_wrk(output)
        ratio = loaded.seconds / idle.seconds
        print(f"errors: {result.detail}; targets: errors=0 {'met' if result.errors == 0 else 'MISSED'}, "
              f"p99<250ms {'met' if result.p99_ms < 250 else 'MISSED'}, "
              f"ratio<2 {'met' if ratio < 2 else 'MISSED'}")
        print(f"load-bench: rps={result.rps:.1f} p50_ms={result.p50_ms:.1f} p99_ms={result.p99_ms:.1f} "
              f"errors={result.errors} poll_under_load/poll_idle={ratio:.2f}")
        if args.open_loop:
            print(open_line)
    finally:
        if wrk is not None and wrk.process.poll() is None:
            wrk.process.kill()
        stop(server)
        if stack is not None:
            stack.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if not args.keep_database:
            drop_database(args.database)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
