"""Periodic jobs and the worker process that runs them (APScheduler, never in web workers)."""
from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from .extensions import db
from .plugins import active_plugins

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    """``func`` runs inside an app context every ``seconds``; never twice at once in a process
    (jobs that must not overlap across processes take a lock from :mod:`helpdesk.services.locks`)."""

    id: str
    func: Callable[[], object]
    seconds: float


def core_jobs(app: Flask) -> list[Job]:
    from .mail.fetch import fetch_support_mailbox
    from .mail.outgoing import send_due

    jobs = [Job("send-queued-mail", send_due, float(app.config["SEND_INTERVAL_SECONDS"]))]
    if app.config.get("IMAP_HOST"):
        jobs.append(Job("fetch-support-mailbox", fetch_support_mailbox, float(app.config["FETCH_INTERVAL_SECONDS"])))
    return jobs


def all_jobs(app: Flask) -> list[Job]:
    jobs = core_jobs(app)
    for plugin in active_plugins(app).values():
        jobs.extend(plugin.jobs(app))
    return jobs


#: A long-running task of the worker (e.g. an IMAP IDLE connection): runs until the event is set.
Watcher = Callable[[threading.Event], None]


def all_watchers(app: Flask) -> list[Watcher]:
    return [w for plugin in active_plugins(app).values() for w in plugin.watchers(app)]


def _in_context(app: Flask, job: Job) -> Callable[[], None]:
    def run() -> None:
        with app.app_context():
            try:
                job.func()
            except Exception:  # noqa: BLE001 - a failing job is logged and tried again next time
                log.exception("job %s failed", job.id)
            finally:
                db.session.remove()
    return run


def build_scheduler(app: Flask, jobs: Iterable[Job]) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    for job in jobs:
        scheduler.add_job(_in_context(app, job), "interval", seconds=job.seconds, id=job.id,
                          next_run_time=datetime.now(timezone.utc))
    return scheduler


def run_worker(app: Flask, jobs: list[Job], watchers: list[Watcher] = (),
               stop: threading.Event | None = None) -> None:
    """Run ``jobs`` and ``watchers`` until SIGTERM/SIGINT (or ``stop``); jobs also run once at start."""
    stop = stop or threading.Event()
    scheduler = build_scheduler(app, jobs)
    threads = [threading.Thread(target=watcher, args=(stop,), daemon=True, name=f"watcher-{i}")
               for i, watcher in enumerate(watchers)]
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    scheduler.start()
    for thread in threads:
        thread.start()
    log.info("worker started with jobs: %s and %d watcher(s)", ", ".join(j.id for j in jobs), len(threads))
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)
        for thread in threads:
            thread.join(timeout=35)
        log.info("worker stopped")


def run_app_worker(app: Flask) -> None:
    """The worker process: every core and plugin job and watcher."""
    run_worker(app, all_jobs(app), all_watchers(app))
