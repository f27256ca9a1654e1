"""Roundcube (Debian's package) as the customers' webmail, for the acceptance test and
``make demo-mail``: configured on SQLite in a temp dir, talking to the mail stack's Dovecot
(IMAP) and Postfix (SMTP), served on loopback by PHP's built-in server. Nothing of
``/etc/roundcube`` is used but its defaults. ``RoundcubeClient`` drives it in a Playwright page
the way a customer does: sign in, open a message, answer the read-receipt prompt."""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.mailstack import MailStack, MailStackError

#: Debian's layout: the document root, and the packaged defaults every config starts from.
PUBLIC_HTML = Path("/var/lib/roundcube/public_html")
DEFAULTS = Path("/etc/roundcube/defaults.inc.php")
MIMETYPES = Path("/etc/roundcube/mimetypes.php")
INSTALL_HINT = "run .ci/install-debian-packages (as root): it installs roundcube, roundcube-sqlite3 and php-cli"
START_TIMEOUT = 30.0


def php_value(value: str | int | bool) -> str:
    """A PHP literal for a config value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Roundcube:
    """A running Roundcube; :meth:`start` it, :meth:`stop` it (idempotent)."""

    def __init__(self, directory: Path, port: int, process: subprocess.Popen) -> None:
        self.dir, self.port, self.process = directory, port, process
        self.url = f"http://127.0.0.1:{port}/"

    @classmethod
    def start(cls, stack: MailStack, port: int | None = None) -> Roundcube:
        """Configure Roundcube for ``stack`` in a new temp dir and serve it on 127.0.0.1:``port``
        (a free one by default); returns once its sign-in page answers."""
        if not PUBLIC_HTML.is_dir() or not DEFAULTS.is_file() or shutil.which("php") is None:
            raise MailStackError(f"Roundcube or PHP is not installed; {INSTALL_HINT}")
        directory = Path(tempfile.mkdtemp(prefix="roundcube."))
        write_config(directory, stack)
        port = port or free_port()
        env = {**os.environ, "ROUNDCUBE_CONFIG_DIR": str(directory / "config"),
               "PHP_CLI_SERVER_WORKERS": "4"}  # the page makes requests in parallel
        log = (directory / "logs" / "php-server.log").open("w")
        process = subprocess.Popen(["php", "-S", f"127.0.0.1:{port}", "-t", str(PUBLIC_HTML)], env=env,
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # a Ctrl-C reaches its owner, who stops it
        roundcube = cls(directory, port, process)
        try:
            roundcube.wait_ready()
        except BaseException:
            roundcube.stop()
            raise
        return roundcube

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise MailStackError(f"php -S exited ({self.process.returncode}):\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:
                    if response.status == 200 and b"rcmloginuser" in response.read():
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise MailStackError(f"Roundcube did not answer on {self.url} within {START_TIMEOUT} s:\n{self.log()}")
            time.sleep(0.1)

    def log(self) -> str:
        """PHP's server log and Roundcube's own errors."""
        texts = [p.read_text(errors="replace")[-3000:] for p in sorted((self.dir / "logs").glob("*")) if p.is_file()]
        return "\n".join(texts)

    def stop(self) -> None:
        """Stop PHP's server (its workers with it) and delete the dir."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def write_config(directory: Path, stack: MailStack) -> None:
    """Roundcube's config dir: Debian's defaults, then ours (SQLite, the stack's servers, no plugins)."""
    config = directory / "config"
    for sub in ("config", "logs", "temp"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy(DEFAULTS, config / "defaults.inc.php")
    shutil.copy(MIMETYPES, config / "mimetypes.php")
    settings = {
        "db_dsnw": f"sqlite:///{directory}/roundcube.sqlite?mode=0640",
        "imap_host": f"{stack.imap_host}:{stack.imap_port}",
        "smtp_host": f"{stack.smtp_host}:{stack.smtp_port}",
        "smtp_user": "",  # the stack's Postfix relays for loopback without authentication
        "smtp_pass": "",
        "log_dir": f"{directory}/logs/",
        "temp_dir": f"{directory}/temp/",
        "des_key": secrets.token_hex(12),
        "product_name": "Customer webmail",
        "support_url": "",
        "skin": "elastic",
        "mdn_requests": 0,  # ask the user: the receipt prompt under test
        "enable_installer": False,
    }
    lines = ["<?php", "$config = [];"]
    lines += [f"$config[{php_value(key)}] = {php_value(value)};" for key, value in settings.items()]
    lines.append("$config['plugins'] = [];")
    (config / "config.inc.php").write_text("\n".join(lines) + "\n")


# ---------------------------------------------------------------- a customer in the browser
RECEIPT_PROMPT = ".ui-dialog:has-text('Send read receipt?')"


def sign_in(page, roundcube: Roundcube, user: str, password: str) -> None:
    """Sign in to Roundcube as ``user`` in ``page`` (a fresh browser context per customer)."""
    page.goto(roundcube.url)
    page.fill("#rcmloginuser", user)
    page.fill("#rcmloginpwd", password)
    page.click("#rcmloginsubmit")
    page.wait_for_selector("#messagelist")


def open_message(page, subject: str, timeout: float = 30.0) -> None:
    """Open the message whose subject contains ``subject`` from the inbox, refreshing the list
    until it has arrived."""
    row = page.locator("#messagelist tr", has_text=subject).first
    deadline = time.monotonic() + timeout
    while not row.is_visible():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no message {subject!r} in the inbox after {timeout} s")
        page.click("a.refresh")
        page.wait_for_timeout(500)
    row.click()


def answer_receipt_prompt(page, send: bool) -> None:
    """Click Send or Ignore in Roundcube's read-receipt prompt and wait until it has done so
    (a sent receipt goes out by SMTP before Roundcube confirms it)."""
    prompt = page.locator(RECEIPT_PROMPT)
    prompt.get_by_role("button", name="Send" if send else "Ignore").click()
    prompt.wait_for(state="hidden")
    if send:
        page.get_by_text("Successfully sent a read receipt").wait_for()
