"""Benchmark: our report parser against flufl.bounce, a bare stdlib parse and Sisimai.

Every corpus file is read once into memory; then, for several rounds, each
contender in turn parses every file from bytes. A round's time is the total
over all files, as process CPU time (user + system: on a shared machine wall time
measures the other processes too); the ratios use the median round. Sisimai (Debian's
libsisimai-perl) runs in one Perl process started before the rounds
(tests/reports/sisimai_oracle.pl --bench): it reads the same files into memory once, and
each round it parses them all from memory when told to and reports its own CPU time, so
start-up is counted on neither side. Memory is followed with tracemalloc (current size after each round of
our parser) to show it stays flat.

Run: ``python bench/reports.py [--rounds N]``. The last line is
``reports-bench: ours/flufl=R1 ours/stdlib=R2 ours/sisimai=R3 files=N``.
"""
from __future__ import annotations

import argparse
import email
import gc
import logging
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flufl.bounce import all_failures, scan_message  # noqa: E402

from receipts_plugin.reports import parse_report  # noqa: E402


SISIMAI_DRIVER = ROOT / "tests" / "reports" / "sisimai_oracle.pl"


def corpus_paths() -> list[Path]:
    return sorted((ROOT / "tests" / "corpus").rglob("*.eml"))


class Sisimai:
    """Sisimai in one Perl process holding the files in memory; each call is one timed round."""

    def __init__(self, paths: list[Path]) -> None:
        self.process = subprocess.Popen(["perl", str(SISIMAI_DRIVER), "--bench", *map(str, paths)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self.process.stdout.readline().strip() != "ready":
            raise SystemExit("Sisimai did not start (apt-get install libsisimai-perl)")
        self.last = 0.0

    def __call__(self, messages: list[bytes]) -> None:
        self.process.stdin.write("round\n")
        self.process.stdin.flush()
        self.last = float(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def ours(messages: list[bytes]) -> None:
    for raw in messages:
        parse_report(raw)


def flufl(messages: list[bytes]) -> None:
    for raw in messages:
        message = email.message_from_bytes(raw)
        try:
            scan_message(message)
            all_failures(message)
        except Exception:  # noqa: BLE001 - some flufl detectors raise on odd input; the time still counts
            pass


def stdlib(messages: list[bytes]) -> None:
    for raw in messages:
        email.message_from_bytes(raw)


def time_rounds(contenders: dict, messages: list[bytes], rounds: int) -> dict[str, list[float]]:
    """CPU time of each contender per round; contenders take turns within a round, so a load
    change on a shared machine falls on all of them alike instead of on whoever runs last.
    Sisimai's round is the time its own process measured (the pipe round trip is not counted)."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, function in contenders.items():
            gc.collect()
            start = time.process_time()
            function(messages)
            elapsed = time.process_time() - start
            times[name].append(function.last if isinstance(function, Sisimai) else elapsed)
    return times


def memory_rounds(messages: list[bytes], rounds: int) -> list[int]:
    """tracemalloc's current traced size after each round of our parser."""
    tracemalloc.start()
    sizes = []
    for _ in range(rounds):
        ours(messages)
        gc.collect()
        sizes.append(tracemalloc.get_traced_memory()[0])
    tracemalloc.stop()
    return sizes


def main() -> None:
    logging.disable(logging.CRITICAL)  # flufl.bounce logs every detector exception with a traceback
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    paths = corpus_paths()
    messages = [path.read_bytes() for path in paths]
    ours(messages)  # warm up: regex compilation, imports
    flufl(messages)
    sisimai = Sisimai(paths)  # parses every file once before "ready": its warm-up
    try:
        results = time_rounds({"ours": ours, "flufl": flufl, "stdlib": stdlib, "sisimai": sisimai}, messages, args.rounds)
    finally:
        sisimai.close()
    medians = {name: statistics.median(times) for name, times in results.items()}
    for name, times in results.items():
        per_file = medians[name] / len(messages) * 1e6
        print(f"{name:7s} median {medians[name] * 1000:8.1f} ms/round  ({per_file:7.1f} us/file)  rounds: "
              + " ".join(f"{t * 1000:.1f}" for t in times))
    sizes = memory_rounds(messages, max(args.rounds, 12))
    print("tracemalloc current after each round (KiB): " + " ".join(f"{s / 1024:.0f}" for s in sizes)
          + f"  growth first->last: {(sizes[-1] - sizes[0]) / 1024:+.0f} KiB")
    r1 = medians["ours"] / medians["flufl"]
    r2 = medians["ours"] / medians["stdlib"]
    r3 = medians["ours"] / medians["sisimai"]
    print(f"reports-bench: ours/flufl={r1:.2f} ours/stdlib={r2:.2f} ours/sisimai={r3:.2f} files={len(messages)}")


if __name__ == "__main__":
    main()
