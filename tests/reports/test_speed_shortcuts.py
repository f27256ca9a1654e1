"""Shortcuts the parser takes for speed give the answer of the plain regex they stand for, on any input.

Each test compares a shortcut with the expression it replaces (spelled out here as it was), on
texts hypothesis builds from the characters that matter to it and on every corpus file.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from receipts_plugin.reports import addresses, codes, mime, original, reasons, rhost
from receipts_plugin.reports.heuristics import scan, signals
from receipts_plugin.reports.linestart import LinePattern

CORPUS = sorted((Path(__file__).parents[1] / "corpus").rglob("*.eml"))


def _corpus_texts() -> list[str]:
    return [path.read_bytes().decode("latin-1") for path in CORPUS]


def _same_matches(plain: re.Pattern, shortcut: LinePattern, text: str, pos: int, endpos: int) -> None:
    found = plain.search(text, pos, endpos)
    fast = shortcut.search(text, pos, endpos)
    assert (found.span() if found else None) == (fast.span() if fast else None)
    assert [m.span() for m in plain.finditer(text, pos, endpos)] == [m.span() for m in shortcut.finditer(text, pos, endpos)]
    assert plain.findall(text, pos, endpos) == shortcut.findall(text, pos, endpos)


#: The line-start patterns the parser searches through LinePattern.
LINE_PATTERNS = [signals.SEPARATOR, scan._TRANSPORT_FIELD, scan._QUOTED_HEADER_RUN, original._WANTED_FIELD,
                 original._QUOTED_START, original._QUOTED_FIELD]


@pytest.mark.parametrize("shortcut", LINE_PATTERNS, ids=lambda p: p.pattern.pattern[:30])
@given(text=st.text(alphabet="\n\r \t:-=x" + "Received" + "message-id" + "below this line is a copy of the message",
                    max_size=80),
       pos=st.integers(0, 90), endpos=st.integers(0, 90))
@settings(max_examples=300, deadline=None)
def test_a_line_start_pattern_searched_from_line_break_to_line_break_finds_what_re_finds(shortcut, text, pos, endpos):
    assert shortcut.after_break is not None  # the shortcut is really taken for these patterns
    _same_matches(shortcut.pattern, shortcut, text, pos, endpos)


def test_line_start_patterns_on_the_corpus():
    texts = _corpus_texts()
    for shortcut in LINE_PATTERNS:
        for text in texts:
            for searched in (text, text.lower()):
                _same_matches(shortcut.pattern, shortcut, searched, 0, len(searched))


def test_a_pattern_not_opening_at_a_line_start_is_searched_as_it_is():
    for source, flags in ((r"a^b", re.M), (r"^a|b", re.M), (r"^ab", 0), (r"(?m)^ab", 0)):
        shortcut = LinePattern(source, flags)
        assert shortcut.after_break is None
        _same_matches(re.compile(source, flags), shortcut, "xab\nab\nb", 0, 8)


def test_findall_takes_re_s_own_findall_only_for_patterns_no_match_of_which_ends_with_a_line_break():
    assert original._WANTED_FIELD.whole_lines and original._QUOTED_FIELD.whole_lines
    assert not scan._QUOTED_HEADER_RUN.whole_lines  # its run of fields ends with "\n"
    ending = LinePattern(r"^(a)\n?", re.M)
    assert not ending.whole_lines
    assert ending.findall("a\na\n") == re.compile(r"^(a)\n?", re.M).findall("a\na\n") == ["a", "a"]


_OLD_ADDRESS_TEXT = st.text(alphabet="ab.@-_1 \n<>+", max_size=400)


@given(_OLD_ADDRESS_TEXT)
@settings(max_examples=400, deadline=None)
def test_the_address_search_started_before_each_at_sign_finds_what_finditer_finds(text):
    assert [m.span() for m in addresses._ADDRESS.finditer(text)] == [m.span() for m in addresses._addresses_in(text)]
    first = addresses._ADDRESS.search(text)
    assert (first.span() if first else None) == ((m := addresses._next_address(text, 0)) and m.span())


@given(st.integers(60, 200), st.integers(0, 3))
@settings(max_examples=100, deadline=None)
def test_an_address_with_a_local_part_longer_than_the_window_is_still_found(length, padding):
    text = " " * padding + "x" * length + "@example.org and " + "y" * 90 + "@example.net"
    assert [m.group(1) for m in addresses._addresses_in(text)] == [m.group(1) for m in addresses._ADDRESS.finditer(text)]
    assert addresses.find_addresses(text) == ["x" * length + "@example.org", "y" * 90 + "@example.net"]


def test_split_alternatives_gives_each_phrase_table_its_phrases_back():
    for table in reasons.PHRASES.values():
        assert reasons.split_alternatives(table.pattern) == table.phrases
    assert reasons.split_alternatives(r"a[|]b|c\|d|(?:e|f)|[]|]x|[^]|]y") == ("a[|]b", r"c\|d", "(?:e|f)", "[]|]x", "[^]|]y")
    assert reasons.split_alternatives("a(|b") == ("a(|b",)  # no pattern of its own: left whole


@pytest.mark.parametrize("pattern, table", [(signals.STILL_TRYING, signals._STILL_TRYING_TABLE),
                                            (signals.GAVE_UP, signals._GAVE_UP_TABLE)], ids=["still-trying", "gave-up"])
def test_the_outcome_sentences_as_phrase_tables_match_where_their_alternation_matches(pattern, table):
    for text in _corpus_texts():
        flat = " ".join(text.lower().split())
        for start in range(0, min(len(flat), 24000), 3000):
            chunk = flat[start:start + 6000]
            assert table.search(chunk) == bool(pattern.search(chunk))


_OLD_PARAM = re.compile(r';\s*([A-Za-z0-9*_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"?|([^;\s]*))')


@given(st.text(alphabet=';="\\ \nab=\t', max_size=40))
@settings(max_examples=500, deadline=None)
def test_quoted_parameters_read_as_runs_between_escapes_are_what_the_alternation_read(value):
    assert [m.groups() + (m.span(),) for m in _OLD_PARAM.finditer(value)] == [
        m.groups() + (m.span(),) for m in mime._PARAM.finditer(value)]


_OLD_HOST_IN_TEXT = re.compile(r"(?:\bhost:?\s+|while talking to\s+)([a-z0-9][a-z0-9.-]*\.[a-z]{2,})\.?", re.I)


@given(st.lists(st.sampled_from(["host ", "Host: ", "xhost a.bc", "a.com", " ", "_host b.de", "HOST\tc.org",
                                 "while talking to d.net", "\u00e4host e.fr", "1host f.gh", "-host g.hi"]), max_size=8))
@settings(max_examples=400, deadline=None)
def test_the_host_mention_with_its_boundary_after_the_h_matches_what_the_leading_boundary_matched(words):
    text = "".join(words)
    assert [m.span() + m.groups() for m in _OLD_HOST_IN_TEXT.finditer(text)] == [
        m.span() + m.groups() for m in rhost._HOST_IN_TEXT.finditer(text)]


@given(st.text(alphabet="x-unix X-UNIX\u00df\u0130ab;", max_size=260))
@settings(max_examples=300, deadline=None)
def test_the_x_unix_test_of_the_reply_search_is_the_one_on_the_whole_text(text):
    reply = codes.find_reply(text + " 550 no")
    assert reply == (None if "X-UNIX" in (text + " 550 no").upper()[:200] else "550")


@given(st.text(alphabet="\r\n \tab", max_size=30))
@settings(max_examples=300, deadline=None)
def test_unfolding_without_carriage_returns_is_what_the_full_fold_pattern_did(value):
    assert mime._unfold(value) == (mime._FOLD.sub(" ", value) if "\n" in value or "\r" in value else value).strip()
