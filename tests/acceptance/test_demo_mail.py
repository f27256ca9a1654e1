"""``make demo-mail`` as a newcomer runs it: it prints where to sign in on each side, both
answer, and Ctrl-C (SIGINT to its process group, as a terminal sends it) stops everything:
no process and no listening port is left, and its temp dir is gone.

It brings its own SQLite database whatever the suite's, so it runs in the SQLite pass only."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.fullstack import ROOT
from tests.roundcube import free_port

pytestmark = [pytest.mark.mailstack, pytest.mark.acceptance,
              pytest.mark.skipif(bool(os.environ.get("HELPDESK_TEST_DATABASE_URL")),
                                 reason="make demo-mail runs on its own SQLite file: the SQLite pass covers it")]

READY = "Press Ctrl-C to stop everything."


class Output:
    """The demo's output, read as it comes (a thread), so a test can wait for a line."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, needle: str, process: subprocess.Popen, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            assert process.poll() is None, f"make demo-mail ended early:\n{self.text}"
            assert time.monotonic() < deadline, f"no {needle!r} after {timeout} s:\n{self.text}"
            time.sleep(0.1)
        return self.text


def answers(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        return response.read().decode()


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def processes_mentioning(*needles: str) -> list[str]:
    """Processes whose command line or environment names any of ``needles``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            text = (proc / "cmdline").read_bytes() + b"\0" + (proc / "environ").read_bytes()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and any(needle.encode() in text for needle in needles):
            command = text.split(b"\0")[0].decode(errors="replace")
            found.append(f"{proc.name}: {command}")
    return found


def test_make_demo_mail_prints_where_to_sign_in_and_ctrl_c_leaves_nothing_running():
    desk_port, webmail_port = free_port(), free_port()
    demo = subprocess.Popen(["make", "-s", "-o", ".venv/.installed", "demo-mail", f"DEMO_DESK_PORT={desk_port}",
                             f"DEMO_WEBMAIL_PORT={webmail_port}"], cwd=ROOT, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    output = Output(demo)
    try:
        text = output.wait_for(READY, demo, timeout=120)
        desk, webmail = f"http://127.0.0.1:{desk_port}/", f"http://127.0.0.1:{webmail_port}/"
        assert f"Desk (the agent's side):   {desk}" in text and "sign in as admin@example.test / helpdesk-demo" in text
        assert f"Webmail (the customers'):  {webmail}" in text and "alice@customer.test" in text
        assert "Sign in" in answers(desk + "login")
        assert "rcmloginuser" in answers(webmail)
        smtp = int(re.search(r"SMTP 127\.0\.0\.1:(\d+)", text).group(1))
        workdir = re.search(r"Logs: (\S+)", text).group(1)
        mail_dir = re.search(r"Mail logs: (\S+)/log", text).group(1)
        ports = [desk_port, webmail_port, smtp, smtp + 1, smtp + 2, smtp + 3]  # SMTP, IMAP, IMAPS, LMTP follow
        assert all(listening(port) for port in ports)
    finally:
        os.killpg(demo.pid, signal.SIGINT)  # Ctrl-C in the terminal
        demo.wait(timeout=60)
        output.thread.join(10)

    assert "Stopped; nothing is left running." in output.text, output.text
    assert [port for port in ports if listening(port)] == []
    assert processes_mentioning(workdir, mail_dir, f"127.0.0.1:{webmail_port}", f"--port {desk_port}") == []
    assert not Path(workdir).exists() and not Path(mail_dir).exists()
