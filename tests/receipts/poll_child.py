"""A polling process for the fault tests, driven over stdin/stdout.

It builds the app once (the slow part of starting, about a second), then for every line
``poll [SECONDS]`` it reads it forks a child that polls every enabled mailbox once, as
``flask receipts poll`` would, SIGKILLs it after SECONDS unless it ended first, and answers
``exited PID CODE SECONDS`` (CODE -9 when killed, 3 when another process held the mailbox's
lock, 2 on a poll error). Killing from here, before the child is reaped, can never hit
another process. So a test can kill real polling processes at random points many times
without paying the start-up each time. Configuration comes from ``HELPDESK_*`` variables.

Run: ``python -m tests.receipts.poll_child``. The parent never opens a database connection,
so each forked child starts with a pool of its own.
"""
from __future__ import annotations

import os
import signal
import sys
import time
import traceback

from flask import Flask

SKIPPED, ERROR, CRASHED = 3, 2, 1


def poll_once(app: Flask) -> int:
    from receipts_plugin.poller import poll_all

    with app.app_context():
        summaries = poll_all(force=True)
    for summary in summaries:
        print(summary.line(), file=sys.stderr, flush=True)
    if any(s.skipped for s in summaries):
        return SKIPPED
    return ERROR if any(s.error for s in summaries) else 0


def main() -> None:
    from helpdesk import create_app

    app = create_app()
    import receipts_plugin.poller  # noqa: F401 - imported once, before forking

    for line in sys.stdin:
        words = line.split()
        if not words or words[0] != "poll":
            continue
        kill_after = float(words[1]) if len(words) > 1 else None
        began = time.monotonic()
        pid = os.fork()
        if pid == 0:
            code = CRASHED
            try:
                code = poll_once(app)
            except BaseException:  # noqa: BLE001 - reported through the exit code and stderr
                traceback.print_exc()
            finally:
                os._exit(code)
        status = wait_or_kill(pid, kill_after)
        print(f"exited {pid} {os.waitstatus_to_exitcode(status)} {time.monotonic() - began:.3f}", flush=True)


def wait_or_kill(pid: int, kill_after: float | None) -> int:
    """The child's wait status; SIGKILL it first if it runs longer than ``kill_after``."""
    if kill_after is not None:
        deadline = time.monotonic() + kill_after
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            time.sleep(0.002)
        os.kill(pid, signal.SIGKILL)
    return os.waitpid(pid, 0)[1]


if __name__ == "__main__":
    main()
