"""The demo data of ``make run`` with the receipts plugin: every check-mark state, and the
health page's list of reports that need a look."""
from __future__ import annotations

from sqlalchemy import select

from helpdesk.demo import DEMO_ADMIN, DEMO_PASSWORD
from helpdesk.extensions import db
from helpdesk.models import Agent, Message, MessageDirection
from receipts_plugin.models import StoredReport
from receipts_plugin.read_info import states_for
from tests.helpers import login


def test_the_demo_shows_every_state_and_two_reports_that_need_a_look(app, client):
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    replies = db.session.scalars(select(Message).where(Message.direction == MessageDirection.OUTBOUND)).all()
    labels = {state.label for state in states_for(replies).values()}
    assert {"Sent", "Delivered", "Read", "Read by a To recipient", "Read by a CC/BCC recipient", "Bounced"} <= labels
    outcomes = sorted(r.outcome for r in db.session.scalars(select(StoredReport)))
    assert outcomes == ["suspect", "unmatched"]
    login(client, db.session.scalar(select(Agent).where(Agent.email == DEMO_ADMIN)), DEMO_PASSWORD)
    health = client.get("/admin/receipts/health").get_data(as_text=True)
    assert "stranger@forwarded.example" in health and "mailer-daemon@mx.elsewhere.example" in health
    assert "who did not receive this message" in health and "no message of ours matches this report" in health
