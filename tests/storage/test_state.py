"""SqlStorage: the SDK's storage conformance suite, eTags under races, dialogs across a restart."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from botbuilder.core import ConversationState, MessageFactory, StoreItem, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.dialogs import (
    DialogSet,
    DialogTurnStatus,
    PromptOptions,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult
from botbuilder.testing.storage_base_tests import StorageBaseTests
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.state import SqlStorage
from storage.database import create_engine, create_sessionmaker
from storage.models import BotState as BotStateRow
from storage.state import EtagConflict

Sessionmaker = async_sessionmaker[AsyncSession]

CONFORMANCE_TESTS = sorted(name for name, member in vars(StorageBaseTests).items() if isinstance(member, staticmethod))


def _url(engine: AsyncEngine) -> str:
    return engine.url.render_as_string(hide_password=False)


async def _stored_document(sessionmaker: Sessionmaker, key: str) -> dict[str, Any]:
    async with sessionmaker() as session:
        document = await session.scalar(select(BotStateRow.document).where(BotStateRow.key == key))
    assert document is not None, f"nothing stored under {key!r}"
    return document


def test_the_conformance_suite_is_all_here() -> None:
    assert len(CONFORMANCE_TESTS) == 11
    assert "proceeds_through_waterfall" in CONFORMANCE_TESTS


@pytest.mark.parametrize("name", CONFORMANCE_TESTS)
async def test_storage_conformance(name: str, sessionmaker: Sessionmaker) -> None:
    assert await getattr(StorageBaseTests, name)(SqlStorage(sessionmaker)) is True


# --- eTags -----------------------------------------------------------------------------------


async def test_every_write_gives_a_new_etag_and_sets_it_on_the_item(sessionmaker: Sessionmaker) -> None:
    storage = SqlStorage(sessionmaker)
    item: dict[str, Any] = {"count": 1}
    await storage.write({"k": item})
    first = item["e_tag"]
    assert (await storage.read(["k"]))["k"] == {"count": 1, "e_tag": first}

    item["count"] = 2
    await storage.write({"k": item})  # the eTag it was given makes this a conditional write
    assert item["e_tag"] != first
    assert (await storage.read(["k"]))["k"] == {"count": 2, "e_tag": item["e_tag"]}
    assert "e_tag" not in await _stored_document(sessionmaker, "k")


async def test_a_stale_etag_is_refused_and_changes_nothing(sessionmaker: Sessionmaker) -> None:
    storage = SqlStorage(sessionmaker)
    await storage.write({"k": {"count": 1}})
    mine = (await storage.read(["k"]))["k"]
    theirs = (await storage.read(["k"]))["k"]
    theirs["count"] = 2
    await storage.write({"k": theirs})

    mine["count"] = 99
    with pytest.raises(EtagConflict) as conflict:
        await storage.write({"k": mine})
    assert (conflict.value.key, conflict.value.current) == ("k", theirs["e_tag"])
    assert (await storage.read(["k"]))["k"]["count"] == 2


@pytest.mark.parametrize("etag", [None, "*"])
async def test_no_etag_or_star_overwrites(sessionmaker: Sessionmaker, etag: str | None) -> None:
    storage = SqlStorage(sessionmaker)
    await storage.write({"k": {"count": 1}})
    await storage.write({"k": {"count": 2, "e_tag": etag}})
    assert (await storage.read(["k"]))["k"]["count"] == 2


async def test_a_conditional_write_to_a_deleted_key_is_a_conflict(sessionmaker: Sessionmaker) -> None:
    storage = SqlStorage(sessionmaker)
    await storage.write({"k": {"count": 1}})
    item = (await storage.read(["k"]))["k"]
    await storage.delete(["k"])
    with pytest.raises(EtagConflict, match="no longer exists"):
        await storage.write({"k": item})
    assert await storage.read(["k"]) == {}


async def test_an_empty_etag_is_refused(sessionmaker: Sessionmaker) -> None:
    with pytest.raises(ValueError, match="empty eTag"):
        await SqlStorage(sessionmaker).write({"k": {"e_tag": ""}})


async def test_a_batch_is_written_whole_or_not_at_all(sessionmaker: Sessionmaker) -> None:
    storage = SqlStorage(sessionmaker)
    await storage.write({"b": {"count": 1}})
    with pytest.raises(EtagConflict):
        await storage.write({"a": {"count": 1}, "b": {"count": 2, "e_tag": "stale"}, "c": {"count": 1}})
    assert set(await storage.read(["a", "b", "c"])) == {"b"}


async def test_racing_conditional_writes_have_one_winner(engine: AsyncEngine, sessionmaker: Sessionmaker) -> None:
    storage = SqlStorage(sessionmaker)
    await storage.write({"race": {"winner": None}})
    etag = (await storage.read(["race"]))["race"]["e_tag"]

    # One engine per racer, as if each were a separate bot process, connected before the start.
    racers = [create_engine(_url(engine)) for _ in range(8)]
    try:
        for racer in racers:
            async with racer.connect() as connection:
                await connection.execute(text("SELECT 1"))
        start = asyncio.Barrier(len(racers))

        async def race(number: int, racer: AsyncEngine) -> int:
            racer_storage = SqlStorage(create_sessionmaker(racer))
            await start.wait()
            await racer_storage.write({"race": {"winner": number, "e_tag": etag}})
            return number

        outcomes = await asyncio.gather(*(race(n, r) for n, r in enumerate(racers)), return_exceptions=True)
    finally:
        for racer in racers:
            await racer.dispose()

    winners = [outcome for outcome in outcomes if isinstance(outcome, int)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(outcome, EtagConflict) for outcome in outcomes if outcome not in winners), outcomes
    stored = (await storage.read(["race"]))["race"]
    assert stored["winner"] == winners[0] and stored["e_tag"] != etag


async def test_a_write_queued_behind_another_transaction_sees_its_etag(
    engine: AsyncEngine, sessionmaker: Sessionmaker
) -> None:
    storage = SqlStorage(sessionmaker)
    await storage.write({"k": {"n": 0}})
    etag = (await storage.read(["k"]))["k"]["e_tag"]

    async with engine.begin() as other_process:
        await other_process.execute(
            update(BotStateRow).where(BotStateRow.key == "k", BotStateRow.etag == etag).values(etag="theirs")
        )
        waiting = asyncio.create_task(storage.write({"k": {"n": 1, "e_tag": etag}}))
        await asyncio.sleep(0.2)
        assert not waiting.done()  # blocked on the row (PostgreSQL) or database (SQLite) lock
    with pytest.raises(EtagConflict):
        await waiting
    assert (await storage.read(["k"]))["k"] == {"n": 0, "e_tag": "theirs"}


async def test_a_turn_can_save_its_state_twice(sessionmaker: Sessionmaker) -> None:
    conversation_state = ConversationState(SqlStorage(sessionmaker))
    progress = conversation_state.create_property("progress")

    async def on_turn(turn_context: TurnContext) -> None:
        await progress.set(turn_context, f"{turn_context.activity.text} started")
        await conversation_state.save_changes(turn_context)
        await progress.set(turn_context, f"{turn_context.activity.text} done")
        await conversation_state.save_changes(turn_context)  # with the eTag the first save returned
        await turn_context.send_activity(await progress.get(turn_context))

    adapter = TestAdapter(on_turn)
    await (await adapter.send("one")).assert_reply("one done")
    await (await adapter.send("two")).assert_reply("two done")


async def test_racing_first_writes_of_a_new_key_upsert(engine: AsyncEngine, sessionmaker: Sessionmaker) -> None:
    storage = SqlStorage(sessionmaker)
    await asyncio.gather(*(storage.write({"new": {"writer": n}}) for n in range(6)))
    assert (await storage.read(["new"]))["new"]["writer"] in range(6)


# --- the codec -------------------------------------------------------------------------------


async def test_values_round_trip_as_plain_tagged_json(sessionmaker: Sessionmaker) -> None:
    storage = SqlStorage(sessionmaker)
    when = datetime(2025, 3, 1, 9, 30, tzinfo=timezone.utc)
    value = {
        "when": when,
        "due_on": date(2025, 6, 30),
        "nested": [{"$type": "not a tag", "n": [1, 2.5, True, None]}],
    }
    await storage.write({"k": dict(value)})

    read = (await storage.read(["k"]))["k"]
    del read["e_tag"]
    assert read == value
    document = await _stored_document(sessionmaker, "k")
    assert document["when"] == {"$type": "datetime", "value": "2025-03-01T09:30:00+00:00"}
    assert document["nested"][0] == {"$type": "dict", "value": {"$type": "not a tag", "n": [1, 2.5, True, None]}}


async def test_store_items_round_trip(sessionmaker: Sessionmaker) -> None:
    storage = SqlStorage(sessionmaker)
    await storage.write({"k": StoreItem(name="R8", count=3)})
    item = (await storage.read(["k"]))["k"]
    assert isinstance(item, StoreItem)
    assert (item.name, item.count) == ("R8", 3)
    assert isinstance(item.e_tag, str)


async def test_unknown_types_are_refused_at_write_time(sessionmaker: Sessionmaker) -> None:
    class Draft:
        pass

    storage = SqlStorage(sessionmaker)
    with pytest.raises(TypeError, match=r"Draft in bot state \(at \$.steps\[1\].draft\)"):
        await storage.write({"ok": {"n": 1}, "k": {"steps": [1, {"draft": Draft()}]}})
    with pytest.raises(TypeError, match="keys must be str"):
        await storage.write({"k": {1: "one"}})
    assert await storage.read(["ok", "k"]) == {}


# --- dialogs ---------------------------------------------------------------------------------


def _name_bot(storage: SqlStorage) -> TestAdapter:
    """A bot whose one waterfall asks for a name, then greets."""
    conversation_state = ConversationState(storage)
    dialogs = DialogSet(conversation_state.create_property("DialogState"))

    async def ask_name(step: WaterfallStepContext) -> DialogTurnResult:
        return await step.prompt(TextPrompt.__name__, PromptOptions(prompt=MessageFactory.text("What is your name?")))

    async def greet(step: WaterfallStepContext) -> DialogTurnResult:
        await step.context.send_activity(f"Hello {step.result}")
        return await step.end_dialog()

    dialogs.add(TextPrompt(TextPrompt.__name__))
    dialogs.add(WaterfallDialog("greet", [ask_name, greet]))

    async def on_turn(turn_context: TurnContext) -> None:
        dialog_context = await dialogs.create_context(turn_context)
        result = await dialog_context.continue_dialog()
        if result.status == DialogTurnStatus.Empty:
            await dialog_context.begin_dialog("greet")
        await conversation_state.save_changes(turn_context)

    return TestAdapter(on_turn)


async def test_a_dialog_continues_after_a_restart(engine: AsyncEngine, sessionmaker: Sessionmaker) -> None:
    await (await _name_bot(SqlStorage(sessionmaker)).send("hi")).assert_reply("What is your name?")

    async with sessionmaker() as session:
        (key,) = (await session.scalars(select(BotStateRow.key))).all()  # the conversation's state
    stored = await _stored_document(sessionmaker, key)
    assert "py/" not in json.dumps(stored)  # no jsonpickle class paths
    stack = stored["DialogState"]["dialog_stack"]
    assert stored["DialogState"]["$type"] == "DialogState"
    assert [(frame["$type"], frame["id"]) for frame in stack] == [
        ("DialogInstance", "TextPrompt"),
        ("DialogInstance", "greet"),
    ]
    assert stack[0]["state"]["options"]["prompt"] == {
        "$type": "Activity",
        "value": {"type": "message", "text": "What is your name?", "inputHint": "acceptingInput"},
    }

    # A new process: new engine, new storage, new dialogs, same database.
    restarted = create_engine(_url(engine))
    try:
        bot = _name_bot(SqlStorage(create_sessionmaker(restarted)))
        await (await bot.send("Ada")).assert_reply("Hello Ada")
    finally:
        await restarted.dispose()
    assert (await _stored_document(sessionmaker, key))["DialogState"]["dialog_stack"] == []


# --- housekeeping ----------------------------------------------------------------------------


async def test_delete_expired_deletes_only_older_items(sessionmaker: Sessionmaker) -> None:
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    now = [start]
    storage = SqlStorage(sessionmaker, clock=lambda: now[0])
    await storage.write({"abandoned": {"n": 1}, "refreshed": {"n": 1}})
    now[0] = start + timedelta(days=30)
    await storage.write({"refreshed": {"n": 2}, "new": {"n": 1}})

    assert await storage.table.last_written("abandoned") == start
    assert await storage.table.last_written("refreshed") == now[0]
    assert await storage.table.delete_expired(start + timedelta(days=7)) == 1
    assert set(await storage.read(["abandoned", "refreshed", "new"])) == {"refreshed", "new"}
    assert await storage.table.last_written("abandoned") is None
    assert await storage.table.delete_expired(start + timedelta(days=7)) == 0
