"""Plugins: found through the ``helpdesk.plugins`` entry-point group, loaded only if allowed.

``app.config['PLUGINS']`` is the allowlist. A listed plugin that is missing or fails while
loading stops start-up with :class:`PluginLoadError`: a help desk that silently runs
without its receipts plugin would show agents wrong delivery states. So does a plugin whose
``requires`` names a plugin that is not in the list. Plugins load in the list's order, except
that a plugin always loads after those it requires (so the slots they declare exist).
"""
from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import entry_points
from pathlib import Path
from typing import ClassVar

from flask import Flask

from .templating import SlotReceiver, declare_template_slot, register_template_hook

ENTRY_POINT_GROUP = "helpdesk.plugins"


class PluginLoadError(RuntimeError):
    """A plugin in the allowlist could not be found or failed to initialise."""


class HelpdeskPlugin:
    """Base class of a plugin. Subclasses set ``name`` and override :meth:`init_app`.

    A plugin may own: a blueprint (``blueprints()``), models and an Alembic branch
    (``migrations_dir``), template slot receivers (``template_hooks()``), signal
    receivers (connected in ``init_app``), scheduled jobs (``jobs()``), long-running
    worker tasks (``watchers()``) and CLI commands (``cli_group``). A plugin built on another
    names it in ``requires``; a plugin whose pages offer slots to such plugins names them in
    ``slots``.
    """

    name: ClassVar[str] = ""
    #: Folder with this plugin's Alembic revisions (its own branch), or None.
    migrations_dir: ClassVar[Path | None] = None
    #: Names of the plugins this one builds on (their signals, slots, published API). Start-up
    #: fails unless each is in ``PLUGINS`` too; they are loaded before this one.
    requires: ClassVar[tuple[str, ...]] = ()
    #: Template slots this plugin's own templates offer to the plugins that require it
    #: (name -> what it passes), as :data:`helpdesk.templating.SLOTS` does for the core's.
    slots: ClassVar[dict[str, str]] = {}

    def init_app(self, app: Flask) -> None:
        """Connect signals and read configuration. Must not touch the database."""

    def blueprints(self) -> Iterable:
        return ()

    def template_hooks(self) -> Iterable[tuple[str, SlotReceiver, int]]:
        """(slot, receiver, priority) triples."""
        return ()

    def jobs(self, app: Flask) -> Iterable:
        """Periodic jobs (:class:`helpdesk.jobs.Job`) for the worker process."""
        return ()

    def watchers(self, app: Flask) -> Iterable:
        """Long-running worker tasks (:data:`helpdesk.jobs.Watcher`), e.g. IMAP IDLE."""
        return ()

    def own_addresses(self, app: Flask) -> Iterable[str]:
        """Addresses the desk itself receives mail at for this plugin (a receipts mailbox, a
        return path): never offered as recipients of a reply. Called per request; may query."""
        return ()

    cli_group = None


def load_plugins(app: Flask) -> list[HelpdeskPlugin]:
    """Load every allowed plugin and register what it brings; fail loudly on any error."""
    wanted = _as_list(app.config.get("PLUGINS"))
    available = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    found: dict[str, HelpdeskPlugin] = {}
    for name in wanted:
        if name not in available:
            raise PluginLoadError(
                f"plugin {name!r} is in PLUGINS but no package provides it in the "
                f"{ENTRY_POINT_GROUP!r} entry-point group (installed: {sorted(available) or 'none'})"
            )
        try:
            plugin = available[name].load()
            if not isinstance(plugin, HelpdeskPlugin):
                raise TypeError(f"entry point {available[name].value!r} is not a HelpdeskPlugin instance")
        except Exception as exc:  # re-raised with the plugin named
            raise PluginLoadError(f"plugin {name!r} failed to load: {exc}") from exc
        found[name] = plugin
    loaded: list[HelpdeskPlugin] = []
    for name in _dependency_order(found):
        try:
            _register(app, found[name])
        except Exception as exc:  # re-raised with the plugin named
            raise PluginLoadError(f"plugin {name!r} failed to load: {exc}") from exc
        loaded.append(found[name])
    app.extensions["helpdesk_plugins"] = {plugin.name: plugin for plugin in loaded}
    return loaded


def _dependency_order(found: dict[str, HelpdeskPlugin]) -> list[str]:
    """The listed plugins, each after the plugins it requires; a requirement that is not
    listed (or a cycle) stops start-up with a message saying what to add to PLUGINS."""
    for name, plugin in found.items():
        missing = [required for required in plugin.requires if required not in found]
        if missing:
            raise PluginLoadError(
                f"plugin {name!r} requires the plugin(s) {', '.join(map(repr, missing))}, which are not in "
                f"PLUGINS: add them (e.g. PLUGINS={[*missing, *found]!r}) or remove {name!r}")
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order:
            return
        if name in visiting:
            raise PluginLoadError(f"plugins require each other in a cycle through {name!r}")
        visiting.add(name)
        for required in found[name].requires:
            visit(required)
        visiting.discard(name)
        order.append(name)

    for name in found:
        visit(name)
    return order


def _register(app: Flask, plugin: HelpdeskPlugin) -> None:
    for slot, description in plugin.slots.items():
        declare_template_slot(app, slot, description)
    plugin.init_app(app)
    for blueprint in plugin.blueprints():
        app.register_blueprint(blueprint)
    for slot, receiver, priority in plugin.template_hooks():
        register_template_hook(app, slot, receiver, priority)
    if plugin.cli_group is not None:
        app.cli.add_command(plugin.cli_group)


def active_plugins(app: Flask) -> dict[str, HelpdeskPlugin]:
    return app.extensions.get("helpdesk_plugins", {})


def plugin_own_addresses(app: Flask) -> list[str]:
    return [address for plugin in active_plugins(app).values() for address in plugin.own_addresses(app)]


def plugin_migration_dirs(app: Flask) -> list[str]:
    return [str(p.migrations_dir) for p in active_plugins(app).values() if p.migrations_dir]


def _as_list(value: object) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return list(value)
