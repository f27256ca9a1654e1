"""Run a stack by hand: ``python -m tests.mailstack start [--base-port N]``.

Prints the settings (shell syntax, ready for ``export``) and keeps the stack up until Ctrl-C
or SIGTERM, then stops it.
"""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType

from tests.mailstack import MailStack, MailStackError


def interrupt(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into KeyboardInterrupt so the stack is stopped, not orphaned."""
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mailstack", description=__doc__)
    parser.add_argument("command", choices=["start"])
    parser.add_argument("--base-port", type=int, help="SMTP port; IMAP, IMAPS, LMTP follow it")
    args = parser.parse_args()
    try:
        stack = MailStack.start(args.base_port)
    except MailStackError as err:
        print(err, file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, interrupt)
    try:
        print((stack.dir / "env").read_text(), end="", flush=True)
        print("# running; Ctrl-C stops it", flush=True)
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
