"""Property tests: mutated corpus messages never make the parser raise, and parsing is deterministic."""
from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from receipts_plugin.reports import Report, parse_report

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
SAMPLES = [path.read_bytes() for path in sorted(CORPUS.rglob("*.eml"))]
BOUNDARY_LINE = re.compile(rb"^--[^\r\n]+$", re.M)
CHARSETS = [b"utf-8", b"iso-2022-jp", b"shift_jis", b"koi8-r", b"x-unknown", b"utf-16", b"", b"\xff\xfe"]

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def check(raw: bytes) -> None:
    first = parse_report(raw)
    assert isinstance(first, Report)
    assert first.kind in ("dsn", "bounce", "mdn", "read-notice", "auto-reply", "feedback", "none")
    assert first == parse_report(raw)
    assert isinstance(first.identity, str)
    # The catch-all in parse_report must not be what saved us: no internal error may occur.
    assert not [d for d in first.defects if d.startswith("parser error")]


@SETTINGS
@given(st.sampled_from(SAMPLES), st.floats(min_value=0.0, max_value=1.0))
def test_truncated(raw, fraction):
    check(raw[: int(len(raw) * fraction)])


@SETTINGS
@given(st.sampled_from(SAMPLES), st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=30))
def test_bytes_flipped(raw, flips):
    data = bytearray(raw)
    for where, value in flips:
        if data:
            data[min(int(where * len(data)), len(data) - 1)] = value
    check(bytes(data))


@SETTINGS
@given(st.sampled_from(SAMPLES), st.data())
def test_parts_dropped(raw, data):
    cuts = [m.start() for m in BOUNDARY_LINE.finditer(raw)]
    if len(cuts) < 2:
        check(raw)
        return
    index = data.draw(st.integers(0, len(cuts) - 2))
    check(raw[: cuts[index]] + raw[cuts[index + 1]:])


@SETTINGS
@given(st.sampled_from(SAMPLES), st.sampled_from(CHARSETS))
def test_charsets_swapped(raw, charset):
    check(re.sub(rb"charset=\"?[A-Za-z0-9_.:-]+\"?", b"charset=" + charset, raw, flags=re.I))


@SETTINGS
@given(st.binary(max_size=4000))
def test_random_bytes(raw):
    check(raw)


@SETTINGS
@given(st.sampled_from(SAMPLES), st.binary(min_size=1, max_size=200), st.floats(0, 1))
def test_bytes_inserted(raw, junk, where):
    position = int(len(raw) * where)
    check(raw[:position] + junk + raw[position:])
