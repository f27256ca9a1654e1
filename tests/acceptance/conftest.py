"""The acceptance test drives Chromium like the browser tests do (their ``browser`` fixture)."""
from tests.browser.conftest import browser  # noqa: F401 - a fixture
