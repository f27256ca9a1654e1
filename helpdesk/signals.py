"""Every signal the core sends, in one place.

Services send these, never models or views. Signals about stored data (``ticket_created``,
``message_sent``, ...) are sent only after the transaction that stored it has committed
(see :func:`helpdesk.services.events.after_commit`), so a receiver never sees data that a
rollback later takes back. Signals that let a receiver change what happens next
(``message_before_send``, ``message_received``) are sent synchronously, before the action.

The sender of every signal is the Flask app (``current_app._get_current_object()``).
"""
from blinker import Namespace

_signals = Namespace()

ticket_created = _signals.signal("ticket-created", doc="""
Sent after a new ticket and its first message are committed.
Keyword arguments: ``ticket`` (:class:`~helpdesk.models.Ticket`), ``message`` (its first
:class:`~helpdesk.models.Message`), ``source`` (``"web"``, ``"email"`` or ``"demo"``).
""")

message_created = _signals.signal("message-created", doc="""
Sent after any message (inbound, outbound or note) is committed to a thread.
Keyword arguments: ``message``, ``ticket``.
""")

message_before_send = _signals.signal("message-before-send", doc="""
Sent while an outbound message is turned into mail, before the SMTP transaction(s).
Keyword arguments: ``message`` (the stored outbound :class:`~helpdesk.models.Message`) and
``plan`` (:class:`helpdesk.mail.transport.DeliveryPlan`), which receivers may change:
add headers (``plan.headers``), ask for one SMTP transaction per recipient
(``plan.per_recipient``), set each recipient's envelope sender
(``plan.envelope_senders[address]``), request RFC 3461 DSNs (``plan.dsn``), which the
transport uses only when the relay advertises DSN, and add personalisers
(``plan.personalisers``: callables changing one recipient's copy, e.g. with
:mod:`helpdesk.mail.editing`; they run only with ``plan.per_recipient``). Receivers must be
quick and must not commit; the plan is not stored, so it must be derivable again on a retry.
""")

message_sent = _signals.signal("message-sent", doc="""
Sent after one delivery attempt of an outbound message was recorded and committed.
Keyword arguments: ``message`` and ``results`` (list of
:class:`helpdesk.mail.transport.RecipientResult`, one per recipient attempted), and
``transport`` (``"smtp"`` or ``"outbox"``).
""")

message_received = _signals.signal("message-received", doc="""
Sent for every inbound email before the core decides what to do with it (nothing is stored
yet). Keyword arguments: ``mail`` (:class:`helpdesk.mail.inbound.InboundMail`, parsed) and
``raw`` (the bytes). A receiver that takes the message over returns a truthy value (its
name or a short reason); the core then neither opens a ticket nor adds it to a thread,
and records which receiver claimed it. Receivers commit their own work.
""")

contact_suppression_changed = _signals.signal("contact-suppression-changed", doc="""
Sent after a contact's address was marked as undeliverable or the mark was cleared.
Keyword arguments: ``contact`` and ``agent`` (who cleared it, or None).
""")

demo_data_loaded = _signals.signal("demo-data-loaded", doc="""
Sent after ``flask demo-data`` committed the core's demo data, so plugins can add theirs.
No keyword arguments.
""")
