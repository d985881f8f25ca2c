"""Shared fixtures: a migrated database on SQLite and on PostgreSQL for every database test, and the
real server (create_app) on a real port with a stub Bot Connector and a seeded database.

PostgreSQL tests use `RECBOT_TEST_POSTGRES_URL` (default: the server on 127.0.0.1:5432) and a
throw-away database created per test session. Locally they are skipped, with the reason, when
no server answers; in CI (`CI=true`) a missing server is an error.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import create_app
from bot.config import Settings
from domain.clock import FixedClock
from services.importing import import_file
from storage.database import create_engine, create_sessionmaker, upgrade
from storage.models import Base
from tests.fakes.stub_connector import StubConnector, start_stub_connector
from tests.fakes.teams import JANE, SAM, TENANT, BotClient
from tests.postgres import execute_on_server, url_of_database

POSTGRES_ADMIN_URL = os.environ.get("RECBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
SEED = Path(__file__).resolve().parent.parent / "samples" / "oic-2025-cheshire-pcc-response.txt"
# "Now" for the server under test: tests never depend on the day they run. The seed's items are
# due by 30 April 2026, so on this day they are six months overdue.
TEST_NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


async def _postgres_admin(sql: str) -> None:
    await execute_on_server(POSTGRES_ADMIN_URL, sql)


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A URL of a fresh PostgreSQL database for this test session (dropped afterwards)."""
    name = f"recbot_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any failure means "no server for us"
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI but {POSTGRES_ADMIN_URL} failed: {error!r}")
        pytest.skip(f"no PostgreSQL reachable at {POSTGRES_ADMIN_URL} ({error!r}); set RECBOT_TEST_POSTGRES_URL")
    yield url_of_database(POSTGRES_ADMIN_URL, name)
    asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend: a new SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'recbot.db'}"
    return request.getfixturevalue("postgres_server_url")


async def _empty_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(table.delete())


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated, empty database."""
    engine = create_engine(database_url)
    await upgrade(engine)
    await _empty_tables(engine)
    yield engine
    await _empty_tables(engine)
    await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


# --- the real server and a stub Bot Connector ------------------------------------------------


@pytest.fixture
async def stub() -> AsyncIterator[StubConnector]:
    stub = await start_stub_connector()
    stub.members = {JANE.teams_id: JANE.member(), SAM.teams_id: SAM.member()}
    yield stub
    assert stub.server is not None
    await stub.server.close()


@pytest.fixture
async def seeded_database(database_url: str, engine: object) -> str:
    """The database URL, migrated, emptied (by `engine`) and loaded with the seed report."""
    seeding_engine = create_engine(database_url)
    await upgrade(seeding_engine)
    await import_file(create_sessionmaker(seeding_engine), SEED)
    await seeding_engine.dispose()
    return database_url


@pytest.fixture
def clock() -> FixedClock:
    """The clock the server under test reads, at TEST_NOW; a test may move it."""
    return FixedClock(TEST_NOW)


@pytest.fixture
async def start_bot(seeded_database: str, clock: FixedClock) -> AsyncIterator[Callable[..., object]]:
    """Start RecBot with settings overrides, on `clock`; returns a client for its /api/messages."""
    servers: list[TestServer] = []
    sessions: list[aiohttp.ClientSession] = []

    async def start(**overrides: object) -> BotClient:
        # The force's own tenant, as a production bot has it (MicrosoftAppTenantId): e-mails link people there.
        settings = replace(
            Settings(database_url=seeded_database, run_scheduler=False, app_tenant_id=TENANT), **overrides
        )
        settings.validate()
        server = TestServer(create_app(settings, clock=clock), host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        session = aiohttp.ClientSession()
        sessions.append(session)
        return BotClient(str(server.make_url("")).rstrip("/"), session)

    yield start
    for session in sessions:
        await session.close()
    for server in servers:
        await server.close()


@pytest.fixture
async def bot(start_bot: Callable[..., object]) -> BotClient:
    """RecBot in local mode (no authentication) on the seeded database."""
    return await start_bot()  # type: ignore[misc]
