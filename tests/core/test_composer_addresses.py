"""The composer sends to exactly the addresses typed: a field that is not exactly a list of
addresses is refused whole, with a field error, and nothing is stored or sent."""
from pathlib import Path

import pytest

from helpdesk.extensions import db
from helpdesk.mail.addresses import Address, AddressError, parse_address_list
from helpdesk.models import Message, MessageDirection
from tests.helpers import login, make_agent, make_department, make_ticket, post_form

SMUGGLED = [
    "a@ex ample.org",  # was read as a@example.org
    "Alice <alice@example.org> bob@evil.example",  # was alice only, bob silently dropped
    '"N\r\nBcc: x@evil" <a@example.org>',  # was x@evil only
    "Alice alice@example.org",  # a name without angle brackets
    "Ann <ann@example.org",  # an unclosed bracket
    "team: ann@example.org, bob@example.org;",  # a group
    "ann@example.org\x00",
]


@pytest.mark.parametrize("typed", SMUGGLED)
def test_anything_but_a_list_of_addresses_is_refused(app, typed):
    with pytest.raises(AddressError):
        parse_address_list(typed)


@pytest.mark.parametrize("typed, parsed", [
    ("Ann <ann@example.org>, bob@example.org", [Address("ann@example.org", "Ann"), Address("bob@example.org")]),
    ("carol@example.org; bob@example.org", [Address("carol@example.org"), Address("bob@example.org")]),
    ('"Doe, Jane" <jane@example.org>, Dr. Who <who@example.org>',
     [Address("jane@example.org", "Doe, Jane"), Address("who@example.org", "Dr. Who")]),
    ('"Doe; Jane" <jane@example.org>', [Address("jane@example.org", "Doe; Jane")]),
    ("=?utf-8?q?J=C3=B6rg?= <Jorg@Example.org>", [Address("jorg@example.org", "Jörg")]),
    ("ann@example.org, ANN@example.org", [Address("ann@example.org")]),
    ("", []),
])
def test_lists_of_addresses_are_read_as_typed(app, typed, parsed):
    assert parse_address_list(typed) == parsed


def test_a_single_malformed_address_gets_email_validators_reason(app):
    with pytest.raises(AddressError, match=r"^carol: .*@"):
        parse_address_list("carol")


@pytest.mark.parametrize("field", ["to", "cc", "bcc"])
@pytest.mark.parametrize("typed", SMUGGLED[:3])
def test_the_composer_shows_a_field_error_and_sends_nothing(app, client, field, typed):
    support = make_department()
    agent = make_agent(departments=[support])
    ticket = make_ticket(agent, support)
    login(client, agent)
    form = {"to": "alice@customer.test", "cc": "", "bcc": "", "body": "hi", "status": "", field: typed}
    response = post_form(client, f"/tickets/{ticket.id}/reply", form, page=f"/tickets/{ticket.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in page
    assert "not a list of addresses" in page or "one line" in page
    assert db.session.query(Message).filter_by(direction=MessageDirection.OUTBOUND).count() == 0
    assert not list(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))
