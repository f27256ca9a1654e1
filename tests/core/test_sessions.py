"""Signing out ends the session server-side: copies of its cookies are refused afterwards;
"Sign out everywhere" ends all of an agent's sessions; remember cookies are Lax and last
the configured lifetime."""
from __future__ import annotations

from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest

from helpdesk.extensions import db
from helpdesk.models import AgentRole, AgentSession, utcnow
from tests.helpers import PASSWORD, csrf_token, login, make_agent, make_department, post_form


@pytest.fixture
def agent(app):
    return make_agent(departments=[make_department()])


def signed_in(client) -> bool:
    return client.get("/").status_code == 200


def browser_with(app, cookies: dict[str, str]):
    """Another browser holding copies of these cookies (copied off a disk, or stolen)."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


def cookies_of(client, *names) -> dict[str, str]:
    return {name: client.get_cookie(name).value for name in names}


def remembered_login(client, agent):
    response = client.post("/login", data={"email": agent.email, "password": PASSWORD, "remember": "y",
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    return response


def test_a_copied_session_cookie_is_refused_after_sign_out(app, client, agent):
    login(client, agent)
    copied = cookies_of(client, "session")
    assert signed_in(browser_with(app, copied))
    assert post_form(client, "/logout", {}).status_code == 302
    assert not signed_in(browser_with(app, copied)) and not signed_in(client)
    assert db.session.query(AgentSession).count() == 0


def test_a_copied_remember_cookie_is_refused_after_sign_out(app, client, agent):
    remembered_login(client, agent)
    copied = cookies_of(client, "remember_token")
    assert signed_in(browser_with(app, copied))  # it signs in a browser that has no session
    post_form(client, "/logout", {})
    assert not signed_in(browser_with(app, copied))


def test_the_remember_cookie_is_lax_http_only_and_lasts_the_configured_days(app, client, agent):
    def expiry_days(response) -> float:
        [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token=")]
        assert "SameSite=Lax" in cookie and "HttpOnly" in cookie
        expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
        return (expires - utcnow()) / timedelta(days=1)

    assert 29.9 < expiry_days(remembered_login(client, agent)) <= 30
    [row] = db.session.query(AgentSession).all()
    assert timedelta(days=29.9) < row.expires_at - utcnow() <= timedelta(days=30)
    post_form(client, "/logout", {})
    app.config["SESSION_LIFETIME_DAYS"] = 7
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(days=7)  # what create_app derives from the setting
    assert 6.9 < expiry_days(remembered_login(client, agent)) <= 7


def test_a_session_ends_server_side_at_its_lifetime(app, client, agent):
    login(client, agent)
    db.session.query(AgentSession).update({"expires_at": utcnow() - timedelta(seconds=1)})
    db.session.commit()
    assert not signed_in(client)


def test_sign_out_everywhere_ends_every_session_of_the_agent_only(app, agent):
    laptop, phone, remembered, colleague = (app.test_client() for _ in range(4))
    login(laptop, agent)
    login(phone, agent)
    remembered_login(remembered, agent)
    copied = cookies_of(remembered, "remember_token")
    login(colleague, make_agent("colleague@example.test", agent.departments))
    page = laptop.get("/me").get_data(as_text=True)
    assert page.count("<tr><td><time") == 3 and page.count("This browser") == 1
    assert 'href="/me"' in laptop.get("/").get_data(as_text=True)
    response = post_form(laptop, "/me/sign-out-everywhere", {}, follow_redirects=True)
    assert "You are signed out everywhere (3 sessions ended)." in response.get_data(as_text=True)
    for browser in (laptop, phone, remembered, browser_with(app, copied)):
        assert not signed_in(browser)
    assert signed_in(colleague)


def test_deactivating_an_agent_ends_their_sessions(app, agent):
    admin = make_agent("admin@example.test", role=AgentRole.ADMIN)
    agents, admins = app.test_client(), app.test_client()
    login(agents, agent)
    login(admins, admin)
    form = {"email": agent.email, "name": agent.name, "role": "agent", "timezone": "UTC",
            "department_ids": [str(agent.departments[0].id)]}
    assert post_form(admins, f"/admin/agents/{agent.id}", form, page=f"/admin/agents/{agent.id}").status_code == 302
    assert not signed_in(agents)
    assert db.session.query(AgentSession).filter_by(agent_id=agent.id).count() == 0
    assert signed_in(admins)
