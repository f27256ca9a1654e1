"""The ticket list's pages (newest first) by position: every ticket once, both ways, stable
while tickets change, and the pager's links in the page lead there."""
from __future__ import annotations

import re
from datetime import timedelta

from helpdesk.extensions import db
from helpdesk.models import Ticket, utcnow
from helpdesk.services.tickets import list_tickets
from tests.helpers import login, make_agent, make_department, make_ticket


def seven_tickets():
    """Seven tickets, two of them updated at the same instant (the id breaks the tie)."""
    support = make_department("Support")
    agent = make_agent("agent@example.test", [support])
    tickets = [make_ticket(agent, support, subject=f"ticket {n}") for n in range(7)]
    base = utcnow().replace(microsecond=123456)
    for n, ticket in enumerate(tickets):
        ticket.updated_at = base - timedelta(minutes=n if n != 4 else 3)  # 3 and 4 tie
    db.session.commit()
    newest_first = [t.id for t in sorted(tickets, key=lambda t: (t.updated_at, t.id), reverse=True)]
    return agent, newest_first


def ids(page) -> list[int]:
    return [t.id for t in page.tickets]


def test_following_the_positions_gives_every_ticket_once_newest_first_and_back(app):
    agent, newest_first = seven_tickets()
    pages = [list_tickets(agent, per_page=3)]
    while pages[-1].older:
        pages.append(list_tickets(agent, per_page=3, page=pages[-1].page + 1, after=pages[-1].older))
    assert [ids(p) for p in pages] == [newest_first[:3], newest_first[3:6], newest_first[6:]]
    assert [(p.page, p.pages, p.total) for p in pages] == [(1, 3, 7), (2, 3, 7), (3, 3, 7)]
    assert pages[0].newer is None and pages[-1].older is None
    back = list_tickets(agent, per_page=3, page=2, before=pages[2].newer)
    assert ids(back) == newest_first[3:6]
    assert ids(list_tickets(agent, per_page=3, page=1, before=back.newer)) == newest_first[:3]


def test_a_page_by_position_does_not_shift_when_a_ticket_is_updated_meanwhile(app):
    agent, newest_first = seven_tickets()
    first = list_tickets(agent, per_page=3)
    oldest = db.session.get(Ticket, newest_first[-1])
    oldest.updated_at = utcnow() + timedelta(minutes=5)  # answered: now the newest
    db.session.commit()
    assert ids(list_tickets(agent, per_page=3, page=2, after=first.older)) == newest_first[3:6]
    assert ids(list_tickets(agent, per_page=3, page=2)) == newest_first[2:5]  # by OFFSET it would shift


def test_a_malformed_position_falls_back_to_the_page_number(app):
    agent, newest_first = seven_tickets()
    for junk in ("", "abc", "12.", ".5", "1.2.3", "-5.3"):
        assert ids(list_tickets(agent, per_page=3, page=2, after=junk)) == newest_first[3:6]


def test_the_pager_links_carry_the_positions(app, client):
    agent, newest_first = seven_tickets()
    app.config["TICKETS_PER_PAGE"] = 3
    login(client, agent)
    page = client.get("/").get_data(as_text=True)
    older = re.search(r'<a href="([^"]+)">Older', page).group(1).replace("&amp;", "&")
    assert "after=" in older and "page=2" in older
    second = client.get(older).get_data(as_text=True)
    shown = [int(n) for n in re.findall(r'href="/tickets/(\d+)"', second)]
    assert shown == newest_first[3:6] and "Page 2 of 3 (7 tickets)" in second
    newer = re.search(r'<a href="([^"]+)">&larr; Newer', second).group(1).replace("&amp;", "&")
    assert [int(n) for n in re.findall(r'href="/tickets/(\d+)"', client.get(newer).get_data(as_text=True))] \
        == newest_first[:3]


# ------------------------------------------------------------------ search and the attention filter

def searchable():
    support = make_department("Support")
    agent = make_agent("agent@example.test", [support])
    printer = make_ticket(agent, support, subject="Printer on fire", requester="Alice Doe <alice@customer.test>")
    invoice = make_ticket(agent, support, subject="Invoice 100% wrong", requester="bob@billing.test")
    other = make_ticket(agent, support, subject="Cannot sign in", requester="Carol <carol@customer.test>")
    return agent, printer, invoice, other


def test_search_finds_by_reference_subject_and_requester_in_any_case(app):
    agent, printer, invoice, other = searchable()

    def found(text):
        return sorted(ids(list_tickets(agent, search=text)))

    assert found("printer") == [printer.id]
    assert found("ALICE") == [printer.id] and found("Carol") == [other.id]  # the requester's name or address
    assert found("billing.test") == [invoice.id]
    assert found(f"HD-{other.id}") == [other.id] and found(f"[hd-{other.id}]") == [other.id]
    assert found("100%") == [invoice.id] and found("%") == [invoice.id]  # % and _ are plain characters
    assert found("_") == [] and found("nothing like it") == []
    assert found("  ") == sorted([printer.id, invoice.id, other.id])


def test_the_attention_filter_keeps_the_flagged_tickets(app):
    agent, printer, invoice, other = searchable()
    invoice.attention = "A reply bounced for every recipient"
    db.session.commit()
    assert ids(list_tickets(agent, attention=True)) == [invoice.id]
    assert ids(list_tickets(agent, attention=True, search="printer")) == []


def test_the_list_page_shows_the_search_back_and_its_pager_keeps_it(app, client):
    agent, printer, invoice, other = searchable()
    for n in range(4):
        make_ticket(agent, printer.department, subject=f"Printer jam {n}")
    app.config["TICKETS_PER_PAGE"] = 2
    login(client, agent)
    page = client.get("/?q=printer&attention=").get_data(as_text=True)
    assert 'name="q" value="printer"' in page and "Page 1 of 3 (5 tickets)" in page
    older = re.search(r'<a href="([^"]+)">Older', page).group(1).replace("&amp;", "&")
    assert "q=printer" in older
    second = client.get(older).get_data(as_text=True)
    assert "Page 2 of 3 (5 tickets)" in second and "Cannot sign in" not in second
    flagged = client.get("/?attention=1").get_data(as_text=True)
    assert 'name="attention" value="1" checked' in flagged and "No tickets match." in flagged
    assert "No tickets match “nothing”." in client.get("/?q=nothing").get_data(as_text=True)
