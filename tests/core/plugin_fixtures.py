"""Plugins used by the plugin-loading tests (loaded through real EntryPoint objects)."""
from flask import Blueprint

from helpdesk.plugins import HelpdeskPlugin


class GreetingPlugin(HelpdeskPlugin):
    name = "greeting"

    def blueprints(self):
        bp = Blueprint("greeting", __name__)
        bp.add_url_rule("/greeting", "hello", lambda: "hello from a plugin")
        return [bp]

    def template_hooks(self):
        return [("admin-settings", lambda: "<p id='second'>second</p>", 60),
                ("admin-settings", lambda: "<p id='first'>first</p>", 10)]


class BrokenPlugin(HelpdeskPlugin):
    name = "broken"

    def init_app(self, app):
        raise RuntimeError("cannot reach its settings")


greeting = GreetingPlugin()
broken = BrokenPlugin()
not_a_plugin = object()


class BasePlugin(HelpdeskPlugin):
    """A plugin others build on: it offers a slot of its own."""

    name = "base"
    slots = {"base-box": "nothing; lines in the base plugin's box"}


class AddonPlugin(HelpdeskPlugin):
    """Builds on ``base``: fills the slot it declared."""

    name = "addon"
    requires = ("base",)

    def template_hooks(self):
        return [("base-box", lambda: "<p>from the add-on</p>", 50)]


base = BasePlugin()
addon = AddonPlugin()
