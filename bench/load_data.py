"""The load benchmark's database: ``helpdesk_bench`` on the local PostgreSQL, recreated and
filled with generated help-desk data by bulk inserts (see bench/load.py for what is measured).

Ids are given here, so no insert needs to return any; the data is reproducible from a seed.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from sqlalchemy import func, insert, select, text

from helpdesk.extensions import db
from helpdesk.models import (
    Agent,
    AgentRole,
    Channel,
    Contact,
    DeliveryState,
    Department,
    Message,
    MessageDirection,
    MessageRecipient,
    RecipientRole,
    SendState,
    Ticket,
    TicketPriority,
    TicketStatus,
    agent_departments,
    utcnow,
)
from receipts_plugin.inbound.consequences import state_event, status_values
from receipts_plugin.models import DeliveryEventRow, RecipientStatusRow, TrackedMessage
from receipts_plugin.settings import save_switches
from receipts_plugin.state import fold
from tests.receipts.factories import FATES

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
DATABASE = "helpdesk_bench"
ADMIN_EMAIL = "admin@example.test"
ADMIN_PASSWORD = "load-bench admin"
DEPARTMENTS = ("Support", "Billing", "Sales")
STATUS_WEIGHTS = {TicketStatus.OPEN: 2, TicketStatus.PENDING: 3, TicketStatus.RESOLVED: 3, TicketStatus.CLOSED: 2}
TICKET_CHUNK = 1000
INSERT_CHUNK = 5000


def drop_database(name: str = DATABASE) -> None:
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def recreate_database(name: str = DATABASE) -> None:
    drop_database(name)
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")


def department_email(department_id: int) -> str:
    return f"{DEPARTMENTS[department_id - 1].lower()}@example.test"


def bulk(model, rows: list[dict]) -> None:
    """Core INSERTs of many rows at once, into the model's table (no ORM objects; the ORM's
    bulk path would split the rows by which columns are None, into thousands of statements)."""
    table = getattr(model, "__table__", model)
    for start in range(0, len(rows), INSERT_CHUNK):
        db.session.execute(insert(table), rows[start:start + INSERT_CHUNK])


def password_hash(password: str) -> str:
    """Hashed as the app hashes an agent's password."""
    agent = Agent()
    agent.set_password(password)
    return agent.password_hash


@dataclass
class Thread:
    """One generated ticket's rows."""

    tickets: list[dict]
    messages: list[dict]
    recipients: list[dict]
    tracked: list[dict]
    events: list[dict]
    statuses: list[dict]


class Generator:
    """Rows for tickets and their threads, with ids given here (so that no insert needs to
    return any), reproducible from a seed."""

    def __init__(self, departments: list[int], agents_of: dict[int, list[int]], contacts: list[tuple[str, str]],
                 seed: int = 8) -> None:
        self.rng = random.Random(seed)
        self.departments, self.agents_of, self.contacts = departments, agents_of, contacts
        self.now = utcnow()
        self.message_id = self.recipient_id = 0
        self.department_email = {d: department_email(d) for d in departments}

    def chunk(self, first: int, last: int, tickets: int, messages: int) -> Thread:
        rows = Thread([], [], [], [], [], [])
        for ticket_id in range(first, last):
            count = max(1, messages // tickets + (1 if ticket_id <= messages % tickets else 0))
            self.ticket(rows, ticket_id, tickets, count)
        return rows

    def ticket(self, rows: Thread, ticket_id: int, tickets: int, count: int) -> None:
        rng = self.rng
        department = self.departments[ticket_id % len(self.departments)]
        requester = rng.randrange(len(self.contacts))
        subject = f"Question {ticket_id}: {rng.choice(['invoice', 'login', 'printer', 'refund', 'delivery'])}"
        # Spread over the past year, oldest first; each thread lasts at most a few days.
        at = self.now - timedelta(days=365) + timedelta(days=360) * (ticket_id / tickets) \
            + timedelta(seconds=rng.randrange(3600))
        created = at
        previous: str | None = None
        for n in range(count):
            self.message_id += 1
            if n % 2 == 0:
                message_id = f"m{ticket_id}.{n}@clients.test"
                rows.messages.append(self.message(ticket_id, MessageDirection.INBOUND, at, message_id, previous,
                                                  contact_id=requester + 1, from_address=self.contacts[requester][0],
                                                  from_name=self.contacts[requester][1], subject=subject,
                                                  to_header=self.department_email[department]))
            else:
                message_id = f"hd.{ticket_id}.{n}.bench@example.test"
                rows.messages.append(self.message(
                    ticket_id, MessageDirection.OUTBOUND, at, message_id, previous,
                    author_id=rng.choice(self.agents_of[department]), from_address=self.department_email[department],
                    from_name=DEPARTMENTS[department - 1], subject=f"Re: [HD-{ticket_id}] {subject}",
                    send_state=SendState.SENT, send_attempts=1, sent_at=at))
                self.reply(rows, requester, at)
            previous, last = message_id, at
            at += timedelta(minutes=rng.randrange(5, 300))
        rows.tickets.append(dict(
            id=ticket_id, subject=subject, status=rng.choices(list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()))[0],
            priority=TicketPriority.NORMAL if ticket_id % 7 else TicketPriority.HIGH, channel=Channel.EMAIL,
            department_id=department, requester_id=requester + 1, assignee_id=rng.choice(self.agents_of[department]),
            attention=None, created_at=created, updated_at=last))

    def message(self, ticket_id: int, direction: MessageDirection, at: datetime, message_id: str,
                previous: str | None, **fields) -> dict:
        row = dict(id=self.message_id, ticket_id=ticket_id, direction=direction, author_id=None, contact_id=None,
                   from_address="", from_name="", to_header="", cc_header="", subject="", message_id=message_id,
                   in_reply_to=previous, references=f"<{previous}>" if previous else "",
                   text_body=f"Message {self.message_id}.\n\n" + "Some words about the matter at hand. " * 8,
                   html_body=None, auto_submitted=False, created_at=at, raw_sha256=None, send_state=None,
                   send_attempts=0, next_attempt_at=None, last_error=None, sent_at=None)
        row.update(fields)
        return row

    def reply(self, rows: Thread, requester: int, at: datetime) -> None:
        """An outbound message's recipients: To the requester, sometimes a CC and a BCC; most
        replies tracked, with the events and statuses the poller would have recorded."""
        rng, message_id = self.rng, self.message_id
        others = rng.sample(range(len(self.contacts)), 3)
        people = [(RecipientRole.TO, requester)]
        if rng.random() < 0.5:
            people.append((RecipientRole.CC, next(c for c in others if c != requester)))
        if rng.random() < 0.3:
            people.append((RecipientRole.BCC, next(c for c in reversed(others) if c not in {p for _, p in people})))
        tracked = rng.random() < 0.7
        if tracked:
            rows.tracked.append(dict(message_id=message_id, envid=f"bench{message_id}", per_recipient=True,
                                     requested_at=at))
        for role, contact in people:
            self.recipient_id += 1
            address, name = self.contacts[contact]
            rows.recipients.append(dict(
                id=self.recipient_id, message_id=message_id, contact_id=contact + 1, role=role, address=address,
                name=name, delivery_state=DeliveryState.ACCEPTED, smtp_code=250, smtp_response="2.0.0 Ok: queued",
                last_attempt_at=at, accepted_at=at))
            if tracked:
                self.fate(rows, message_id, at)

    def fate(self, rows: Thread, message_id: int, at: datetime) -> None:
        recipient_id = self.recipient_id
        kind, status, reason = FATES[self.rng.randrange(len(FATES))]
        events = [self.event(recipient_id, message_id, "smtp-accepted", "smtp:smtp-accepted", at, "250", None)]
        if kind:
            events.append(self.event(recipient_id, message_id, kind, f"bench:{kind}",
                                     at + timedelta(minutes=self.rng.randrange(1, 120)), status, reason))
        rows.events += events
        state = fold(state_event(event) for event in events)
        rows.statuses.append(dict(recipient_id=recipient_id, message_id=message_id, updated_at=self.now,
                                  **status_values(state)))

    @staticmethod
    def event(recipient_id: int, message_id: int, kind: str, key: str, at: datetime, status_code: str | None,
              reason: str | None) -> dict:
        return dict(recipient_id=recipient_id, message_id=message_id, kind=kind, source=kind.split("-")[0], key=key,
                    at=at, status_code=status_code, reason=reason,
                    diagnostic=f"{status_code} from the remote server" if reason else None, remote_mta=None,
                    detail=None, report_id=None, recorded_at=at)


def generate(tickets: int, messages: int, contacts: int, agents: int) -> None:
    """Departments (receipts on), agents and an admin, contacts, then tickets with their
    threads in chunks, one commit each; the sequences then follow the ids given."""
    now = utcnow()
    departments = list(range(1, len(DEPARTMENTS) + 1))
    bulk(Department, [dict(id=d, name=DEPARTMENTS[d - 1], email=department_email(d),
                           reopen_on_bounce=False, created_at=now) for d in departments])
    hashed = password_hash(ADMIN_PASSWORD)  # one hash for everyone: hashing is slow on purpose
    bulk(Agent, [dict(id=1, email=ADMIN_EMAIL, name="Admin", password_hash=hashed, role=AgentRole.ADMIN)]
         + [dict(id=n, email=f"agent{n}@example.test", name=f"Agent {n}", password_hash=hashed, role=AgentRole.AGENT)
            for n in range(2, agents + 2)])
    agents_of: dict[int, list[int]] = {d: [] for d in departments}
    for n in range(2, agents + 2):
        for d in {departments[n % 3], departments[n // 7 % 3]}:  # one or two departments each
            agents_of[d].append(n)
    bulk(agent_departments, [dict(agent_id=a, department_id=d) for d, ids in agents_of.items() for a in ids])
    people = [(f"customer{n}@clients.test", f"Customer {n}") for n in range(1, contacts + 1)]
    bulk(Contact, [dict(id=n, email=email, name=name, created_at=now) for n, (email, name) in enumerate(people, 1)])
    db.session.commit()
    save_switches(set(departments))

    generator = Generator(departments, agents_of, people)
    for first in range(1, tickets + 1, TICKET_CHUNK):
        rows = generator.chunk(first, min(first + TICKET_CHUNK, tickets + 1), tickets, messages)
        for table, values in ((Ticket, rows.tickets), (Message, rows.messages), (MessageRecipient, rows.recipients),
                              (TrackedMessage, rows.tracked), (DeliveryEventRow, rows.events),
                              (RecipientStatusRow, rows.statuses)):
            bulk(table, values)
        db.session.commit()
    for table in ("departments", "agents", "contacts", "tickets", "messages", "message_recipients"):
        db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                f"(SELECT max(id) FROM {table}))"))
    db.session.commit()


def vacuum_analyze(name: str = DATABASE) -> None:
    """As autovacuum would have left a database that has been in use: statistics and visibility."""
    with psycopg.connect(f"{PG_SERVER}/{name}", autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


def sizes() -> str:
    counts = {name: db.session.scalar(select(func.count()).select_from(model)) for name, model in (
        ("tickets", Ticket), ("messages", Message), ("recipients", MessageRecipient), ("tracked", TrackedMessage),
        ("events", DeliveryEventRow), ("statuses", RecipientStatusRow), ("contacts", Contact), ("agents", Agent))}
    outbound = db.session.scalar(select(func.count()).where(Message.direction == MessageDirection.OUTBOUND))
    megabytes = db.session.scalar(text("SELECT pg_database_size(current_database())")) / 2 ** 20
    return " ".join(f"{k}={v}" for k, v in counts.items()) + f" outbound={outbound} database_mb={megabytes:.0f}"
