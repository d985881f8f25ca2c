"""Message-extension search: "hydra" or "R8" typed in any compose box, answered with status cards to insert.

Teams sends an `invoke` named `composeExtension/query` (value: commandId, parameters, queryOptions)
and shows the answer's attachments as a list. The search is the status question's own: a reference
is read by the same grammar (`bot.commands.item_ref`) and resolved by `Answers.status`; anything
else goes to `Answers.search` (`domain.search.rank_items`). Each result is the service's
`ItemStatus`, rendered as the status card by `bot/cards/render.py`.

The invoke has passed the front door (`bot/app.py`: authentication, the tenant check) like any
other activity; here its value is read defensively, because it is whatever the sender wrote.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext

from bot.cards.extension import inserted, preview, result_list, said
from bot.cards.render import render
from bot.commands import item_ref
from domain.failures import describe_failure
from domain.refs import ItemRef, ListFilter
from domain.text import one_line
from domain.vocabulary import Kind
from services.answers import Answers
from services.results import Choose, ItemList, ItemStatus, Result, SearchResults
from storage.database import is_unreachable
from storage.models import Item

log = logging.getLogger(__name__)

INVOKE_NAME = "composeExtension/query"
# The manifest's command and its one parameter (manifest/manifest.json, composeExtensions).
COMMAND_ID = "searchItems"
QUERY_PARAMETER = "query"
# Teams sends this parameter (value "true") when the extension opens, if the command has initialRun.
INITIAL_RUN_PARAMETER = "initialRun"
MAX_RESULTS = 10
# A search box holds a few words: only this much of the query is read, before any parsing (the
# grammar reads at most 500 characters of a message; rapidfuzz's partial_ratio grows with both texts).
QUERY_LIMIT = 200
# Parameters read from the value; Teams sends one per command parameter (here one, or initialRun).
MAX_PARAMETERS = 8
# C0 controls and DEL: turned into spaces, as no search term holds one.
_CONTROLS = {code: " " for code in (*range(0x00, 0x20), 0x7F)}

UNREACHABLE = "I can't reach the tracker right now. Please try again in a few minutes."
FAILED = "Sorry, something went wrong on my side and I couldn't search. It has been logged."
HOW_TO_ASK = "Type a reference such as R8 or OIC-2025 R8, or a few words from the item, e.g. hydra training."


@dataclass(frozen=True)
class Query:
    """What the search box asked for: `text` ("" when the extension has just opened) and the page wanted."""

    text: str
    skip: int = 0
    count: int = MAX_RESULTS


def _count(options: dict[str, Any], name: str, default: int) -> int | str:
    value = options.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return f"queryOptions.{name} must be a whole number of 0 or more"
    return value


def read_query(value: object) -> Query | str:
    """The query in a `composeExtension/query` value, or a sentence saying why the value is malformed."""
    if not isinstance(value, dict):
        return "the invoke has no value object"
    command_id = value.get("commandId")
    if command_id != COMMAND_ID:
        shown = one_line(command_id, 40) if isinstance(command_id, str) else repr(type(command_id).__name__)
        return f"unknown message-extension command {shown!r}: the only one is {COMMAND_ID!r}"
    parameters = value.get("parameters", [])
    if not isinstance(parameters, list):
        return "parameters must be a list of {name, value}"
    text = ""
    for parameter in parameters[:MAX_PARAMETERS]:
        if not isinstance(parameter, dict) or not isinstance(parameter.get("name"), str):
            return "each parameter must be an object with a name"
        typed = parameter.get("value")
        if typed is None:
            typed = ""
        if not isinstance(typed, str):
            return f"the value of parameter {one_line(parameter['name'], 40)!r} must be text"
        if parameter["name"] == QUERY_PARAMETER:
            # Capped first: everything after this reads at most QUERY_LIMIT characters.
            text = typed[:QUERY_LIMIT].translate(_CONTROLS)
    options = value.get("queryOptions") or {}
    if not isinstance(options, dict):
        return "queryOptions must be an object"
    skip = _count(options, "skip", 0)
    count = _count(options, "count", MAX_RESULTS)
    if isinstance(skip, str):
        return skip
    if isinstance(count, str):
        return count
    return Query(" ".join(text.split()), skip, min(count, MAX_RESULTS))


def bad_request(reason: str) -> InvokeResponse:
    """A 400 whose body says what is wrong (the front door's shape: {"error": …})."""
    return InvokeResponse(status=400, body={"error": f"malformed message-extension query: {reason}"})


def _ref_of(item: Item) -> ItemRef:
    """The reference that names exactly this item: its report's code, its kind and number."""
    return ItemRef(number=item.number, kind=Kind(item.kind), report_code=item.report.code)


class MessageExtension:
    """Answers `composeExtension/query` with the status question's search, through `Answers`."""

    def __init__(self, answers: Answers) -> None:
        self._answers = answers

    async def query(self, turn_context: TurnContext) -> InvokeResponse:
        """The invoke's answer: results, a message when nothing matches, or 400 for a malformed value."""
        query = read_query(turn_context.activity.value)
        if isinstance(query, str):
            log.info("refused a message-extension query: %s", query)
            return bad_request(query)
        conversation = turn_context.activity.conversation
        try:
            found = await self.find(query.text, conversation.id if conversation else None)
        except Exception as error:  # noqa: BLE001 - an invoke's failure must answer it, not post to the chat
            if is_unreachable(error):
                log.warning("database unreachable during a message-extension query: %s", describe_failure(error))
                return InvokeResponse(status=200, body=said(UNREACHABLE))
            log.error("message-extension query failed: %s", describe_failure(error))
            return InvokeResponse(status=200, body=said(FAILED))
        if not found:
            nothing = f'Nothing matches "{one_line(query.text, 80)}".' if query.text else "No items are tracked yet."
            return InvokeResponse(status=200, body=said(f"{nothing} {HOW_TO_ASK}"))
        page = found[query.skip : query.skip + query.count]
        entries = [(inserted(render(status)), preview(status.item, status.today)) for status in page]
        return InvokeResponse(status=200, body=result_list(entries))

    async def find(self, text: str, conversation_id: str | None) -> list[ItemStatus]:
        """The items a query names, best first, at most MAX_RESULTS: the status question's own search."""
        if not text:
            # The extension has just opened: the items due soonest, as `list recommendations` shows them.
            shown = await self._answers.list_items(ListFilter.ALL, None)
            return await self._statuses(shown, conversation_id)
        ref = item_ref(text)
        answered = (
            await self._answers.status(ref, conversation_id) if ref is not None else await self._answers.search(text)
        )
        return await self._statuses(answered, conversation_id)

    async def _statuses(self, answered: Result, conversation_id: str | None) -> list[ItemStatus]:
        """Each item of an answer as its status (one indexed query per further item, ten at most)."""
        match answered:
            case ItemStatus():
                return [answered]
            case Choose(options=options):
                # "R8" in several reports: each option's command names one report's item.
                refs: Sequence[ItemRef | None] = [item_ref(command) for _label, command in options]
            case SearchResults(items=items) | ItemList(items=items):
                refs = [_ref_of(item) for item in items]
            case _:
                return []
        statuses = []
        for ref in refs[:MAX_RESULTS]:
            if ref is None:
                continue
            status = await self._answers.status(ref, conversation_id)
            if isinstance(status, ItemStatus):
                statuses.append(status)
        return statuses
