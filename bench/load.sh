#!/usr/bin/env bash
# The load benchmark of issue 8 (what it measures: bench/load.py's docstring). Makes sure wrk and
# the mail stack's Debian packages are installed and PostgreSQL answers on 127.0.0.1:5432, then
# runs the benchmark.
# Run from anywhere: bench/load.sh [--tickets N] [--messages N] [--reports N] [--seconds S]
set -euo pipefail
cd "$(dirname "$0")/.."

.ci/install-debian-packages  # wrk, Postfix, Dovecot (idempotent: a quick check when present)

if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi

exec .venv/bin/python bench/load.py "$@"
