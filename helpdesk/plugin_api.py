"""The one surface of the core a plugin may import: ``from helpdesk.plugin_api import ...``.

Everything here is kept stable for plugins; everything else in ``helpdesk`` may change shape
without notice (tests/core/test_plugin_api.py fails if the receipts plugin imports any other
core module). A plugin hooks in through :class:`HelpdeskPlugin` (blueprints, jobs, watchers,
template slots, migrations), listens to the signals below (sent after the commit), and reads
or writes the core's data through the models and services named here.

Each name, and why a plugin needs it:
"""
from __future__ import annotations

from .cli import worker
from .config import SECRET_FILE_KEYS, read_secret
from .extensions import db, is_database_outage
from .formats import file_size
from .forms import Form, options, show_errors
from .jobs import Job
from .mail.compose import mailbox_header
from .mail.editing import append_to_bodies, remove_attachments
from .mail.imap import (IMAP_ERRORS, BatchDone, Deferred, ImapLoginError, ImapSettings, MailRef,
                        poll_folder_in_batches, session, without_secret)
from .mail.inbound import InboundMail
from .mail.outgoing import retry_delay, transport_for
from .mail.transport import DeliveryPlan, DsnRequest, Personaliser, RecipientResult, Transport
from .models import (Agent, Attachment, Channel, Department, Message, MessageDirection, MessageRecipient, Ticket,
                     TicketStatus, utcnow)
from .models.base import UTCDateTime
from .plugins import HelpdeskPlugin
from .services import access
from .services.contacts import mark_all_undeliverable, record_reached
from .services.errors import ValidationError
from .services.events import after_commit
from .services.locks import Lock, exclusive
from .services.storage import StorageError, path_for, read_bytes, store_bytes
from .services.tickets import thread_messages
from .signals import demo_data_loaded, message_before_send, message_received, message_sent
from .text import one_line, safe_filename
from .urls import external_url
from .views.admin import admin_required

__all__ = [
    # Plugging in.
    "HelpdeskPlugin",         # what an entry point returns: blueprints, jobs, watchers, slots, migrations
    "Job",                    # a periodic job for the worker (HelpdeskPlugin.jobs)
    "worker",                 # the core's ``flask worker`` command, to offer it under the plugin's group too
    "demo_data_loaded",       # signal: add the plugin's demo data after the core's (make run)
    "message_before_send",    # signal: adjust a reply's DeliveryPlan (VERP, DSN, personal links)
    "message_sent",           # signal: the relay's answer per recipient (start tracking a reply)
    "message_received",       # signal: an inbound mail was filed (read receipts sent to the desk)
    # Database and models.
    "db",                     # the shared Flask-SQLAlchemy instance: the plugin's models and queries
    "is_database_outage",     # tell "the database is down" (retry later) from "this mail is bad"
    "after_commit",           # run a side effect (a signal, a file) only once the transaction commits
    "UTCDateTime",            # the column type for aware UTC timestamps on the plugin's tables
    "utcnow",                 # the one clock the core's rows use (tests move it)
    "Agent", "Attachment", "Channel", "Department", "Message", "MessageDirection",
    "MessageRecipient", "Ticket", "TicketStatus",  # the core's rows that reports and panels are about
    # Services.
    "access",                 # who may see which ticket and department (the panel's views check it)
    "thread_messages",        # a ticket's messages in a fixed number of queries (the thread's panel)
    "mark_all_undeliverable", # a hard bounce marks the address, as a refusal at send time does
    "record_reached",         # a delivery or read report proves the address works (lifts a mark)
    "ValidationError",        # field errors a service raises and a form shows
    "Lock", "exclusive",      # a lock across processes (one poller per mailbox among many workers)
    "StorageError", "path_for", "read_bytes", "store_bytes",  # files by content hash (attachments, older raw reports)
    # Mail.
    "IMAP_ERRORS", "BatchDone", "Deferred", "ImapLoginError", "ImapSettings", "MailRef",
    "poll_folder_in_batches", "session",  # the IMAP batch protocol the report poller reads folders with
    "InboundMail",            # a parsed inbound mail, as the core's intake hands it on
    "DeliveryPlan", "DsnRequest", "Personaliser", "RecipientResult", "Transport",  # sending, per recipient
    "transport_for",          # the configured relay (or the outbox), for the plugin's own notifications
    "without_secret",         # an IMAP error's text with the password taken out, for logs and the health page
    "retry_delay",            # the core's backoff formula (a failing mailbox backs off like a failing relay)
    "mailbox_header",         # a From/To header from a name and an address, encoded as the core does
    "append_to_bodies", "remove_attachments",  # edit a composed reply (download links instead of files)
    # Web.
    "admin_required",         # the decorator for the plugin's admin pages
    "Form", "options", "show_errors",  # the core's CSRF-protected forms and their helpers
    "external_url",           # absolute links from BASE_URL (links in mail, the open image)
    "file_size", "one_line", "safe_filename",  # the formats the core's pages use (sizes, headers, names)
    # Configuration.
    "SECRET_FILE_KEYS",       # the app's own secret files, never usable as a mailbox's password file
    "read_secret",            # read a secret file the way the core reads its own
]
