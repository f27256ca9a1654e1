"""Template slots draw the same HTML whatever order the core's templates call them in: each
receiver looks up the states it needs on first need, none relies on a slot that ran before."""
from __future__ import annotations

from flask import g

from helpdesk.extensions import db
from helpdesk.services.tickets import thread_messages
from helpdesk.templating import template_hook
from tests.receipts.factories import busy_thread


def _thread_slots(ticket, messages, order):
    g.__dict__.clear()  # the tests hold one app context open: start each drawing as a new request
    calls = {
        "thread-before": lambda: [str(template_hook("thread-before", ticket=ticket, messages=messages))],
        "message-meta": lambda: [str(template_hook("message-meta", message=m, ticket=ticket)) for m in messages],
        "message-menu": lambda: [str(template_hook("message-menu", message=m, ticket=ticket)) for m in messages],
    }
    return {name: calls[name]() for name in order}


def _list_slots(tickets, order):
    g.__dict__.clear()
    calls = {
        "ticket-list-head": lambda: [str(template_hook("ticket-list-head", tickets=tickets))],
        "ticket-list-row": lambda: [str(template_hook("ticket-list-row", ticket=t, tickets=tickets)) for t in tickets],
    }
    return {name: calls[name]() for name in order}


def test_the_thread_slots_draw_the_same_html_in_any_order(app, desk):
    support, _, agent = desk
    ticket = busy_thread(agent, support, 3, 2)
    messages = thread_messages(ticket.id)
    with app.test_request_context():
        usual = _thread_slots(ticket, messages, ["thread-before", "message-meta", "message-menu"])
    with app.test_request_context():
        reversed_ = _thread_slots(ticket, messages, ["message-menu", "message-meta", "thread-before"])
    assert usual == reversed_
    assert sum('class="rr-state' in piece for piece in usual["message-meta"]) == 3  # check marks are drawn
    assert sum('class="rr-track"' in piece for piece in usual["message-menu"]) == 3


def test_the_ticket_list_rows_do_not_need_the_head_drawn_first(app, desk):
    support, billing, agent = desk
    agent.departments.append(billing)  # billing shows no read info: its row is an empty cell
    db.session.commit()
    tickets = [busy_thread(agent, support, 1, 2), busy_thread(agent, billing, 1, 1, domain="b.test")]
    with app.test_request_context():
        usual = _list_slots(tickets, ["ticket-list-head", "ticket-list-row"])
    with app.test_request_context():
        rows_first = _list_slots(tickets, ["ticket-list-row", "ticket-list-head"])
    assert usual == rows_first
    assert usual["ticket-list-head"] == ["<th>Last reply</th>"]
    assert 'class="rr-state' in usual["ticket-list-row"][0] and usual["ticket-list-row"][1] == "<td></td>"


def test_no_state_is_handed_between_slots_through_g(app, desk):
    """A receiver finds what it needs even when nothing ran before it in the request."""
    support, _, agent = desk
    ticket = busy_thread(agent, support, 1, 1)
    message = next(m for m in thread_messages(ticket.id) if m.author_id is not None)
    db.session.expire_all()
    with app.test_request_context():
        g.__dict__.clear()
        assert 'class="rr-state' in str(template_hook("message-meta", message=message, ticket=ticket))
