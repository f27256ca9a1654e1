"""The pages with read info cost a fixed number of SQL statements, however many replies,
recipients and events a thread (or tickets a list page) has."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from helpdesk.extensions import db
from helpdesk.models import Agent, Department
from tests.helpers import login
from tests.receipts.factories import busy_thread


@contextmanager
def counted_statements():
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def statements_for(client, path: str) -> list[str]:
    db.session.remove()  # nothing cached from building the data or from an earlier request
    with counted_statements() as statements:
        response = client.get(path)
    assert response.status_code == 200, path
    return statements


def test_the_thread_page_costs_the_same_for_2x2_and_20x6(client, desk):
    support, _, agent = desk
    small, large = busy_thread(agent, support, 2, 2).id, busy_thread(agent, support, 20, 6).id
    login(client, agent)
    few, many = statements_for(client, f"/tickets/{small}"), statements_for(client, f"/tickets/{large}")
    page = client.get(f"/tickets/{large}").get_data(as_text=True)
    assert page.count('class="rr-state') == 20 and page.count('class="rr-track"') == 20  # read info is drawn
    assert len(few) == len(many), "\n".join(many)


def test_the_panel_and_the_states_api_cost_the_same_for_2_and_12_recipients(client, desk):
    support, _, agent = desk
    small, large = busy_thread(agent, support, 1, 2), busy_thread(agent, support, 3, 12)
    (small_id, small_reply), (large_id, large_reply) = [(t.id, t.messages[-1].id) for t in (small, large)]
    login(client, agent)
    for path in ("/messages/{}/read-info", "/api/v1/messages/{}/read-info"):
        few, many = statements_for(client, path.format(small_reply)), statements_for(client, path.format(large_reply))
        assert len(few) == len(many), path
    few = statements_for(client, f"/api/v1/tickets/{small_id}/read-states")
    many = statements_for(client, f"/api/v1/tickets/{large_id}/read-states")
    assert len(few) == len(many)


def test_the_ticket_list_costs_the_same_for_1_and_12_tickets_with_replies(client, desk):
    support, _, agent = desk
    busy_thread(agent, support, 2, 3)
    login(client, agent)
    support_id, agent_id = support.id, agent.id
    few = statements_for(client, "/")
    support, agent = db.session.get(Department, support_id), db.session.get(Agent, agent_id)
    for n in range(11):
        busy_thread(agent, support, 2, 3, domain=f"c{n}.test")
    many = statements_for(client, "/")
    assert client.get("/").get_data(as_text=True).count('class="rr-state') == 12
    assert len(few) == len(many), "\n".join(many)


#: The statements a page costs, at most (bench/load_profile.py --statements shows them): the
#: list's are the session's agent, the agent's departments (once, for the count, the page and
#: the department menu; none for an admin), the counts (the page's total and each view's, together), the
#: page, the colleagues, the departments, and the 'Last reply' column (one query for the whole
#: column, with the receipts switches); the thread's are its ticket (with its department and
#: requester), messages, recipients, attachments, history, the desk's addresses, undeliverable
#: contacts, the sidebar's agents, departments and linked tickets, and the plugin's switches,
#: states and change marker.
LIST_STATEMENTS, THREAD_STATEMENTS = 7, 17


def test_the_ticket_list_costs_its_budget_with_the_last_reply_column(client, desk):
    support, _, agent = desk
    for n in range(3):
        busy_thread(agent, support, 2, 3, domain=f"c{n}.test")
    login(client, agent)
    statements = statements_for(client, "/")
    assert client.get("/").get_data(as_text=True).count('class="rr-state') == 3  # the column is drawn
    assert len(statements) <= LIST_STATEMENTS, "\n".join(statements)


def test_the_thread_page_costs_its_budget(client, desk):
    support, _, agent = desk
    ticket_id = busy_thread(agent, support, 3, 2).id
    login(client, agent)
    statements = statements_for(client, f"/tickets/{ticket_id}")
    assert len(statements) <= THREAD_STATEMENTS, "\n".join(statements)
