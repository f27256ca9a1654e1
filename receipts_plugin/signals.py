"""Signals the receipts plugin sends, for plugins that build on it (tracking, say).

Like :mod:`helpdesk.signals`, the sender of every signal is the Flask app.
"""
from blinker import Namespace

_signals = Namespace()

receipts_requested = _signals.signal("receipts-requested", doc="""
Sent while a reply that asks for receipts is turned into mail (from the core's
``message_before_send``), after the plugin asked for them. Keyword arguments: ``message``
(the outbound :class:`~helpdesk.models.Message`) and ``plan``
(:class:`helpdesk.mail.transport.DeliveryPlan`), which receivers may change as
``message_before_send`` allows, e.g. add personalisers for each recipient's copy (download
links, the open-tracking image). Receivers must be quick and must not commit.
""")
