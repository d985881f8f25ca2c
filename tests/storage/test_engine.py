"""Engine settings: PostgreSQL connections pinged only after sitting idle, reads without a transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import storage.database
from storage.database import PoolSettings, create_engine, create_sessionmaker, for_reading


@pytest.fixture
async def pg_engine(postgres_server_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(postgres_server_url)
    yield engine
    await engine.dispose()


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _kill(engine: AsyncEngine, pid: int) -> None:
    # From another engine's connection, as an administrator or a server restart would.
    other = create_engine(engine.url.render_as_string(hide_password=False))
    try:
        async with other.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await other.dispose()


def _count_pings(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    pings: list[object] = []
    original = engine.dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        pings.append(dbapi_connection)
        return original(dbapi_connection)  # type: ignore[arg-type]

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return pings


@pytest.mark.postgres
async def test_an_idle_connection_killed_by_the_server_is_replaced_unseen(
    pg_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = await _backend_pid(pg_engine)
    await _kill(pg_engine, pid)
    monkeypatch.setattr(storage.database, "PING_AFTER_IDLE_SECONDS", 0.0)  # every checkout counts as idle
    pings = _count_pings(pg_engine, monkeypatch)

    new_pid = await _backend_pid(pg_engine)  # no error: the dead connection failed its ping and was replaced

    assert new_pid != pid
    assert len(pings) >= 1


@pytest.mark.postgres
async def test_a_connection_in_steady_use_is_not_pinged(
    pg_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _backend_pid(pg_engine)
    pings = _count_pings(pg_engine, monkeypatch)

    for _ in range(20):
        await _backend_pid(pg_engine)

    assert pings == []


@pytest.mark.postgres
async def test_a_dead_connection_in_steady_use_fails_once_then_the_pool_recovers(pg_engine: AsyncEngine) -> None:
    pid = await _backend_pid(pg_engine)
    await _kill(pg_engine, pid)

    with pytest.raises(Exception) as raised:
        await _backend_pid(pg_engine)
    assert storage.database.is_unreachable(raised.value)
    assert await _backend_pid(pg_engine) != pid


async def _two_clocks(sessions: async_sessionmaker[AsyncSession]) -> tuple[object, object]:
    async with sessions() as session:
        first = (await session.execute(text("SELECT now()"))).scalar_one()
        await session.execute(text("SELECT pg_sleep(0.01)"))
        return first, (await session.execute(text("SELECT now()"))).scalar_one()


@pytest.mark.postgres
async def test_reading_sessions_run_each_statement_on_its_own_on_postgresql(pg_engine: AsyncEngine) -> None:
    sessions = create_sessionmaker(pg_engine)
    # now() is the start of the transaction: one BEGIN … ROLLBACK around the session, or none.
    first, second = await _two_clocks(sessions)
    assert first == second
    first, second = await _two_clocks(for_reading(sessions))
    assert first != second


def test_reading_sessions_are_the_same_sessions_on_sqlite(tmp_path: object) -> None:
    sessions = create_sessionmaker(create_engine(f"sqlite+aiosqlite:///{tmp_path}/x.db"))
    assert for_reading(sessions) is sessions


@pytest.mark.postgres
async def test_pool_settings_and_pgbouncer_mode_reach_the_driver(postgres_server_url: str) -> None:
    engine = create_engine(postgres_server_url, PoolSettings(size=3, max_overflow=1, pgbouncer=True))
    try:
        assert (engine.pool.size(), engine.pool._max_overflow) == (3, 1)  # type: ignore[attr-defined]
        sessions = create_sessionmaker(engine)
        for _ in range(3):  # the same statement again: with a cache it would be prepared once, by name
            async with sessions() as session:
                assert (await session.execute(text("SELECT CAST(:n AS integer)"), {"n": 7})).scalar_one() == 7
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            assert raw.driver_connection._stmt_cache.get_max_size() == 0  # type: ignore[union-attr]
    finally:
        await engine.dispose()
