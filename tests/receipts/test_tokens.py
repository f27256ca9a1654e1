"""Signed tokens: VERP return paths and expiring links cannot be forged, swapped or reused."""
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from receipts_plugin.tokens import make_link_token, make_verp_token, read_link_token, read_verp_token

SECRET = "app-secret"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def test_verp_token_roundtrip_and_shape():
    token = make_verp_token(SECRET, 42, 7)
    assert read_verp_token(SECRET, token) == (42, 7)
    assert read_verp_token(SECRET, token.upper()) == (42, 7)  # MTAs may change the case
    assert token == token.lower() and set(token) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    assert len("bounces+" + make_verp_token(SECRET, 2**40, 2**40)) <= 64


def test_verp_token_is_bound_to_secret_message_and_recipient():
    token = make_verp_token(SECRET, 42, 7)
    assert read_verp_token("other-secret", token) is None
    message, recipient, mac = token.split("-")
    assert read_verp_token(SECRET, f"{message}-8-{mac}") is None
    assert read_verp_token(SECRET, f"15-{recipient}-{mac}") is None


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**9), st.integers(0, 10**9), st.data())
def test_any_change_to_a_verp_token_is_rejected(message, recipient, data):
    token = make_verp_token(SECRET, message, recipient)
    position = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-").filter(
        lambda c: c != token[position].lower()))
    assert read_verp_token(SECRET, token[:position] + replacement + token[position + 1:]) is None
    assert read_verp_token(SECRET, token[:position]) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_reading_arbitrary_text_never_raises(text):
    assert read_verp_token(SECRET, text) is None or make_verp_token(SECRET, *read_verp_token(SECRET, text)) == text.strip().lower()
    assert read_link_token(SECRET, "download", text, NOW).error in (None, "malformed", "forged", "expired")


def test_link_token_expires_exactly_at_its_time():
    expires = NOW + timedelta(days=7)
    token = make_link_token(SECRET, "download", (3, 9, 27), expires)
    assert read_link_token(SECRET, "download", token, NOW).payload == (3, 9, 27)
    assert read_link_token(SECRET, "download", token, expires - timedelta(seconds=1)).ok
    assert read_link_token(SECRET, "download", token, expires).error == "expired"


def test_tokens_of_one_purpose_are_useless_for_another():
    link = make_link_token(SECRET, "download", (42, 7), None)
    assert read_link_token(SECRET, "pixel", link, NOW).error == "forged"
    verp = make_verp_token(SECRET, 42, 7)
    assert read_link_token(SECRET, "download", verp, NOW).error == "malformed"
    assert read_verp_token(SECRET, link) is None


@pytest.mark.parametrize("mangle", [lambda t: t[:-1], lambda t: t + "a", lambda t: "x" + t[1:], lambda t: ""])
def test_mangled_link_tokens_are_refused(mangle):
    token = make_link_token(SECRET, "download", (1, 2), NOW + timedelta(days=1))
    assert not read_link_token(SECRET, "download", mangle(token), NOW).ok


def test_non_ascii_look_alikes_are_refused():
    token = make_verp_token(SECRET, 20, 3)
    kelvin = token.replace("k", "\u212a", 1) if "k" in token else "\u212a" + token
    assert read_verp_token(SECRET, kelvin) is None
