"""Cards for questions about several items at once: a few named items, counts, and what changed."""

from __future__ import annotations

from datetime import UTC

from bot.cards.common import (
    RAG_COLOURS,
    TITLE_LIMIT,
    UNASSIGNED,
    Card,
    Reply,
    command_action,
    fact_set,
    item_heading,
    make_card,
    text_block,
    title_block,
)
from domain.dates import describe_overdue, format_uk_date
from domain.rag import Rag, rag_for_item
from domain.text import NAME_LIMIT, clip, one_line, safe_text
from domain.vocabulary import Status
from services.results import Changes, Counts, ItemStatus, ItemStatuses
from storage.rows import AnyItem

# Each item of a several-item answer is a short card: its text and latest update cut to this.
SHORT_TEXT_LIMIT = 200
SHORT_UPDATE_LIMIT = 300
REFERENCES_LIMIT = 15


def _rag_row(heading: str, rag: Rag, command: str) -> Card:
    """The item's heading (tappable for the full status) and its RAG, side by side."""
    return {
        "type": "ColumnSet",
        "selectAction": command_action(f"Status of {heading}", command),
        "columns": [
            {
                "type": "Column",
                "width": "stretch",
                "items": [text_block(safe_text(heading, TITLE_LIMIT), weight="Bolder", color="accent")],
            },
            {
                "type": "Column",
                "width": "auto",
                "items": [text_block(str(rag), weight="Bolder", color=RAG_COLOURS[rag])],
            },
        ],
    }


def _details(item: AnyItem, status: ItemStatus) -> str:
    due_on = item.current_due_on
    due = f"due {format_uk_date(due_on)}" if due_on else "no due date"
    if due_on is not None and status.today > due_on and Status(item.status).is_open:
        due += f" (overdue by {describe_overdue(due_on, status.today)})"
    owner = item.owner.display_name if item.owner is not None else UNASSIGNED
    return f"{item.status} · {due} · {one_line(owner, NAME_LIMIT)}"


def statuses_card(answer: ItemStatuses) -> Reply:
    """Several items in one reply: a short status of each (tap for the full card), then what was not found."""
    count = len(answer.statuses)
    heading = f"{count} items" if count != 1 else "1 item"
    if answer.statuses:
        heading += ": " + ", ".join(status.item.reference for status in answer.statuses)
    lines = [one_line(heading, TITLE_LIMIT)]
    body: list[Card] = [title_block(safe_text(heading, TITLE_LIMIT))]
    for status in answer.statuses:
        item = status.item
        rag = rag_for_item(item, status.today)
        details = _details(item, status)
        summary = one_line(item.text, SHORT_TEXT_LIMIT)
        lines += ["", f"{item_heading(item)} · {rag}", details, summary]
        parts: list[Card] = [
            _rag_row(item_heading(item), rag, f"status of {item.reference}"),
            text_block(safe_text(details, TITLE_LIMIT), isSubtle=True, size="Small", spacing="None"),
            text_block(safe_text(summary, SHORT_TEXT_LIMIT), spacing="Small"),
        ]
        latest = status.latest
        if latest is not None:
            when = latest.created_at if latest.created_at.tzinfo else latest.created_at.replace(tzinfo=UTC)
            byline = f"Latest update ({one_line(latest.author_name, NAME_LIMIT)}, {format_uk_date(when.date())})"
            narrative = clip(latest.narrative or "(no narrative)", SHORT_UPDATE_LIMIT)
            lines += [f"{byline}: {one_line(narrative, SHORT_UPDATE_LIMIT)}"]
            parts += [
                text_block(safe_text(byline, TITLE_LIMIT), weight="Bolder", size="Small", spacing="Small"),
                text_block(safe_text(narrative, SHORT_UPDATE_LIMIT), size="Small", spacing="None"),
            ]
        else:
            lines.append("Latest update: none yet")
            parts.append(text_block("No updates yet.", isSubtle=True, size="Small", spacing="Small"))
        body.append({"type": "Container", "separator": True, "spacing": "Medium", "items": parts})
    for sentence in answer.not_found:
        lines += ["", sentence]
        body.append(text_block(safe_text(sentence, TITLE_LIMIT), isSubtle=True, separator=True, spacing="Medium"))
    actions = [
        command_action(f"Status of {status.item.reference}", f"status of {status.item.reference}")
        for status in answer.statuses[:3]
    ]
    text = "\n".join(lines)
    return Reply(text=text, card=make_card(text, body, actions))


def _counted(number: int, noun: str = "item") -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def counts_card(counts: Counts) -> Reply:
    """How many items a question selects: the total, by status and by RAG, and which ones."""
    heading = f"{counts.title}: {_counted(counts.total)}"
    lines = [one_line(heading, TITLE_LIMIT)]
    body: list[Card] = [title_block(safe_text(heading, TITLE_LIMIT))]
    if counts.total:
        statuses = [(status, str(number)) for status, number in counts.by_status.items()]
        rags = [(rag, str(number)) for rag, number in counts.by_rag.items()]
        lines += ["By status: " + ", ".join(f"{status} {number}" for status, number in statuses)]
        lines += ["By RAG: " + ", ".join(f"{rag} {number}" for rag, number in rags)]
        body += [
            text_block("By status", weight="Bolder", spacing="Medium"),
            fact_set(statuses),
            text_block("By RAG", weight="Bolder", spacing="Medium"),
            fact_set(rags),
        ]
    if counts.items:
        # One item a line: a title is a few words, and a run of them is hard to read.
        named = [item.titled_reference for item in counts.items[:REFERENCES_LIMIT]]
        named += [f"and {counts.more} more"] if counts.more > 0 else []
        lines += ["Which:", *(f"- {name}" for name in named)]
        body.append(text_block("Which", weight="Bolder", spacing="Medium"))
        # A block each, not a markdown list: a list item does not wrap in every client.
        body += [text_block(safe_text(name, TITLE_LIMIT), spacing="None") for name in named]
    text = "\n".join(lines)
    return Reply(text=text, card=make_card(text, body))


def changes_card(changes: Changes) -> Reply:
    """What changed in a period, newest first: when, which item, what happened."""
    if not changes.changes:
        return Reply(text=changes.empty_text)
    lines = [one_line(changes.title, TITLE_LIMIT)]
    body: list[Card] = [title_block(safe_text(changes.title, TITLE_LIMIT))]
    for change in changes.changes:
        when = change.at.astimezone(UTC)
        item = f"{when.day} {when:%b} · {one_line(change.reference, TITLE_LIMIT)}"
        description = one_line(change.description, TITLE_LIMIT)
        lines.append(f"- {item} · {description}")
        # A row each, as the digest lists changes: an item's title is too long for a fact's name.
        body.append(
            text_block(f"**{safe_text(item, TITLE_LIMIT)}** · {safe_text(description, TITLE_LIMIT)}", spacing="Small")
        )
    if changes.more > 0:
        lines.append(f"and {changes.more} earlier")
        body.append(text_block(f"and {changes.more} earlier", isSubtle=True, separator=True))
    text = "\n".join(lines)
    return Reply(text=text, card=make_card(text, body))
