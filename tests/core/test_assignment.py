"""Assignment without HTTP (services) and through the pages without JavaScript: by hand, many
at once, the list's views, taking a ticket by replying, moves between departments,
round-robin (working hours, inactive agents, fair across restarts, concurrent intake)."""
from __future__ import annotations

import re
import threading
import time
from datetime import datetime, time as clock, timezone

import pytest
from werkzeug.exceptions import NotFound

from helpdesk import create_app
from helpdesk.extensions import db
from helpdesk.mail import intake
from helpdesk.mail.intake import process_inbound
from helpdesk.models import AgentRole, Department, Ticket, TicketEvent, TicketStatus
from helpdesk.services import assignment
from helpdesk.services import tickets as tickets_service
from helpdesk.services.contacts import get_or_create_contact
from helpdesk.services.errors import ValidationError
from helpdesk.services.tickets import list_tickets, update_ticket, view_counts
from tests.helpers import login, make_agent, make_department, make_reply, make_ticket, post_form


@pytest.fixture
def desk(app):
    support, sales = make_department("Support"), make_department("Sales")
    sam = make_agent("sam@example.test", [support], name="Sam Support")
    sol = make_agent("sol@example.test", [support, sales], name="Sol Sales")
    sara = make_agent("sara@example.test", [sales], name="Sara Sales")
    return support, sales, sam, sol, sara


def history_of(ticket) -> list[tuple]:
    return [(e.kind.value, e.actor.name if e.actor else None, e.old_value, e.new_value, e.reason)
            for e in db.session.scalars(db.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                        .order_by(TicketEvent.id))]


def test_an_agent_of_the_department_or_nobody(desk):
    support, sales, sam, sol, sara = desk
    ticket = make_ticket(sam, support)
    assert assignment.assign(ticket, sol.id, sam) and ticket.assignee is sol
    with pytest.raises(ValidationError) as error:
        assignment.assign(ticket, sara.id, sam)
    assert error.value.errors == {"assignee": ["Sara Sales does not work in Support."]}
    sol.active = False
    db.session.commit()
    with pytest.raises(ValidationError):
        assignment.assign(ticket, sol.id, sam)  # no new tickets for an inactive agent
    assert assignment.assign(ticket, None, sam) and ticket.assignee is None
    assert not assignment.assign(ticket, None, sam)  # no change, no history line
    assert history_of(ticket) == [("assignee", "Sam Support", None, "Sol Sales", None),
                                  ("assignee", "Sam Support", "Sol Sales", None, None)]


def test_many_at_once_leaves_tickets_the_assignee_cannot_have_and_says_so(desk):
    support, sales, sam, sol, sara = desk
    a, b = make_ticket(sol, support, subject="a"), make_ticket(sol, sales, subject="b")
    result = assignment.assign_many(sol, [a.id, b.id], sam.id)
    assert [t.id for t in result.changed] == [a.id]
    assert [(t.id, why) for t, why in result.refused] == [(b.id, "Sam Support does not work in Sales")]
    assert (a.assignee, b.assignee) == (sam, None)
    result = assignment.assign_many(sol, [a.id, b.id], sol.id)
    assert (a.assignee, b.assignee) == (sol, sol) and len(result.changed) == 2
    with pytest.raises(NotFound):  # Sam does not see Sales' tickets: nothing of it changes
        assignment.assign_many(sam, [a.id, b.id], None)
    assert (a.assignee, b.assignee) == (sol, sol)
    with pytest.raises(ValidationError):
        assignment.assign_many(sol, [], None)


def test_the_views_and_the_assignee_filter(desk):
    support, sales, sam, sol, sara = desk
    mine, theirs, nobodys = (make_ticket(sam, support, subject=s) for s in ("mine", "theirs", "nobody's"))
    assignment.assign(mine, sam.id, sam)
    assignment.assign(theirs, sol.id, sam)

    def subjects(**filters):
        return sorted(t.subject for t in list_tickets(sam, **filters).tickets)

    assert subjects(assignee="mine") == ["mine"]
    assert subjects(assignee="unassigned") == ["nobody's"]
    assert subjects(assignee=str(sol.id)) == ["theirs"]
    assert subjects() == ["mine", "nobody's", "theirs"]
    assert subjects(assignee="mine", status=TicketStatus.CLOSED) == []
    assert view_counts(sam) == {"": 3, "mine": 1, "unassigned": 1}
    assert view_counts(sol, department_id=sales.id) == {"": 0, "mine": 0, "unassigned": 0}


def test_a_reply_takes_an_unassigned_ticket_only_where_the_department_says_so(desk):
    support, sales, sam, sol, sara = desk
    admin = make_agent("admin@example.test", role=AgentRole.ADMIN, name="Ada Admin")  # in no department
    ticket = make_ticket(sam, support)
    make_reply(ticket, sam)
    assert ticket.assignee is None  # off by default
    support.assign_on_reply = True
    db.session.commit()
    make_reply(ticket, admin)
    assert ticket.assignee is None  # an admin outside the department cannot have it
    make_reply(ticket, sol)
    make_reply(ticket, sam)
    assert ticket.assignee is sol  # the first reply took it; later ones leave it
    assert history_of(ticket) == [("assignee", "Sol Sales", None, "Sol Sales", "reply")]


def test_a_move_drops_an_assignee_who_does_not_work_there(desk):
    support, sales, sam, sol, sara = desk
    ticket = make_ticket(sam, support)
    assignment.assign(ticket, sol.id, sam)
    update_ticket(ticket, sam, department_id=sales.id)
    assert (ticket.department, ticket.assignee) == (sales, sol)  # Sol works in both
    update_ticket(ticket, sol, department_id=support.id, assignee_id=sam.id)
    update_ticket(ticket, sam, department_id=sales.id)
    assert (ticket.department, ticket.assignee) == (sales, None)
    with pytest.raises(ValidationError) as error:
        update_ticket(ticket, sol, department_id=support.id, assignee_id=sara.id, status=TicketStatus.CLOSED)
    assert list(error.value.errors) == ["assignee"]
    db.session.rollback()
    assert (ticket.department, ticket.status) == (sales, TicketStatus.OPEN)  # nothing of it was saved
    assert history_of(ticket)[1:] == [
        ("department", "Sam Support", "Support", "Sales", None),
        ("department", "Sol Sales", "Sales", "Support", None),
        ("assignee", "Sol Sales", "Sol Sales", "Sam Support", None),
        ("department", "Sam Support", "Support", "Sales", None),
        ("assignee", "Sam Support", "Sam Support", None, "moved"),
    ]


# ------------------------------------------------------------------ round-robin

def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 24, hour, minute, tzinfo=timezone.utc)


@pytest.fixture
def team(app):
    """Support with round-robin on and four agents (9:00-17:00 on their own clocks)."""
    support = make_department("Support", auto_assign=True)
    agents = [make_agent(f"{name.lower()}@example.test", [support], name=name, timezone=zone)
              for name, zone in (("Ann", "UTC"), ("Ben", "Asia/Tokyo"), ("Cat", "UTC"), ("Dan", "America/New_York"))]
    return support, agents


def new_ticket(support, when: datetime) -> Ticket:
    """A new ticket arriving at ``when`` (round-robin's clock)."""
    ticket = Ticket(subject="new", department=support, requester=get_or_create_contact("alice@customer.test"),
                    created_at=when, updated_at=when)
    db.session.add(ticket)
    assignment.auto_assign(ticket, when)
    db.session.commit()
    return ticket


def test_round_robin_takes_turns_among_those_at_work(team):
    support, (ann, ben, cat, dan) = team
    # 15:00 UTC: Ann, Cat and Dan (10:00 in New York) at work; Ben (midnight in Tokyo) is not.
    names = [new_ticket(support, at(15)).assignee.name for _ in range(5)]
    assert names == ["Ann", "Cat", "Dan", "Ann", "Cat"]
    # 01:00 UTC: only Ben (10:00 in Tokyo) is at work.
    assert [new_ticket(support, at(1)).assignee.name for _ in range(2)] == ["Ben", "Ben"]
    cat.active = False
    db.session.commit()
    assert [new_ticket(support, at(15)).assignee.name for _ in range(3)] == ["Dan", "Ann", "Dan"]
    # 22:30 UTC: nobody at work; the ticket waits in Unassigned.
    assert new_ticket(support, at(22, 30)).assignee is None
    ticket = new_ticket(support, at(15))
    assert history_of(ticket) == [("assignee", None, None, "Ann", "round-robin")]


def test_round_robin_is_off_by_default_and_resumes_after_a_restart(team, app_config):
    support, (ann, ben, cat, dan) = team
    support.auto_assign = False
    db.session.commit()
    assert new_ticket(support, at(15)).assignee is None
    support.auto_assign = True
    db.session.commit()
    assert new_ticket(support, at(15)).assignee is ann
    support_id = support.id
    db.session.remove()
    restarted = create_app(app_config)  # a new process: the turn comes from the database
    with restarted.app_context():
        again = db.session.get(Department, support_id)
        assert new_ticket(again, at(15)).assignee.name == "Cat"
        db.session.remove()


def test_round_robin_applies_to_mail_and_to_tickets_agents_record(team, monkeypatch):
    support, (ann, ben, cat, dan) = team
    for module in (assignment, intake, tickets_service):  # the clocks new tickets are stamped with
        monkeypatch.setattr(module, "utcnow", lambda: at(15))
    raw = b"From: alice@customer.test\r\nTo: support@example.test\r\nSubject: hi\r\nMessage-ID: <rr@customer.test>\r\n\r\nhi\r\n"
    mailed = db.session.get(Ticket, process_inbound(raw, "test").ticket_id)
    recorded = make_ticket(ann, support, subject="phone call")
    assert (mailed.assignee, recorded.assignee) == (ann, cat)


def test_concurrent_intake_never_gives_the_same_turn_twice(team, app, monkeypatch):
    """Twelve mails arrive at once; each intake takes its turn under the department's lock.
    The availability check is slowed so that, without the lock, the intakes would all read
    the same turn and give every ticket to the same agent."""
    support, agents = team
    real = assignment.within_working_hours

    def slow(agent, now):
        time.sleep(0.02)
        return real(agent, at(15))

    monkeypatch.setattr(assignment, "within_working_hours", slow)
    db.session.remove()
    start, errors = threading.Barrier(12), []

    def intake(n: int) -> None:
        with app.app_context():
            try:
                start.wait()
                raw = (f"From: c{n}@customer.test\r\nTo: support@example.test\r\nSubject: n{n}\r\n"
                       f"Message-ID: <c{n}@customer.test>\r\n\r\nhello\r\n").encode()
                assert process_inbound(raw, "test").outcome == "ticket"
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(repr(exc.__cause__ or exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=intake, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    counts = {}
    for ticket in db.session.scalars(db.select(Ticket)):
        counts[ticket.assignee.name] = counts.get(ticket.assignee.name, 0) + 1
    assert counts == {"Ann": 4, "Cat": 4, "Dan": 4}  # Ben is asleep in Tokyo


def test_working_hours_are_the_agents_own(app):
    support = make_department("Support")
    ben = make_agent("ben@example.test", [support], timezone="Asia/Tokyo", work_start=clock(8), work_end=clock(12))
    assert [assignment.within_working_hours(ben, at(h)) for h in (22, 23, 2, 3)] == [False, True, True, False]


# ------------------------------------------------------------------ through the pages (no JavaScript)

def test_the_list_assigns_the_ticked_tickets_and_shows_the_views(desk, client):
    support, sales, sam, sol, sara = desk
    a, b, c = (make_ticket(sol, department, subject=s) for s, department in
               (("Alpha", support), ("Bravo", sales), ("Charlie", support)))
    login(client, sol)
    listing = client.get("/").get_data(as_text=True)
    assert re.search(r'<input type="checkbox" name="tickets" value="%d" aria-label="Select HD-%d">' % (a.id, a.id),
                     listing)
    response = post_form(client, "/tickets/assign", {"tickets": [a.id, b.id, c.id], "assign_to": str(sam.id),
                                                     "next": "/?assignee=unassigned"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.request.path == "/" and "2 tickets assigned to Sam Support." in page
    assert f"HD-{b.id} was left as it was: Sam Support does not work in Sales." in page
    assert ">Bravo</a>" in page and ">Alpha</a>" not in page  # back in the Unassigned view
    assert re.search(r'aria-current="page">Unassigned <span class="count">1</span>', page)
    mine = client.get(f"/?assignee={sam.id}").get_data(as_text=True)
    assert ">Alpha</a>" in mine and ">Charlie</a>" in mine and ">Bravo</a>" not in mine
    assert client.get("/?assignee=someone").status_code == 400
    take = post_form(client, "/tickets/assign", {"tickets": b.id, "assign_to": str(sol.id), "next": f"/tickets/{b.id}"},
                     page=f"/tickets/{b.id}")
    assert take.headers["Location"] == f"/tickets/{b.id}" and b.assignee is sol
    outsider = client.application.test_client()
    login(outsider, sara)
    assert post_form(outsider, "/tickets/assign", {"tickets": [a.id], "assign_to": ""}).status_code == 404
    assert a.assignee is sam


def test_the_sidebar_sets_the_assignee_and_moves_the_ticket(desk, client):
    support, sales, sam, sol, sara = desk
    ticket = make_ticket(sam, support)
    login(client, sam)
    thread = f"/tickets/{ticket.id}"
    page = client.get(thread).get_data(as_text=True)
    select = page.split('<select id="assignee" name="assignee">')[1].split("</select>")[0]
    assert re.findall(r'<option (?:selected )?value="(\d*)">([^<]+)</option>', select) \
        == [("", "Nobody"), (str(sam.id), "Sam Support"), (str(sol.id), "Sol Sales")]
    form = {"status": "open", "priority": "normal", "department": support.id}
    bad = post_form(client, f"{thread}/update", {**form, "assignee": str(sara.id)}, page=thread)
    assert bad.status_code == 400 and "Sara Sales does not work in Support." in bad.get_data(as_text=True)
    post_form(client, f"{thread}/update", {**form, "assignee": str(sam.id)}, page=thread)
    page = client.get(thread).get_data(as_text=True)
    assert '<dd class="assignee">Sam Support</dd>' in page
    assert re.search(r'<p class="event" id="event-\d+"><span>Sam Support took this ticket</span> · <time', page)
    moved = post_form(client, f"{thread}/update", {**form, "department": sales.id, "assignee": str(sam.id)}, page=thread)
    assert moved.headers["Location"] == "/"  # Sam does not work in Sales: the ticket left his list
    assert (ticket.department, ticket.assignee) == (sales, None)
    assert client.get(thread).status_code == 404
    api = client.application.test_client()
    login(api, sol)
    data = api.get(f"/api/v1/tickets/{ticket.id}").get_json()
    assert data["ticket"]["assignee"] is None and data["ticket"]["department"]["name"] == "Sales"
    assert [(e["kind"], e["from"], e["to"], e["reason"]) for e in data["history"]] == [
        ("assignee", None, "Sam Support", None), ("department", "Support", "Sales", None),
        ("assignee", "Sam Support", None, "moved")]
    assert data["history"][2]["text"] == "Sam Support was unassigned: not in the new department"
    assignment.assign(ticket, sol.id, sol)
    listed = api.get("/api/v1/tickets?assignee=mine").get_json()["tickets"]
    assert [(t["id"], t["assignee"]["name"]) for t in listed] == [(ticket.id, "Sol Sales")]


def test_admins_set_round_robin_and_take_on_reply_per_department(app, client):
    admin = make_agent("admin@example.test", role=AgentRole.ADMIN)
    support = make_department("Support")
    login(client, admin)
    form = client.get(f"/admin/departments/{support.id}").get_data(as_text=True)
    assert 'name="auto_assign"' in form and 'name="assign_on_reply"' in form
    post_form(client, f"/admin/departments/{support.id}", {"name": "Support", "email": "support@example.test",
                                                          "auto_assign": "y"}, page=f"/admin/departments/{support.id}")
    assert (support.auto_assign, support.assign_on_reply) == (True, False)
