"""Bot Framework state (conversation, user and dialog state) kept in the `bot_state` table (`storage/state.py`).

`SqlStorage` is a `botbuilder.core.Storage` with real eTags, so two turns of one conversation
running at once cannot silently overwrite each other: the second save raises `EtagConflict`.

Documents are stored as plain JSON. The few SDK objects that dialog state holds (DialogState,
DialogInstance, PromptOptions, ...) are written as tagged dicts such as
`{"$type": "DialogInstance", "id": ..., "state": {...}}` naming no Python module, unlike the
jsonpickle used by the SDK's Cosmos and Blob storages, so moving code never breaks a stored dialog.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, cast

from botbuilder.core import PrivateConversationState, Storage, StoreItem, TurnContext
from botbuilder.core.bot_state import CachedBotState
from botbuilder.schema import Activity, CardAction
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import utcnow
from storage.state import EtagConflict, StateAlong, StateTable, new_etag

__all__ = ["EtagConflict", "PrivateState", "SqlStorage", "from_document", "to_document"]

TYPE_TAG = "$type"
# A caller's dict that happens to have a "$type" key is wrapped in this tag, so it reads back as a dict.
_ESCAPED_DICT = "dict"
ETAG_KEY = "e_tag"


# --- the codec -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Codec:
    tag: str
    cls: type
    # Fields still to be encoded / already decoded; the codec adds and strips the tag itself.
    to_fields: Callable[[Any], dict[str, Any]]
    from_fields: Callable[[dict[str, Any]], Any]


def _attributes(*names: str) -> Callable[[Any], dict[str, Any]]:
    return lambda obj: {name: getattr(obj, name) for name in names}


@cache
def _codecs() -> tuple[dict[type, _Codec], dict[str, _Codec]]:
    """The codecs by class and by tag, made on first use: botbuilder.dialogs takes a fifth of a second
    to import, which `recbot serve` leaves until after it is ready (issue 12)."""
    from botbuilder.dialogs import DialogInstance, DialogState
    from botbuilder.dialogs.choices import Choice, ListStyle
    from botbuilder.dialogs.prompts import PromptOptions

    codecs = [
        _Codec("datetime", datetime, lambda v: {"value": v.isoformat()}, lambda f: datetime.fromisoformat(f["value"])),
        _Codec("date", date, lambda v: {"value": v.isoformat()}, lambda f: date.fromisoformat(f["value"])),
        _Codec(
            "StoreItem",
            StoreItem,
            lambda v: {name: value for name, value in vars(v).items() if name != ETAG_KEY},
            lambda f: StoreItem(**f),
        ),
        _Codec("DialogState", DialogState, _attributes("dialog_stack"), lambda f: DialogState(f["dialog_stack"])),
        _Codec("DialogInstance", DialogInstance, _attributes("id", "state"), lambda f: DialogInstance(**f)),
        # What prompts keep in their own state between turns.
        _Codec(
            "PromptOptions",
            PromptOptions,
            _attributes("prompt", "retry_prompt", "choices", "style", "validations", "number_of_attempts"),
            lambda f: PromptOptions(**f),
        ),
        _Codec("Choice", Choice, _attributes("value", "action", "synonyms"), lambda f: Choice(**f)),
        _Codec("ListStyle", ListStyle, lambda v: {"value": v.name}, lambda f: ListStyle[f["value"]]),
        # Schema models have their own (camelCase, Bot Framework wire format) JSON form.
        _Codec("Activity", Activity, lambda v: {"value": v.serialize()}, lambda f: Activity.deserialize(f["value"])),
        _Codec(
            "CardAction", CardAction, lambda v: {"value": v.serialize()}, lambda f: CardAction.deserialize(f["value"])
        ),
    ]
    return {codec.cls: codec for codec in codecs}, {codec.tag: codec for codec in codecs}


def _encode(value: Any, path: str) -> Any:
    # Exact types only: a subclass may hold more than its base's codec would save.
    codec = _codecs()[0].get(type(value))
    if codec is not None:
        fields = codec.to_fields(value)
        return {TYPE_TAG: codec.tag, **{name: _encode(item, f"{path}.{name}") for name, item in fields.items()}}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"bot state at {path} is {value}, which JSON cannot hold")
        return value
    if isinstance(value, list):
        return [_encode(item, f"{path}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, dict):
        encoded = {}
        for name, item in value.items():
            if not isinstance(name, str):
                raise TypeError(f"bot state at {path} has a {type(name).__name__} key {name!r}; keys must be str")
            encoded[name] = _encode(item, f"{path}.{name}")
        return {TYPE_TAG: _ESCAPED_DICT, "value": encoded} if TYPE_TAG in encoded else encoded
    known = ", ".join(sorted(_codecs()[1]))
    raise TypeError(
        f"cannot store a {type(value).__module__}.{type(value).__qualname__} in bot state (at {path}): "
        f"use dicts, lists, str, int, float, bool, None or one of {known}"
    )


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    tag = value.get(TYPE_TAG)
    if tag is None:
        return {name: _decode(item) for name, item in value.items()}
    if tag == _ESCAPED_DICT:
        return {name: _decode(item) for name, item in value["value"].items()}
    codec = _codecs()[1].get(tag)
    if codec is None:
        raise ValueError(f"stored bot state has an unknown {TYPE_TAG} {tag!r}")
    fields = {name: _decode(item) for name, item in value.items() if name != TYPE_TAG}
    return codec.from_fields(fields)


def to_document(item: object) -> dict[str, Any]:
    """The plain-JSON document stored for a state item (a dict or StoreItem), without its eTag."""
    if isinstance(item, dict):
        return cast(dict[str, Any], _encode({k: v for k, v in item.items() if k != ETAG_KEY}, "$"))
    if type(item) is StoreItem:
        return cast(dict[str, Any], _encode(item, "$"))
    raise TypeError(f"bot state items must be dicts or StoreItems, not {type(item).__qualname__}")


def from_document(document: dict[str, Any]) -> Any:
    """The dict or StoreItem a stored document stands for (the inverse of `to_document`)."""
    return _decode(document)


def stored_item(etag: str, document: dict[str, Any]) -> Any:
    """The state item a stored row holds, carrying the row's eTag."""
    item = from_document(document)
    _set_etag(item, etag)
    return item


def _etag_of(item: object) -> str | None:
    if isinstance(item, dict):
        return cast(str | None, item.get(ETAG_KEY))
    return cast(str | None, getattr(item, ETAG_KEY, None))


def _set_etag(item: object, etag: str) -> None:
    if isinstance(item, dict):
        item[ETAG_KEY] = etag
    else:
        setattr(item, ETAG_KEY, etag)


# --- the storage -----------------------------------------------------------------------------


class SqlStorage(Storage):
    """Bot Framework `Storage` over the `bot_state` table, with eTag concurrency control.

    eTags: `read` returns each item with its current eTag (`"e_tag"` key or attribute). `write`
    with no eTag or `"*"` overwrites; with any other eTag it writes only if the stored eTag is
    still that one, else raises `EtagConflict` (also when the key has since been deleted). Every
    write stores a new eTag and sets it on the written item, so one turn can save twice. A batch
    is written in one transaction: all items or none.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__()
        self.table = StateTable(sessionmaker)
        self._clock = clock

    async def read(self, keys: Iterable[str]) -> dict[str, Any]:
        """The stored items under `keys`, each with its current eTag; missing keys are left out."""
        if keys is None:
            raise ValueError("Keys are required when reading")  # the text StorageBaseTests expects
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        return {key: stored_item(etag, document) for key, etag, document in await self.table.read(wanted)}

    async def write(self, changes: Mapping[str, object]) -> None:
        """Store `changes` atomically, honouring their eTags (see the class docstring)."""
        if changes is None:
            raise ValueError("Changes are required when writing")  # the text StorageBaseTests expects
        if not changes:
            return
        now = self._clock()
        planned: list[tuple[object, str | None, dict[str, Any]]] = []
        # Sorted, so that two batches on PostgreSQL lock shared rows in the same order.
        for key in sorted(changes):
            item = changes[key]
            expected = _etag_of(item)
            if expected == "":
                raise ValueError(f"empty eTag writing {key!r}: use None or '*' to overwrite unconditionally")
            values: dict[str, Any] = {"key": key, "etag": new_etag(), "document": to_document(item), "updated_at": now}
            planned.append((item, None if expected == "*" else expected, values))
        await self.table.write([(expected, values) for _, expected, values in planned])
        for item, _, values in planned:
            _set_etag(item, values["etag"])

    async def delete(self, keys: Iterable[str]) -> None:
        """Delete the items under `keys`, whatever their eTags; missing keys are ignored."""
        if keys is None:
            raise ValueError("Keys are required when deleting")
        wanted = list(keys)
        if wanted:
            await self.table.delete(wanted)


# --- the per-turn cache ----------------------------------------------------------------------


class _Snapshot(CachedBotState):
    """The SDK's per-turn cache of one state object, telling a change by its stored document.

    The SDK compares jsonpickle flattenings, made three times a turn (on load, to see whether to
    save, after saving); the document this module stores says the same for a quarter of the cost
    (an update dialog's state: ~13 µs against ~50 µs).
    """

    def compute_hash(self, obj: object) -> Any:
        return None if obj is None else to_document(obj)


class PrivateState(PrivateConversationState):
    """`PrivateConversationState` (per person in a conversation) whose turn cache is a `_Snapshot`."""

    async def load(self, turn_context: TurnContext, force: bool = False) -> None:
        # BotState.load, with the cache made as a _Snapshot; a row read (or taken) once this turn is not
        # read again when it was empty, as BotState.load would.
        if force or not isinstance(self.get_cached_state(turn_context), _Snapshot):
            key = self.get_storage_key(turn_context)
            items = await self._storage.read([key])
            turn_context.turn_state[self._context_service_key] = _Snapshot(items.get(key))

    def state_along(self, turn_context: TurnContext) -> StateAlong:
        """This turn's state row, for another statement to read (see `storage.state.StateAlong`)."""
        return StateAlong(self.get_storage_key(turn_context))

    def take(self, turn_context: TurnContext, along: StateAlong) -> None:
        """Keep the state `along` read as this turn's, as `load` would have; nothing when it read none."""
        if along.was_read:
            item = stored_item(*along.stored) if along.stored else None
            turn_context.turn_state[self._context_service_key] = _Snapshot(item)
