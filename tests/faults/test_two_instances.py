"""Two instances of the server on one PostgreSQL, behind alternating requests.

Two `create_app` servers (each with its own engine, adapter and caches, as two processes would
have) share the test database. A dialog started on one continues on the other, turn by turn; a
digest run started on both at once sends each digest and nudge once; so do two `recbot digest
run --at` processes started together.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import time, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select, update

from bot.app import ADAPTER, ENGINE, create_app
from bot.config import Settings
from bot.proactive import Deliverer
from services.digest_plan import RunSettings
from services.digests import run_due
from storage import tracker
from storage.database import create_sessionmaker
from storage.models import Delivery, Item, Update
from tests.e2e.test_digests import london, next_day
from tests.fakes.stub_connector import StubConnector
from tests.fakes.teams import CHANNEL, JANE, SAM, TENANT, BotClient, channel_message, message

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True),
]
RECBOT = str(Path(sys.executable).with_name("recbot"))


@pytest.fixture
async def instances(seeded_database: str) -> AsyncIterator[list[tuple[BotClient, object]]]:
    settings = Settings(database_url=seeded_database, admins=(JANE.email,), run_scheduler=False, app_tenant_id=TENANT)
    servers, pairs = [], []
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
    for _ in range(2):
        app = create_app(settings)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        pairs.append((BotClient(str(server.make_url("")).rstrip("/"), session), app))
    yield pairs
    await session.close()
    for server in servers:
        await server.close()


async def say(bot: BotClient, connector: StubConnector, body: dict[str, object]) -> str:
    before = len(connector.sent)
    assert (await asyncio.wait_for(bot.post(body), 20)).status == 200
    replies = connector.sent[before:]
    assert replies, f"no reply to {body.get('text')!r}"
    return "\n".join(reply.readable for reply in replies)


async def test_a_dialog_alternates_between_instances(
    instances: list[tuple[BotClient, object]], stub: StubConnector
) -> None:
    _, app = instances[0]
    sessionmaker = create_sessionmaker(app[ENGINE])  # type: ignore[index]
    async with sessionmaker() as session:
        before = await session.scalar(select(func.count(Update.id)))
    turns = [
        ("update recommendation 8", "status"),
        ("In progress", "due date"),
        ("at risk", "since the last update"),
        ("Started on one instance, finished on the other.", "evidence"),
        ("skip", "later due date"),
        ("skip", "confirm"),
        ("confirm", "saved"),
    ]
    for index, (text, expected) in enumerate(turns):
        bot, _ = instances[index % 2]
        reply = await say(bot, stub, message(text, stub.url))
        assert expected in reply.lower(), (index, text, reply)
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count(Update.id))) == (before or 0) + 1
        latest = await session.scalar(select(Update).order_by(Update.id.desc()).limit(1))
    assert latest is not None and latest.narrative == "Started on one instance, finished on the other."
    # Each instance reads the other's write: the second one last saw the update under way (its hint
    # that the next message answers it is stale), and still answers the question.
    for bot, _ in instances:
        assert "finished on the other" in await say(bot, stub, message("status of recommendation 8", stub.url))


async def test_a_digest_run_on_both_instances_goes_out_once(
    instances: list[tuple[BotClient, object]], stub: StubConnector, seeded_database: str, tmp_path: Path
) -> None:
    (first, first_app), (_, second_app) = instances
    assert "Done" in await say(first, stub, channel_message("subscribe this channel to the weekly digest", stub.url))
    sessionmaker = create_sessionmaker(first_app[ENGINE])  # type: ignore[index]
    # Sam owns every item and has never talked to the bot: the nudge opens a new 1:1 chat.
    async with sessionmaker.begin() as db:
        sam = await tracker.remember_person(
            db,
            tenant_id=TENANT,
            aad_object_id=SAM.aad_object_id,
            email=SAM.email,
            name=SAM.name,
            teams_user_id=SAM.teams_id,
        )
        await db.execute(update(Item).values(owner_id=sam.id))

    def to_channel() -> int:
        return sum(1 for sent in stub.sent if sent.conversation_id == CHANNEL)

    async def sent_deliveries() -> int:
        async with sessionmaker() as session:
            return await session.scalar(select(func.count(Delivery.id)).where(Delivery.outcome == "sent")) or 0

    monday = next_day(0, working=True)
    at = london(monday, time(9, 30))
    runs = [
        run_due(
            sessionmaker=create_sessionmaker(app[ENGINE]),  # type: ignore[index]
            deliverer=Deliverer(app[ADAPTER], create_sessionmaker(app[ENGINE]), app_id=""),  # type: ignore[index]
            settings=RunSettings(),
            at=at,
        )
        for app in (first_app, second_app)
    ]
    reports = await asyncio.wait_for(asyncio.gather(*runs), 30)
    assert sum(report.sent for report in reports) == 2, [report.outcomes for report in reports]
    assert to_channel() == 1
    assert len(stub.created_conversations) == 1
    sent_before = len(stub.sent)
    assert await sent_deliveries() == 2

    # The next week, from cron on two hosts at once: `recbot digest run --at` twice, concurrently.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("Microsoft", "RECBOT_"))}
    env.update(DATABASE_URL=seeded_database, MicrosoftAppId="", MicrosoftAppPassword="", PYTHONWARNINGS="ignore")
    moment = london(monday + timedelta(days=7), time(9, 30)).isoformat()
    processes = [
        await asyncio.create_subprocess_exec(
            RECBOT,
            "digest",
            "run",
            "--at",
            moment,
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        for _ in range(2)
    ]
    outputs = await asyncio.wait_for(asyncio.gather(*(process.communicate() for process in processes)), 40)
    for process, (output, _) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output.decode(errors="replace")
    assert to_channel() == 2  # one more digest: this week's, once
    new_deliveries = await sent_deliveries() - 2
    assert new_deliveries >= 1
    assert len(stub.sent) - sent_before == new_deliveries  # every message sent is one 'sent' claim, none twice
