"""Contacts: found or created by address, marked when mail to them fails for good, and
unmarked when mail is later proven to reach them."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..mail.addresses import normalise
from ..models import Agent, Contact, utcnow
from ..signals import contact_suppression_changed
from .events import after_commit


def find_contact(address: str) -> Contact | None:
    return db.session.scalar(select(Contact).where(Contact.email == normalise(address)))


def get_or_create_contact(address: str, name: str = "") -> Contact:
    """The contact for ``address``; created (not committed) on first contact.

    A name is filled in when we learn one, never overwritten by a later, different one."""
    contact = find_contact(address)
    if contact is None:
        contact = Contact(email=normalise(address), name=name[:200])
        db.session.add(contact)
        db.session.flush()
    elif name and not contact.name:
        contact.name = name[:200]
    return contact


def mark_undeliverable(address: str, reason: str, when: datetime | None = None) -> Contact | None:
    """Record that mail to ``address`` failed permanently (kept until an agent clears it).

    Does not commit: callers record this together with the failure that caused it."""
    marked = mark_all_undeliverable([(address, reason, when)])
    return marked[0] if marked else None


def mark_all_undeliverable(marks: Sequence[tuple[str, str, datetime | None]]) -> list[Contact]:
    """:func:`mark_undeliverable` for several (address, reason, when) at once, with one query;
    the contacts marked. Reports arrive out of order, so the outcome goes by their dates, not
    their order: the newest failure's mark wins, and a failure no newer than the newest proof of
    delivery (``reached_at``) marks nothing (at the same instant the proof wins, whichever came
    first: see :func:`record_reached`). Does not commit."""
    if not marks:
        return []
    wanted = {normalise(address) for address, _, _ in marks}
    contacts = {c.email: c for c in db.session.scalars(select(Contact).where(Contact.email.in_(wanted)))}
    app = current_app._get_current_object()
    marked = []
    for address, reason, when in marks:
        contact = contacts.get(normalise(address))
        when = when or utcnow()
        if (contact is None or (contact.reached_at is not None and when <= contact.reached_at)
                or (contact.undeliverable_since is not None and when < contact.undeliverable_since)):
            continue
        contact.undeliverable_since = when
        contact.undeliverable_reason = reason[:2000]
        after_commit(partial(contact_suppression_changed.send, app, contact=contact, agent=None))
        marked.append(contact)
    return marked


def record_reached(reached: Sequence[tuple[str, datetime]]) -> list[Contact]:
    """Record that mail reached each address at that time (a delivery report or a receipt
    said so), and lift the undeliverable mark of those it reached after they were marked, or
    at the same instant: the address works again. The contacts whose mark was lifted. Does not
    commit."""
    newest: dict[str, datetime] = {}
    for address, when in reached:
        key = normalise(address)
        newest[key] = max(when, newest.get(key, when))
    if not newest:
        return []
    lifted = []
    for contact in db.session.scalars(select(Contact).where(Contact.email.in_(newest))):
        when = newest[contact.email]
        if contact.reached_at is None or when > contact.reached_at:
            contact.reached_at = when
        if contact.undeliverable_since is not None and when >= contact.undeliverable_since:
            _lift_mark(contact, None)
            lifted.append(contact)
    return lifted


def clear_undeliverable(contact: Contact, agent: Agent) -> None:
    _lift_mark(contact, agent)
    db.session.commit()


def _lift_mark(contact: Contact, agent: Agent | None) -> None:
    """Clear the contact's mark and tell listeners once committed (``agent``: who, or None)."""
    contact.undeliverable_since = contact.undeliverable_reason = None
    after_commit(partial(contact_suppression_changed.send, current_app._get_current_object(),
                         contact=contact, agent=agent))


def undeliverable_contacts(limit: int = 500) -> list[Contact]:
    """Every address marked undeliverable, the newest mark first (the desk's suppression list)."""
    return list(db.session.scalars(select(Contact).where(Contact.undeliverable_since.is_not(None))
                                   .order_by(Contact.undeliverable_since.desc(), Contact.id).limit(limit)))


def undeliverable_among(addresses: list[str]) -> list[Contact]:
    """Contacts among ``addresses`` that carry an undeliverable mark (for composer warnings)."""
    wanted = [normalise(a) for a in addresses]
    if not wanted:
        return []
    return list(db.session.scalars(
        select(Contact).where(Contact.email.in_(wanted), Contact.undeliverable_since.is_not(None))
    ))
