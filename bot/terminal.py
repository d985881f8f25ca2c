"""`recbot chat`: the same bot in a terminal, through a local adapter instead of Teams."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from typing import TextIO

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    ResourceResponse,
)

from bot.handler import RecBot, on_turn_error
from bot.people import LOCAL_CHANNEL, LOCAL_PREFIX


def card_actions(node: object) -> Iterator[tuple[str, str]]:
    """(title, command) for every command button in an Adaptive Card, depth first."""
    if isinstance(node, dict):
        data = node.get("data")
        if node.get("type") == "Action.Submit" and isinstance(data, dict) and isinstance(data.get("command"), str):
            yield str(node.get("title") or data["command"]), data["command"]
        for value in node.values():
            yield from card_actions(value)
    elif isinstance(node, list):
        for value in node:
            yield from card_actions(value)


def render_activity(activity: Activity) -> str:
    """A bot message as terminal text: the card's plain-text version and its buttons as commands."""
    lines: list[str] = []
    if activity.text:
        lines.append(activity.text)
    for attachment in activity.attachments or []:
        card = attachment.content if isinstance(attachment.content, dict) else {}
        lines.append(str(card.get("fallbackText") or activity.summary or ""))
        actions = list(card_actions(card))
        lines.extend(f"  [{title}] type: {command}" for title, command in dict.fromkeys(actions))
    return "\n".join(line for line in lines if line)


class TerminalAdapter(BotAdapter):
    """Delivers the bot's replies to a text stream; one personal conversation per e-mail."""

    def __init__(self, output: TextIO) -> None:
        super().__init__()
        self._output = output

    async def send_activities(self, context: TurnContext, activities: list[Activity]) -> list[ResourceResponse]:
        for activity in activities:
            if activity.type == ActivityTypes.message:
                self._output.write(render_activity(activity) + "\n\n")
        self._output.flush()
        return [ResourceResponse(id=str(uuid.uuid4())) for _ in activities]

    async def update_activity(self, context: TurnContext, activity: Activity) -> ResourceResponse:
        return ResourceResponse(id=activity.id or "")

    async def delete_activity(self, context: TurnContext, reference: ConversationReference) -> None:
        return None

    async def say(self, bot: RecBot, email: str, text: str) -> None:
        """Run one turn of `bot` for a message typed by `email`."""
        activity = Activity(
            type=ActivityTypes.message,
            id=str(uuid.uuid4()),
            text=text,
            channel_id=LOCAL_CHANNEL,
            from_property=ChannelAccount(id=f"{LOCAL_PREFIX}{email}", name=email),
            recipient=ChannelAccount(id="recbot", name="RecBot"),
            conversation=ConversationAccount(id=f"{LOCAL_PREFIX}{email}", conversation_type="personal"),
        )
        await self.run_pipeline(TurnContext(self, activity), bot.on_turn)


async def chat(bot: RecBot, email: str, lines: TextIO = sys.stdin, output: TextIO = sys.stdout) -> None:
    """Read messages line by line until end of input or `exit`, answering each like Teams would."""
    adapter = TerminalAdapter(output)
    adapter.on_turn_error = on_turn_error
    output.write(f"RecBot — talking as {email}. Type `help`, or `exit` to leave.\n\n")
    for line in lines:
        text = line.strip()
        if text.lower() in ("exit", "quit"):
            break
        if text:
            await adapter.say(bot, email, text)
