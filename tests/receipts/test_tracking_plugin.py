"""Tracking as a plugin of its own: a fetch is one row of its own table (no status
recomputed), it needs the receipts plugin, the receipts plugin runs without it, and its
switches are saved with the Read Receipts page through the receipts plugin's signal."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from helpdesk import create_app
from helpdesk.extensions import db
from helpdesk.mail.outgoing import send_message
from helpdesk.models import Channel
from helpdesk.plugins import PluginLoadError
from receipts_plugin.plugin_api import reply_outcome
from receipts_plugin.tracking.models import TrackingEvent, TrackingSettings
from tests.helpers import login, make_reply, make_ticket, post_form
from tests.receipts.tracking_helpers import (DESKTOP_CHROME, department_switches, download_paths, install_clock,
                                             outbox_copies, pixel_paths, reply_with_file, switch_on)


@contextmanager
def watched(app):
    """The SQL statements run, the status recomputations (``fold``) and the ``reply_outcome``s sent."""
    import receipts_plugin.inbound.consequences as consequences

    seen = {"statements": [], "folds": 0, "outcomes": 0}
    fold = consequences.fold

    def counted_fold(events):
        seen["folds"] += 1
        return fold(events)

    def statement(conn, cursor, sql, parameters, context, executemany):
        seen["statements"].append(sql)

    def outcome(sender, outcomes):
        seen["outcomes"] += 1

    consequences.fold = counted_fold
    event.listen(db.engine, "before_cursor_execute", statement)
    reply_outcome.connect(outcome, app)
    try:
        yield seen
    finally:
        consequences.fold = fold
        event.remove(db.engine, "before_cursor_execute", statement)
        reply_outcome.disconnect(outcome, app)


@pytest.fixture
def sent(app, desk):
    clock = install_clock(app)
    support, _, agent = desk
    switch_on(support)
    reply = reply_with_file(agent, support, cc="")
    send_message(reply.id)
    clock.advance(minutes=10)
    return reply


@pytest.mark.parametrize("fetch", ["image", "download"])
def test_a_fetch_is_one_insert_into_its_own_table_and_recomputes_no_status(app, client, sent, fetch):
    copy = outbox_copies(app)["alice@customer.test"]
    path = pixel_paths(copy)[0] if fetch == "image" else download_paths(copy)[0]
    db.session.remove()
    with watched(app) as seen:
        assert client.get(path, headers={"User-Agent": DESKTOP_CHROME}).status_code == 200
    writes = [s for s in seen["statements"] if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert len(writes) == 1 and "tracking_events" in writes[0], writes
    assert not [s for s in seen["statements"] if "receipts_events" in s]  # no delivery history loaded
    # The recipient's status is only read (when did the copy arrive: the classifier's clock).
    assert all(s.lstrip().upper().startswith("SELECT") for s in seen["statements"] if "receipts_recipient_status" in s)
    assert (seen["folds"], seen["outcomes"]) == (0, 0)
    assert db.session.scalar(db.select(db.func.count()).select_from(TrackingEvent)) == 1


def test_tracking_without_the_receipts_plugin_does_not_start(app_config):
    with pytest.raises(PluginLoadError, match=r"plugin 'tracking' requires the plugin\(s\) 'receipts', which are not "
                                              r"in PLUGINS"):
        create_app({**app_config, "PLUGINS": ["tracking"]})


def test_the_admin_page_saves_the_tracking_switches_through_the_receipts_signal(client, desk, people):
    support, billing, _ = desk
    login(client, people["admin"])
    page = client.get("/admin/privacy/read-receipts").get_data(as_text=True)
    assert "Open tracking (estimate) for Billing" in page and "Attachments as download links for Support" in page
    post_form(client, "/admin/privacy/read-receipts",
              {"receipts": [str(billing.id)], "switches": ["open_tracking", "download_links"],
               "open_tracking": [str(billing.id)], "download_links": [str(support.id)]},
              page="/admin/privacy/read-receipts")
    db.session.expire_all()
    assert vars(department_switches(billing.id)) == {"receipts_enabled": True, "open_tracking": True,
                                                     "download_links": False}
    assert vars(department_switches(support.id)) == {"receipts_enabled": False, "open_tracking": False,
                                                     "download_links": True}
    # A form that does not draw the tracking columns leaves them as they are.
    post_form(client, "/admin/privacy/read-receipts", {"receipts": []}, page="/admin/privacy/read-receipts")
    db.session.expire_all()
    assert db.session.get(TrackingSettings, billing.id).open_tracking


@pytest.mark.parametrize("plugins", [["receipts"]])
def test_the_receipts_plugin_runs_without_tracking(app, client, desk, people, plugins):
    """Its pages draw no tracking columns or panel part, and the tracking pages are not there."""
    support, _, agent = desk
    assert set(app.extensions["helpdesk_plugins"]) == {"receipts"}
    login(client, people["admin"])
    settings = client.get("/admin/privacy/read-receipts").get_data(as_text=True)
    assert "Read receipts for Support" in settings and "Open tracking" not in settings
    assert "download links" not in settings.lower()
    reply = make_reply(make_ticket(agent, support, requester="alice@customer.test", channel=Channel.EMAIL), agent)
    send_message(reply.id)
    assert pixel_paths(outbox_copies(app)["alice@customer.test"]) == []
    agents = app.test_client()
    login(agents, agent)
    panel = agents.get(f"/messages/{reply.id}/read-info")
    assert panel.status_code == 200 and "Thread Read Info" in panel.get_data(as_text=True)
    assert "rr-tracking" not in panel.get_data(as_text=True)
    assert agents.get(f"/api/v1/messages/{reply.id}/tracking").status_code == 404
    assert agents.get("/me/notifications").status_code == 404
