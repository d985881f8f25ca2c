"""The thin adapter between the Bot Framework's dialog stack and RecBot's plain flows (dialogs/).

A `HostedFlow` is the SDK `Dialog` that keeps a `FlowMachine`'s plain state in
`active_dialog.state` (stored by `bot/state.py`), and a `TurnScreen` is where the flow speaks: the
turn's chat, with Teams-shaped buttons and cards.
"""

from __future__ import annotations

from collections.abc import Sequence

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.dialogs import ComponentDialog, Dialog, DialogContext, DialogInstance, DialogReason, DialogTurnResult
from botbuilder.dialogs.choices import ChoiceFactory
from botbuilder.schema import ActivityTypes
from botframework.connector import Channels

from bot.cards.common import sent_once, to_activity
from bot.cards.update_form import update_summary_card
from bot.turn import answer_text, key_of
from dialogs.flow import FlowMachine
from domain.updates import UpdateDraft

# Teams hero cards show up to 6 buttons; the SDK's channel table allows Teams only 3.
TEAMS_HERO_BUTTONS = 6


class TurnScreen:
    """A flow's `Screen` for one turn of a Teams (or terminal) chat."""

    def __init__(self, context: TurnContext) -> None:
        self._context = context
        activity = context.activity
        self.conversation_id = activity.conversation.id if activity.conversation else None
        self.activity_key = key_of(activity)

    async def say(self, text: str) -> None:
        await self._context.send_activity(MessageFactory.text(text))

    async def ask_choice(self, question: str, choices: Sequence[str]) -> None:
        """Buttons the way ChoicePrompt shows them, but up to 6 long-titled imBack buttons on Teams."""
        channel = self._context.activity.channel_id
        if channel == Channels.ms_teams and len(choices) <= TEAMS_HERO_BUTTONS:
            activity = ChoiceFactory.hero_card(list(choices), question)
        else:
            activity = ChoiceFactory.for_channel(channel, list(choices), question)
        await self._context.send_activity(sent_once(activity))

    async def show_update(self, reference: str, label: str, draft: UpdateDraft) -> None:
        await self._context.send_activity(to_activity(update_summary_card(reference, label, draft)))


class HostedFlow(ComponentDialog):
    """A FlowMachine in a DialogSet. It keeps no inner dialog stack: begin/continue are its own."""

    def __init__(self, machine: FlowMachine) -> None:
        super().__init__(machine.name)
        self.machine = machine

    async def _ended(self, dialog_context: DialogContext, result: dict[str, object] | None) -> DialogTurnResult:
        return Dialog.end_of_turn if result is None else await dialog_context.end_dialog(result)

    async def begin_dialog(self, dialog_context: DialogContext, options: object = None) -> DialogTurnResult:
        state = dialog_context.active_dialog.state
        result = await self.machine.begin(state, options, TurnScreen(dialog_context.context))
        return await self._ended(dialog_context, result)

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        context = dialog_context.context
        if context.activity.type != ActivityTypes.message:
            return Dialog.end_of_turn
        state = dialog_context.active_dialog.state
        result = await self.machine.proceed(state, answer_text(context.activity), TurnScreen(context))
        return await self._ended(dialog_context, result)

    async def resume_dialog(
        self, dialog_context: DialogContext, reason: DialogReason, result: object = None
    ) -> DialogTurnResult:
        # Nothing is started on top of a flow; if a caller did, ask the waiting question again.
        await self.reprompt_dialog(dialog_context.context, dialog_context.active_dialog)
        return Dialog.end_of_turn

    async def reprompt_dialog(self, context: TurnContext, instance: DialogInstance) -> None:
        await self.machine.reprompt(instance.state, TurnScreen(context))

    async def end_dialog(self, context: TurnContext, instance: DialogInstance, reason: DialogReason) -> None:
        # No inner dialog stack to cancel (ComponentDialog's version expects one).
        await self.on_end_dialog(context, instance, reason)
