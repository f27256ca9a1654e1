"""Receipts plugin tests run with the plugin loaded."""
import pytest

from helpdesk.mail.outgoing import send_message
from helpdesk.models import AgentRole, Channel
from receipts_plugin.settings import save_switches
from tests.helpers import make_agent, make_department, make_reply, make_ticket
from tests.receipts.builders import OUR_MX
from tests.receipts.factories import relay_accepts, report_on


@pytest.fixture
def plugins():
    return ["receipts", "tracking"]


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


@pytest.fixture
def people(desk):
    support, billing, agent = desk
    return {
        "agent": agent,
        "tokyo": make_agent("kenji@example.test", [support], timezone="Asia/Tokyo", name="Kenji"),
        "bea": make_agent("bea@example.test", [billing], name="Bea"),
        "admin": make_agent("admin@example.test", role=AgentRole.ADMIN, name="Ada"),
    }


@pytest.fixture
def reported(app, sent_reply):
    relay_accepts(app, sent_reply)
    return (sent_reply, *report_on(app, sent_reply))


@pytest.fixture
def our_mx(app) -> str:
    """Our mail server's Authentication-Results fields are trusted (see builders.authenticated)."""
    app.config["RECEIPTS_TRUSTED_AUTHSERV_IDS"] = [OUR_MX]
    return OUR_MX
