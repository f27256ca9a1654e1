"""Makes the mail-stack fixtures available to these self-tests.

The root conftest is meant to register ``tests.mailstack.fixtures`` with ``pytest_plugins`` (only
a root conftest may); until it does, register the plugin here. Registering it once matters: the
same fixture defined twice would start a second session-wide stack.
"""

import pytest

PLUGIN = "tests.mailstack.fixtures"


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin(PLUGIN):
        config.pluginmanager.import_plugin(PLUGIN)
