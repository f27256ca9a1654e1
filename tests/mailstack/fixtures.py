"""pytest plugin with the mail-stack fixtures.

Register it once, from the root conftest: ``pytest_plugins = ["tests.mailstack.fixtures"]``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mailstack import MailStack, MailStackError


@pytest.fixture(scope="session")
def mailstack() -> Iterator[MailStack]:
    """One real Postfix + Dovecot per test session (per xdist worker), stopped at the end.

    Fails (never skips) when the stack cannot run: a silently skipped mail test would hide
    exactly the breakage it exists to catch.
    """
    try:
        stack = MailStack.start()
    except MailStackError as err:
        pytest.fail(f"the real mail stack (tests/mailstack) could not start:\n{err}", pytrace=False)
    yield stack
    stack.stop()


@pytest.fixture
def clean_mailboxes(mailstack: MailStack) -> MailStack:
    """The session's stack, reset for this test: both daemons up, queue empty, all folders
    of all users empty, no vacation rules."""
    mailstack.reset()
    return mailstack
