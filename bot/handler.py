"""The Teams activity handler: remembers conversations, runs dialogs, routes messages, greets installs."""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import date
from typing import TYPE_CHECKING

from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.card_actions import CardActions
from bot.cards import common as cards
from bot.cards.common import Reply, to_activity
from bot.cards.help import welcome_card
from bot.cards.render import render
from bot.cards.update_form import is_cancelled_form, parse_update_form, update_form_card
from bot.commands import Asked, Services, answer, is_command, item_ref, parse_intent
from bot.config import Settings
from bot.extension import MessageExtension
from bot.intents import CorrectUpdate, Intent, StartUpdate, Status
from bot.people import PeopleDirectory
from bot.state import PrivateState, SqlStorage
from bot.turn import TurnInput, in_channel, key_of, place_of, read_turn, tenant_of
from bot.uploads import Uploads, has_file, is_upload_action
from dialogs.flow import CANCELLED, RESUME
from dialogs.update import UpdateDialog, answers_of, item_state
from domain.clock import SYSTEM_CLOCK, Clock
from domain.dates import parse_user_date
from domain.failures import describe_failure
from domain.refs import ItemRef
from domain.updates import Actor, ItemBrief, Refused
from services.answers import Answers
from services.governance import LeadCommands
from services.notices import Notify, nobody
from services.people import Identity
from services.subscriptions import DigestCommands
from services.updates import TrackerUpdateService
from storage import tracker
from storage.database import is_unreachable
from storage.state import StateAlong

if TYPE_CHECKING:
    from botbuilder.dialogs import DialogContext, DialogSet

log = logging.getLogger(__name__)

UNREACHABLE_REPLY = "I can't reach the tracker right now. Please try again in a few minutes."
FAILURE_REPLY = "Sorry, something went wrong on my side and I couldn't answer that. It has been logged."
DIALOG_FAILED_REPLY = (
    "Sorry, something went wrong on my side, so I've stopped this update and nothing was saved. "
    "It has been logged; please start again with `update …`."
)


# C0 controls and DEL, except tab, line feed and carriage return: PostgreSQL refuses NUL in text,
# and a hidden byte in an e-mail address would change who a command is about.
_CONTROL_CHARACTERS = frozenset(chr(code) for code in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F))
CONTROL_CHARACTERS_REPLY = (
    "I can't take that message: it contains control characters (such as a NUL byte) that can't be stored. "
    "Nothing was saved or changed; please send it again without them."
)


def has_control_characters(value: object) -> bool:
    """True when any text in `value` (a string, or the strings in a card's submitted value) holds a control character."""
    pending = [value]
    while pending:
        current = pending.pop()
        if isinstance(current, str):
            if not _CONTROL_CHARACTERS.isdisjoint(current):
                return True
        elif isinstance(current, dict):
            pending.extend(current.keys())
            pending.extend(current.values())
        elif isinstance(current, list):
            pending.extend(current)
    return False


class RecBot(ActivityHandler):
    """RecBot's turn logic, shared by Teams (through the adapter) and `recbot chat`."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        clock: Clock = SYSTEM_CLOCK,
        notify: Notify = nobody,
    ) -> None:
        self._settings = settings
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._notify = notify
        self.people = PeopleDirectory(sessionmaker, settings.admins, home_tenant=settings.home_tenant)
        self.services = Services(
            Answers(sessionmaker, self.today, settings.admins, timezone=settings.timezone),
            LeadCommands(
                sessionmaker,
                self.today,
                bootstrap_admins=settings.admins,
                is_bootstrap_admin=self.people.is_bootstrap_admin,
            ),
            DigestCommands(sessionmaker, timezone=settings.timezone),
            self.today,
        )
        self.card_actions = CardActions(self.services, self.people, notify)
        self.updates = TrackerUpdateService(
            sessionmaker, self.today, item_ref, bootstrap_admins=settings.admins, notify=notify
        )
        # Dialog state lives in the database, so a restart or another instance carries on; it is
        # kept per person in a conversation, so two members of a channel never share an update.
        self.conversation_state = PrivateState(SqlStorage(sessionmaker))
        self.extension = MessageExtension(self.services.answers)
        self.uploads = Uploads(settings, sessionmaker, self.people, clock.now)
        self._dialogs: DialogSet | None = None
        # Conversations whose stored reference is already current: no write per message.
        self._remembered: OrderedDict[str, tuple[str, str | None]] = OrderedDict()
        # State keys whose last turn here left an update under way: a hint of what the next message
        # is (see `on_message_activity`); whether an update is under way is always read from the database.
        self._updating: OrderedDict[str, None] = OrderedDict()

    def today(self) -> date:
        return self._clock.today(self._settings.tz)

    @property
    def dialogs(self) -> DialogSet:
        """The update dialog's set, made on the first turn: botbuilder.dialogs takes a fifth of a second
        to import, which `recbot serve` leaves until after it is ready (`bot.app.prepare_first_turn`)."""
        if self._dialogs is None:
            from botbuilder.dialogs import DialogSet

            from bot.dialog_host import HostedFlow

            dialogs = DialogSet(self.conversation_state.create_property("dialogs"))
            dialogs.add(
                HostedFlow(UpdateDialog(self.updates, is_command, parse_date=parse_user_date, now=self._clock.now))
            )
            self._dialogs = dialogs
        return self._dialogs

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        removed = activity.type == ActivityTypes.installation_update and str(activity.action or "").startswith("remove")
        if not removed and activity.type in (
            ActivityTypes.message,
            ActivityTypes.conversation_update,
            ActivityTypes.installation_update,
        ):
            turn_context.turn_state["recbot.new_conversation"] = await self._remember_conversation(activity)
        await super().on_turn(turn_context)
        self._note_update_under_way(turn_context)

    def _note_update_under_way(self, turn_context: TurnContext) -> None:
        state = self.conversation_state.get(turn_context)  # None when this turn did not read it
        if state is None:
            return
        key = self.conversation_state.get_storage_key(turn_context)
        if getattr(state.get("dialogs"), "dialog_stack", None):
            self._updating[key] = None
            self._updating.move_to_end(key)
            if len(self._updating) > 10_000:
                self._updating.popitem(last=False)
        else:
            self._updating.pop(key, None)

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
        activity = turn_context.activity
        if has_control_characters(activity.text) or has_control_characters(activity.value):
            # Answered before any parser or dialog sees it: an update under way keeps its draft.
            await self._send(turn_context, cards.message(CONTROL_CHARACTERS_REPLY))
            return
        if has_file(activity):
            # A file sent to RecBot is an import (bot/uploads.py), never an answer: an update under way keeps its draft.
            await self.uploads.receive(turn_context)
            return
        value = turn_context.activity.value
        is_form = isinstance(value, dict) and value.get("form") == "update"
        if not is_form:
            turn = read_turn(turn_context.activity)
            # Where this person's last message here left an update under way, this one most likely answers
            # it: the intent is read only if it turns out not to (the grammar takes 0.1–0.3 ms an answer here).
            likely_answer = self.conversation_state.get_storage_key(turn_context) in self._updating
            intent = None if likely_answer else parse_intent(turn.text)
            answered = await self._answer_ahead(intent, turn, turn_context)
            if not await self._dialog_under_way(turn_context):
                # Most messages: a question or a command with no update under way. The state just read
                # says so; the dialog machinery is set up only if the command starts an update.
                if intent is None:
                    intent = parse_intent(turn.text)
                if answered is None:
                    await self._route(intent, turn, turn_context, None)
                else:
                    await self._deliver(*answered, turn_context)
                return
        from botbuilder.dialogs import DialogTurnStatus

        dialog_context = await self.dialogs.create_context(turn_context)
        if is_form:
            # The form is a complete update on its own: it replaces any update dialog under way.
            await dialog_context.cancel_all_dialogs()
            await self._send(turn_context, await self._submit_form(value, turn_context))
        else:  # an update under way: this message answers it
            try:
                result = await dialog_context.continue_dialog()
            except Exception as error:
                if is_unreachable(error):
                    raise  # the dialog is kept: the person can answer again when the database is back
                # A step that fails for any other reason would fail again on every message:
                # end the dialog so that the conversation can go on.
                log.error("the update dialog failed; ending it: %s", describe_failure(error))
                await dialog_context.cancel_all_dialogs()
                await self.conversation_state.save_changes(turn_context)
                await self._send(turn_context, cards.message(DIALOG_FAILED_REPLY))
                return
            if result.status == DialogTurnStatus.Complete:
                await self._after_dialog(result.result, turn_context, dialog_context)
        await self.conversation_state.save_changes(turn_context)

    async def _dialog_under_way(self, turn_context: TurnContext) -> bool:
        """True when this person has an update dialog on the go here (the state is read from the database
        on every turn, so a dialog begun on another instance counts, and kept for the rest of the turn)."""
        await self.conversation_state.load(turn_context)
        state = self.conversation_state.get(turn_context) or {}
        return bool(getattr(state.get("dialogs"), "dialog_stack", None))

    async def _after_dialog(self, result: object, turn_context: TurnContext, dialog_context: DialogContext) -> None:
        """Follow up on how the update dialog ended: open the form, answer a command and carry on with the
        draft, or run the command that interrupted it."""
        if not isinstance(result, dict):
            return
        if isinstance(result.get("use_form"), int):
            brief = await self.updates.brief(result["use_form"])
            if brief is not None:
                corrects, answers = result.get("corrects_update_id"), result.get("answers")
                form = update_form_card(
                    brief,
                    self.today(),
                    corrects_update_id=corrects if isinstance(corrects, int) else None,
                    answers=answers if isinstance(answers, dict) else None,
                )
                await self._send(turn_context, form)
            return
        aside, draft = result.get("aside"), result.get("resume")
        if isinstance(aside, str) and isinstance(draft, dict):
            intent = parse_intent(aside)
            if isinstance(intent, StartUpdate | CorrectUpdate):
                # One update at a time per person: the draft stays, the other waits.
                await self._send(
                    turn_context,
                    cards.message("One update at a time: save or cancel this one first, then start the other."),
                )
            else:
                await self._route(intent, read_turn(turn_context.activity), turn_context, dialog_context)
            if dialog_context.active_dialog is None:
                await dialog_context.begin_dialog(UpdateDialog.__name__, {RESUME: draft})
            return
        follow_up = result.get("interrupted_by") or (result.get("text") if result.get("expired") else None)
        if isinstance(follow_up, str) and is_command(follow_up):
            await self._route(parse_intent(follow_up), read_turn(turn_context.activity), turn_context, dialog_context)

    async def _answer_ahead(
        self, intent: Intent | None, turn: TurnInput, turn_context: TurnContext
    ) -> tuple[Asked, Reply | None] | None:
        """A status question, answered before the dialog state is looked at by a statement that reads
        that state too: the commonest message takes one round trip, not two (issue 14). It only reads,
        so the answer is simply not sent when an update turns out to be under way."""
        if not isinstance(intent, Status):
            return None
        along = self.conversation_state.state_along(turn_context)
        asked = self._asked(turn, turn_context, None, state=along)
        reply = await answer(intent, asked)
        self.conversation_state.take(turn_context, along)
        return asked, reply

    async def _route(
        self, intent: Intent, turn: TurnInput, turn_context: TurnContext, dialog_context: DialogContext | None
    ) -> None:
        """Answer one command (bot/commands.py); the people it concerns are told after the reply is sent.

        Without a `dialog_context` (no dialog under way), one is made if the command starts an update."""
        asked = self._asked(turn, turn_context, dialog_context)
        await self._deliver(asked, await answer(intent, asked), turn_context)

    def _asked(
        self,
        turn: TurnInput,
        turn_context: TurnContext,
        dialog_context: DialogContext | None,
        state: StateAlong | None = None,
    ) -> Asked:
        activity = turn_context.activity

        async def identify() -> Identity | None:
            return await self.people.identify(turn_context)

        async def start_update(ref: ItemRef | None, correcting: bool) -> None:
            await self._start_update(turn_context, dialog_context, ref=ref, correcting=correcting)

        return Asked(turn, self.services, identify, lambda: place_of(activity), start_update, state=state)

    async def _deliver(self, asked: Asked, reply: Reply | None, turn_context: TurnContext) -> None:
        if reply is not None:
            await self._send(turn_context, reply)
        await self._notify(asked.notices)
        if asked.rights_changed:
            self.people.forget_all()

    async def _start_update(
        self,
        turn_context: TurnContext,
        dialog_context: DialogContext | None,
        *,
        ref: ItemRef | None,
        correcting: bool = False,
    ) -> None:
        actor = await self._actor(turn_context)
        if actor is None:
            await self._send(turn_context, cards.message("I couldn't tell who you are, so I can't take an update."))
            return
        briefs: list[ItemBrief] = []
        if ref is not None:
            conversation_id = turn_context.activity.conversation.id
            briefs = await self.updates.items_named(ref, conversation_id)
            if not briefs:
                # Whatever the status question says: no such item, or no such report.
                await self._send(turn_context, render(await self.services.answers.status(ref, conversation_id)))
                return
        options: dict[str, object] = {
            "items": [item_state(brief) for brief in briefs],
            "actor": {"person_id": actor.person_id, "name": actor.name, "is_admin": actor.is_admin},
        }
        if correcting:
            if len(briefs) != 1:
                await self._send(
                    turn_context,
                    cards.message(
                        "Name the item whose update you want to correct, e.g. `correct my last update of OIC-2025 R8`."
                    ),
                )
                return
            corrected = await self.updates.correction(briefs[0].item_id, actor, self._clock.now())
            if corrected is None:
                await self._send(
                    turn_context,
                    cards.message(
                        "You can only correct your own latest update of an item, within 24 hours of posting it. "
                        "Post a new update instead: `update …`."
                    ),
                )
                return
            # The dialog starts at the summary with that update's answers (link and date request kept).
            options["corrects_update_id"] = corrected.corrects_update_id
            options["answers"] = answers_of(corrected)
        if dialog_context is not None:
            await dialog_context.begin_dialog(UpdateDialog.__name__, options)
            return  # saved by the turn that made the dialog context
        dialog_context = await self.dialogs.create_context(turn_context)
        await dialog_context.begin_dialog(UpdateDialog.__name__, options)
        await self.conversation_state.save_changes(turn_context)

    async def _actor(self, turn_context: TurnContext) -> Actor | None:
        identity = await self.people.identify(turn_context)
        if identity is None:
            return None
        return Actor(identity.person_id, identity.name or identity.email or "someone", identity.is_admin)

    async def _submit_form(self, value: dict[str, object], turn_context: TurnContext) -> Reply:
        """Record an update sent with the one-card form, or say exactly what to fix (Cancel saves nothing)."""
        if is_cancelled_form(value):
            return cards.message(CANCELLED)
        draft = parse_update_form(value, self.today())
        if isinstance(draft, list):
            return cards.message("Your update was not saved: " + " ".join(draft))
        actor = await self._actor(turn_context)
        if actor is None:
            return cards.message("I couldn't tell who you are, so your update was not saved.")
        try:
            recorded = await self.updates.record(draft, actor, key_of(turn_context.activity))
        except Refused as refusal:
            return cards.message(f"{refusal} Your update was not saved.")
        except Exception as error:
            if is_unreachable(error):
                log.warning(
                    "database unreachable while saving a form update: %s", describe_failure(error, with_traceback=False)
                )
                return cards.message(
                    "Sorry — your update was NOT saved: I can't reach the tracker. Please send the form again in a minute."
                )
            raise
        brief = await self.updates.brief(draft.item_id)
        where = f"{brief.reference} is now {brief.status}" if brief else "The item is updated"
        return cards.message(f"Saved. {where}." + (" (You had already sent this one.)" if recorded.duplicate else ""))

    @staticmethod
    async def _send(turn_context: TurnContext, reply: Reply) -> None:
        await turn_context.send_activity(to_activity(reply))

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        if turn_context.activity.name == "composeExtension/query":
            return await self.extension.query(turn_context)
        if turn_context.activity.name == "adaptiveCard/action" and is_upload_action(turn_context.activity):
            return await self.uploads.answer(turn_context)
        if turn_context.activity.name == "adaptiveCard/action":
            # Answered here: the SDK's own checks answer malformed values with a body it cannot serialise (500).
            return await self.card_actions.answer(turn_context)
        return await super().on_invoke_activity(turn_context)

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
            await self._send(turn_context, welcome_card(in_channel=in_channel(turn_context.activity)))


async def on_turn_error(context: TurnContext, error: Exception) -> None:
    """Answer the person in plain words; the details go to the log, never into the chat."""
    if is_unreachable(error):
        log.warning("database unreachable during a turn: %s", describe_failure(error, with_traceback=False))
        reply = UNREACHABLE_REPLY
    else:
        log.error("turn failed: %s", describe_failure(error))
        reply = FAILURE_REPLY
    try:
        await context.send_activity(reply)
    except Exception as failure:  # noqa: BLE001 - the connector may be what failed
        log.error("could not tell the user about the failure: %s", describe_failure(failure))
