"""``bench/latency.py`` runs end to end: the real mail stack, the desk's web server and worker
in IDLE, three replies whose reports come back, and its last line. Its numbers are the
benchmark's business (README, "Latency"); this only keeps the benchmark working.

It brings its own SQLite database (``--database`` would drop the schema it is given), so it
runs in the SQLite pass only."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.fullstack import ROOT

pytestmark = [pytest.mark.mailstack, pytest.mark.acceptance,
              pytest.mark.skipif(bool(os.environ.get("HELPDESK_TEST_DATABASE_URL")),
                                 reason="the bench runs on its own SQLite file: the SQLite pass covers it")]


def test_the_latency_bench_measures_every_report_of_a_few_replies():
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    result = subprocess.run([sys.executable, "bench/latency.py", "--replies", "3", "--interval", "0.1",
                             "--timeout", "30"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    last = result.stdout.strip().splitlines()[-1]
    # A bounce, a success DSN, and a success DSN plus a Sieve rejection's MDN.
    assert re.fullmatch(r"latency-bench: p50_ms=\d+ p99_ms=\d+ reports=4", last), result.stdout
    assert "dsn-failed: reports=1" in result.stdout and "mdn: reports=1" in result.stdout
