"""Reading rendered pages in tests without a browser: visible text, and pieces by marker."""
from __future__ import annotations

import html
import re

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def text(markup: str) -> str:
    """The visible text of some markup, whitespace collapsed."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", markup))).strip()


def element(markup: str, tag: str, marker: str) -> str:
    """The first ``<tag ...marker...>...</tag>`` (not nested in another of the same tag)."""
    match = re.search(rf"<{tag}\b[^>]*{re.escape(marker)}[^>]*>.*?</{tag}>", markup, re.S)
    assert match, f"no <{tag}> with {marker!r}"
    return match.group(0)


def elements(markup: str, tag: str, marker: str) -> list[str]:
    return re.findall(rf"<{tag}\b[^>]*{re.escape(marker)}[^>]*>.*?</{tag}>", markup, re.S)


def panel_rows(markup: str) -> dict[str, list[str]]:
    """The Thread Read Info panel's rows, by recipient address: the visible text of each cell
    (recipient, role, status, delivered, read, details)."""
    return {re.search(r'data-rr-recipient="([^"]+)"', row).group(1):
            [text(cell) for cell in re.findall(r"<td\b[^>]*>(.*?)</td>", row, re.S)]
            for row in elements(markup, "tr", "data-rr-recipient=")}


def recipient(message, address):
    return next(r for r in message.recipients if r.address == address)


def thread(client, ticket_id):
    response = client.get(f"/tickets/{ticket_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def message_article(page, message_id):
    return element(page, "article", f'id="message-{message_id}"')
