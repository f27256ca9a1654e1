"""The command line and start-up configuration as an admin meets them: create-admin's refusal
of a reserved test domain names the setting that allows it; ``make run`` points links at the
port it serves; a production start without a base URL stops with a clear message."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from helpdesk import create_app
from helpdesk.config import DEV_BASE_URL, ConfigError
from helpdesk.extensions import db
from helpdesk.models import Agent


def create_admin(app, email: str):
    return app.test_cli_runner().invoke(args=["create-admin", "--email", email, "--name", "Ada",
                                              "--password", "a long enough password"])


def test_create_admin_in_a_test_domain_names_the_setting_that_allows_it(app):
    app.config["ALLOW_TEST_DOMAINS"] = False
    result = create_admin(app, "admin@example.test")
    assert result.exit_code == 1
    assert "special-use or reserved name" in result.output
    assert "HELPDESK_ALLOW_TEST_DOMAINS=true" in result.output
    assert db.session.scalar(select(Agent)) is None


def test_with_the_setting_on_the_test_domain_is_accepted(app):
    app.config["ALLOW_TEST_DOMAINS"] = True
    result = create_admin(app, "admin@example.test")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(Agent.email)) == "admin@example.test"


def test_other_reserved_domains_get_no_misleading_hint(app):
    app.config["ALLOW_TEST_DOMAINS"] = False
    result = create_admin(app, "admin@desk.localhost")
    assert result.exit_code == 1 and "special-use or reserved name" in result.output
    assert "HELPDESK_ALLOW_TEST_DOMAINS" not in result.output  # the setting would not help here


ROOT = Path(__file__).resolve().parents[2]
#: Stands in for ``flask`` in ``make run``: prints the base URL it was given and its arguments.
FAKE_FLASK = "import json, os, sys; print(json.dumps([os.environ.get('HELPDESK_BASE_URL'), sys.argv[1:]]))"


def make_run(port: str, **env: str) -> list:
    """What ``make run`` hands each ``flask`` command (the server itself is not started)."""
    script = ROOT / "instance" / "fake_flask.py"
    script.parent.mkdir(exist_ok=True)
    script.write_text(FAKE_FLASK)
    try:
        environment = {k: v for k, v in os.environ.items() if k != "HELPDESK_BASE_URL"}
        result = subprocess.run(["make", "-s", "-o", ".venv/.installed", "run", f"PORT={port}",
                                 f"FLASK={sys.executable} {script}"], cwd=ROOT, capture_output=True, text=True,
                                env={**environment, **env}, timeout=60)
    finally:
        script.unlink()
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("[")]


def test_make_run_points_links_at_the_port_it_serves():
    calls = make_run("5101")
    assert [args[0] for _, args in calls] == ["init-db", "demo-data", "run"]
    assert calls[-1][1][-2:] == ["--port", "5101"]
    assert {base for base, _ in calls} == {"http://127.0.0.1:5101"}


def test_make_run_keeps_a_base_url_it_was_given():
    calls = make_run("5101", HELPDESK_BASE_URL="https://desk.example.com")
    assert {base for base, _ in calls} == {"https://desk.example.com"}


def test_a_production_start_without_a_base_url_stops_with_a_clear_message(app_config):
    production = {**app_config, "TESTING": False, "DEBUG": False}
    production.pop("BASE_URL", None)
    with pytest.raises(ConfigError, match=r"HELPDESK_BASE_URL is not set.*e\.g\. HELPDESK_BASE_URL=https://"):
        create_app(production)


def test_debug_and_testing_fall_back_to_the_local_address(app_config):
    assert create_app({**app_config, "TESTING": True}).config["BASE_URL"] == DEV_BASE_URL
    assert create_app({**app_config, "TESTING": False, "DEBUG": True}).config["BASE_URL"] == DEV_BASE_URL
    given = create_app({**app_config, "TESTING": False, "BASE_URL": "https://desk.example.com"})
    assert given.config["BASE_URL"] == "https://desk.example.com"
