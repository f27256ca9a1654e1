"""The core installed alone: its default configuration names no plugin, and it starts,
serves and runs its jobs without one."""
from helpdesk import create_app
from helpdesk.config import DEFAULTS
from helpdesk.extensions import db
from helpdesk.jobs import all_jobs, all_watchers
from helpdesk.models import SendState
from helpdesk.services import tickets as ticket_service
from helpdesk.services.tickets import ReplyDraft
from tests.conftest import empty_tables
from tests.helpers import login, make_agent, make_department, make_ticket


def test_the_default_configuration_names_no_plugin():
    assert DEFAULTS["PLUGINS"] == []


def test_the_core_starts_serves_and_runs_its_jobs_with_no_plugin(app_config):
    config = {key: value for key, value in app_config.items() if key != "PLUGINS"}  # the default
    app = create_app(config)
    assert app.extensions["helpdesk_plugins"] == {}
    with app.app_context():
        empty_tables()
        support = make_department("Support")
        sam = make_agent("sam@desk.test", departments=[support])
        ticket = make_ticket(sam, support)
        reply = ticket_service.post_reply(ticket, sam, ReplyDraft("alice@customer.test", "", "", "Done.", [], None))
        client = app.test_client()
        assert client.get("/healthz").status_code == 200
        login(client, sam)
        assert client.get(f"/tickets/{ticket.id}").status_code == 200
        jobs = all_jobs(app)
        assert [job.id for job in jobs] == ["send-queued-mail"] and all_watchers(app) == []
        for job in jobs:
            job.func()
        db.session.refresh(reply)
        assert reply.send_state is SendState.OUTBOX
        db.session.remove()
        db.engine.dispose()
