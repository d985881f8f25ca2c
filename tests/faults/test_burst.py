"""A burst of 1,000 activities from 50 conversations at once: every one answered, none lost, no memory kept."""

from __future__ import annotations

import asyncio
import collections
import gc
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from tests.fakes.stub_connector import StubConnector
from tests.fakes.teams import BotClient, message

CONVERSATIONS = 50
ACTIVITIES = 1000


def burst(stub: StubConnector, count: int = ACTIVITIES) -> list[dict[str, Any]]:
    return [
        message(
            f"status of recommendation {(2, 4, 8, 9)[index % 4]}",
            stub.url,
            conversation={
                "id": f"a:burst-{index % CONVERSATIONS}",
                "conversationType": "personal",
            },
        )
        for index in range(count)
    ]


async def send_all(bot: BotClient, bodies: list[dict[str, Any]]) -> list[int]:
    async def post(body: dict[str, Any]) -> int:
        return (await bot.post(body)).status

    return await asyncio.wait_for(asyncio.gather(*(post(body) for body in bodies)), 120)


@pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
async def test_a_burst_is_answered_in_full(start_bot: Callable[..., Any], stub: StubConnector) -> None:
    bot: BotClient = await start_bot()
    bodies = burst(stub)
    statuses = await send_all(bot, bodies)
    assert collections.Counter(statuses) == {200: ACTIVITIES}
    sent = await stub.wait_for(ACTIVITIES, timeout=30)
    assert len(sent) == ACTIVITIES
    per_conversation = collections.Counter(one.conversation_id for one in sent)
    assert per_conversation == {f"a:burst-{index}": ACTIVITIES // CONVERSATIONS for index in range(CONVERSATIONS)}
    assert {one.reply_to_id for one in sent} == {body["id"] for body in bodies}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_memory_is_back_where_it_was_after_a_burst(
    start_bot: Callable[..., Any], stub: StubConnector, caplog: pytest.LogCaptureFixture
) -> None:
    """A burst keeps no Python objects: after a second burst, memory is where the first left it.

    Measured from one burst to the next, not from before the first: tracemalloc counts only what is
    allocated once it starts, so the buffers of pooled keep-alive connections (up to 100 to the bot
    and 200 from it to the connector), renewed by every burst, would count as kept memory (~2 MB)
    while the ones they replaced, allocated earlier, would not count as freed.
    """
    bot: BotClient = await start_bot()
    await send_all(bot, burst(stub, 200))  # warms the per-process caches for the 50 conversations

    async def burst_then_measure() -> int:
        assert collections.Counter(await send_all(bot, burst(stub))) == {200: ACTIVITIES}
        # The stub's record of the replies and pytest's of the log lines are not the bot's memory.
        stub.sent.clear()
        caplog.clear()
        gc.collect()
        return tracemalloc.get_traced_memory()[0]

    tracemalloc.start()
    try:
        after_first = await burst_then_measure()
        after_second = await burst_then_measure()
    finally:
        tracemalloc.stop()
    assert after_first > 0  # the burst did allocate
    kept = after_second - after_first
    assert kept < 512 * 1024, f"{kept / 1024:.0f} KiB more held after the second burst than after the first"
