"""Plugin loading (allowlist, loud failures), template slots, and signals sent after commit."""
from importlib.metadata import EntryPoint

import pytest

from helpdesk import create_app
from helpdesk.extensions import db
from helpdesk.plugins import ENTRY_POINT_GROUP, PluginLoadError
from helpdesk.services.events import after_commit
from helpdesk.signals import message_created, ticket_created
from helpdesk.templating import template_hook
from tests.helpers import make_agent, make_department, make_ticket

FAKE_ENTRY_POINTS = [
    EntryPoint("greeting", "tests.core.plugin_fixtures:greeting", ENTRY_POINT_GROUP),
    EntryPoint("broken", "tests.core.plugin_fixtures:broken", ENTRY_POINT_GROUP),
    EntryPoint("bogus", "tests.core.plugin_fixtures:not_a_plugin", ENTRY_POINT_GROUP),
    EntryPoint("base", "tests.core.plugin_fixtures:base", ENTRY_POINT_GROUP),
    EntryPoint("addon", "tests.core.plugin_fixtures:addon", ENTRY_POINT_GROUP),
]


@pytest.fixture
def fake_entry_points(monkeypatch):
    monkeypatch.setattr("helpdesk.plugins.entry_points", lambda group: FAKE_ENTRY_POINTS)


def test_only_allowed_plugins_are_loaded(fake_entry_points, app_config):
    app = create_app({**app_config, "PLUGINS": ["greeting"]})
    assert set(app.extensions["helpdesk_plugins"]) == {"greeting"}
    assert app.test_client().get("/greeting").get_data(as_text=True) == "hello from a plugin"
    with app.test_request_context():
        assert str(template_hook("admin-settings")) == "<p id='first'>first</p><p id='second'>second</p>"


def test_no_plugins_means_empty_slots(fake_entry_points, app_config):
    app = create_app({**app_config, "PLUGINS": []})
    assert app.extensions["helpdesk_plugins"] == {}
    with app.test_request_context():
        assert str(template_hook("admin-settings")) == ""
    assert app.test_client().get("/greeting").status_code == 404


@pytest.mark.parametrize("name, message", [
    ("broken", "plugin 'broken' failed to load: cannot reach its settings"),
    ("bogus", "is not a HelpdeskPlugin instance"),
    ("missing", "plugin 'missing' is in PLUGINS but no package provides it"),
])
def test_a_listed_plugin_that_fails_stops_start_up(fake_entry_points, app_config, name, message):
    with pytest.raises(PluginLoadError, match=message):
        create_app({**app_config, "PLUGINS": ["greeting", name]})


def test_a_plugin_whose_required_plugin_is_not_listed_stops_start_up(fake_entry_points, app_config):
    with pytest.raises(PluginLoadError, match=r"plugin 'addon' requires the plugin\(s\) 'base', which are not in "
                                              r"PLUGINS: add them"):
        create_app({**app_config, "PLUGINS": ["addon"]})


@pytest.mark.parametrize("listed", [["base", "addon"], ["addon", "base"]])
def test_a_required_plugin_loads_first_and_its_own_slots_can_be_filled(fake_entry_points, app_config, listed):
    app = create_app({**app_config, "PLUGINS": listed})
    assert list(app.extensions["helpdesk_plugins"]) == ["base", "addon"]
    with app.test_request_context():
        assert str(template_hook("base-box")) == "<p>from the add-on</p>"


def test_a_plugins_slot_does_not_exist_without_that_plugin(fake_entry_points, app_config):
    from helpdesk.templating import register_template_hook

    app = create_app({**app_config, "PLUGINS": ["greeting"]})
    with pytest.raises(ValueError, match="unknown template slot 'base-box'"):
        register_template_hook(app, "base-box", lambda: "x")


def test_plugins_allowlist_from_the_environment(fake_entry_points, app_config, monkeypatch):
    monkeypatch.setenv("HELPDESK_PLUGINS", '["greeting"]')
    config = {k: v for k, v in app_config.items() if k != "PLUGINS"}
    assert set(create_app(config).extensions["helpdesk_plugins"]) == {"greeting"}


def test_unknown_template_slot_is_refused(app):
    from helpdesk.templating import register_template_hook

    with pytest.raises(ValueError, match="unknown template slot 'sidebar-typo'"):
        register_template_hook(app, "sidebar-typo", lambda: "x")


def test_signals_are_sent_only_after_commit(app):
    support = make_department()
    agent = make_agent(departments=[support])
    seen = []

    def on_created(sender, ticket, message, source):
        seen.append(("ticket", ticket.id, db.session.get(type(ticket), ticket.id) is not None, source))

    def on_message(sender, message, ticket):
        seen.append(("message", message.id))

    with ticket_created.connected_to(on_created, app), message_created.connected_to(on_message, app):
        ticket = make_ticket(agent, support)
    assert seen == [("ticket", ticket.id, True, "web"), ("message", ticket.messages[0].id)]


def test_after_commit_callbacks_are_dropped_on_rollback(app):
    calls = []
    after_commit(lambda: calls.append("rolled back"))
    db.session.rollback()
    db.session.commit()
    after_commit(lambda: calls.append("committed"))
    db.session.commit()
    assert calls == ["committed"]


def test_after_commit_callbacks_may_read_and_write_the_database(app):
    """Receivers of after-commit signals (e.g. recording what the relay said) use the session."""
    first = make_department("First")
    names = []

    def add_second() -> None:
        names.append(db.session.get(type(first), first.id).name)
        make_department("Second")  # commits in a transaction of its own

    after_commit(add_second)
    first.name = "First, renamed"
    db.session.commit()
    assert names == ["First, renamed"]
    assert sorted(db.session.scalars(db.select(type(first).name))) == ["First, renamed", "Second"]


def test_receivers_of_after_commit_signals_may_query_and_write(app):
    support = make_department()
    agent = make_agent(departments=[support])
    seen = []

    def on_message(sender, message, ticket):
        count = db.session.scalar(db.select(db.func.count()).select_from(type(message)))  # emits SQL
        ticket.attention = f"{count} message(s)"
        after_commit(lambda: seen.append("nested callback"))  # a receiver's own after-commit work
        db.session.commit()
        seen.append(count)

    with message_created.connected_to(on_message, app):
        ticket = make_ticket(agent, support)
    assert seen == ["nested callback", 1]
    db.session.expire_all()
    assert ticket.attention == "1 message(s)"
