"""The receipts plugin leans on the core only through :mod:`helpdesk.plugin_api`: a maintainer
can then change any other core module without reading the plugin."""
from __future__ import annotations

import ast
from pathlib import Path

import helpdesk.plugin_api as plugin_api

PLUGIN = Path(__file__).resolve().parents[2] / "receipts_plugin"


def core_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of a ``helpdesk`` module in the file, however written."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names if node.module == "helpdesk"]
        elif isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in
              ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant)):
            modules = [str(node.args[0].value)]
        else:
            continue
        found += [(node.lineno, m) for m in modules if m == "helpdesk" or m.startswith("helpdesk.")]
    return found


def test_the_plugin_imports_nothing_of_the_core_but_the_plugin_api():
    files = sorted(PLUGIN.rglob("*.py"))
    assert len(files) > 20
    others = [f"{path.relative_to(PLUGIN.parent)}:{line} imports {module}"
              for path in files for line, module in core_imports(path) if module != "helpdesk.plugin_api"]
    assert others == []


def test_the_scan_sees_every_way_of_importing_a_core_module(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import helpdesk.jobs\nfrom helpdesk import config\nfrom helpdesk.plugin_api import db\n"
                      "def f():\n    from helpdesk.mail.imap import session\n"
                      "    importlib.import_module('helpdesk.urls')\n")
    assert [m for _, m in core_imports(sample)] == [
        "helpdesk.jobs", "helpdesk", "helpdesk.config", "helpdesk.plugin_api", "helpdesk.mail.imap", "helpdesk.urls"]


def test_every_published_name_is_there():
    assert [name for name in plugin_api.__all__ if not hasattr(plugin_api, name)] == []
