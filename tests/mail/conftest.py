"""The app wired to the real mail stack: SMTP relay = Postfix, support mailbox = Dovecot (IMAPS)."""
from __future__ import annotations

import pytest

from tests.helpers import make_agent, make_department, relay_config


@pytest.fixture
def app_config(app_config, clean_mailboxes):
    stack = clean_mailboxes
    return {**app_config, **relay_config(stack),
            "IMAP_HOST": stack.imap_host, "IMAP_PORT": stack.imaps_port, "IMAP_SECURITY": "ssl",
            "IMAP_CAFILE": stack.cafile, "IMAP_USERNAME": "support@example.test",
            "IMAP_PASSWORD": stack.password, "IMAP_PROCESSED_FOLDER": "Processed",
            "MAIL_DOMAIN": "example.test"}


@pytest.fixture
def stack(clean_mailboxes):
    return clean_mailboxes


@pytest.fixture
def desk(app):
    support = make_department("Support", "support@example.test")
    agent = make_agent("agent@example.test", [support])
    return support, agent
