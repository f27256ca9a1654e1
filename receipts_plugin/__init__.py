"""Read receipts and delivery reports for agents' replies (a help-desk plugin)."""
from helpdesk.plugins import HelpdeskPlugin


class ReceiptsPlugin(HelpdeskPlugin):
    name = "receipts"


plugin = ReceiptsPlugin()
