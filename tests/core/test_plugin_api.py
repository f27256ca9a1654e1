"""The plugins lean on the core only through :mod:`helpdesk.plugin_api`, and the tracking plugin
on the receipts plugin only through :mod:`receipts_plugin.plugin_api`: a maintainer can then
change any other module without reading the plugins built on it. The receipts plugin imports
nothing of tracking (tracking hooks in through its signals and slots)."""
from __future__ import annotations

import ast
from pathlib import Path

import helpdesk.plugin_api as plugin_api

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "receipts_plugin"
TRACKING = PLUGIN / "tracking"


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


def imported_modules(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in the file, relative ones resolved against its
    package (``from ..settings import x`` in receipts_plugin/tracking/views.py is
    receipts_plugin.settings); ``from package import name`` also counts as package.name."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    package = parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + (node.module.split(".") if node.module else []))
            found += [(node.lineno, module)] + [(node.lineno, f"{module}.{a.name}") for a in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in
              ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant)):
            found.append((node.lineno, str(node.args[0].value)))
    return found


def _is(module: str, name: str) -> bool:
    return module == name or module.startswith(f"{name}.")


def test_tracking_imports_nothing_of_the_receipts_plugin_but_its_plugin_api():
    files = sorted(TRACKING.rglob("*.py"))
    assert len(files) > 10
    others = [f"{path.relative_to(ROOT)}:{line} imports {module}" for path in files
              for line, module in imported_modules(path)
              if _is(module, "receipts_plugin") and not _is(module, "receipts_plugin.tracking")
              and not _is(module, "receipts_plugin.plugin_api") and module != "receipts_plugin"]
    assert others == []


def test_the_receipts_plugin_imports_nothing_of_tracking():
    files = [path for path in sorted(PLUGIN.rglob("*.py")) if TRACKING not in path.parents]
    assert len(files) > 20
    uses = [f"{path.relative_to(ROOT)}:{line} imports {module}" for path in files
            for line, module in imported_modules(path) if _is(module, "receipts_plugin.tracking")]
    assert uses == []
    templates = [path for path in sorted((PLUGIN / "templates").rglob("*.html"))]
    assert templates
    named = [str(path.relative_to(ROOT)) for path in templates
             if "receipts/tracking/" in path.read_text() or "receipts_tracking." in path.read_text()]
    assert named == [], "the receipts templates draw tracking only through their slots"


def test_the_import_scan_resolves_relative_imports(tmp_path):
    package = tmp_path / "receipts_plugin" / "tracking"
    package.mkdir(parents=True)
    sample = package / "sample.py"
    sample.write_text("from ..settings import x\nfrom . import links\nfrom .. import models\n"
                      "import receipts_plugin.state\nfrom receipts_plugin.plugin_api import y\n")
    assert [m for _, m in imported_modules(sample, tmp_path)] == [
        "receipts_plugin.settings", "receipts_plugin.settings.x", "receipts_plugin.tracking",
        "receipts_plugin.tracking.links", "receipts_plugin", "receipts_plugin.models", "receipts_plugin.state",
        "receipts_plugin.plugin_api", "receipts_plugin.plugin_api.y"]


def test_every_name_the_receipts_plugin_publishes_is_there():
    import receipts_plugin.plugin_api as receipts_api

    assert [name for name in receipts_api.__all__ if not hasattr(receipts_api, name)] == []
