"""A burst of 1,000 activities from 50 conversations at once: every one answered, none lost."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import seeded_database, start_bot, stub  # noqa: F401 - fixtures used here
from tests.stub_connector import StubConnector
from tests.teams import BotClient, message

CONVERSATIONS = 50
ACTIVITIES = 1000


@pytest.mark.parametrize("database_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
async def test_a_burst_is_answered_in_full(start_bot: Callable[..., Any], stub: StubConnector) -> None:  # noqa: F811
    bot: BotClient = await start_bot()
    bodies = [
        message(f"status of recommendation {(2, 4, 8, 9)[index % 4]}", stub.url, conversation={
            "id": f"a:burst-{index % CONVERSATIONS}", "conversationType": "personal",
        })
        for index in range(ACTIVITIES)
    ]

    async def post(body: dict[str, Any]) -> int:
        return (await bot.post(body)).status

    statuses = await asyncio.wait_for(asyncio.gather(*(post(body) for body in bodies)), 120)
    assert collections.Counter(statuses) == {200: ACTIVITIES}
    sent = await stub.wait_for(ACTIVITIES, timeout=30)
    assert len(sent) == ACTIVITIES
    per_conversation = collections.Counter(one.conversation_id for one in sent)
    assert per_conversation == {f"a:burst-{index}": ACTIVITIES // CONVERSATIONS for index in range(CONVERSATIONS)}
    assert {one.reply_to_id for one in sent} == {body["id"] for body in bodies}
