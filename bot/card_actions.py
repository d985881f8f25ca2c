"""Universal Actions: the `adaptiveCard/action` invokes of RecBot's cards.

Two verbs (bot/cards/common.py): `refresh` — Teams asks for the card as the person looking at it
sees it (their own buttons) — and `decide` — Approve / Reject on a status or request card. A
decision runs as the typed command would (the registry, the same rights and the same redelivery
key), and is answered with the card rebuilt for the person, the outcome on top; the message
that carried the buttons is updated in place for everyone else. Someone who may not decide gets
a message and an unchanged card.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.schema import ActivityTypes

from bot.cards.common import DECIDE_VERB, REFRESH_VERB, to_activity
from bot.cards.render import render
from bot.commands import Asked, Services, Who, answer, command_for, parse_intent
from bot.people import PeopleDirectory
from bot.turn import place_of, read_turn
from domain.failures import describe_failure
from services import requests
from services.notices import Notify
from services.people import Identity
from services.results import Result

log = logging.getLogger(__name__)

# What a card's button may run: decisions, never any other command.
DECISIONS = (requests.ApproveClosure, requests.RejectClosure, requests.ApproveDueDate, requests.RejectDueDate)
COMMAND_LIMIT = 300
REASON_LIMIT = 1000


def invoke_error(status: int, code: str, message: str) -> InvokeResponse:
    """An `adaptiveCard/action` answer that tells the card (and the person) what went wrong."""
    body = {
        "statusCode": status,
        "type": "application/vnd.microsoft.error",
        "value": {"code": code, "message": message},
    }
    return InvokeResponse(status=status, body=body)


def _message(text: str) -> InvokeResponse:
    """A message shown to the person; the card stays as it was."""
    return InvokeResponse(
        status=200, body={"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text}
    )


def _card(result: Result) -> InvokeResponse:
    reply = render(result)
    if reply.card is None:
        return _message(reply.text)
    return InvokeResponse(
        status=200, body={"statusCode": 200, "type": "application/vnd.microsoft.card.adaptive", "value": reply.card}
    )


def _view_of(data: dict[str, Any]) -> dict[str, Any] | None:
    """The card a button or refresh names: {"item": id} or {"request": update id, "closure": bool}."""
    view = data.get("view")
    if not isinstance(view, dict):
        return None
    item, request, closure = view.get("item"), view.get("request"), view.get("closure")
    if isinstance(item, int) and not isinstance(item, bool):
        return {"item": item}
    if isinstance(request, int) and not isinstance(request, bool) and isinstance(closure, bool):
        return {"request": request, "closure": closure}
    return None


class CardActions:
    """Answers the invokes; the handler owns the turn, this owns what a card's buttons mean."""

    def __init__(self, services: Services, people: PeopleDirectory, notify: Notify) -> None:
        self._services = services
        self._people = people
        self._notify = notify

    async def answer(self, turn_context: TurnContext) -> InvokeResponse:
        value = turn_context.activity.value
        action = value.get("action") if isinstance(value, dict) else None
        if not isinstance(action, dict) or action.get("type") != "Action.Execute":
            return invoke_error(400, "BadRequest", "This card action is malformed: it is not an Action.Execute.")
        data = action.get("data")
        if not isinstance(data, dict):
            data = {}
        view = _view_of(data)
        if view is None:
            return invoke_error(400, "BadRequest", "This card action does not say which card it belongs to.")
        verb = action.get("verb")
        if verb == REFRESH_VERB:
            return _card(await self._view(view, await self._people.identify(turn_context)))
        if verb == DECIDE_VERB:
            return await self._decide(turn_context, data, view)
        return invoke_error(400, "BadRequest", "This card action is not one RecBot knows.")

    async def _view(self, view: dict[str, Any], viewer: Identity | None, note: str | None = None) -> Result:
        if "item" in view:
            return await self._services.answers.status_of(view["item"], viewer, note)
        return await self._services.governance.request_view(view["request"], view["closure"], viewer, note)

    async def _decide(self, turn_context: TurnContext, data: dict[str, Any], view: dict[str, Any]) -> InvokeResponse:
        command, reason_from = data.get("command"), data.get("reason_from")
        reason = data.get(reason_from) if isinstance(reason_from, str) else None
        if not isinstance(command, str) or len(command) > COMMAND_LIMIT:
            return invoke_error(400, "BadRequest", "This card action has no command RecBot can run.")
        if isinstance(reason, str) and reason.strip():
            command = f"{command} because {' '.join(reason[:REASON_LIMIT].split())}"
        intent = parse_intent(command)
        if not isinstance(intent, DECISIONS):
            return invoke_error(400, "BadRequest", "A card button can only approve or reject.")
        activity = turn_context.activity
        identity = await self._people.identify(turn_context)
        asked = Asked(
            replace(read_turn(activity), text=command, mentions=()),
            self._services,
            lambda: _identified(identity),
            lambda: place_of(activity),
            _no_dialog,
        )
        reply = await answer(intent, asked)
        assert reply is not None  # decisions always answer
        if command_for(intent).who is Who.ADMINS and (identity is None or not identity.is_admin):
            return _message(reply.text)  # the refusal, with the reason; nothing changed
        await self._update_for_everyone(turn_context, view)
        await self._notify(asked.notices)
        return _card(await self._view(view, identity, note=reply.text))

    async def _update_for_everyone(self, turn_context: TurnContext, view: dict[str, Any]) -> None:
        """Replace the message that carried the buttons with the view everyone sees, the new state in it."""
        message_id = turn_context.activity.reply_to_id
        if not message_id:
            return
        reply = render(await self._view(view, None))
        if reply.card is None:
            return
        updated = to_activity(reply)
        updated.id = message_id
        updated.type = ActivityTypes.message
        try:
            await turn_context.update_activity(updated)
        except Exception as error:  # noqa: BLE001 - the decision is saved; a stale card refreshes when viewed
            log.warning("could not update the card of message %s: %s", message_id, describe_failure(error))


async def _identified(identity: Identity | None) -> Identity | None:
    return identity


async def _no_dialog(ref: object, correcting: bool) -> None:
    raise AssertionError("a card decision never starts a dialog")
