"""A mailbox's password file and CA file must be in the secrets directory: otherwise an
admin's form reads any file of the server (the app's secret key, say) and sends it, as the
IMAP password, to a host of the form filler's choosing. Every refusal reads the same, so
the form tells nothing about which paths exist."""
from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest
from flask import current_app

from helpdesk.extensions import db
from helpdesk.models import AgentRole
from helpdesk.services.errors import ValidationError
from receipts_plugin.mailboxes import MailboxInput, refused_message, save_mailbox, secrets_dir
from receipts_plugin.models import Mailbox
from receipts_plugin.poller import poll_mailbox
from tests.helpers import login, make_agent, post_form, secret

BASE = dict(name="bounces", host="imap.example.test", port=None, security="ssl", username="bounces@example.test",
            password="")


@pytest.fixture
def outside(app, tmp_path) -> Path:
    """A file the app can read, outside the secrets directory (think: the app's secret key)."""
    path = tmp_path / "secret_key"
    path.write_text("the-apps-own-secret")
    return path


def refusals(field: str, value: str) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        save_mailbox(None, MailboxInput(**{**BASE, "password": "p" if field == "cafile" else "", field: value}))
    return refused.value.errors[field]


def paths_outside(outside: Path) -> list[str]:
    directory = secrets_dir()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "link").symlink_to(outside)
    return [str(outside), str(outside.with_name("does-not-exist")), "/etc/passwd",
            os.path.relpath(outside, directory),  # ../secret_key
            str(directory / ".." / outside.name), "link", "", ".", str(directory), "bad\0name"]


@pytest.mark.parametrize("field", ["password_file", "cafile"])
def test_files_outside_the_secrets_directory_are_refused_with_one_message(app, outside, field):
    for value in paths_outside(outside):
        if value == "":
            continue  # an empty field means "no file"
        assert refusals(field, value) == [refused_message()], value
    assert str(outside) not in refused_message() and db.session.query(Mailbox).count() == 0


@pytest.mark.parametrize("field", ["password_file", "cafile"])
def test_files_in_the_secrets_directory_are_accepted_by_name_or_full_path(app, field):
    name = secret("bounces-secret", "s3cret\n")
    for n, value in enumerate([name, str(secrets_dir() / name), f"./sub/../{name}"]):
        saved = save_mailbox(None, MailboxInput(**{**BASE, "name": f"box{n}", "password": "p", field: value}))
        assert getattr(saved, field) == value


def test_a_stored_path_outside_is_refused_when_polling_and_nothing_is_sent(app, outside):
    """A mailbox saved before files were confined (or edited in the database)."""
    mailbox = Mailbox(name="old", host="127.0.0.1", port=1, username="u", password_file=str(outside))
    db.session.add(mailbox)
    db.session.commit()
    summary = poll_mailbox(mailbox)
    assert summary.error == f"SecretFileRefused: {refused_message()}"
    mailbox.password_file, mailbox.password, mailbox.cafile = None, "p", str(outside)
    db.session.commit()
    assert poll_mailbox(mailbox, force=True).error == f"SecretFileRefused: {refused_message()}"
    assert "the-apps-own-secret" not in str(db.session.get(Mailbox, mailbox.id).last_error)


def test_the_form_gives_the_same_answer_for_a_real_and_a_missing_file(app, client, outside):
    login(client, make_agent("admin@example.test", role=AgentRole.ADMIN))
    pages = []
    for path in (str(outside), str(outside.with_name("missing")), "/etc/passwd", "/etc/nothing-here"):
        form = {**BASE, "port": "", "password_file": path, "folder": "INBOX", "verify_cert": "y", "enabled": "y"}
        response = post_form(client, "/admin/receipts/mailboxes/new", form, page="/admin/receipts/mailboxes/new")
        assert response.status_code == 400
        pages.append(response.get_data(as_text=True).replace(path, "PATH"))
    assert refused_message() in pages[0]
    for page in pages[1:]:
        assert page == pages[0], "\n".join(difflib.unified_diff(pages[0].splitlines(), page.splitlines(), lineterm=""))
    assert db.session.query(Mailbox).count() == 0


def test_the_apps_own_secret_files_are_refused_even_in_the_secrets_directory(app):
    current_app.config["SMTP_PASSWORD_FILE"] = str(secrets_dir() / secret("smtp_password", "relay-password"))
    assert refusals("password_file", "smtp_password") == [refused_message()]


def test_the_secrets_directory_defaults_to_the_instance_folder(app):
    current_app.config["SECRETS_DIR"] = None
    assert secrets_dir() == Path(current_app.instance_path) / "secrets"
