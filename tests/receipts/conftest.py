"""Receipts plugin tests run with the plugin loaded."""
import pytest

from helpdesk.mail.outgoing import send_message
from helpdesk.models import Channel
from receipts_plugin.settings import save_switches
from tests.helpers import make_agent, make_department, make_reply, make_ticket


@pytest.fixture
def plugins():
    return ["receipts"]


@pytest.fixture
def desk(app):
    support = make_department("Support", "support@example.test")
    billing = make_department("Billing", "billing@example.test")
    agent = make_agent("agent@example.test", [support])
    save_switches({support.id})
    return support, billing, agent


@pytest.fixture
def sent_reply(app, desk):
    """A reply to a To, a CC and a BCC recipient and one unknown address, sent (to the outbox)."""
    support, _, agent = desk
    ticket = make_ticket(agent, support, requester="Alice <alice@customer.test>", channel=Channel.EMAIL)
    reply = make_reply(ticket, agent, to="Alice <alice@customer.test>, nobody@customer.test",
                       cc="bob@customer.test", bcc="carol@customer.test")
    send_message(reply.id)
    return reply
