"""``make demo-mail``: the whole mail path on this machine, to watch receipts arrive.

Starts Postfix, Dovecot, Roundcube and the desk (web server and worker) on loopback, on a
fresh SQLite database in a temp dir, with customers who have written in; prints where to sign
in on each side; runs until Ctrl-C (or SIGTERM), then stops everything and deletes the temp dir.

    python -m tests.fullstack [--desk-port 5050] [--webmail-port 5051]
"""
from __future__ import annotations

import argparse
import secrets
import shutil
import signal
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path
from types import FrameType

from tests.fullstack import ADMIN, ADMIN_PASSWORD, CUSTOMERS, SUPPORT, FullStack, seed_desk
from tests.mailstack import MailStackError

#: What the demo's customers wrote in about (each becomes a ticket through the real intake).
QUESTIONS = [
    ("alice@customer.test", "The printer in room 4 is on fire",
     "Hello,\n\nthe printer in room 4 is on fire again. Could someone come by?\n\nAlice"),
    ("bob@customer.test", "Invoice 2026-118 is charged twice",
     "Hi,\n\nour card was charged twice for invoice 2026-118. Can you refund one?\n\nBob"),
]


def interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM ends the demo like Ctrl-C does."""
    raise KeyboardInterrupt


def prepare(stack: FullStack) -> None:
    """Migrate and seed the demo's database, and have the customers write in."""
    from flask_migrate import upgrade

    from helpdesk import create_app
    from helpdesk.extensions import db

    app = create_app(stack.config)
    with app.app_context():
        upgrade(revision="heads")
        seed_desk(stack.mail)
        db.session.remove()
        db.engine.dispose()
    for sender, subject, body in QUESTIONS:
        question = EmailMessage()
        question["From"], question["To"], question["Subject"] = f"{CUSTOMERS[sender]} <{sender}>", SUPPORT, subject
        question.set_content(body)
        stack.mail.send(question)


def instructions(stack: FullStack) -> str:
    customers = ", ".join(CUSTOMERS)
    return f"""
The desk and its customers' mail are running (nothing leaves this machine).

  Desk (the agent's side):   {stack.desk_url}
      sign in as {ADMIN} / {ADMIN_PASSWORD}
  Webmail (the customers'):  {stack.roundcube.url}
      sign in as any of {customers}
      password: {stack.mail.password}

Try it: open the ticket "{QUESTIONS[0][1]}" on the desk and reply To alice@customer.test,
CC bob@customer.test (add nobody@customer.test for a bounce). In the webmail, sign in as Alice,
open the reply and click Send in the read-receipt prompt; as Bob, click Ignore. Back on the desk
the check marks change by themselves within seconds; click them for the Thread Read Info panel.

Mail server for other clients: SMTP 127.0.0.1:{stack.mail.smtp_port}, IMAP 127.0.0.1:{stack.mail.imap_port}.
Logs: {stack.workdir}  (web.log, worker.log)
Mail logs: {stack.mail.dir}/log  (postfix.log, dovecot.log)
Press Ctrl-C to stop everything.
"""


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fullstack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--desk-port", type=int, default=5050)
    parser.add_argument("--webmail-port", type=int, default=5051)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, interrupt)
    workdir = Path(tempfile.mkdtemp(prefix="demo-mail."))
    stack = None
    try:
        print("Starting Postfix, Dovecot and Roundcube...", flush=True)
        stack = FullStack.start_mail(f"sqlite:///{workdir / 'desk.sqlite3'}", workdir, secrets.token_urlsafe(32),
                                     desk_port=args.desk_port, roundcube_port=args.webmail_port)
        prepare(stack)
        print("Starting the desk's web server and worker...", flush=True)
        stack.start_desk()
        print(instructions(stack), flush=True)
        while True:
            for process in (stack.web, stack.worker):
                process.check()
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nStopping...", flush=True)
        return 0
    except MailStackError as err:
        print(f"demo-mail: {err}", file=sys.stderr)
        return 1
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut the clean-up short
            signal.signal(signum, signal.SIG_IGN)
        if stack is not None:
            stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        print("Stopped; nothing is left running.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
