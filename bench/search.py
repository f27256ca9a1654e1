"""Benchmark: full-text search of the ticket list on 100,000 messages.

A fresh database (PostgreSQL: ``helpdesk_search_bench`` on the local server, dropped and
created again; SQLite: a file in a temp dir), its schema from the real migrations (``upgrade
heads``, core only), gets 3 departments, 12 agents, 2,000 contacts, 10,000 tickets and
100,000 messages by bulk inserts (ids given, no ORM objects), with bodies of 40-120 words
drawn from a Zipf-distributed vocabulary of 5,000 words (help-desk English, product names,
error codes), so some words are in most messages and most words in few, as in real mail.

Then an admin (who sees every department: the largest result sets) asks the list's service
for the first page of results, with snippets, as the page does (``list_tickets(search=...)``),
for a mix of queries: single words (common, middling, rare), two and three words, phrases
taken from the bodies, prefixes (``refun*``), references (``HD-4242``) and requesters'
addresses. The baseline, in the same run and database, is the list's first page without a
search. Each query is timed once, after a warm-up round of other queries.

Run: ``python bench/search.py [--database postgresql|sqlite] [--messages N] [--queries Q]``.
The last line is ``search-bench: p50_ms=A p99_ms=B messages=N db=postgresql``; the line
above it gives the baseline and the ratio. The database is removed at the end.
"""
from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import text  # noqa: E402

from helpdesk import create_app  # noqa: E402
from helpdesk.extensions import db  # noqa: E402
from helpdesk.models import (  # noqa: E402
    Agent,
    AgentRole,
    Channel,
    Contact,
    Department,
    Message,
    MessageDirection,
    Ticket,
    TicketPriority,
    TicketStatus,
    agent_departments,
    utcnow,
)
from helpdesk.services.tickets import list_tickets  # noqa: E402

from load_data import PG_SERVER, bulk, drop_database, password_hash, recreate_database, vacuum_analyze  # noqa: E402

DATABASE = "helpdesk_search_bench"
COMMON = ("the a to and of you we i is it for in on that this have be with not can please thanks your our "
          "are was will if my me as at but do so just know let us there when from any all would could get").split()
SUPPORT = ("account login password reset invoice refund charge card payment subscription plan upgrade export "
           "import csv report dashboard error crash sync app mobile android iphone browser chrome firefox email "
           "notification attachment upload download file folder permission admin user team seat license trial "
           "discount quote order delivery shipping address billing tax vat receipt renewal cancel downgrade "
           "integration api token webhook timeout slow outage server backup restore data delete duplicate "
           "calendar schedule meeting reminder template signature printer scanner setting profile language "
           "update version release bug issue problem question request help support urgent asap today tomorrow "
           "monday friday week month year customer colleague manager invoice pdf screenshot steps reproduce").split()


def vocabulary(rng: random.Random, size: int) -> list[str]:
    """Common words first (the Zipf head), then help-desk words, then made-up product names,
    error codes and surnames for the long tail."""
    words = list(dict.fromkeys(COMMON + SUPPORT))
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "ve", "zo", "bri", "dan", "fel", "gor", "hax", "jun", "pli", "qua"]
    while len(words) < size:
        kind = rng.random()
        if kind < 0.2:
            word = f"E{rng.randrange(1000, 9999)}"
        elif kind < 0.3:
            word = f"INV-{rng.randrange(10000, 99999)}"
        else:
            word = "".join(rng.choices(syllables, k=rng.randint(2, 4)))
        if word not in words:
            words.append(word)
    return words


class Corpus:
    """Bodies and subjects drawn from the vocabulary with Zipf weights (1/rank)."""

    def __init__(self, seed: int = 15, size: int = 5000) -> None:
        self.rng = random.Random(seed)
        self.words = vocabulary(self.rng, size)
        self.cumulative = list(_cumulative([1 / rank for rank in range(1, len(self.words) + 1)]))

    def sentence(self, count: int) -> str:
        return " ".join(self.rng.choices(self.words, cum_weights=self.cumulative, k=count))

    def body(self) -> str:
        lines = [self.sentence(self.rng.randint(8, 20)).capitalize() + "." for _ in range(self.rng.randint(3, 7))]
        return "Hello,\n\n" + "\n".join(lines) + "\n\nRegards"


def _cumulative(weights):
    total = 0.0
    for weight in weights:
        total += weight
        yield total


def make_app(url: str, work: Path):
    return create_app({"DATABASE_URL": url, "SECRET_KEY": "search-bench", "PLUGINS": [], "LOG_LEVEL": "WARNING",
                       "OUTBOX_DIR": str(work / "outbox"), "ATTACHMENT_DIR": str(work / "files"),
                       "BASE_URL": "http://127.0.0.1:5000"})


def generate(corpus: Corpus, tickets: int, messages: int, contacts: int = 2000) -> list[tuple[str, str]]:
    """The rows, inserted in chunks of 1,000 tickets, one commit each; returns the contacts."""
    now = utcnow()
    bulk(Department, [dict(id=d, name=name, email=f"{name.lower()}@example.test", reopen_on_bounce=False,
                           auto_assign=False, assign_on_reply=False, created_at=now)
                      for d, name in enumerate(("Support", "Billing", "Sales"), 1)])
    hashed = password_hash("search-bench admin")
    bulk(Agent, [dict(id=1, email="admin@example.test", name="Admin", password_hash=hashed, role=AgentRole.ADMIN)]
         + [dict(id=n, email=f"agent{n}@example.test", name=f"Agent {n}", password_hash=hashed, role=AgentRole.AGENT)
            for n in range(2, 14)])
    bulk(agent_departments, [dict(agent_id=n, department_id=n % 3 + 1) for n in range(2, 14)])
    people = [(f"customer{n}@clients.test", f"Customer {n} {corpus.words[200 + n % 3000].capitalize()}")
              for n in range(1, contacts + 1)]
    bulk(Contact, [dict(id=n, email=email, name=name, created_at=now) for n, (email, name) in enumerate(people, 1)])
    db.session.commit()
    rng, message_id = corpus.rng, 0
    for first in range(1, tickets + 1, 1000):
        ticket_rows, message_rows = [], []
        for ticket_id in range(first, min(first + 1000, tickets + 1)):
            at = now - timedelta(days=365) + timedelta(days=360) * ticket_id / tickets
            requester = rng.randrange(contacts)
            ticket_rows.append(dict(
                id=ticket_id, subject=corpus.sentence(rng.randint(3, 7)).capitalize(), channel=Channel.EMAIL,
                status=rng.choice(list(TicketStatus)), priority=TicketPriority.NORMAL, department_id=ticket_id % 3 + 1,
                requester_id=requester + 1, assignee_id=None, attention=None, created_at=at, updated_at=at))
            for n in range(messages // tickets + (1 if ticket_id <= messages % tickets else 0)):
                message_id += 1
                inbound = n % 2 == 0
                message_rows.append(dict(
                    id=message_id, ticket_id=ticket_id,
                    direction=MessageDirection.INBOUND if inbound else MessageDirection.OUTBOUND,
                    from_address=people[requester][0] if inbound else "support@example.test", from_name="",
                    to_header="", cc_header="", subject="", message_id=f"m{message_id}@bench.test", references="",
                    text_body=corpus.body(), auto_submitted=False, created_at=at + timedelta(hours=n),
                    send_attempts=0))
        bulk(Ticket, ticket_rows)
        bulk(Message, message_rows)
        db.session.commit()
    if db.engine.dialect.name == "postgresql":
        for name in ("departments", "agents", "contacts", "tickets", "messages"):
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"))
        db.session.commit()
    return people


def queries(corpus: Corpus, people: list[tuple[str, str]], tickets: int, count: int) -> list[str]:
    """The mix an agent types: mostly a word or two, some phrases, prefixes, references, addresses."""
    rng, words = random.Random(7), corpus.words
    support = [w for w in SUPPORT if w in words]
    kinds = [
        lambda: rng.choice(support),  # a help-desk word: common
        lambda: rng.choice(words[300:1500]),  # middling
        lambda: rng.choice(words[1500:]),  # rare: a code, a product name
        lambda: f"{rng.choice(support)} {rng.choice(support)}",
        lambda: f"{rng.choice(support)} {rng.choice(words[300:])}",
        lambda: f"{rng.choice(words[200:])} {rng.choice(support)} {rng.choice(words[100:])}",
        lambda: '"' + " ".join(corpus.body().split()[3:6]).strip(".,") + '"',  # a phrase from a body
        lambda: rng.choice(support)[:5] + "*",
        lambda: f"HD-{rng.randrange(1, tickets + 1)}",
        lambda: rng.choice(people)[0].split("@")[0] + "@",
    ]
    weights = [20, 15, 10, 15, 10, 5, 10, 5, 5, 5]
    return [rng.choices(kinds, weights)[0]() for _ in range(count)]


def timed(agent: Agent, text: str) -> float:
    start = time.perf_counter()
    list_tickets(agent, search=text)
    elapsed = (time.perf_counter() - start) * 1000
    db.session.rollback()  # each request starts afresh, as a web request does
    return elapsed


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--tickets", type=int, default=None, help="default: a tenth of the messages")
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    tickets = args.tickets or max(1, args.messages // 10)
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.database == "postgresql":
            recreate_database(DATABASE)
            url = f"{PG_SERVER}/{DATABASE}"
        else:
            url = f"sqlite:///{work / 'search.sqlite3'}"
        try:
            app = make_app(url, work)
            with app.app_context():
                upgrade(revision="heads")
                corpus = Corpus()
                start = time.perf_counter()
                people = generate(corpus, tickets, args.messages)
                loaded = time.perf_counter() - start
                if args.database == "postgresql":
                    vacuum_analyze(DATABASE)
                else:
                    db.session.execute(text("ANALYZE"))
                    db.session.commit()
                admin = db.session.get(Agent, 1)
                mix = queries(corpus, people, tickets, args.queries + 30)
                for warm in mix[:30]:
                    timed(admin, warm)
                times = [timed(admin, q) for q in mix[30:]]
                start = time.perf_counter()
                baseline = []
                for _ in range(30):
                    baseline.append(timed(admin, ""))
                messages = db.session.scalar(text("SELECT count(*) FROM messages"))
                db.session.remove()
                db.engine.dispose()
        finally:
            if args.database == "postgresql":
                drop_database(DATABASE)
    p50, p99, base = statistics.median(times), percentile(times, 0.99), statistics.median(baseline)
    print(f"loaded {messages} messages in {loaded:.1f} s; {len(times)} queries; slowest {max(times):.1f} ms")
    print(f"baseline (the list's first page, no search): p50_ms={base:.1f}; search p50 x{p50 / base:.2f}")
    print(f"search-bench: p50_ms={p50:.1f} p99_ms={p99:.1f} messages={messages} db={args.database}")


if __name__ == "__main__":
    main()
