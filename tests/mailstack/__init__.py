"""A real Postfix + Dovecot mail stack on loopback for the tests (see README.md).

``MailStack.start()`` runs ``mailstack.sh`` in a short temp dir on free ports. The helpers go
through the same doors the help desk uses (SMTP in, IMAP out) so tests see real mail: real
bounces, real DSNs, real Sieve auto-replies. Runs as root: Postfix refuses anything else.
"""

from __future__ import annotations

import atexit
import os
import random
import shlex
import shutil
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path

from imapclient import IMAPClient

SCRIPT = Path(__file__).with_name("mailstack.sh")
DIR_PREFIX = "mailstack."
OWNER_FILE = "owner.pid"
PORT_COUNT = 4  # SMTP, IMAP, IMAPS, LMTP
LOWEST_PORT = 20000
START_ATTEMPTS = 5
QUEUE_DIRS = ("maildrop", "incoming", "active", "deferred", "hold")
TIMEOUT = 15.0
SIEVE_SCRIPT = "rules"  # the one active script a test's rule goes in
POLL_INTERVAL = 0.1

__all__ = ["MailStack", "MailStackError"]


class MailStackError(RuntimeError):
    """The stack could not be started or driven; the message carries the daemons' own words."""


class MailStack:
    """A running stack. Create it with :meth:`start`; :meth:`stop` (or interpreter exit) ends it."""

    def __init__(self, directory: Path) -> None:
        """Attach to the stack that ``mailstack.sh start`` left running in ``directory``."""
        self.dir = directory
        self.env = read_env(directory / "env")
        self.smtp_host = self.env["SMTP_HOST"]
        self.smtp_port = int(self.env["SMTP_PORT"])
        self.imap_host = self.env["IMAP_HOST"]
        self.imap_port = int(self.env["IMAP_PORT"])
        self.imaps_port = int(self.env["IMAPS_PORT"])
        self.lmtp_port = int(self.env["LMTP_PORT"])
        self.cafile = self.env["MAIL_CAFILE"]
        self.password = self.env["MAIL_PASSWORD"]
        self.users: tuple[str, ...] = tuple(self.env["MAIL_USERS"].split())
        self._stopped_daemons: set[str] = set()
        self._sieve_users: set[str] = set()
        self._closed = False

    # ------------------------------------------------------------ life cycle
    @classmethod
    def start(cls, base_port: int | None = None) -> MailStack:
        """Start a stack on ``base_port``..``base_port+3`` (SMTP, IMAP, IMAPS, LMTP).

        Without ``base_port``, free ports are picked, and picked again if another process wins
        the race for them (pytest-xdist workers each start their own stack).
        """
        reap_orphans()
        attempt = 0
        while True:
            attempt += 1
            base = base_port if base_port is not None else pick_base_port()
            directory = Path(tempfile.mkdtemp(prefix=DIR_PREFIX, dir="/tmp"))
            (directory / OWNER_FILE).write_text(str(os.getpid()))
            try:
                run_script("start", directory, port_env(base))
            except MailStackError as err:
                shutil.rmtree(directory, ignore_errors=True)
                retry = base_port is None and attempt < START_ATTEMPTS
                if retry and "already in use" in str(err):
                    continue
                raise
            stack = cls(directory)
            atexit.register(stack.stop)
            return stack

    def stop(self) -> None:
        """Stop both daemons and delete the directory. Idempotent; also runs at exit."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.stop)
        run_script("stop", self.dir)
        shutil.rmtree(self.dir, ignore_errors=True)

    def stop_postfix(self) -> None:
        """Simulate an SMTP outage: connections are refused until :meth:`start_postfix`."""
        self._daemon("stop", "postfix")

    def start_postfix(self) -> None:
        """Bring Postfix back on the same port with the same queue (deferred mail is retried)."""
        self._daemon("start", "postfix")

    def stop_dovecot(self) -> None:
        """Simulate an IMAP/LMTP outage: Postfix defers deliveries until :meth:`start_dovecot`."""
        self._daemon("stop", "dovecot")

    def start_dovecot(self) -> None:
        """Bring Dovecot back on the same ports with the same mail store."""
        self._daemon("start", "dovecot")

    def _daemon(self, action: str, name: str) -> None:
        run_script(f"{action}-{name}", self.dir)
        if action == "stop":
            self._stopped_daemons.add(name)
        else:
            self._stopped_daemons.discard(name)

    # ------------------------------------------------------------ connections
    def ssl_context(self) -> ssl.SSLContext:
        """A verifying TLS context that trusts the stack's self-signed certificate."""
        return ssl.create_default_context(cafile=self.cafile)

    def imap(self, user: str) -> IMAPClient:
        """A plain-IMAP client logged in as ``user``; use it as a context manager to log out."""
        client = IMAPClient(self.imap_host, port=self.imap_port, ssl=False, timeout=TIMEOUT)
        client.login(user, self.password)
        return client

    def send(
        self,
        message: EmailMessage,
        *,
        envelope_from: str | None = None,
        recipients: Sequence[str] | None = None,
        mail_options: Sequence[str] = (),
        rcpt_options: Sequence[str] = (),
    ) -> None:
        """Submit ``message`` over SMTP, as a customer's MUA or another MTA would."""
        with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=TIMEOUT) as smtp:
            refused = smtp.send_message(
                message,
                from_addr=envelope_from,
                to_addrs=recipients,
                mail_options=mail_options,
                rcpt_options=rcpt_options,
            )
        if refused:
            raise MailStackError(f"recipients refused: {refused}")

    # ------------------------------------------------------------ mailboxes
    def wait_for(
        self,
        user: str,
        criteria: str | Sequence[object],
        folder: str = "INBOX",
        timeout: float = 20.0,
    ) -> list[int]:
        """UIDs of the messages matching IMAP SEARCH ``criteria``, once there is at least one."""
        with self.imap(user) as client:
            client.select_folder(folder, readonly=True)
            deadline = time.monotonic() + timeout
            while not (uids := client.search(criteria)):
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"nothing matched {criteria!r} in {user}/{folder} after {timeout} s;"
                        f" Postfix log tail:\n{self.postfix_log()[-3000:]}"
                    )
                time.sleep(POLL_INTERVAL)
                client.noop()
            return list(uids)

    def fetch_all(self, user: str, folder: str = "INBOX") -> list[bytes]:
        """Every message in ``folder``, raw, in UID order, without setting \\Seen."""
        with self.imap(user) as client:
            client.select_folder(folder, readonly=True)
            fetched = client.fetch(client.search("ALL"), ["BODY.PEEK[]"])
            return [fetched[uid][b"BODY[]"] for uid in sorted(fetched)]

    def append(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        """Put a message straight into ``folder`` (created if missing), bypassing SMTP."""
        with self.imap(user) as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            client.append(folder, raw)

    def clear(self, user: str) -> None:
        """Empty every folder of ``user``."""
        self._doveadm("expunge", "-u", user, "mailbox", "*", "all")

    def reset(self) -> None:
        """Make the stack as new for the next test.

        Restarts a daemon a failed test left stopped, lets mail still in flight land (or purges
        it, so it cannot leak into the next test), removes vacation rules and empties all folders.
        """
        for name in ("dovecot", "postfix"):  # the order start() uses: Postfix delivers to Dovecot
            if name in self._stopped_daemons:
                self._daemon("start", name)
        if not self.settle(timeout=3.0):
            self._postfix_tool("postsuper", "-d", "ALL")
        for user in list(self._sieve_users):
            self.clear_sieve(user)
        self._doveadm("expunge", "-A", "mailbox", "*", "all")

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until Postfix's queue is empty, i.e. all mail submitted so far was delivered or
        bounced (bounces and auto-replies included). Lets a test assert that something did NOT
        arrive. False if mail is still queued after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self._queued_files():
            if time.monotonic() > deadline:
                return False
            time.sleep(POLL_INTERVAL)
        return True

    def _queued_files(self) -> int:
        spool = self.dir / "postfix" / "spool"
        return sum(len(files) for queue in QUEUE_DIRS for _, _, files in os.walk(spool / queue))

    # ------------------------------------------------------------ Sieve
    def set_vacation(self, user: str, subject: str, body: str) -> None:
        """Activate a Sieve vacation rule (RFC 5230) for ``user``: Pigeonhole then answers mail
        addressed to ``user`` in To/Cc with a real RFC 3834 auto-reply, once per sender (a fresh
        handle per call, so an earlier test's reply does not suppress this one)."""
        self._put_sieve(user, 'require ["vacation"];\n'
                              f"vacation :days 1 :handle {sieve_string(uuid.uuid4().hex)}"
                              f" :subject {sieve_string(subject)} {sieve_string(body)};\n")

    def set_reject(self, user: str, reason: str) -> None:
        """Activate a Sieve ``reject`` rule (RFC 5429) for ``user``: Dovecot's LMTP accepts the
        mail (a success DSN says "delivered"), then Pigeonhole throws it away and sends the
        envelope sender a real MDN with disposition ``automatic-action/...; deleted`` whose
        first part carries ``reason``."""
        self._put_sieve(user, f'require ["reject"];\nreject {sieve_string(reason)};\n')

    def copy_deliveries(self, user: str, folder: str) -> None:
        """Activate a Sieve rule for ``user`` that also files a copy of every delivered mail in
        ``folder`` (created here), in the same delivery: a folder nobody else touches, where a
        watcher sees every arrival even when a poller takes the original out of INBOX first."""
        client = self.imap(user)
        try:
            if not client.folder_exists(folder):
                client.create_folder(folder)
        finally:
            client.logout()
        self._put_sieve(user, f'require ["fileinto", "copy"];\nfileinto :copy {sieve_string(folder)};\n')

    def clear_sieve(self, user: str) -> None:
        """Remove the rule set by :meth:`set_vacation` or :meth:`set_reject`."""
        self._doveadm("sieve", "delete", "-a", "-u", user, SIEVE_SCRIPT)
        self._sieve_users.discard(user)

    def _put_sieve(self, user: str, script: str) -> None:
        """Make ``script`` the user's one active Sieve script (replacing any earlier rule)."""
        self._doveadm("sieve", "put", "-a", "-u", user, SIEVE_SCRIPT, stdin=script)
        self._sieve_users.add(user)

    # ------------------------------------------------------------ logs and tools
    def postfix_log(self) -> str:
        """Postfix's log (deliveries, deferrals, bounces: the first place to look)."""
        return read_log(self.dir / "log" / "postfix.log")

    def dovecot_log(self) -> str:
        """Dovecot's log (logins, LMTP deliveries, Sieve actions)."""
        return read_log(self.dir / "log" / "dovecot.log")

    def _doveadm(self, *args: str, stdin: str | None = None) -> None:
        run_tool(["doveadm", "-c", str(self.dir / "dovecot" / "dovecot.conf"), *args], stdin)

    def _postfix_tool(self, tool: str, *args: str) -> None:
        run_tool([tool, "-c", str(self.dir / "postfix" / "etc"), *args])


# ---------------------------------------------------------------- module helpers
def run_script(command: str, directory: Path, env: dict[str, str] | None = None) -> None:
    """Run ``mailstack.sh COMMAND DIR``; its stderr (the daemons' errors) becomes the exception."""
    run_tool(["bash", str(SCRIPT), command, str(directory)], env={**os.environ, **(env or {})})


def run_tool(argv: list[str], stdin: str | None = None, env: dict[str, str] | None = None) -> None:
    """Run a command to completion, raising MailStackError with its output if it fails."""
    try:
        result = subprocess.run(
            argv,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise MailStackError(f"{shlex.join(argv)}: {err}") from err
    if result.returncode != 0:
        raise MailStackError(
            f"{shlex.join(argv)} failed (exit {result.returncode}):\n{result.stderr}{result.stdout}"
        )


def read_env(path: Path) -> dict[str, str]:
    """Parse the KEY=VALUE file that mailstack.sh writes (values may be shell-quoted)."""
    env = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition("=")
        env[key] = " ".join(shlex.split(value))
    return env


def read_log(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def sieve_string(text: str) -> str:
    """A Sieve quoted string (RFC 5228 2.4.2): only backslash and double quote are escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def port_env(base: int) -> dict[str, str]:
    names = ("SMTP_PORT", "IMAP_PORT", "IMAPS_PORT", "LMTP_PORT")
    return {name: str(base + offset) for offset, name in enumerate(names)}


def pick_base_port() -> int:
    """A run of free ports below the ephemeral range, so no outgoing connection (Postfix's own
    LMTP client, say) can take one of them while its daemon is down for an outage test."""
    ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    while True:
        base = random.randrange(LOWEST_PORT, ephemeral_low - PORT_COUNT)
        if all(port_is_free(base + offset) for offset in range(PORT_COUNT)):
            return base


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_orphans(root: Path = Path("/tmp")) -> None:
    """Stop stacks whose owning process died without running its atexit (SIGKILL, OOM, ...)."""
    for owner_file in root.glob(f"{DIR_PREFIX}*/{OWNER_FILE}"):
        owner = owner_file.read_text().strip()
        if owner.isdigit() and process_exists(int(owner)):
            continue
        directory = owner_file.parent
        if (directory / "env").exists():
            run_script("stop", directory)
        shutil.rmtree(directory, ignore_errors=True)
