"""WSGI entry point: ``gunicorn wsgi:app`` and ``flask --app wsgi ...``.

The core alone has no plugin (``PLUGINS`` is empty by default); this entry point, the one
``make run``, the deploy units and the Procfile use, switches the receipts plugin and the
tracking plugin built on it on unless ``HELPDESK_PLUGINS`` says otherwise
(``HELPDESK_PLUGINS=receipts`` runs without tracking, ``HELPDESK_PLUGINS=""`` the core alone).
"""
import os

from helpdesk import create_app

os.environ.setdefault("HELPDESK_PLUGINS", "receipts,tracking")
app = create_app()
