"""Absolute URLs outside a request: links in emails that the worker process sends."""
from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import current_app


def external_url(endpoint: str, _anchor: str | None = None, **values: object) -> str:
    """``BASE_URL`` joined with the route of ``endpoint`` (``url_for`` needs a request or
    ``SERVER_NAME`` for that; mail sent by the worker has neither)."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path.rstrip("/") or "/",
                                       url_scheme=base.scheme or "http")
    url = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{quote(_anchor)}" if _anchor else url
