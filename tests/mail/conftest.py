"""The app wired to the real mail stack: SMTP relay = Postfix, support mailbox = Dovecot (IMAPS)."""
from __future__ import annotations

import pytest

from tests.helpers import make_agent, make_department, relay_config, support_inbox_config


@pytest.fixture
def app_config(app_config, clean_mailboxes):
    stack = clean_mailboxes
    return {**app_config, **relay_config(stack), **support_inbox_config(stack)}


@pytest.fixture
def stack(clean_mailboxes):
    return clean_mailboxes


@pytest.fixture
def desk(app):
    support = make_department("Support", "support@example.test")
    agent = make_agent("agent@example.test", [support])
    return support, agent
