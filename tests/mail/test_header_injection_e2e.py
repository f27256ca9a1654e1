"""Header text with line breaks, through the real relay: the reply reaches exactly its
recipient, every header on one line, and a reply that cannot be composed fails alone."""
from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from helpdesk.extensions import db
from helpdesk.mail.outgoing import send_due
from helpdesk.models import SendState
from tests.helpers import make_department, make_reply, make_ticket

pytestmark = pytest.mark.mailstack


def test_line_breaks_in_stored_header_text_add_no_recipient_and_stop_no_reply(stack, desk):
    support, agent = desk
    support.name = "Support\r\nBcc: bob@customer.test"
    broken = make_department("Broken", "broken@example.test")
    agent.departments.append(broken)
    db.session.commit()
    bad = make_reply(make_ticket(agent, broken), agent, to="carol@customer.test")
    bad.from_address = "broken@example.test\r\nBcc: carol@customer.test"
    db.session.commit()
    ticket = make_ticket(agent, support, subject="Invoice\r\nBcc: bob@customer.test\x07")
    good = make_reply(ticket, agent, to="alice@customer.test")
    states = {report.message_id: report.state for report in send_due()}
    assert states == {bad.id: SendState.FAILED, good.id: SendState.SENT}
    stack.wait_for("alice@customer.test", ["SUBJECT", f"[HD-{ticket.id}]"])
    stack.settle()
    [raw] = stack.fetch_all("alice@customer.test")
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["Subject"] == f"Re: [HD-{ticket.id}] Invoice Bcc: bob@customer.test"
    assert mail["Bcc"] is None and b"\x07" not in raw
    assert stack.fetch_all("bob@customer.test") == [] and stack.fetch_all("carol@customer.test") == []
