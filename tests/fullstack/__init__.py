"""The whole mail path on loopback: the mail stack (Postfix, Dovecot with Sieve), Roundcube as
the customers' webmail, and the desk itself as it runs in production, a web server and a
worker process on one database. Used by the acceptance test (tests/acceptance), by
``make demo-mail`` (``python -m tests.fullstack``) and, without Roundcube, by
``bench/latency.py``, so all run the same stack.

The desk sends as ``support@example.test`` through Postfix, with receipts on for Support; the
worker reads customers' mail from support@'s INBOX and the reports from bounces@'s (IMAP IDLE).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.mailstack import MailStack, MailStackError
from tests.roundcube import Roundcube, free_port

ROOT = Path(__file__).resolve().parents[2]
DESK_DOMAIN = "example.test"
SUPPORT = f"support@{DESK_DOMAIN}"
RECEIPTS = f"bounces@{DESK_DOMAIN}"  # receipts go here; return paths are bounces+TOKEN@example.test
ADMIN = f"admin@{DESK_DOMAIN}"
ADMIN_PASSWORD = "helpdesk-demo"
CUSTOMERS = {"alice@customer.test": "Alice Martin", "bob@customer.test": "Bob Chen",
             "carol@customer.test": "Carla Rossi", "dave@customer.test": "Dev Patel",
             "erin@customer.test": "Emma Novak"}
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def desk_config(mail: MailStack, database_url: str, workdir: Path, base_url: str, secret_key: str) -> dict:
    """The desk's settings for this stack (the same for the web server, the worker and an
    in-process app that seeds or inspects the database)."""
    return {
        "DATABASE_URL": database_url, "SECRET_KEY": secret_key, "BASE_URL": base_url,
        "MAIL_DOMAIN": DESK_DOMAIN, "ALLOW_TEST_DOMAINS": True, "PLUGINS": ["receipts", "tracking"],
        "SMTP_HOST": mail.smtp_host, "SMTP_PORT": mail.smtp_port, "SMTP_SECURITY": "starttls",
        "SMTP_CAFILE": mail.cafile, "SMTP_TIMEOUT": 10,
        "IMAP_HOST": mail.imap_host, "IMAP_PORT": mail.imaps_port, "IMAP_SECURITY": "ssl",
        "IMAP_CAFILE": mail.cafile, "IMAP_USERNAME": SUPPORT, "IMAP_PASSWORD": mail.password,
        "IMAP_PROCESSED_FOLDER": "Processed",
        "FETCH_INTERVAL_SECONDS": 3, "SEND_INTERVAL_SECONDS": 1, "SEND_WAIT_SECONDS": 20,  # replies go out at once; customers' mail becomes tickets quickly
        "RECEIPTS_ADDRESS": RECEIPTS, "RECEIPTS_POLL_SECONDS": 30,  # IDLE brings reports at once anyway
        "ATTACHMENT_DIR": str(workdir / "files"), "OUTBOX_DIR": str(workdir / "outbox"),
        "SECRETS_DIR": str(workdir / "secrets"), "LOG_LEVEL": "INFO",
    }


def process_env(config: dict) -> dict[str, str]:
    """``config`` as the environment of a desk process (``HELPDESK_*`` values as JSON)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_") and k != "SECRET_KEY"}
    env.update({f"HELPDESK_{key}": json.dumps(value) for key, value in config.items() if key != "SECRET_KEY"})
    env.update(SECRET_KEY=config["SECRET_KEY"], PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    return env


def seed_desk(mail: MailStack) -> None:
    """In an app context of the desk's database and secrets directory: the Support department
    with receipts on, the admin, the customers as contacts, and bounces@ watched for reports
    (the stack's CA certificate copied to the secrets directory, where mailbox files must be).
    Commits."""
    from flask import current_app

    from helpdesk.extensions import db
    from helpdesk.models import Contact
    from helpdesk.services.people import create_admin, save_department
    from receipts_plugin.mailboxes import MailboxInput, save_mailbox
    from receipts_plugin.settings import save_switches

    support = save_department(None, "Support", SUPPORT)
    admin = create_admin(ADMIN, "Ada Admin", ADMIN_PASSWORD)
    admin.departments.append(support)
    db.session.add_all(Contact(email=email, name=name) for email, name in CUSTOMERS.items())
    db.session.commit()
    save_switches({support.id})
    secrets = Path(current_app.config["SECRETS_DIR"])
    secrets.mkdir(parents=True, exist_ok=True)
    shutil.copy(mail.cafile, secrets / "mailstack-ca.pem")
    save_mailbox(None, MailboxInput(name="bounces", host=mail.imap_host, port=mail.imaps_port, security="ssl",
                                    username=RECEIPTS, password=mail.password, cafile="mailstack-ca.pem",
                                    processed_folder="Processed"))


@dataclass
class DeskProcess:
    """One process of the desk (``flask run`` or ``flask worker``), its output in ``log``."""

    name: str
    process: subprocess.Popen
    log: Path
    stop_signal: int = signal.SIGTERM

    @classmethod
    def start(cls, name: str, args: list[str], env: dict[str, str], log: Path,
              stop_signal: int = signal.SIGTERM) -> DeskProcess:
        with log.open("w") as out:
            process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                                       stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)  # stopped by its owner, not by a terminal's Ctrl-C
        return cls(name, process, log, stop_signal)

    def check(self) -> None:
        if self.process.poll() is not None:
            raise MailStackError(f"the desk's {self.name} exited ({self.process.returncode}):\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-5000:] if self.log.exists() else ""

    def stop(self) -> int | None:
        """Its stop signal, SIGKILL after STOP_TIMEOUT; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(self.stop_signal)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


class FullStack:
    """Everything running: ``mail``, ``roundcube``, the desk's ``web`` and ``worker``."""

    def __init__(self, mail: MailStack, roundcube: Roundcube | None, config: dict, workdir: Path) -> None:
        self.mail, self.roundcube, self.config, self.workdir = mail, roundcube, config, workdir
        self.desk_url = config["BASE_URL"].rstrip("/") + "/"
        self.web: DeskProcess | None = None
        self.worker: DeskProcess | None = None

    @classmethod
    def start_mail(cls, database_url: str, workdir: Path, secret_key: str, desk_port: int | None = None,
                   roundcube_port: int | None = None, webmail: bool = True) -> FullStack:
        """The mail stack and (unless ``webmail`` is false: a benchmark needs no browser side)
        Roundcube, and the desk's settings for them; then seed the database (``seed_desk``)
        and call :meth:`start_desk`."""
        workdir.mkdir(parents=True, exist_ok=True)
        mail = MailStack.start()
        try:
            roundcube = Roundcube.start(mail, roundcube_port) if webmail else None
        except BaseException:
            mail.stop()
            raise
        base_url = f"http://127.0.0.1:{desk_port or free_port()}"
        return cls(mail, roundcube, desk_config(mail, database_url, workdir, base_url, secret_key), workdir)

    def start_desk(self) -> None:
        """The desk's web server and worker, on the seeded database; returns once the web
        server answers and the worker holds IDLE on the reports mailbox (it polled it once)."""
        env = process_env(self.config)
        port = self.desk_url.rsplit(":", 1)[1].strip("/")
        self.web = DeskProcess.start("web server", ["run", "--host", "127.0.0.1", "--port", port, "--with-threads"],
                                     env, self.workdir / "web.log", stop_signal=signal.SIGINT)  # as Ctrl-C stops it
        self.worker = DeskProcess.start("worker", ["worker"], env, self.workdir / "worker.log")  # as systemd does
        deadline = time.monotonic() + START_TIMEOUT
        while not (self._answers() and self._watching()):
            self.web.check()
            self.worker.check()
            if time.monotonic() > deadline:
                raise MailStackError(f"the desk did not come up in {START_TIMEOUT} s:\n{self.web.output()}\n"
                                     f"{self.worker.output()}")
            time.sleep(0.2)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.desk_url + "healthz", timeout=5) as response:
                return response.status == 200
        except OSError:
            return False

    def _watching(self) -> bool:
        """Is the worker connected to the reports mailbox (its IDLE watcher; Dovecot's ``doveadm who``)?"""
        result = subprocess.run(["doveadm", "-c", str(self.mail.dir / "dovecot" / "dovecot.conf"), "who", RECEIPTS],
                                capture_output=True, text=True, timeout=10)
        return RECEIPTS in result.stdout

    def stop(self) -> dict[str, int | None]:
        """Stop everything, the desk first (its worker finishes what it is doing); the desk
        processes' exit codes. Idempotent."""
        codes = {}
        try:
            for process in (self.worker, self.web):
                if process is not None:
                    codes[process.name] = process.stop()
            self.worker = self.web = None
        finally:
            try:
                if self.roundcube is not None:
                    self.roundcube.stop()
            finally:
                self.mail.stop()
        return codes
