"""Weekly digests and nudges, end to end: the real app's adapter, the stub connector, a real database.

Subscriptions are made by posting the channel command over HTTP; each run is driven by hand at a
chosen moment, as `recbot digest run --at` does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import ADAPTER, ENGINE, create_app
from bot.config import Settings
from bot.proactive import Deliverer
from domain.schedule import is_working_day
from services.digest_plan import RunSettings
from services.digests import RunReport, run_due
from storage import deliveries, tracker
from storage.database import create_sessionmaker
from storage.models import DigestSubscription, Item
from tests.fakes.stub_connector import StubConnector
from tests.fakes.teams import CHANNEL, JANE, SAM, TENANT, BotClient, channel_message

LONDON = ZoneInfo("Europe/London")


def next_day(weekday: int, *, working: bool) -> date:
    """The first such weekday at least a week from today (after any subscription made now)."""
    day = datetime.now(LONDON).date() + timedelta(days=7)
    while day.weekday() != weekday or (working and not is_working_day(day)):
        day += timedelta(days=1)
    return day


def london(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(timezone.utc)


@dataclass
class Harness:
    bot: BotClient
    stub: StubConnector
    sessionmaker: async_sessionmaker[AsyncSession]
    deliverer: Deliverer

    async def run(self, at: datetime, **options: object) -> RunReport:
        return await run_due(
            sessionmaker=self.sessionmaker, deliverer=self.deliverer, settings=RunSettings(), at=at, **options
        )

    def to_channel(self) -> list[object]:
        return [sent for sent in self.stub.sent if sent.conversation_id == CHANNEL]

    def to_new_chats(self) -> list[object]:
        return [sent for sent in self.stub.sent if sent.conversation_id.startswith("a:")]

    async def subscription(self) -> DigestSubscription:
        async with self.sessionmaker() as session:
            return (await session.scalars(select(DigestSubscription))).one()

    async def channel_command(self, text: str) -> None:
        """Post the command in the channel, as an admin, and check it was done."""
        before = len(self.stub.sent)
        response = await self.bot.post(channel_message(text, self.stub.url))
        assert response.status == 200
        replies = self.stub.sent[before:]
        assert replies and "Done" in replies[-1].readable, [reply.readable for reply in replies]


@pytest.fixture
async def harness(seeded_database: str, stub: StubConnector) -> AsyncIterator[Harness]:
    # The app's own scheduler would run on the real clock; these tests run each moment by hand.
    settings = Settings(database_url=seeded_database, admins=(JANE.email,), run_scheduler=False, app_tenant_id=TENANT)
    app = create_app(settings)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    session = aiohttp.ClientSession()
    sessionmaker = create_sessionmaker(app[ENGINE])
    # Sam owns every open item and has never talked to the bot: nudges need a new 1:1 chat.
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
    yield Harness(
        bot=BotClient(str(server.make_url("")).rstrip("/"), session),
        stub=stub,
        sessionmaker=sessionmaker,
        deliverer=Deliverer(app[ADAPTER], sessionmaker, app_id=settings.app_id),
    )
    await session.close()
    await server.close()


async def test_a_channel_digest_and_a_nudge_go_out_once(harness: Harness) -> None:
    await harness.channel_command("subscribe this channel to the weekly digest")
    monday = next_day(0, working=True)
    at = london(monday, time(9, 30))
    stub = harness.stub
    before = len(stub.sent)

    report = await harness.run(at)

    assert report.sent == 2, report.outcomes
    digests = harness.to_channel()
    assert len(digests) == 1
    assert digests[0].card is not None and "OIC-2025" in digests[0].readable
    # Items are named by their titles, not by the deadline boilerplate every text starts with.
    assert "- OIC-2025 R8 · Hydra training package · overdue by" in digests[0].readable
    assert "chief constables" not in digests[0].readable
    assert len(stub.created_conversations) == 1
    created = stub.created_conversations[0]
    assert created["members"] == [{"id": SAM.teams_id}]
    # The SDK serialises tenant_id as "tenantID"; Teams reads the tenant from channelData.
    assert created["bot"]["id"] == "28:recbot-app-id"
    assert created["channelData"] == {"tenant": {"id": TENANT}}
    nudges = harness.to_new_chats()
    assert len(nudges) == 1 and "no update" in nudges[0].readable.lower()
    assert "OIC-2025 R9 · Four modules of the e-learning package: " in nudges[0].readable
    assert len(stub.sent) == before + 2

    # A second run in the same period (and the same day) sends nothing.
    again = await harness.run(at + timedelta(hours=3))
    assert again.sent == 0 and len(stub.sent) == before + 2

    # Next working day: Sam was nudged yesterday about staleness, so no new nudge; no digest either.
    tuesday = monday + timedelta(days=1)
    while not is_working_day(tuesday):
        tuesday += timedelta(days=1)
    later = await harness.run(london(tuesday, time(9, 30)))
    assert later.sent == 0 and len(stub.sent) == before + 2


async def test_dry_run_prints_and_sends_nothing(harness: Harness) -> None:
    import io

    await harness.channel_command("subscribe this channel to the weekly digest")
    out = io.StringIO()
    before = len(harness.stub.sent)
    report = await harness.run(london(next_day(0, working=True), time(9, 30)), dry_run=True, out=out)
    assert len(harness.stub.sent) == before and not harness.stub.created_conversations
    assert report.count("dry run") == 2
    printed = out.getvalue()
    assert "19:governance-board-channel@thread.tacv2" in printed and SAM.teams_id in printed
    # Nothing was claimed: the real run still sends.
    assert (await harness.run(london(next_day(0, working=True), time(9, 30)))).sent == 2


async def test_a_503_is_retried_and_delivers_once(harness: Harness) -> None:
    # Saturday: a digest but no nudges, so the one failure hits the digest.
    await harness.channel_command("subscribe this channel to the weekly digest on Saturday at 8am")
    harness.stub.fail_next.append((503, {"Retry-After": "0"}))
    report = await harness.run(london(next_day(5, working=False), time(8, 30)))
    assert report.sent == 1, report.outcomes
    assert len(harness.to_channel()) == 1


async def test_a_403_deactivates_the_subscription(harness: Harness) -> None:
    await harness.channel_command("subscribe this channel to the weekly digest on Saturday at 8am")
    harness.stub.fail_next.append((403, {}))
    report = await harness.run(london(next_day(5, working=False), time(8, 30)))
    assert report.gone == 1 and report.sent == 0
    subscription = await harness.subscription()
    assert not subscription.active and "gone" in (subscription.deactivated_reason or "")
    # Deactivated: next week nothing is tried.
    later = await harness.run(london(next_day(5, working=False) + timedelta(days=7), time(8, 30)))
    assert later.outcomes == []


async def test_unsubscribe_stops_the_digest(harness: Harness) -> None:
    await harness.channel_command("subscribe this channel to the weekly digest on Saturday at 8am")
    await harness.channel_command("unsubscribe")
    report = await harness.run(london(next_day(5, working=False), time(8, 30)))
    assert report.outcomes == [] and harness.to_channel() == []


async def test_two_concurrent_runs_send_once(harness: Harness) -> None:
    await harness.channel_command("subscribe this channel to the weekly digest")
    at = london(next_day(0, working=True), time(9, 30))
    first, second = await asyncio.gather(harness.run(at), harness.run(at))
    assert first.sent + second.sent == 2
    assert len(harness.to_channel()) == 1 and len(harness.to_new_chats()) == 1
    assert len(harness.stub.created_conversations) == 1


async def test_the_scheduler_sends_what_is_due_and_stops_cleanly(harness: Harness) -> None:
    from services.digests import STATE_KEPT, Scheduler
    from storage.state import StateTable

    await harness.channel_command("subscribe this channel to the weekly digest")
    at = london(next_day(0, working=True), time(9, 30))
    state = StateTable(harness.sessionmaker)
    for key, written in (("abandoned", at - STATE_KEPT - timedelta(days=1)), ("recent", at - timedelta(days=1))):
        await state.write([(None, {"key": key, "etag": key, "document": {}, "updated_at": written})])
    scheduler = Scheduler(
        sessionmaker=harness.sessionmaker,
        deliverer=harness.deliverer,
        settings=RunSettings(),
        interval=0.05,
        clock=lambda: at,
    )
    scheduler.start()
    await harness.stub.wait_for(len(harness.stub.sent) + 2)
    while scheduler.runs < 3:
        await asyncio.sleep(0.02)
    await scheduler.stop()
    assert len(harness.to_channel()) == 1 and len(harness.to_new_chats()) == 1
    # Conversation state nobody has written for STATE_KEPT is gone; the rest is kept.
    assert await state.last_written("abandoned") is None
    assert await state.last_written("recent") == at - timedelta(days=1)


@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
async def test_a_run_while_another_instance_runs_does_nothing(harness: Harness) -> None:
    await harness.channel_command("subscribe this channel to the weekly digest")
    at = london(next_day(0, working=True), time(9, 30))
    before = len(harness.stub.sent)
    engine = harness.sessionmaker.kw["bind"]
    # Another instance's run holds the lock on a connection of its own.
    async with engine.connect() as other:
        assert await other.scalar(select(func.pg_try_advisory_lock(deliveries.DIGEST_RUN_LOCK)))
        waiting = await harness.run(at)
        assert waiting.elsewhere and waiting.outcomes == [] and len(harness.stub.sent) == before
        assert "another instance" in waiting.summary()
        await other.scalar(select(func.pg_advisory_unlock(deliveries.DIGEST_RUN_LOCK)))
    assert (await harness.run(at)).sent == 2
