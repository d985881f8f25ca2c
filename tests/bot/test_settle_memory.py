"""`recbot serve` freezes what start-up made and makes young collections rarer (bot.app.settle_memory)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest
from aiohttp import web

from bot.app import PREPARING_FIRST_TURN, settle_memory


@pytest.fixture
def restore_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


async def test_settle_memory_freezes_the_start_up_objects(restore_gc: None) -> None:
    made_at_start_up = [{"an": "object"} for _ in range(1000)]

    await settle_memory(web.Application())

    assert gc.get_freeze_count() >= len(made_at_start_up)
    assert gc.get_threshold()[0] == 10_000


async def test_settle_memory_collects_once_the_first_turn_is_prepared(
    restore_gc: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    gc.unfreeze()
    collections: list[int] = []
    collect = gc.collect
    monkeypatch.setattr(gc, "collect", lambda *args: collections.append(1) or collect(*args))
    release = asyncio.Event()
    app = web.Application()
    app[PREPARING_FIRST_TURN] = asyncio.create_task(release.wait())

    await settle_memory(app)
    frozen_at_start_up = gc.get_freeze_count()
    assert frozen_at_start_up > 0 and gc.get_threshold()[0] == 10_000
    assert collections == []  # not on the way to /readyz

    loaded_while_preparing = [["a module's object"]]
    assert _collectable(loaded_while_preparing[0])
    release.set()
    await app[PREPARING_FIRST_TURN]
    await asyncio.sleep(0)  # the task's done callbacks run in the next loop iteration
    assert collections == [1]
    assert not _collectable(loaded_while_preparing[0])  # frozen with start-up's objects


def _collectable(value: object) -> bool:
    """True when the collector walks `value` (it is in a generation, not frozen)."""
    return any(candidate is value for candidate in gc.get_objects())
