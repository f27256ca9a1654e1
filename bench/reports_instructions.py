"""Benchmark: the report parser's cost in CPU instructions, against flufl.bounce and a bare stdlib parse.

Time on a shared machine moves with the other processes; instruction counts do not.
Each contender runs in its own Python under valgrind's callgrind, which counts the
instructions executed: every corpus file is read, every contender parses them all once
(imports, regex compilation and caches warmed alike), and then the measured contender
parses them all once more. A run with no measured round is subtracted, so what is left
is one round's instructions. Slow (about a minute per contender), so not part of
``make bench``'s quick loop of ratios in time: ``bench/reports.py``.

Run: ``python bench/reports_instructions.py``. The last line is
``reports-instructions: ours/flufl=R1 ours/stdlib=R2 files=N``.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reports import corpus_paths, flufl, ours, stdlib  # noqa: E402

CONTENDERS = {"ours": ours, "flufl": flufl, "stdlib": stdlib}


def child(measured: str) -> None:
    import logging

    logging.disable(logging.CRITICAL)
    messages = [path.read_bytes() for path in corpus_paths()]
    for function in CONTENDERS.values():
        function(messages)
    if measured != "none":
        CONTENDERS[measured](messages)


def instructions(measured: str) -> int:
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__, "--child", measured],
        capture_output=True, text=True, check=True,
    )
    return int(re.search(r"refs:\s*([\d,]+)", run.stderr).group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is needed (apt-get install valgrind)")
    base = instructions("none")
    rounds = {name: instructions(name) - base for name in CONTENDERS}
    for name, count in rounds.items():
        print(f"{name:7s} {count / 1e6:9.1f} M instructions per round")
    print(f"reports-instructions: ours/flufl={rounds['ours'] / rounds['flufl']:.2f} "
          f"ours/stdlib={rounds['ours'] / rounds['stdlib']:.2f} files={len(corpus_paths())}")


if __name__ == "__main__":
    main()
