"""The Teams activity handler: remembers conversations, routes messages to answers, greets installs."""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import date, datetime

from botbuilder.core import ActivityHandler, CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import cards
from bot.answers import Answers
from bot.cards import Reply
from bot.config import Settings
from bot.intents import (
    Greeting,
    Help,
    Intent,
    ListItems,
    Mine,
    Search,
    Status,
    Thanks,
    Unknown,
    UseReport,
    parse_intent,
)
from bot.people import PeopleDirectory
from storage import tracker
from storage.database import is_unreachable

log = logging.getLogger(__name__)

UNREACHABLE_REPLY = "I can't reach the tracker right now. Please try again in a few minutes."
FAILURE_REPLY = "Sorry, something went wrong on my side and I couldn't answer that. It has been logged."


def tenant_of(activity: Activity) -> str | None:
    """The Entra tenant of a Teams activity (channelData.tenant.id; conversation.tenant_id is unset)."""
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant")
    if isinstance(tenant, dict) and isinstance(tenant.get("id"), str):
        return tenant["id"]
    return activity.conversation.tenant_id if activity.conversation else None


def command_text(activity: Activity) -> str:
    """What the person asked: the text without the bot's @mention, or the command of a clicked button."""
    text = activity.text or ""
    for entity in activity.entities or []:
        properties = entity.additional_properties or {}
        mentioned = properties.get("mentioned") or {}
        if entity.type == "mention" and activity.recipient and mentioned.get("id") == activity.recipient.id:
            text = text.replace(properties.get("text") or "", " ")
    if not text.strip() and isinstance(activity.value, dict):
        command = activity.value.get("command")
        text = command if isinstance(command, str) else ""
    return " ".join(text.split())


def to_activity(reply: Reply) -> Activity:
    """A reply as a message: the card with its text as the notification summary, or plain text."""
    if reply.card is None:
        return MessageFactory.text(reply.text)
    activity = MessageFactory.attachment(CardFactory.adaptive_card(reply.card))
    activity.summary = reply.text[:250]
    return activity


class RecBot(ActivityHandler):
    """RecBot's turn logic, shared by Teams (through the adapter) and `recbot chat`."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        now: type[datetime] = datetime,
    ) -> None:
        self._settings = settings
        self._sessionmaker = sessionmaker
        self._now = now
        self.people = PeopleDirectory(sessionmaker, settings.admins)
        self.answers = Answers(sessionmaker, self.today)
        # Conversations whose stored reference is already current: no write per message.
        self._remembered: OrderedDict[str, tuple[str, str | None]] = OrderedDict()

    def today(self) -> date:
        return self._now.now(self._settings.tz).date()

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.type in (ActivityTypes.message, ActivityTypes.conversation_update, ActivityTypes.installation_update):
            turn_context.turn_state["recbot.new_conversation"] = await self._remember_conversation(activity)
        await super().on_turn(turn_context)

    async def _remember_conversation(self, activity: Activity) -> bool:
        """Store the conversation reference for later proactive messages; True when first seen."""
        if not activity.service_url or activity.conversation is None:
            return False
        tenant_id = tenant_of(activity)
        key = activity.conversation.id
        if self._remembered.get(key) == (activity.service_url, tenant_id):
            return False
        reference = TurnContext.get_conversation_reference(activity).serialize()
        async with self._sessionmaker.begin() as session:
            is_new = await tracker.remember_conversation(
                session,
                conversation_id=key,
                reference=reference,
                service_url=activity.service_url,
                tenant_id=tenant_id,
                conversation_type=activity.conversation.conversation_type,
                user_id=self._personal_chat_user(activity),
            )
        self._remembered[key] = (activity.service_url, tenant_id)
        if len(self._remembered) > 10_000:
            self._remembered.popitem(last=False)
        return is_new

    @staticmethod
    def _personal_chat_user(activity: Activity) -> str | None:
        if (activity.conversation.conversation_type or "personal") != "personal" or activity.from_property is None:
            return None
        return activity.from_property.id

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        intent = parse_intent(command_text(turn_context.activity))
        reply = await self.answer(intent, turn_context)
        await turn_context.send_activity(to_activity(reply))

    async def answer(self, intent: Intent, turn_context: TurnContext) -> Reply:
        """The reply to one parsed message."""
        conversation_id = turn_context.activity.conversation.id
        match intent:
            case Status(ref=ref):
                return await self.answers.status(ref, conversation_id)
            case Search(query=query):
                return await self.answers.search(query)
            case ListItems(filter=list_filter, report_code=report_code, kind=kind):
                return await self.answers.list_items(list_filter, report_code, kind)
            case UseReport(report_code=report_code):
                return await self.answers.use_report(report_code, conversation_id)
            case Mine():
                return await self.answers.mine(await self.people.identify(turn_context))
            case Help():
                return cards.help_card()
            case Greeting():
                return cards.welcome_card(in_channel=self._in_channel(turn_context))
            case Thanks():
                return cards.message("You're welcome.")
            case Unknown():
                return cards.message("Ask me about a recommendation, e.g. `status of recommendation 8`, or type `help`.")
        return cards.message(
            "I understood that, but it isn't something I can do yet. Type `help` to see what I can do."
        )

    @staticmethod
    def _in_channel(turn_context: TurnContext) -> bool:
        return (turn_context.activity.conversation.conversation_type or "personal") != "personal"

    async def on_members_added_activity(self, members_added: list[ChannelAccount], turn_context: TurnContext) -> None:
        # Teams sends both conversationUpdate and installationUpdate on install: greet only the
        # first time the conversation is seen, whichever arrives first.
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(member.id == bot_id for member in members_added):
            await self._welcome(turn_context)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._welcome(turn_context)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        async with self._sessionmaker.begin() as session:
            await tracker.forget_conversation(session, turn_context.activity.conversation.id)
        self._remembered.pop(turn_context.activity.conversation.id, None)

    async def _welcome(self, turn_context: TurnContext) -> None:
        if turn_context.turn_state.get("recbot.new_conversation"):
            await turn_context.send_activity(to_activity(cards.welcome_card(in_channel=self._in_channel(turn_context))))


async def on_turn_error(context: TurnContext, error: Exception) -> None:
    """Answer the person in plain words; the details go to the log, never into the chat."""
    if is_unreachable(error):
        log.warning("database unreachable during a turn: %r", error)
        reply = UNREACHABLE_REPLY
    else:
        log.exception("turn failed", exc_info=error)
        reply = FAILURE_REPLY
    try:
        await context.send_activity(reply)
    except Exception:  # noqa: BLE001 - the connector may be what failed
        log.exception("could not tell the user about the failure")
