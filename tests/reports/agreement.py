"""Measure how the parser agrees with every ``expected.csv`` in tests/corpus.

Used by test_corpus_agreement.py and runnable on its own
(``python tests/reports/agreement.py``) to print the table and the misses.
"""
from __future__ import annotations

import csv
import sys
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from receipts_plugin.reports import Report, parse_mailbox  # noqa: E402

COLUMNS = ("kind", "recipient count", "recipient", "status", "reason", "status+reason", "hard", "action",
           "original message id", "disposition")


@dataclass
class Tally:
    """Agreement counts per column, plus the misses as readable lines."""

    agree: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    total: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    misses: list[str] = field(default_factory=list)

    def check(self, column: str, where: str, expected, actual) -> bool:
        self.total[column] += 1
        if expected == actual:
            self.agree[column] += 1
            return True
        self.misses.append(f"{where} {column}: expected {expected!r} got {actual!r}")
        return False

    def ratio(self, column: str) -> float:
        return self.agree[column] / self.total[column] if self.total[column] else 1.0


def read_file(path: Path) -> Report:
    """A file's reports as one, recipients in file order: Sisimai's samples are mbox files, and
    its expectations count the recipients of every message in one."""
    first, *rest = parse_mailbox(path.read_bytes())
    return replace(first, recipients=first.recipients + tuple(line for report in rest for line in report.recipients))


Reader = Callable[[Path], Report]


def _address(value: str) -> str:
    return value.split(";", 1)[-1].strip().strip("<>").lower() if value else ""


def _disposition(value: str | None) -> str:
    return "".join((value or "").lower().split())


def sisimai_tally(read: Reader = read_file) -> Tally:
    """Rows keyed by file + index; recipient count per file; kind from the reason."""
    tally = Tally()
    rows_by_file: dict[str, list[dict[str, str]]] = defaultdict(list)
    with open(CORPUS / "sisimai" / "expected.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if all(row["index"] != seen["index"] for seen in rows_by_file[row["file"]]):
                rows_by_file[row["file"]].append(row)  # a (file, index) key counts once
    for name, rows in sorted(rows_by_file.items()):
        report = read(CORPUS / "sisimai" / name)
        if rows[0]["sisimai_result"] == "none":
            tally.check("kind", name, "none", report.kind)
            continue
        reason0 = rows[0]["reason"]
        expected_kind = {"feedback": "feedback", "vacation": "auto-reply"}.get(reason0, "dsn|bounce")
        actual_kind = report.kind if report.kind not in ("dsn", "bounce") else "dsn|bounce"
        tally.check("kind", name, expected_kind, actual_kind)
        tally.check("recipient count", name, len(rows), len(report.recipients))
        for row in rows:
            index = int(row["index"])
            where = f"{name}#{index}"
            got = report.recipients[index - 1] if index <= len(report.recipients) else None
            status = got.status if got else None
            reason = got.reason if got else None
            tally.check("status", where, row["status"] or None, status)
            tally.check("reason", where, row["reason"], reason)
            tally.check("status+reason", where, (row["status"] or None, row["reason"]), (status, reason))
            tally.check("hard", where, row["hardbounce"] == "true", bool(got and got.hard))
    return tally


def rfc_tally(read: Reader = read_file) -> Tally:
    """The RFC examples: every field written in the example must come out."""
    tally = Tally()
    rows_by_file: dict[str, list[dict[str, str]]] = defaultdict(list)
    with open(CORPUS / "rfc-examples" / "expected.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows_by_file[row["file"]].append(row)
    for name, rows in sorted(rows_by_file.items()):
        report = read(CORPUS / "rfc-examples" / name)
        tally.check("kind", name, rows[0]["kind"], report.kind)
        if rows[0]["kind"] == "dsn":
            tally.check("recipient count", name, len(rows), len(report.recipients))
        for position, row in enumerate(rows):
            where = f"{name}#{position + 1}"
            if row["kind"] == "mdn":
                mdn = report.mdn
                tally.check("recipient", where, _address(row["recipient"]), mdn.final_recipient if mdn else None)
                tally.check("original message id", where, row["original_message_id"].strip("<>"), report.original_message_id)
                tally.check("disposition", where, _disposition(row["disposition"]), _disposition(mdn.raw_disposition if mdn else None))
                continue
            got = report.recipients[position] if position < len(report.recipients) else None
            tally.check("recipient", where, _address(row["recipient"]), got.recipient if got else None)
            tally.check("status", where, row["status"].split()[0], got.status if got else None)
            tally.check("action", where, row["action"], got.action if got else None)
    return tally


def mdn_tally(folder: str, read: Reader = read_file) -> Tally:
    """Read-receipt folders: kind, and every field the source project asserted."""
    tally = Tally()
    with open(CORPUS / folder / "expected.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        name = row["file"]
        report = read(CORPUS / folder / name)
        expected_kind = "mdn" if row["kind"] == "mdn" else "none"
        tally.check("kind", name, expected_kind, report.kind)
        if row["original_message_id"]:
            tally.check("original message id", name, row["original_message_id"].strip("<>"), report.original_message_id)
        if row["final_recipient"]:
            tally.check("recipient", name, _address(row["final_recipient"]), report.mdn.final_recipient if report.mdn else None)
        if row["disposition"]:
            tally.check("disposition", name, _disposition(row["disposition"]), _disposition(report.mdn.raw_disposition if report.mdn else None))
        if row["reporting_ua"]:
            tally.check("reporting ua", name, row["reporting_ua"], report.mdn.reporting_ua if report.mdn else None)
    return tally


#: Folders of real reports labelled by reading each message (columns: file, kind, recipient,
#: action, status, reason, split, note); ``split`` is ``dev`` (rules may be tuned on them) or
#: ``holdout`` (never tuned on: the estimate of how the parser does on mail it has not seen).
LABELLED = (
    "flufl-bounce", "bounceparser", "exim-4.96", "rb-sisimai", "sisimai-extra", "sisimai-extra2", "sisimai-extra3",
    "sisimai-extra4",
    "bounceparser-2",
    "bounceparser-3",
    "bounceparser-spam",
    "php-bounce-handler-a",
    "php-bounce-handler-b",
    "flanker-bounce-email",
    "helpdesk-fixtures",
)


def labelled_tally(folder: str, split: str, read: Reader = read_file) -> Tally:
    """One folder's rows of one split: kind, recipients (final or original), action, status, reason.

    A row with no recipient says the report names no Internet address: nobody may be reported.
    """
    tally = Tally()
    rows_by_file: dict[str, list[dict[str, str]]] = defaultdict(list)
    with open(CORPUS / folder / "expected.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["split"] == split:
                rows_by_file[row["file"]].append(row)
    for name, rows in sorted(rows_by_file.items()):
        report = read(CORPUS / folder / name)
        expected_kind = rows[0]["kind"] if rows[0]["kind"] not in ("dsn", "bounce") else "dsn|bounce"
        actual_kind = report.kind if report.kind not in ("dsn", "bounce") else "dsn|bounce"
        tally.check("kind", name, expected_kind, actual_kind)
        if expected_kind != "dsn|bounce":
            continue
        wanted = [row for row in rows if row["recipient"]]
        tally.check("recipient count", name, len(wanted), len(report.recipients))
        by_address = {}
        for result in report.recipients:
            for address in (result.recipient, result.original_recipient):
                by_address.setdefault(address, result)
        for row in wanted:
            where = f"{name}#{row['recipient']}"
            got = by_address.get(row["recipient"])
            tally.check("recipient", where, row["recipient"], got and row["recipient"])
            status, reason = (got.status, got.reason) if got else (None, None)
            tally.check("status", where, row["status"], status)
            tally.check("reason", where, row["reason"], reason)
            tally.check("status+reason", where, (row["status"], row["reason"]), (status, reason))
            tally.check("action", where, row["action"], got.action if got else None)
    return tally


def all_tallies(read: Reader = read_file) -> dict[str, Tally]:
    """Every folder's tally; ``read`` turns a file into a Report (ours by default; the oracle
    passes Sisimai's results shaped as Reports to score Sisimai against the same expectations)."""
    tallies = {"sisimai": sisimai_tally(read), "rfc-examples": rfc_tally(read)}
    for folder in ("chatmail-core-mdn", "flanker-mdn", "mimekit-mdn"):
        tallies[folder] = mdn_tally(folder, read)
    for folder in LABELLED:
        for split in ("dev", "holdout"):
            tallies[f"{folder} ({split})"] = labelled_tally(folder, split, read)
    return tallies


def table(tallies: dict[str, Tally]) -> str:
    """A Markdown table: one row per corpus folder, agreement per column."""
    columns = [c for c in (*COLUMNS, "reporting ua") if any(t.total[c] for t in tallies.values())]
    lines = ["| folder | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for folder, tally in tallies.items():
        cells = [
            f"{tally.agree[c]}/{tally.total[c]} ({100 * tally.ratio(c):.1f}%)" if tally.total[c] else "-" for c in columns
        ]
        lines.append(f"| {folder} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    results = all_tallies()
    print(table(results))
    for folder, tally in results.items():
        if "holdout" in folder and "--holdout" not in sys.argv:
            print(f"({len(tally.misses)} misses in {folder} not shown: pass --holdout to see them)")
            continue
        for miss in tally.misses:
            print(f"MISS {folder}: {miss}")
