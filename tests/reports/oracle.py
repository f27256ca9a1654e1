"""Sisimai (Debian's ``libsisimai-perl``) as a differential oracle for the report parser.

Sisimai and our parser read the same messages; every field where they differ (kind,
recipient, action, status class, status, reason, hard) is a disagreement. Deliberate ones
are listed, each with its reason, in ``oracle_differences.csv`` beside this file; anything
else is new and fails ``test_sisimai_oracle.py``. One Perl process reads all files.

    python tests/reports/oracle.py            # print every disagreement, listed or not
    python tests/reports/oracle.py --write    # rewrite the table (keeps the reasons given)
    python tests/reports/oracle.py --summary  # the README's table: reasons with counts
    python tests/reports/oracle.py --accuracy # Sisimai scored against the corpus expectations
"""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from receipts_plugin.reports import RecipientLine, Report  # noqa: E402
from tests.receipts import builders  # noqa: E402
from agreement import read_file  # noqa: E402

HERE = Path(__file__).resolve().parent
DRIVER = HERE / "sisimai_oracle.pl"
DIFFERENCES = HERE / "oracle_differences.csv"
CORPUS = ROOT / "tests" / "corpus"
FIELDS = ("kind", "recipient", "action", "status class", "status", "reason", "hard")
TABLE_COLUMNS = ("message", "recipient", "field", "sisimai", "ours", "why")


@dataclass(frozen=True, order=True)
class Disagreement:
    message: str
    recipient: str
    field: str
    sisimai: str
    ours: str

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.message, self.recipient, self.field, self.sisimai, self.ours)

    def __str__(self) -> str:
        return f"{self.message} [{self.recipient}] {self.field}: sisimai={self.sisimai!r} ours={self.ours!r}"


def sisimai_available() -> bool:
    """Is Perl with Sisimai installed (``apt-get install libsisimai-perl``)?"""
    perl = shutil.which("perl")
    return bool(perl) and subprocess.run([perl, "-MSisimai", "-e", "1"], capture_output=True).returncode == 0


def run_sisimai(paths: list[Path]) -> dict[Path, list[dict]]:
    """Sisimai's results per file, all files in one Perl process."""
    if not paths:
        return {}
    done = subprocess.run(["perl", str(DRIVER), *map(str, paths)], capture_output=True, check=True, timeout=300)
    results: dict[Path, list[dict]] = {}
    for line in done.stdout.decode("utf-8").splitlines():
        row = json.loads(line)
        results[Path(row["file"])] = row["results"]
    return results


def sisimai_kind(rows: list[dict]) -> str:
    if not rows:
        return "none"
    reason = rows[0]["reason"]
    return {"feedback": "feedback", "vacation": "auto-reply"}.get(reason, "dsn|bounce")


def our_kind(report: Report) -> str:
    return "dsn|bounce" if report.kind in ("dsn", "bounce") else report.kind


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def compare(name: str, sisimai: list[dict], report: Report) -> list[Disagreement]:
    """Every field where Sisimai's rows and our report differ, recipients paired by address."""
    found: list[Disagreement] = []
    theirs_kind, ours_kind = sisimai_kind(sisimai), our_kind(report)
    if theirs_kind != ours_kind:
        found.append(Disagreement(name, "-", "kind", theirs_kind, ours_kind))
    if theirs_kind != "dsn|bounce" or ours_kind != "dsn|bounce":
        return found  # Receipts, auto-replies and feedback reports: the kind is what both can say.
    ours_by_address = {(r.recipient or ""): r for r in report.recipients}
    theirs_addresses = {row["recipient"].lower() for row in sisimai}
    for row in sisimai:
        address = row["recipient"].lower()
        mine = ours_by_address.get(address)
        if mine is None:
            found.append(Disagreement(name, address, "recipient", address, ""))
            continue
        status = mine.status or ""
        pairs = (
            ("action", row["action"], mine.action),
            ("status class", row["status"][:1], status[:1]),
            ("status", row["status"], status),
            ("reason", row["reason"], mine.reason),
            ("hard", row["hard"], bool(mine.hard)),
        )
        found.extend(Disagreement(name, address, field, _text(a), _text(b)) for field, a, b in pairs if _text(a) != _text(b))
    for address in ours_by_address:
        if address not in theirs_addresses:
            found.append(Disagreement(name, address, "recipient", "", address))
    return found


def disagreements(paths: dict[str, Path]) -> list[Disagreement]:
    """All disagreements over the named files (name -> path), sorted."""
    results = run_sisimai(list(paths.values()))
    found: list[Disagreement] = []
    for name, path in paths.items():
        found.extend(compare(name, results.get(path, []), read_file(path)))
    return sorted(found)


def corpus_files() -> dict[str, Path]:
    """Every message the suite's corpus holds (also the fuzzers' seeds), by path under tests/corpus."""
    return {str(path.relative_to(CORPUS)): path for path in sorted(CORPUS.rglob("*.eml"))}


def builder_messages() -> dict[str, bytes]:
    """The messages tests/receipts/builders.py makes, as the suite uses them."""
    message_id = "reply-1@example.test"
    return {
        "postfix-failed": builders.postfix_dsn(to="bounces+t1@example.test", recipient="nobody@customer.test",
                                               original_message_id=message_id),
        "postfix-delivered": builders.postfix_dsn(to="bounces@example.test", recipient="bob@customer.test",
                                                  action="delivered", status="2.0.0", envid="E1"),
        "postfix-delayed": builders.postfix_dsn(to="bounces@example.test", recipient="slow@customer.test", action="delayed",
                                                status="4.4.1", diagnostic="smtp; 451 4.4.1 Connection timed out"),
        "mdn": builders.mdn(sender="bob@customer.test", final_recipient="bob@customer.test",
                            original_message_id=message_id),
        "read-notice": builders.read_notice(sender="Bob <bob@customer.test>", subject="a reply", in_reply_to=message_id),
        "exchange-mdn": builders.exchange_mdn(sender="bob@customer.test", display_name="Bob", subject="a reply",
                                              in_reply_to=message_id),
    }


def suite_files(workdir: Path) -> dict[str, Path]:
    """The corpus and the builders' messages (written to ``workdir``), by name."""
    paths = corpus_files()
    for name, raw in builder_messages().items():
        path = workdir / f"{name}.eml"
        path.write_bytes(raw)
        paths[f"builders/{name}.eml"] = path
    return paths


def as_report(rows: list[dict]) -> Report:
    """Sisimai's rows for one file shaped as our Report, so the corpus tallies can score it."""
    kind = {"none": "none", "feedback": "feedback", "auto-reply": "auto-reply"}.get(sisimai_kind(rows), "bounce")
    recipients = tuple(
        RecipientLine(recipient=row["recipient"].lower() or None, action=row["action"] or None,
                        status=row["status"] or None, reason=row["reason"] or None, hard=row["hard"])
        for row in rows
    )
    return Report(kind=kind, recipients=recipients)


def load_table(path: Path = DIFFERENCES) -> dict[tuple[str, str, str, str, str], str]:
    """The deliberate differences: key -> why."""
    if not path.exists():
        return {}
    with open(path, newline="", encoding="utf-8") as handle:
        return {tuple(row[c] for c in TABLE_COLUMNS[:5]): row["why"] for row in csv.DictReader(handle)}


def write_table(found: list[Disagreement], path: Path = DIFFERENCES) -> None:
    """Rewrite the table from ``found``, keeping every reason already given (new rows: 'TODO')."""
    known = load_table(path)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(TABLE_COLUMNS)
        for item in found:
            writer.writerow([*item.key, known.get(item.key, "TODO")])


def summary(path: Path = DIFFERENCES) -> str:
    """The README's table: each reason with how many disagreements it covers, most first."""
    counts = Counter(load_table(path).values())
    lines = ["| disagreements | why we keep ours |", "| ---: | --- |"]
    lines += [f"| {count} | {why} |" for why, count in counts.most_common()]
    return "\n".join(lines)


if __name__ == "__main__":
    if "--summary" in sys.argv:
        print(summary())
        sys.exit(0)
    if "--accuracy" in sys.argv:
        from agreement import all_tallies, table

        files = corpus_files()
        results = run_sisimai(list(files.values()))
        print(table(all_tallies(lambda path: as_report(results.get(path, [])))))
        sys.exit(0)
    with tempfile.TemporaryDirectory() as workdir:
        every = disagreements(suite_files(Path(workdir)))
    if "--write" in sys.argv:
        write_table(every)
    table = load_table()
    for item in every:
        print(("listed  " if item.key in table else "NEW     ") + str(item))
    counts = Counter(item.field for item in every)
    print(f"{len(every)} disagreements: " + ", ".join(f"{field}={counts[field]}" for field in FIELDS))
