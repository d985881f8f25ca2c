"""The real server (create_app) on a real port, a stub Bot Connector, and a seeded database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.app import create_app
from bot.config import Settings
from bot.importing import import_file
from storage.database import create_engine, create_sessionmaker, upgrade
from tests.conftest import SEED
from tests.stub_connector import StubConnector, start_stub_connector
from tests.teams import JANE, SAM, BotClient


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


StartServer = Callable[..., "AsyncIterator[BotClient]"]


@pytest.fixture
async def start_bot(seeded_database: str) -> AsyncIterator[Callable[..., object]]:
    """Start RecBot with settings overrides; returns a client for its /api/messages."""
    servers: list[TestServer] = []
    sessions: list[aiohttp.ClientSession] = []

    async def start(**overrides: object) -> BotClient:
        settings = replace(Settings(database_url=seeded_database, run_scheduler=False), **overrides)
        settings.validate()
        server = TestServer(create_app(settings), host="127.0.0.1")
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
