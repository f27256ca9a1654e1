"""WSGI entry point: ``gunicorn wsgi:app`` and ``flask --app wsgi ...``.

The core alone has no plugin (``PLUGINS`` is empty by default); this entry point, the one
``make run``, the deploy units and the Procfile use, switches the receipts plugin on unless
``HELPDESK_PLUGINS`` says otherwise (``HELPDESK_PLUGINS=""`` runs the core alone).
"""
import os

from helpdesk import create_app

os.environ.setdefault("HELPDESK_PLUGINS", "receipts")
app = create_app()
