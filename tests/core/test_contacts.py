"""Undeliverable marks go by the reports' dates, never by the order they arrive in."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from helpdesk.extensions import db
from helpdesk.models import Contact
from helpdesk.services.contacts import mark_undeliverable, record_reached

AT = datetime(2026, 5, 4, 10, 0, 0, tzinfo=timezone.utc)  # report dates have whole seconds: ties happen


def mark_after(steps) -> tuple[bool, datetime | None]:
    """(marked, reached_at) of a new contact after ``steps``; the contact is gone again after."""
    contact = Contact(email="dana@customer.test")
    db.session.add(contact)
    db.session.flush()
    for step in steps:
        step()
    db.session.commit()
    outcome = (contact.undeliverable_since is not None, contact.reached_at)
    db.session.delete(contact)
    db.session.commit()
    return outcome


def bounce(at):
    return lambda: mark_undeliverable("dana@customer.test", "5.1.1 no such user", at)


def delivered(at):
    return lambda: record_reached([("dana@customer.test", at)])


@pytest.mark.parametrize("bounced_at, reached_at, marked", [
    (AT, AT - timedelta(seconds=1), True),   # the failure is newer
    (AT, AT + timedelta(seconds=1), False),  # the proof is newer
    (AT, AT, False),                          # the same instant: the proof wins
])
def test_the_mark_is_the_same_in_either_order(app, bounced_at, reached_at, marked):
    assert mark_after([bounce(bounced_at), delivered(reached_at)]) == (marked, reached_at)
    assert mark_after([delivered(reached_at), bounce(bounced_at)]) == (marked, reached_at)
