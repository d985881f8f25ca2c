"""`recbot serve` is killed with SIGKILL in the middle of an update dialog, then started again.

The server is a real subprocess (`recbot serve`, local mode, scheduler off) on the test database;
the test posts Teams-shaped activities to it whose serviceUrl is the stub connector run here.
After the restart the dialog continues where it was, it completes, and exactly one update row is
stored; at no point is there a half-written update (a row without the item reflecting it, or an
item changed without its row).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from domain.updates import activity_key
from storage.database import create_engine, create_sessionmaker
from storage.models import Item, Report, Update
from tests.fakes.stub_connector import StubConnector
from tests.fakes.teams import JANE, message
from tests.faults.server_process import ServerProcess

NARRATIVE = "Hydra training: 62% of response officers done; the rest booked for March."
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


class Chat:
    """Jane's personal chat with whichever server process is running now."""

    def __init__(self, connector: StubConnector, session: aiohttp.ClientSession) -> None:
        self.stub = connector
        self.session = session
        self.server: ServerProcess | None = None

    async def post(self, body: dict[str, Any]) -> int:
        assert self.server is not None
        async with self.session.post(f"{self.server.base_url}/api/messages", json=body) as response:
            await response.read()
            return response.status

    async def say(self, text: str) -> str:
        before = len(self.stub.sent)
        status = await asyncio.wait_for(self.post(message(text, self.stub.url)), 20)
        assert status == 200, (text, status, self.server.log_text() if self.server else "")
        replies = self.stub.sent[before:]
        assert replies, f"no reply to {text!r}"
        return "\n".join(reply.readable for reply in replies)


@pytest.fixture
async def chat(stub: StubConnector) -> AsyncIterator[Chat]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield Chat(stub, session)


@pytest.fixture
async def servers(seeded_database: str, tmp_path: Path) -> AsyncIterator[list[ServerProcess]]:
    """Server processes started by a test: whatever is still running is stopped afterwards."""
    started: list[ServerProcess] = []
    yield started
    for server in started:
        await server.kill()


async def start(servers: list[ServerProcess], database_url: str, workdir: Path) -> ServerProcess:
    server = ServerProcess(database_url, workdir, admins=(JANE.email,))
    servers.append(server)
    return await server.start()


async def item_8_state(database_url: str) -> tuple[list[Update], Item]:
    """Every update of OIC-2025 R8, and the item itself."""
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            item = (
                await session.scalars(
                    select(Item)
                    .join(Report)
                    .where(Report.code == "OIC-2025", Item.number == 8, Item.kind == "recommendation")
                )
            ).one()
            updates = list(
                (await session.scalars(select(Update).where(Update.item_id == item.id).order_by(Update.id))).all()
            )
            return updates, item
    finally:
        await engine.dispose()


def assert_whole(updates: list[Update], item: Item, *, initial: list[Update], before: Item) -> None:
    """Every new update row is complete and the item reflects the newest one; without one, the item is untouched."""
    known = {row.id for row in initial}
    new = [row for row in updates if row.id not in known]
    assert [row.id for row in updates if row.id in known] == [row.id for row in initial]
    for row in new:
        assert (row.narrative, row.status, row.assessment) == (NARRATIVE, "In progress", "at risk")
        assert row.author_name and row.source_activity_key
    if new:
        assert (item.status, item.assessment, item.last_update_at) == (
            new[-1].status,
            new[-1].assessment,
            new[-1].created_at,
        )
    else:
        assert (item.status, item.assessment, item.last_update_at) == (
            before.status,
            before.assessment,
            before.last_update_at,
        )


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
async def test_sigkill_after_the_narrative_then_the_dialog_continues(
    chat: Chat, servers: list[ServerProcess], seeded_database: str, tmp_path: Path
) -> None:
    initial, before = await item_8_state(seeded_database)
    chat.server = await start(servers, seeded_database, tmp_path)

    assert "status" in (await chat.say("update recommendation 8")).lower()
    assert "due date" in (await chat.say("In progress")).lower()
    assert "since the last update" in (await chat.say("at risk")).lower()
    assert "evidence" in (await chat.say(NARRATIVE)).lower()

    await chat.server.kill()
    updates, item = await item_8_state(seeded_database)
    assert len(updates) == len(initial)  # nothing is written before confirm
    assert_whole(updates, item, initial=initial, before=before)

    chat.server = await start(servers, seeded_database, tmp_path)
    # The evidence question was the last one asked: "skip" answers it, and the next step is asked.
    assert "later due date" in (await chat.say("skip")).lower()
    summary = await chat.say("skip")
    card = chat.stub.sent[-1].card
    assert "confirm" in summary.lower() and card is not None and "62% of response officers" in json.dumps(card)
    assert "Saved" in await chat.say("confirm")

    updates, item = await item_8_state(seeded_database)
    assert len(updates) == len(initial) + 1
    assert updates[-1].narrative == NARRATIVE
    assert_whole(updates, item, initial=initial, before=before)
    # And the bot is back to ordinary questions in that chat.
    assert "62% of response officers" in await chat.say("status of recommendation 8")


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
@pytest.mark.parametrize("delay", [0.0, 0.03])
async def test_sigkill_during_the_confirm_then_teams_redelivers(
    chat: Chat, servers: list[ServerProcess], seeded_database: str, tmp_path: Path, delay: float
) -> None:
    """Killed while saving: the row is whole or absent; Teams' redelivery of the same activity saves it once."""
    initial, before = await item_8_state(seeded_database)
    chat.server = await start(servers, seeded_database, tmp_path)
    for text in ("update recommendation 8", "In progress", "at risk", NARRATIVE, "skip", "skip"):
        await chat.say(text)

    confirm = message("confirm", chat.stub.url)
    posting = asyncio.create_task(chat.post(confirm))
    await asyncio.sleep(delay)
    await chat.server.kill()
    with contextlib.suppress(aiohttp.ClientError):  # the connection died with the process, as Teams sees it
        await posting
    updates, item = await item_8_state(seeded_database)
    assert len(updates) - len(initial) in (0, 1)
    assert_whole(updates, item, initial=initial, before=before)

    # Teams retries an activity it got no answer for: the same id, the same text.
    chat.server = await start(servers, seeded_database, tmp_path)
    assert await asyncio.wait_for(chat.post(confirm), 20) == 200
    assert await asyncio.wait_for(chat.post(confirm), 20) == 200  # and once more, for good measure
    updates, item = await item_8_state(seeded_database)
    assert len(updates) == len(initial) + 1, [(u.id, u.source_activity_key) for u in updates]
    assert updates[-1].source_activity_key == activity_key(confirm["conversation"]["id"], confirm["id"])
    assert_whole(updates, item, initial=initial, before=before)
