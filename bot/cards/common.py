"""What the bot says: a plain-text reply for every client, and an Adaptive Card (1.5) for Teams.

Cards are data: pure functions of their arguments (`today` included) that return dicts, so they
are tested without a server. Every card carries the same plain text as its `fallbackText`, which
is also the notification summary, what a screen reader can fall back on, and the terminal chat.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity, ActivityTypes, AttachmentLayoutTypes

from domain.rag import Rag
from domain.text import clip, one_line, safe_text
from domain.titles import with_reference
from storage.rows import AnyItem

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
# Teams renders Adaptive Cards up to 1.5 (BOTFRAMEWORK.md).
VERSION = "1.5"

ITEM_TEXT_LIMIT = 1500
NARRATIVE_LIMIT = 1500
TITLE_LIMIT = 300
ROW_TEXT_LIMIT = 90
BUTTON_LABEL_LIMIT = 60
NONE_WRITTEN = "none written"
UNASSIGNED = "Unassigned"

RAG_COLOURS: dict[Rag, str] = {
    Rag.RED: "attention",
    Rag.AMBER: "warning",
    Rag.GREEN: "good",
    Rag.BLUE: "accent",
}

Card = dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """One bot message: `text` for every client and notification, `card` for Teams (or None)."""

    text: str
    card: Card | None = None


# --- building blocks -------------------------------------------------------------------------


def command_action(title: str, command: str) -> Card:
    """A button that runs a bot command: Teams posts it as the user's message, others send it as value."""
    return {
        "type": "Action.Submit",
        "title": title,
        "data": {"command": command, "msteams": {"type": "imBack", "value": command}},
    }


# Universal Actions (Adaptive Cards 1.5): `Action.Execute` sends an `adaptiveCard/action` invoke
# that bot/actions.py answers with the card to show instead. `view` names the card to rebuild:
# {"item": id} for a status card, {"request": update id, "closure": bool} for a request.
REFRESH_VERB = "refresh"
DECIDE_VERB = "decide"
# Teams refreshes a card automatically for at most 60 listed users.
REFRESH_USERS_LIMIT = 60


def execute_action(title: str, command: str, view: dict[str, Any], **style: Any) -> Card:
    """A button that runs a command as an invoke and replaces its card with `view` rebuilt."""
    return {
        "type": "Action.Execute",
        "title": title,
        "verb": DECIDE_VERB,
        "data": {"command": command, "view": view},
        **style,
    }


def reject_action(title: str, command: str, view: dict[str, Any], example: str, *, reason_id: str) -> Card:
    """A button that opens a reason box, then runs `command … because <reason>` like `execute_action`.

    `reason_id` names the box (unique in the card); Teams sends what was typed under that name.
    """
    send = execute_action("Send", command, view)
    send["data"]["reason_from"] = reason_id
    form = {
        "type": "AdaptiveCard",
        "body": [
            {
                "type": "Input.Text",
                "id": reason_id,
                "label": "Reason (the lead will see it)",
                "placeholder": example,
                "isMultiline": True,
                "maxLength": 1000,
                "isRequired": True,
                "errorMessage": "Say why, so the lead knows what to do next.",
            }
        ],
        "actions": [send],
    }
    return {"type": "Action.ShowCard", "title": title, "card": form}


def refreshed_for(card: Card, view: dict[str, Any], user_ids: Sequence[str]) -> Card:
    """`card`, refreshed for each of `user_ids` (who may act on it) into their own view with their buttons."""
    card["refresh"] = {
        "action": {"type": "Action.Execute", "verb": REFRESH_VERB, "data": {"view": view}},
        "userIds": list(user_ids[:REFRESH_USERS_LIMIT]),
    }
    return card


def make_card(text: str, body: list[Card], actions: Sequence[Card] = ()) -> Card:
    card: Card = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "fallbackText": text,
        "body": body,
    }
    if actions:
        card["actions"] = list(actions)
    return card


def text_block(text: str, **style: Any) -> Card:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def title_block(text: str) -> Card:
    return text_block(text, weight="Bolder", size="Medium")


def fact_set(facts: Sequence[tuple[str, str]]) -> Card:
    return {"type": "FactSet", "facts": [{"title": title, "value": value} for title, value in facts]}


def item_heading(item: AnyItem) -> str:
    """How a card names an item: its reference and title ("OIC-2025 R8 · Hydra training"), else its label."""
    return with_reference(item.reference, item.title or item.label)


def untitled_excerpt(item: AnyItem, limit: int) -> str | None:
    """The start of an untitled item's text, which has to tell it apart in a list; None when it has a title."""
    return None if item.title else one_line(item.text, limit)


# --- replies ---------------------------------------------------------------------------------


def message(text: str) -> Reply:
    """A plain text reply, without a card."""
    return Reply(text=text)


def choice_card(prompt: str, options: Sequence[tuple[str, str]]) -> Reply:
    """A question with one button per (label, command) option, numbered in the plain text."""
    lines = [clip(prompt, TITLE_LIMIT)]
    for number, (label, command) in enumerate(options, 1):
        lines.append(f'{number}. {clip(label, TITLE_LIMIT)} (say "{command}")')
    # One ActionSet per option stacks the buttons, so long labels are not squeezed side by side
    # and no option disappears into an overflow menu.
    body: list[Card] = [text_block(safe_text(prompt, TITLE_LIMIT))]
    for label, command in options:
        # Button titles are not markdown, so they need trimming but no escaping.
        button = command_action(one_line(label, BUTTON_LABEL_LIMIT), command)
        body.append({"type": "ActionSet", "spacing": "Small", "actions": [button]})
    text = "\n".join(lines)
    return Reply(text=text, card=make_card(text, body))


# --- history, decisions and notices ----------------------------------------------------------


def notice_card(template: str, actions: Sequence[tuple[str, str]] = (), **values: str) -> Reply:
    """Our own sentence (`template`, str.format style) with untrusted `values` made safe in the card, plain in the text."""
    plain = template.format(**{name: one_line(value, TITLE_LIMIT) for name, value in values.items()})
    shown = template.format(
        **{name: safe_text(one_line(value, TITLE_LIMIT), TITLE_LIMIT) for name, value in values.items()}
    )
    body: list[Card] = [text_block(shown)]
    return Reply(
        text=plain, card=make_card(plain, body, [command_action(title, command) for title, command in actions])
    )


class _CardMessage(Activity):
    """A message carrying a card, made for one send.

    The SDK deep-copies every activity it sends (`TurnContext.send_activities`); for a card that
    copy was 7 % of a status question's CPU. A reply is never reused once sent, so its copy is
    shallow: the SDK's changes (conversation, recipient, ids) land on the copy, the card is shared.
    """

    def __deepcopy__(self, memo: dict[int, object]) -> _CardMessage:
        return copy.copy(self)


def sent_once(activity: Activity) -> Activity:
    """A message made elsewhere (the SDK's choice cards), marked as made for one send: its copy is shallow."""
    activity.__class__ = _CardMessage
    return activity


def to_activity(reply: Reply) -> Activity:
    """A reply as a message: the card with its text as the notification summary, or plain text."""
    if reply.card is None:
        return MessageFactory.text(reply.text)
    return _CardMessage(
        type=ActivityTypes.message,
        attachment_layout=AttachmentLayoutTypes.list,
        attachments=[CardFactory.adaptive_card(reply.card)],
        summary=reply.text[:250],
    )
