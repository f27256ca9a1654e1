"""Command line: ``python -m receipts_plugin.reports [--json] FILE...``.

``--json`` prints one JSON object per line per recipient (one line with
``"kind": "none"`` for a file that is no report), for scripts and for
comparing with other tools; without it, a short summary for people. A file
may be one message or an mbox file of several: each message is read.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Iterator, TextIO

from .model import RecipientLine, Report
from .parser import parse_mailbox


def json_rows(path: str, report: Report) -> Iterator[dict[str, object]]:
    """The JSON objects for one file, recipients in the order the report lists them."""
    disposition = report.mdn.disposition if report.mdn else None
    recipients: tuple[RecipientLine | None, ...] = report.recipients or (None,)
    for rcpt in recipients:
        yield {
            "file": path,
            "kind": report.kind,
            "recipient": rcpt.recipient if rcpt else None,
            "action": rcpt.action if rcpt else None,
            "status": rcpt.status if rcpt else None,
            "reason": rcpt.reason if rcpt else None,
            "hard": rcpt.hard if rcpt else None,
            "disposition": disposition,
            "original_message_id": report.original_message_id,
            "envid": report.envid,
            "reply_code": rcpt.reply_code if rcpt else None,
            "source": rcpt.source if rcpt else None,
            "feedback_type": report.feedback_type,
            "verp_local_parts": list(report.verp_local_parts),
        }


def summary(path: str, report: Report) -> str:
    """A few readable lines about one file."""
    lines = [f"{path}: {report.kind}"]
    if report.subject:
        lines.append(f"  subject: {report.subject}")
    if report.original_message_id:
        lines.append(f"  original message: <{report.original_message_id}>")
    if report.mdn:
        lines.append(f"  disposition: {report.mdn.disposition} ({report.mdn.raw_disposition or report.mdn.source})")
    for rcpt in report.recipients:
        verdict = " ".join(
            str(v) for v in (rcpt.action, rcpt.status, rcpt.reason, "hard" if rcpt.hard else "") if v
        )
        lines.append(f"  {rcpt.recipient or '(unknown recipient)'}: {verdict}".rstrip())
        if rcpt.diagnostic:
            lines.append(f"    {rcpt.diagnostic[:160]}")
    if report.verp_local_parts:
        lines.append(f"  VERP: {', '.join(report.verp_local_parts)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    """Parse each file and print; a file that cannot be read is reported on stderr."""
    parser = argparse.ArgumentParser(prog="python -m receipts_plugin.reports", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object per line per recipient")
    parser.add_argument("files", nargs="+", metavar="FILE")
    args = parser.parse_args(argv)
    out = out or sys.stdout
    status = 0
    for path in args.files:
        try:
            with open(path, "rb") as handle:
                raw = handle.read()
        except OSError as error:
            print(f"{path}: {error.strerror or error}", file=sys.stderr)
            status = 1
            continue
        for report in parse_mailbox(raw):
            if args.json:
                for row in json_rows(path, report):
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
            else:
                out.write(summary(path, report) + "\n")
    return status
