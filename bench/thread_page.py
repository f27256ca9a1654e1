"""Benchmark: rendering a busy ticket thread with read info, against the same page without it.

A fresh SQLite database in a temp dir (schema from the real migrations, ``upgrade heads``)
gets one ticket with 100 tracked replies x 10 recipients (To, CC and BCC) and their delivery
events. The thread page is rendered through the test client, signed in, several times; the
median time per render and the number of SQL statements are reported. The baseline is the
same page, same database, from an app with the receipts plugin disabled.

Run: ``python bench/thread_page.py [--rounds N] [--replies R] [--recipients K]``. The last
line is ``thread-bench: ms_per_render=X queries=Q``; the line above it is the baseline and
the ratio.
"""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event  # noqa: E402

from helpdesk import create_app  # noqa: E402
from helpdesk.extensions import db  # noqa: E402
from helpdesk.models import Agent  # noqa: E402
from helpdesk.services.sessions import start_session  # noqa: E402
from tests.helpers import make_agent, make_department  # noqa: E402
from tests.receipts.factories import busy_thread  # noqa: E402


def make_app(root: Path, plugins: list[str]):
    return create_app({
        "SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{root / 'bench.sqlite3'}", "PLUGINS": plugins,
        "MAIL_DOMAIN": "desk.example.test", "OUTBOX_DIR": str(root / "outbox"),
        "ATTACHMENT_DIR": str(root / "files"), "LOG_LEVEL": "WARNING", "ALLOW_TEST_DOMAINS": True, "BASE_URL": "http://127.0.0.1:5000",
    })


def build(root: Path, replies: int, recipients: int) -> tuple[int, int]:
    app = make_app(root, ["receipts", "tracking"])
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        from receipts_plugin.settings import save_switches

        support = make_department("Support", "support@example.test")
        agent = make_agent("agent@example.test", [support], timezone="Europe/Paris")
        save_switches({support.id})
        ticket = busy_thread(agent, support, replies, recipients)
        ids = ticket.id, agent.id
        db.session.remove()
        db.engine.dispose()
    return ids


class Page:
    """The thread page of one app (plugins on or off), signed in, with its statements counted."""

    def __init__(self, root: Path, plugins: list[str], ticket_id: int, agent_id: int) -> None:
        self.app = make_app(root, plugins)
        self.path = f"/tickets/{ticket_id}"
        self.client = self.app.test_client()
        with self.app.app_context():
            agent = db.session.get(Agent, agent_id)
            start_session(agent)
            session_id = agent.get_id()
        with self.client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = session_id, True
        self.statements: list[str] = []
        self.timings: list[float] = []
        with self.app.app_context():
            event.listen(db.engine, "before_cursor_execute", lambda *args: self.statements.append(args[2]))
        self.size = len(self.render())  # warm-up: templates compiled, connections opened
        self.timings.clear()

    def render(self) -> bytes:
        self.statements.clear()
        with self.app.app_context():
            start = time.perf_counter()
            response = self.client.get(self.path)
            self.timings.append((time.perf_counter() - start) * 1000)
            db.session.remove()
        assert response.status_code == 200, response.status_code
        return response.data

    @property
    def ms(self) -> float:
        return statistics.median(self.timings)

    def close(self) -> None:
        with self.app.app_context():
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--replies", type=int, default=100)
    parser.add_argument("--recipients", type=int, default=10)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory(prefix="thread-bench.") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        ticket_id, agent_id = build(root, args.replies, args.recipients)
        print(f"built: 1 ticket, {args.replies} replies x {args.recipients} recipients with events "
              f"in {time.perf_counter() - start:.1f} s")
        baseline, page = Page(root, [], ticket_id, agent_id), Page(root, ["receipts", "tracking"], ticket_id, agent_id)
        for _ in range(args.rounds):  # interleaved, so that both see the same machine load
            baseline.render()
            page.render()
        baseline.close()
        page.close()
    print(f"baseline (receipts plugin disabled): ms_per_render={baseline.ms:.1f} "
          f"queries={len(baseline.statements)} bytes={baseline.size}; with read info: x{page.ms / baseline.ms:.2f} "
          f"time, +{len(page.statements) - len(baseline.statements)} queries, bytes={page.size}")
    print(f"thread-bench: ms_per_render={page.ms:.1f} queries={len(page.statements)}")


if __name__ == "__main__":
    main()
