"""Signals the receipts plugin sends, for plugins that build on it (tracking, say).

Like :mod:`helpdesk.signals`, the sender of every signal is the Flask app. A plugin that
builds on this one imports them from :mod:`receipts_plugin.plugin_api`; the receipts plugin
never calls into such a plugin, it only sends these.
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

reply_outcome = _signals.signal("receipts-reply-outcome", doc="""
Sent after a commit in which recipients of outbound messages changed status (once for a
chunk of reports, once for a relay's answer). Keyword argument: ``outcomes``, a list of
(message, the changed MessageRecipient rows), one per message.
""")

history_requested = _signals.signal("receipts-history-requested", doc="""
Sent while the Thread Read Info of one reply is built (its panel, its fragment and its JSON
API), so another plugin can add lines to each recipient's history. Keyword arguments:
``message`` (the outbound Message) and ``recipients`` (its MessageRecipient rows). A receiver
returns a mapping of recipient id to a list of :class:`receipts_plugin.read_info.HistoryLine`
(or None); the lines are merged by time with the recipient's delivery events. Read-only: a
receiver must not write.
""")

department_switches_saved = _signals.signal("receipts-department-switches-saved", doc="""
Sent when the departments' switches are saved (the Read Receipts admin page, or
``settings.save_switches``), after the receipts switch was set and before the one commit.
Keyword arguments: ``departments`` (every Department) and ``switches``: the other plugins'
switches the page drew, by name, each the set of department ids switched on (a name that is
absent was not on the page: leave it as it is). A plugin draws its switches through the
``receipts-settings-head`` and ``receipts-settings-row`` slots, and names each in the head
with ``<input type="hidden" name="switches" value="NAME">``. Receivers write their own rows
and must not commit.
""")
