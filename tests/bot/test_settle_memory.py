"""`recbot serve` freezes what start-up made and makes young collections rarer (bot.app.settle_memory)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from aiohttp import web

from bot.app import settle_memory


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
