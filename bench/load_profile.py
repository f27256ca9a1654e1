"""Where a request of the load benchmark spends its CPU: the ticket list, thread pages and the
read-info API, in-process (Flask's test client, the whole WSGI stack: session, sign-in check,
view, template, headers) on a database bench/load.py left behind (``--keep-database``).

For each of the three it prints the median and the least CPU ms per request (the least is the
one least disturbed by other processes on a shared machine), the SQL statements per request
and the size of the answer; ``--profile`` adds cProfile's top functions over all of them (by
CPU time: time spent waiting on the database is left out).

Run: ``python bench/load.py --database NAME --keep-database --no-closed-loop --no-open-loop``
once, then ``python bench/load_profile.py --database NAME [--rounds N] [--profile]``.
"""
from __future__ import annotations

import argparse
import cProfile
import logging
import pstats
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, select  # noqa: E402

from helpdesk import create_app  # noqa: E402
from helpdesk.extensions import db  # noqa: E402
from helpdesk.models import Message  # noqa: E402
from receipts_plugin.models import TrackedMessage  # noqa: E402

from load import app_config  # noqa: E402 - bench/ is the script's folder, first on the path
from load_data import ADMIN_EMAIL, ADMIN_PASSWORD, DATABASE  # noqa: E402

LISTS = ["/", "/?page=2", "/?page=40", "/?status=open", "/?department=2", "/?department=3&status=pending"]


def targets() -> dict[str, list[str]]:
    """As bench/load.py picks them: list pages and filters, thread pages and read-info URLs of
    tracked generated replies."""
    tracked = list(db.session.execute(select(TrackedMessage.message_id, Message.ticket_id)
                                      .join(Message, Message.id == TrackedMessage.message_id)
                                      .where(Message.message_id.like("%.bench@%"))
                                      .order_by(TrackedMessage.message_id).limit(2000)))[::125]
    return {"list": LISTS, "thread": [f"/tickets/{t}" for _, t in tracked[:8]],
            "read-info": [f"/api/v1/messages/{m}/read-info" for m, _ in tracked]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--rounds", type=int, default=5, help="passes over each group's URLs")
    parser.add_argument("--profile", action="store_true", help="cProfile's top functions")
    parser.add_argument("--statements", action="store_true",
                        help="print the SQL statements of each group's first URL (once, after the warm-up)")
    parser.add_argument("--only", choices=["list", "thread", "read-info"], help="one of the three")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    app = create_app(app_config(Path(tempfile.mkdtemp(prefix="load-profile.")), args.database))
    queries = [0]
    shown: list[str] | None = None

    def count(_conn, _cursor, statement, *_args) -> None:
        queries[0] += 1
        if shown is not None:
            shown.append(" ".join(statement.split())[:300])

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        groups = targets()
        db.session.remove()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"csrf_token": token, "email": ADMIN_EMAIL,
                                       "password": ADMIN_PASSWORD}).status_code == 302
    # CPU time, not wall time: waiting on PostgreSQL is not the app's cost per request.
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    for name, paths in groups.items():
        if args.only and name != args.only:
            continue
        for path in paths:  # warm-up
            assert client.get(path).status_code == 200, path
        if args.statements:
            shown = []
            client.get(paths[0])
            print(f"{name} {paths[0]}: {len(shown)} statements", *shown, sep="\n  ")
            shown = None
        cpu, counts, sizes = [], [], []
        for _ in range(args.rounds):
            for path in paths:
                queries[0] = 0
                if profiler:
                    profiler.enable()
                started = time.process_time()
                response = client.get(path)
                cpu.append((time.process_time() - started) * 1000)
                if profiler:
                    profiler.disable()
                assert response.status_code == 200, path
                counts.append(queries[0])
                sizes.append(len(response.data))
        print(f"{name}: cpu_ms={statistics.median(cpu):.2f} (min {min(cpu):.2f}, mean {statistics.mean(cpu):.2f}) "
              f"queries={statistics.median(counts):.0f} bytes={statistics.median(sizes):.0f}", flush=True)
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("cumulative").print_stats(r"helpdesk|receipts_plugin|wtforms|flask_login|flask_wtf", 40)
        stats.sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
