"""The forgeries of issue 14, as its tester sent them: through our real Postfix into the
Dovecot mailbox the poller watches, read by the poller. Only the reports bound to their
recipient count; the forged ones are on the health page and in the panel's history, and
change no status, no check mark and no contact."""
from __future__ import annotations

import smtplib
from email import message_from_bytes

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.mail.fetch import fetch_support_mailbox
from helpdesk.models import AgentRole, Contact
from receipts_plugin.models import StoredReport
from receipts_plugin.poller import poll_mailbox
from receipts_plugin.read_info import states_for
from receipts_plugin.settings import save_switches
from tests.helpers import login, make_agent, support_inbox_config
from tests.receipts.builders import mdn, postfix_dsn, read_notice
from tests.receipts.poller_support import (  # noqa: F401 - fixtures
    BOUNCES,
    add_mailbox,
    app_config,
    send_reply,
    stack,
    status_of,
    wait_for_count,
)

pytestmark = pytest.mark.mailstack

ALICE, BOB = "alice@customer.test", "bob@customer.test"


def submit(stack, sender: str, to: str, raw: bytes) -> None:
    """Hand bytes to our Postfix as anyone on the internet may."""
    with smtplib.SMTP(stack.smtp_host, stack.smtp_port, timeout=10) as smtp:
        assert smtp.sendmail(sender, [to], raw) == {}


def receipt_address_in(stack, user: str) -> str:
    [copy] = stack.fetch_all(user)
    return str(message_from_bytes(copy)["Disposition-Notification-To"])


def test_forged_reports_through_the_mailbox_mark_nobody(app, client, stack, desk):
    reply = send_reply(desk, to=f"Alice <{ALICE}>", cc=BOB)
    wait_for_count(stack, 2)  # Postfix's success DSNs, one to each recipient's return path
    mid, subject = reply.message_id, reply.subject
    alice_to, bob_to = receipt_address_in(stack, ALICE), receipt_address_in(stack, BOB)

    # Mallory has the reply's Message-ID (a forwardee, a later member of the thread)...
    submit(stack, "mallory@evil.test", BOUNCES,
           mdn(sender="mallory@evil.test", final_recipient=ALICE, original_message_id=mid, to=BOUNCES))
    submit(stack, "mallory@evil.test", BOUNCES, read_notice(sender=BOB, subject=subject, in_reply_to=mid, to=BOUNCES))
    submit(stack, "mallory@evil.test", BOUNCES, postfix_dsn(to=BOUNCES, recipient=ALICE, original_message_id=mid))
    # ...Bob passed his copy on, and Frank's program answers to the address in it...
    submit(stack, "frank@elsewhere.test", bob_to,
           mdn(sender="frank@elsewhere.test", final_recipient="frank@elsewhere.test", original_message_id=mid,
               to=bob_to))
    # ...and Alice's own program answers to hers.
    submit(stack, ALICE, alice_to, mdn(sender=f"Alice <{ALICE}>", final_recipient=ALICE, original_message_id=mid,
                                       to=alice_to))
    wait_for_count(stack, 7)

    summary = poll_mailbox(add_mailbox(stack))

    assert summary.error is None and summary.fetched == 7
    assert summary.outcomes == {"matched": 3, "suspect": 4}
    assert (status_of(reply, ALICE), status_of(reply, BOB)) == ("read", "delivered")
    assert states_for([reply])[reply.id].state.value == "read-by-to"  # not "read by all"
    assert db.session.scalars(select(Contact).where(Contact.email == ALICE)).one().undeliverable_since is None
    suspects = db.session.scalars(select(StoredReport).where(StoredReport.outcome == "suspect")).all()
    assert all(r.reason.startswith("unverified for ") for r in suspects)

    admin = make_agent("admin@example.test", role=AgentRole.ADMIN)
    login(client, admin)
    health = client.get("/admin/receipts/health").get_data(as_text=True)
    assert health.count('class="rr-outcome-suspect"') == 4 and "their copy was passed on" in health
    panel = client.get(f"/messages/{reply.id}/read-info").get_data(as_text=True)
    assert panel.count("Not counted, unverified") == 4 and "mallory@evil.test" in panel


def test_a_bounce_without_a_token_in_the_support_inbox_marks_no_contact(app, stack, desk):
    """A reply sent while receipts were off has no signed return path: the real bounce that
    comes back to the department's address is claimed, never a ticket, but nothing binds it
    to its recipient, so it is kept as unverified and the address is not marked."""
    save_switches(set())
    app.config.update(support_inbox_config(stack, "Processed"))
    reply = send_reply(desk, to="nobody@customer.test")
    stack.wait_for("support@example.test", ["SUBJECT", "Undelivered Mail Returned to Sender"])

    assert fetch_support_mailbox().stats.outcomes == {"claimed": 1}

    stored = db.session.scalars(select(StoredReport)).one()
    assert (stored.outcome, stored.message_id) == ("suspect", reply.id)
    assert status_of(reply, "nobody@customer.test") == "sent"
    nobody = db.session.scalars(select(Contact).where(Contact.email == "nobody@customer.test")).first()
    assert nobody is None or nobody.undeliverable_since is None
