"""The demo data of ``make run`` with the receipts plugin: every check-mark state, and the
health page's list of reports that need a look, every report with its raw copy."""
from __future__ import annotations

from sqlalchemy import select

from helpdesk.demo import DEMO_ADMIN, DEMO_PASSWORD
from helpdesk.extensions import db
from helpdesk.models import Agent, Message, MessageDirection
from receipts_plugin.models import DeliveryEventRow, StoredReport
from receipts_plugin.read_info import states_for
from tests.helpers import login


def test_the_demo_shows_every_state_and_two_reports_that_need_a_look_each_with_its_raw_report(app, client):
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    replies = db.session.scalars(select(Message).where(Message.direction == MessageDirection.OUTBOUND)).all()
    labels = {state.label for state in states_for(replies).values()}
    assert {"Sent", "Delivered", "Read", "Read by a To recipient", "Read by a CC/BCC recipient", "Bounced"} <= labels
    outcomes = sorted(r.outcome for r in db.session.scalars(select(StoredReport)))
    need_a_look = [outcome for outcome in outcomes if outcome != "matched"]  # the rest are the replies' own
    assert need_a_look == ["suspect", "unmatched"] and len(outcomes) > 100
    login(client, db.session.scalar(select(Agent).where(Agent.email == DEMO_ADMIN)), DEMO_PASSWORD)
    health = client.get("/admin/receipts/health").get_data(as_text=True)
    assert "stranger@forwarded.example" in health and "mailer-daemon@mx.elsewhere.example" in health
    assert "who did not receive this message" in health and "no message of ours matches this report" in health

    # Every report went through the real intake and keeps its raw copy (issue 16), so the
    # panel's "raw report" links work; a mail filter's rejection is among them.
    events = db.session.scalars(select(DeliveryEventRow).where(DeliveryEventRow.kind != "smtp-accepted")).all()
    assert {e.kind for e in events} >= {"dsn-delivered", "dsn-delayed", "dsn-failed", "mdn-displayed", "mdn-rejected"}
    assert all(e.report_id is not None for e in events)  # our relay's answers aside, every event has its report
    rejected = next(e for e in events if e.kind == "mdn-rejected")
    info = client.get(f"/api/v1/messages/{rejected.message_id}/read-info").get_json()
    recipient = next(r for r in info["recipients"] if r["status"] == "rejected")
    assert "automatically rejected" in recipient["problem"]["diagnostic"]
    assert info["state"]["partial_problem"] or info["state"]["state"] == "bounced"
    urls = [e["report_url"] for e in recipient["events"] if e["kind"] != "smtp-accepted"]
    assert urls and None not in urls
    panel = client.get(f"/messages/{rejected.message_id}/read-info").get_data(as_text=True)
    assert urls[-1] in panel and "raw report" in panel
    raw = client.get(urls[-1])
    assert raw.status_code == 200 and raw.mimetype == "message/rfc822"
    assert b"Disposition: automatic-action/MDN-sent-automatically; deleted" in raw.data
