"""The app wired to the real mail stack: SMTP relay = Postfix, support mailbox = Dovecot (IMAPS)."""
from __future__ import annotations

import pytest

from tests.helpers import make_agent, make_department


@pytest.fixture
def app_config(app_config, clean_mailboxes):
    stack = clean_mailboxes
    return {**app_config,
            "SMTP_HOST": stack.smtp_host, "SMTP_PORT": stack.smtp_port, "SMTP_SECURITY": "starttls",
            "SMTP_CAFILE": stack.cafile, "SMTP_TIMEOUT": 10,
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
