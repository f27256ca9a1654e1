"""Demo data for ``make run``: three departments, agents, contacts, and 30+ email threads."""
from __future__ import annotations

import random
from datetime import time, timedelta

from flask import current_app
from sqlalchemy import func, select

from .extensions import db
from .mail.compose import new_message_id, reply_subject, thread_references
from .models import (
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
    TicketEventKind,
    TicketPriority,
    TicketStatus,
    utcnow,
)
from .services import history
from .services.assignment import ROUND_ROBIN

DEMO_ADMIN = "admin@example.com"
DEMO_PASSWORD = "helpdesk-demo"

DEPARTMENTS = [("Support", "support@example.com"), ("Billing", "billing@example.com"), ("Sales", "sales@example.com")]
AGENTS = [
    ("Ada Admin", DEMO_ADMIN, AgentRole.ADMIN, ["Support", "Billing", "Sales"], "Europe/London"),
    ("Sam Support", "sam@example.com", AgentRole.AGENT, ["Support"], "America/New_York"),
    ("Bea Billing", "bea@example.com", AgentRole.AGENT, ["Billing"], "Europe/Berlin"),
    ("Sol Sales", "sol@example.com", AgentRole.AGENT, ["Sales", "Support"], "Asia/Tokyo"),
]
PEOPLE = [
    "Alice Martin", "Bob Chen", "Carla Rossi", "Dev Patel", "Emma Novak", "Farid Haddad", "Grace Kim",
    "Hugo Lefebvre", "Ines Costa", "Jonas Berg", "Keiko Sato", "Liam Walsh", "Maya Cohen", "Nils Eriksson",
    "Olga Ivanova", "Pablo Ruiz",
]
DOMAINS = ["example.org", "example.net", "customer.example"]
TOPICS = {
    "Support": ["Cannot log in after password reset", "Export to CSV is empty", "App crashes on startup",
                "Two-factor codes not arriving", "Sync stuck at 99%", "Error 500 when uploading a file"],
    "Billing": ["Charged twice this month", "Need a VAT invoice", "Update the card on file",
                "Refund for the annual plan", "Invoice address is wrong"],
    "Sales": ["Quote for 50 seats", "Do you offer an education discount?", "Trial extension request",
              "Security questionnaire for procurement"],
}
CUSTOMER_LINES = [
    "Hello,\n\n{topic}. Could you have a look? This is blocking our team.\n\nThanks,\n{name}",
    "Hi there,\n\nFollowing up on my previous email: {topic}. Any news?\n\nBest,\n{name}",
    "Thanks for the quick answer! I tried that and it works now, but a colleague still sees the problem.\n\n{name}",
]
AGENT_LINES = [
    "Hi {first},\n\nThanks for reaching out. I have looked into this and we are on it; "
    "I copied the colleagues who asked about it as well.\n\nBest regards,\n{agent}",
    "Hi {first},\n\nThis should be fixed now. Could you confirm on your side?\n\nKind regards,\n{agent}",
]


def load_demo(ticket_count: int = 36, seed: int = 7) -> bool:
    """Create the demo data unless any department exists; True if it was created."""
    if db.session.scalar(select(func.count()).select_from(Department)):
        return False
    rng = random.Random(seed)
    departments = {name: Department(name=name, email=email) for name, email in DEPARTMENTS}
    departments["Support"].auto_assign = True  # new mail to Support is assigned round-robin
    departments["Billing"].assign_on_reply = True
    db.session.add_all(departments.values())
    agents = []
    for name, email, role, depts, zone in AGENTS:
        agent = Agent(name=name, email=email, role=role, timezone=zone, work_start=time(9), work_end=time(17),
                      departments=[departments[d] for d in depts])
        agent.set_password(DEMO_PASSWORD)
        agents.append(agent)
    db.session.add_all(agents)
    contacts = [Contact(email=f"{n.split()[0].lower()}@{DOMAINS[i % len(DOMAINS)]}", name=n)
                for i, n in enumerate(PEOPLE)]
    db.session.add_all(contacts)
    db.session.flush()
    now = utcnow()
    for index in range(ticket_count):
        department = list(departments.values())[index % len(departments)]
        ticket = _demo_ticket(rng, index, department, [a for a in agents if department in a.departments], contacts,
                              now - timedelta(days=30) + timedelta(hours=index * 19))
        if index % 4:  # a quarter stays unassigned
            _demo_assignment(ticket, agents[0])
    db.session.commit()
    return True


def _demo_ticket(rng: random.Random, index: int, department: Department, agents: list[Agent],
                 contacts: list[Contact], start) -> Ticket:
    config = current_app.config
    requester = contacts[index % len(contacts)]
    topic = rng.choice(TOPICS[department.name])
    ticket = Ticket(subject=topic, department=department, requester=requester, channel=Channel.EMAIL,
                    priority=rng.choice(list(TicketPriority)), status=rng.choice(list(TicketStatus)),
                    created_at=start, updated_at=start)
    db.session.add(ticket)
    db.session.flush()
    when = start
    parent = None
    copied = rng.sample([c for c in contacts if c is not requester], k=rng.choice([0, 1, 2]))  # on the mail's Cc
    for turn in range(rng.randint(1, 3)):
        inbound = Message(
            ticket=ticket, direction=MessageDirection.INBOUND, contact=requester, from_address=requester.email,
            from_name=requester.name, to_header=department.email, cc_header=", ".join(c.display for c in copied),
            subject=topic if turn == 0 else f"Re: {topic}",
            message_id=f"demo.{ticket.id}.{turn}@{requester.email.split('@')[1]}",
            text_body=CUSTOMER_LINES[min(turn, 2)].format(topic=topic, name=requester.name),
            created_at=when)
        in_reply_to, references = thread_references(parent)
        inbound.in_reply_to, inbound.references = in_reply_to, references
        db.session.add(inbound)
        when += timedelta(hours=rng.randint(1, 6))
        agent = rng.choice(agents)
        in_reply_to, references = thread_references(inbound)
        reply = Message(
            ticket=ticket, direction=MessageDirection.OUTBOUND, author=agent, from_address=department.email,
            from_name=department.name, subject=reply_subject(ticket, config["TICKET_PREFIX"]),
            message_id=new_message_id(ticket.id, config["MAIL_DOMAIN"]), in_reply_to=in_reply_to,
            references=references,
            text_body=AGENT_LINES[turn % 2].format(first=requester.name.split()[0], agent=agent.name),
            created_at=when, sent_at=when, send_state=SendState.SENT, send_attempts=1)
        others = rng.sample([c for c in contacts if c is not requester and c not in copied], k=rng.choice([0, 1]))
        people = [(RecipientRole.TO, requester), *((RecipientRole.CC, c) for c in copied),
                  *((rng.choice([RecipientRole.BCC, RecipientRole.TO]), c) for c in others)]
        for role, contact in people:
            reply.recipients.append(MessageRecipient(
                role=role, address=contact.email, name=contact.name, contact=contact,
                delivery_state=DeliveryState.ACCEPTED, smtp_code=250, smtp_response="2.0.0 Ok: queued (demo)",
                last_attempt_at=when, accepted_at=when))
        db.session.add(reply)
        parent = reply
        when += timedelta(hours=rng.randint(2, 20))
    ticket.updated_at = when
    return ticket


def _demo_assignment(ticket: Ticket, admin: Agent) -> None:
    """The agent of the first reply has the ticket: round-robin gave it to them where the
    department has it on, the admin assigned it elsewhere."""
    first_reply = next(m for m in ticket.messages if m.direction is MessageDirection.OUTBOUND)
    ticket.assignee = first_reply.author
    round_robin = ticket.department.auto_assign
    history.record(ticket, TicketEventKind.ASSIGNEE, None if round_robin else admin, None, first_reply.author.name,
                   ROUND_ROBIN if round_robin else None, at=ticket.created_at + timedelta(minutes=5))
