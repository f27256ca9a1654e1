"""Coverage-guided fuzzing (atheris/libFuzzer) of the intake and report pipeline.

Every input goes through ``parse_report`` (must return a Report, never raise) and through
the real intake, ``process_inbound``, with the receipts plugin loaded, on a throw-away
SQLite database: it must end with a recorded outcome, and a quarantined input must carry a
reason. Seeds are the shared corpus. Last line: ``fuzz: inputs=N crashes=C``.

    python bench/fuzz.py [--runs 100000]
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTCOMES = {"ticket", "thread", "claimed", "ignored", "quarantined", "duplicate"}


def worker(workdir: Path) -> None:
    """The libFuzzer target (runs in a child process; exits on the first crash)."""
    import atheris

    sys.path.insert(0, str(ROOT))
    with atheris.instrument_imports(include=["helpdesk", "receipts_plugin"]):
        from flask_migrate import upgrade

        from helpdesk import create_app
        from helpdesk.extensions import db
        from helpdesk.mail.intake import process_inbound
        from helpdesk.models import Department
        from receipts_plugin.reports import Report, parse_report

    app = create_app({"DATABASE_URL": f"sqlite:///{workdir / 'fuzz.sqlite3'}", "SECRET_KEY": "fuzz",
                      "ATTACHMENT_DIR": str(workdir / "files"), "OUTBOX_DIR": str(workdir / "outbox"),
                      "PLUGINS": ["receipts", "tracking"], "LOG_LEVEL": "CRITICAL", "BASE_URL": "http://127.0.0.1:5000"})
    context = app.app_context()
    context.push()
    upgrade(revision="heads")
    db.session.add(Department(name="Support", email="support@example.test"))
    db.session.commit()

    def one_input(data: bytes) -> None:
        report = parse_report(data)
        if not isinstance(report, Report):
            raise AssertionError(f"parse_report returned {type(report).__name__}")
        result = process_inbound(data, "fuzz")
        if result.outcome not in OUTCOMES:
            raise AssertionError(f"unknown outcome {result.outcome!r}")
        if result.outcome == "quarantined" and not result.reason:
            raise AssertionError("quarantined without a reason")
        db.session.rollback()

    atheris.Setup(sys.argv[:1] + sys.argv[3:], one_input)
    atheris.Fuzz()


def seeds(into: Path) -> int:
    into.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in sorted((ROOT / "tests" / "corpus").rglob("*.eml")):
        shutil.copy(path, into / f"{count:04d}-{path.name}")
        count += 1
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--max-len", type=int, default=65536)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="helpdesk-fuzz-") as tmp:
        workdir = Path(tmp)
        corpus = workdir / "corpus"
        print(f"seeds: {seeds(corpus)} corpus messages", flush=True)
        command = [sys.executable, __file__, "--worker", str(workdir), f"-runs={args.runs}",
                   f"-max_len={args.max_len}", "-seed=1", "-print_final_stats=1", str(corpus)]
        completed = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
        log = completed.stdout + completed.stderr
        (Path(tempfile.gettempdir()) / "helpdesk-fuzz.log").write_text(log)
        done = re.search(r"Done (\d+) runs in (\d+) second", log)
        crashed = completed.returncode != 0 or "Uncaught Python exception" in log
        executed = int(done.group(1)) if done else int((re.findall(r"#(\d+)\s", log) or ["0"])[-1])
        if done:
            print(f"{executed} inputs in {done.group(2)} s", flush=True)
        if crashed:
            tail = "\n".join(log.splitlines()[-40:])
            print(f"crash (full log in {tempfile.gettempdir()}/helpdesk-fuzz.log):\n{tail}", flush=True)
        # the seeds are replayed first and count as inputs too
        print(f"fuzz: inputs={executed} crashes={1 if crashed else 0}")
        return 1 if crashed else 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        worker(Path(sys.argv[2]))
    else:
        sys.exit(main())
