"""The message extension's answers (`composeExtension/query`): result lists of status cards, and plain messages.

The card inserted is the status card itself (`bot/cards/items.py`, through `render`); this module
only adds what the search box shows of it (a thumbnail preview) and the envelope Teams expects.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date
from typing import Any

from bot.cards.common import TITLE_LIMIT, Card, Reply, item_heading
from domain.rag import rag_for_item
from domain.text import one_line
from storage.rows import AnyItem

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
THUMBNAIL_CARD = "application/vnd.microsoft.card.thumbnail"
# What the result list shows of an item's text under its title (Teams cuts it to about two lines).
EXCERPT_LIMIT = 120


def _plain(text: str) -> str:
    # Preview texts are shown with Teams' small HTML subset: an item's "<" or "&" must stay text.
    return html.escape(text, quote=False)


def preview(item: AnyItem, today: date) -> Card:
    """The result-list entry of one item: its reference and title (else label); status, RAG and a short excerpt."""
    title = item_heading(item)
    summary = f"{item.status} · RAG: {rag_for_item(item, today)}"
    return {
        "contentType": THUMBNAIL_CARD,
        "content": {
            "title": _plain(one_line(title, TITLE_LIMIT)),
            "text": _plain(f"{summary} · {one_line(item.text, EXCERPT_LIMIT)}"),
        },
    }


def inserted(reply: Reply) -> Card:
    """The card a person inserts into a conversation: the status card without its buttons.

    Its buttons post bot commands (`command_action`) into the conversation it is in, which may be a
    chat RecBot is not part of, or a channel where RecBot only hears messages that @mention it.
    """
    assert reply.card is not None, "a status result always has a card"
    return {name: value for name, value in reply.card.items() if name != "actions"}


def result_list(entries: Sequence[tuple[Card, Card]]) -> dict[str, Any]:
    """Search results: each (inserted card, preview) as one attachment, listed."""
    return {
        "composeExtension": {
            "type": "result",
            "attachmentLayout": "list",
            "attachments": [
                {"contentType": ADAPTIVE_CARD, "content": card, "preview": shown} for card, shown in entries
            ],
        }
    }


def said(text: str) -> dict[str, Any]:
    """A plain message in place of results ("nothing matches …"): Teams shows it in the result list."""
    return {"composeExtension": {"type": "message", "text": text}}
