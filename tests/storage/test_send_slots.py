"""The Teams send rate is shared by every instance: each send reserves a slot per tenant in the database."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.proactive import Pacer
from storage import deliveries
from storage.database import create_engine, create_sessionmaker

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


async def test_slots_are_spaced_and_never_shared(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    now = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    step = timedelta(milliseconds=50)

    async def reserve(tenant: str) -> datetime:
        async with sessionmaker.begin() as session:
            return await deliveries.reserve_send_slot(session, tenant_id=tenant, now=lambda: now, interval=step)

    starts = await asyncio.gather(*(reserve(TENANT) for _ in range(10)))
    assert sorted(starts) == [now + step * n for n in range(10)]
    assert await reserve("another-tenant") == now  # other tenants are not held up


async def test_two_instances_together_keep_to_one_rate(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    # A second instance: its own engine and pacer over the same database.
    url = sessionmaker.kw["bind"].url.render_as_string(hide_password=False)
    other_engine = create_engine(url)
    rate = 50.0
    pacers = [Pacer(sessionmaker, per_tenant_rate=rate), Pacer(create_sessionmaker(other_engine), per_tenant_rate=rate)]
    sent: list[float] = []

    async def send() -> None:
        sent.append(time.monotonic())

    try:
        await asyncio.gather(*(pacer.run(TENANT, send) for pacer in pacers for _ in range(10)))
    finally:
        await other_engine.dispose()
    # Twenty sends at 50 a second between them: at least 19 intervals of 20 ms, whoever sent them.
    assert len(sent) == 20
    assert max(sent) - min(sent) >= 0.9 * 19 / rate
