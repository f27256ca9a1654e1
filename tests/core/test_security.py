"""Security headers, sign-in throttling, session hygiene, health and readiness."""
import pytest

from helpdesk.extensions import db
from tests.helpers import PASSWORD, csrf_token, make_agent, make_department


def attempt(client, email, password):
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)})


def test_every_page_carries_a_strict_content_security_policy(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "<script>" not in response.get_data(as_text=True)


def test_sign_in_is_throttled_per_account_across_requests(app, client):
    agent = make_agent(departments=[make_department()])
    for _ in range(5):
        assert attempt(client, agent.email, "wrong password").status_code == 400
    blocked = attempt(client, agent.email, PASSWORD)  # even the right password waits now
    assert blocked.status_code == 429
    assert "Too many failed attempts" in blocked.get_data(as_text=True)
    other = make_agent("other@example.test", departments=agent.departments)
    assert attempt(client, other.email, PASSWORD).status_code == 302  # other accounts are not locked out


def from_address(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_failures_from_one_address_do_not_lock_the_account_out_elsewhere(app):
    """Anyone could otherwise lock the admin out with five tries every 15 minutes."""
    agent = make_agent(departments=[make_department()])
    attacker, agents_own = from_address(app, "203.0.113.66"), from_address(app, "198.51.100.7")
    for _ in range(5):
        assert attempt(attacker, agent.email, "guess").status_code == 400
    assert attempt(attacker, agent.email, PASSWORD).status_code == 429  # that address waits, even when right
    assert attempt(agents_own, agent.email, PASSWORD).status_code == 302  # an address that has not failed: in
    assert attempt(from_address(app, "203.0.113.66"), agent.email, PASSWORD).status_code == 429  # still waits


def test_an_address_that_fails_for_many_accounts_is_throttled(app):
    department = make_department()
    agents = [make_agent(f"a{i}@example.test", departments=[department]) for i in range(5)]
    sprayer = from_address(app, "203.0.113.66")
    for i in range(20):
        attempt(sprayer, agents[i % 5].email, "Winter2026!")
    assert attempt(sprayer, agents[0].email, PASSWORD).status_code == 429


def test_unknown_addresses_cost_the_same_password_hashing_as_real_ones(app, client, monkeypatch):
    """Sign-in time must not tell which addresses have an account: every failure, an unknown
    address included, hashes the password once (timing itself is not tested here)."""
    from werkzeug import security as werkzeug_security

    from helpdesk.models import people as people_models
    from helpdesk.services import people as people_service

    hashed: list[str] = []

    def counting(pwhash: str, password: str) -> bool:
        hashed.append(password)
        return werkzeug_security.check_password_hash(pwhash, password)

    monkeypatch.setattr(people_models, "check_password_hash", counting)
    monkeypatch.setattr(people_service, "check_password_hash", counting)
    agent = make_agent(departments=[make_department()])
    gone = make_agent("gone@example.test", departments=agent.departments, active=False)
    for email, password in ((agent.email, "wrong"), ("nobody@example.test", "wrong"), (gone.email, PASSWORD),
                            (agent.email, PASSWORD)):
        hashed.clear()
        people_service.authenticate(email, password)
        assert hashed == [password], email


def test_a_successful_sign_in_clears_the_failures(app, client):
    agent = make_agent(departments=[make_department()])
    for _ in range(3):
        attempt(client, agent.email, "nope")
    assert attempt(client, agent.email, PASSWORD).status_code == 302
    from helpdesk.models import LoginFailure

    assert db.session.query(LoginFailure).filter_by(email=agent.email).count() == 0


def test_session_cookie_is_http_only_and_same_site(app, client):
    agent = make_agent(departments=[make_department()])
    response = attempt(client, agent.email, PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_passwords_are_hashed_with_scrypt(app):
    agent = make_agent(departments=[make_department()])
    assert agent.password_hash.startswith("scrypt:") and PASSWORD not in agent.password_hash


@pytest.mark.parametrize("plugins", [["receipts", "tracking"]])
def test_health_and_readiness(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ok"}


def test_readiness_names_revisions_of_a_plugin_that_is_not_loaded(client):
    response = client.get("/readyz")
    assert response.status_code == 503 and "plugin missing" in response.get_json()["reason"]


@pytest.mark.parametrize("plugins", [["receipts", "tracking"]])
def test_readiness_fails_when_the_schema_is_behind(app, client):
    from sqlalchemy import text

    versions = list(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    db.session.execute(text("DELETE FROM alembic_version"))
    db.session.execute(text("INSERT INTO alembic_version (version_num) VALUES ('core_0001')"))
    db.session.commit()
    try:
        response = client.get("/readyz")
        assert response.status_code == 503 and "newest revision" in response.get_json()["reason"]
    finally:
        db.session.execute(text("DELETE FROM alembic_version"))
        for version in versions:
            db.session.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": version})
        db.session.commit()


@pytest.mark.parametrize("hops, recorded", [(0, "127.0.0.1"), (1, "203.0.113.9")])
def test_the_client_address_comes_from_x_forwarded_for_only_behind_a_trusted_proxy(app_config, hops, recorded):
    """Without PROXY_HOPS anyone could pick the address their failures are counted under."""
    from helpdesk import create_app
    from helpdesk.models import LoginFailure
    from tests.conftest import FreshRequestClient, empty_tables

    app = create_app({**app_config, "PROXY_HOPS": hops})
    app.test_client_class = FreshRequestClient
    with app.app_context():
        empty_tables()
        agent = make_agent(departments=[make_department()])
        client = app.test_client()
        client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"
        assert attempt(client, agent.email, "wrong password").status_code == 400
        assert db.session.query(LoginFailure.remote_addr).scalar() == recorded
        db.session.remove()
        db.engine.dispose()


def test_a_new_password_signs_out_the_sessions_of_the_old_one(app):
    from helpdesk.models import AgentRole
    from tests.helpers import login, post_form

    support = make_department()
    agent = make_agent(departments=[support])
    admin = make_agent("admin@example.test", role=AgentRole.ADMIN)
    laptop, phone, admins = app.test_client(), app.test_client(), app.test_client()
    login(laptop, agent)
    login(phone, agent)
    login(admins, admin)
    assert laptop.get("/").status_code == phone.get("/").status_code == 200
    form = {"email": agent.email, "name": agent.name, "role": "agent", "department_ids": [str(support.id)],
            "timezone": "UTC", "active": "y", "password": "a brand new passphrase"}
    assert post_form(admins, f"/admin/agents/{agent.id}", form, page=f"/admin/agents/{agent.id}").status_code == 302
    for client in (laptop, phone):  # signed in with the old password: out
        response = client.get("/")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert admins.get("/").status_code == 200  # nobody else is touched

    # An admin who changes their own password stays signed in where they did it, and only there.
    other_window = app.test_client()
    login(other_window, admin)
    own = {**form, "email": admin.email, "name": admin.name, "role": "admin", "department_ids": [],
           "password": "another new passphrase"}
    assert post_form(admins, f"/admin/agents/{admin.id}", own, page=f"/admin/agents/{admin.id}").status_code == 302
    assert admins.get("/").status_code == 200
    assert other_window.get("/").status_code == 302


def test_a_new_sqlite_database_file_is_readable_by_its_owner_only(app_config, tmp_path):
    """It holds every ticket and password hash: 0600, like the secret key (and so its WAL)."""
    import os
    import stat

    from flask_migrate import upgrade

    from helpdesk import create_app

    path = tmp_path / "private" / "helpdesk.sqlite3"
    path.parent.mkdir()
    umask = os.umask(0o022)  # the usual umask, which gives new files 0644
    try:
        app = create_app({**app_config, "DATABASE_URL": f"sqlite:///{path}"})
        with app.app_context():
            upgrade(revision="heads")
            make_department()
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            assert stat.S_IMODE(path.with_name(path.name + "-wal").stat().st_mode) == 0o600
            db.session.remove()
            db.engine.dispose()
    finally:
        os.umask(umask)
