"""The acceptance tests drive Chromium like the browser tests, with a browser of their own that
closes when their module ends (before tests/browser starts its session-wide one)."""
import pytest

from tests.browser.conftest import chromium


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser
