"""Factories and client helpers shared by the tests (plain functions, CTFd-style)."""
from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import time
from pathlib import Path

from flask import current_app
from flask.testing import FlaskClient

from helpdesk.extensions import db
from helpdesk.models import Agent, AgentRole, Channel, Department
from helpdesk.services.tickets import ReplyDraft, open_ticket, post_reply

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def make_department(name: str = "Support", email: str | None = None, **fields) -> Department:
    department = Department(name=name, email=email or f"{name.lower()}@example.test", **fields)
    db.session.add(department)
    db.session.commit()
    return department


def make_agent(email: str = "agent@example.test", departments: list[Department] | None = None,
               role: AgentRole = AgentRole.AGENT, name: str | None = None, **fields) -> Agent:
    agent = Agent(email=email, name=name or email.split("@")[0].title(), role=role,
                  departments=departments or [], work_start=time(9), work_end=time(17), **fields)
    agent.set_password(PASSWORD)
    db.session.add(agent)
    db.session.commit()
    return agent


def make_ticket(agent: Agent, department: Department, requester: str = "alice@customer.test",
                subject: str = "Printer on fire", body: str = "It is on fire.", channel: Channel = Channel.WEB):
    return open_ticket(agent, department.id, requester, subject, body, channel)


def make_reply(ticket, agent: Agent, to: str = "alice@customer.test", cc: str = "", bcc: str = "",
               body: str = "We are on it."):
    return post_reply(ticket, agent, ReplyDraft(to=to, cc=cc, bcc=bcc, body=body))


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token from a page's form, as a browser would send it."""
    page = client.get(path).get_data(as_text=True)
    match = _CSRF.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def login(client: FlaskClient, agent: Agent, password: str = PASSWORD):
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": agent.email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def post_form(client: FlaskClient, path: str, data: dict, page: str = "/", **kwargs):
    """POST like a browser: with the CSRF token of the signed-in session."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)}, **kwargs)


def relay_config(stack) -> dict:
    """Send through the mail stack's Postfix (STARTTLS, its own CA), as the desk of example.test."""
    return {"SMTP_HOST": stack.smtp_host, "SMTP_PORT": stack.smtp_port, "SMTP_SECURITY": "starttls",
            "SMTP_CAFILE": stack.cafile, "SMTP_TIMEOUT": 10, "MAIL_DOMAIN": "example.test"}


def secret(name: str, content: str | bytes) -> str:
    """A file in the app's secrets directory (where mailbox password and CA files must be);
    its name, as an admin gives it in the mailbox form."""
    directory = Path(current_app.config["SECRETS_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return name


def stack_cafile(stack) -> str:
    """The mail stack's CA certificate, in the secrets directory (for watched mailboxes)."""
    return secret("mailstack-ca.pem", Path(stack.cafile).read_bytes())


def support_inbox_config(stack, processed_folder: str | None = "Processed") -> dict:
    """The core intake reads support@'s INBOX on the mail stack's Dovecot over IMAPS."""
    return {"IMAP_HOST": stack.imap_host, "IMAP_PORT": stack.imaps_port, "IMAP_SECURITY": "ssl",
            "IMAP_CAFILE": stack.cafile, "IMAP_USERNAME": "support@example.test",
            "IMAP_PASSWORD": stack.password, "IMAP_PROCESSED_FOLDER": processed_folder}


def watch_fsync(monkeypatch, seen: Callable[[Path], object]) -> None:
    """Tell ``seen`` the path of every file or folder fsynced from now on (the real fsync still
    runs): a power loss cannot be staged in a test, the flushes that guard against it can."""
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        seen(Path(os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
