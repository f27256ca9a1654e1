"""Contacts are scoped like tickets: an agent sees and changes only the people who take part
in a ticket of their departments (admins: everyone); any other contact is a 404 that says
nothing about it."""
from __future__ import annotations

import re

import pytest

from helpdesk.extensions import db
from helpdesk.models import AgentRole, Contact
from helpdesk.services import access
from helpdesk.services.contacts import mark_undeliverable
from tests.helpers import login, make_agent, make_department, make_reply, make_ticket, post_form


@pytest.fixture
def desk(app):
    support, billing = make_department("Support"), make_department("Billing")
    sam, bea = make_agent("sam@example.test", [support]), make_agent("bea@example.test", [billing])
    admin = make_agent("admin@example.test", role=AgentRole.ADMIN)
    ticket = make_ticket(sam, support, requester="Alice <alice@customer.test>")
    make_reply(ticket, sam, to="alice@customer.test", cc="bob@customer.test")
    make_ticket(bea, billing, requester="zoe@customer.test")
    for address in ("alice@customer.test", "bob@customer.test", "zoe@customer.test"):
        mark_undeliverable(address, "5.1.1 no such user")
    db.session.commit()
    return sam, bea, admin


def contact(address: str) -> Contact:
    return db.session.scalar(db.select(Contact).where(Contact.email == address))


def without_tokens(response) -> str:
    return re.sub(r'name="csrf_token"[^>]*>', "", response.get_data(as_text=True))


def clear(app, agent, contact_id: int):
    client = app.test_client()
    login(client, agent)
    return post_form(client, f"/contacts/{contact_id}/clear-undeliverable", {"next": "/"}, follow_redirects=True)


def test_another_departments_contact_is_a_404_that_names_nobody(app, desk):
    sam, bea, _ = desk
    for address in ("alice@customer.test", "bob@customer.test"):  # Support's requester, and a CC of its reply
        response = clear(app, bea, contact(address).id)
        assert response.status_code == 404
        assert address not in response.get_data(as_text=True)
    unknown, bob = clear(app, bea, 999_999), clear(app, bea, contact("bob@customer.test").id)
    assert unknown.status_code == 404 and without_tokens(unknown) == without_tokens(bob)
    db.session.expire_all()
    assert contact("alice@customer.test").undeliverable_since is not None
    assert contact("bob@customer.test").undeliverable_since is not None


def test_agents_of_the_department_and_admins_clear_the_mark(app, desk):
    sam, _, admin = desk
    response = clear(app, sam, contact("bob@customer.test").id)
    assert response.status_code == 200 and "bob@customer.test is no longer marked" in response.get_data(as_text=True)
    assert clear(app, sam, contact("zoe@customer.test").id).status_code == 404
    assert clear(app, admin, contact("zoe@customer.test").id).status_code == 200
    db.session.expire_all()
    assert contact("bob@customer.test").undeliverable_since is None
    assert contact("zoe@customer.test").undeliverable_since is None
    assert contact("alice@customer.test").undeliverable_since is not None


def test_the_scope_in_one_query_for_the_composer(app, desk):
    sam, bea, admin = desk
    ids = {address: contact(address).id for address in ("alice@customer.test", "bob@customer.test", "zoe@customer.test")}
    assert access.visible_contact_ids(sam, ids.values()) == {ids["alice@customer.test"], ids["bob@customer.test"]}
    assert access.visible_contact_ids(bea, ids.values()) == {ids["zoe@customer.test"]}
    assert access.visible_contact_ids(admin, ids.values()) == set(ids.values())


def test_the_composer_warns_about_any_typed_address_but_offers_to_clear_only_its_own(app, desk):
    _, bea, _ = desk
    ticket = make_ticket(bea, bea.departments[0], requester="zoe@customer.test")
    client = app.test_client()
    login(client, bea)
    response = post_form(client, f"/tickets/{ticket.id}/reply", {"to": "zoe@customer.test, alice@customer.test",
                                                                "body": "hi", "status": ""}, page=f"/tickets/{ticket.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Mail to <strong>alice@customer.test</strong> failed permanently" in page
    assert f'/contacts/{contact("zoe@customer.test").id}/clear-undeliverable' in page
    assert f'/contacts/{contact("alice@customer.test").id}/clear-undeliverable' not in page
