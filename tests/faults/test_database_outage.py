"""The database goes away and comes back: the bot says so plainly, /readyz says 503, no restart needed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy.engine import make_url

from bot.app import AUTHENTICATION, create_app
from bot.config import Settings
from bot.handler import UNREACHABLE_REPLY
from services.importing import import_file
from storage.database import create_engine, create_sessionmaker, upgrade
from tests.conftest import SEED, _empty_tables
from tests.fakes.stub_connector import StubConnector, start_stub_connector
from tests.fakes.teams import BotClient, message
from tests.faults.proxy import CuttableProxy

pytestmark = pytest.mark.postgres


@pytest.fixture
async def proxy(postgres_server_url: str) -> AsyncIterator[CuttableProxy]:
    url = make_url(postgres_server_url)
    cuttable = CuttableProxy(url.host or "127.0.0.1", url.port or 5432)
    await cuttable.start()
    yield cuttable
    await cuttable.close()


@pytest.fixture
async def stub() -> AsyncIterator[StubConnector]:
    stub_connector = await start_stub_connector()
    yield stub_connector
    assert stub_connector.server is not None
    await stub_connector.server.close()


@pytest.fixture
async def bot(postgres_server_url: str, proxy: CuttableProxy) -> AsyncIterator[BotClient]:
    engine = create_engine(postgres_server_url)
    await upgrade(engine)
    await _empty_tables(engine)
    await import_file(create_sessionmaker(engine), SEED)
    through_proxy = make_url(postgres_server_url).set(port=proxy.port).render_as_string(hide_password=False)
    settings = replace(Settings(database_url=through_proxy))
    app = create_app(settings)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    session = aiohttp.ClientSession()
    yield BotClient(str(server.make_url("")).rstrip("/"), session)
    await session.close()
    proxy.restore()
    await server.close()
    close: Callable[[], Any] | None = getattr(app[AUTHENTICATION], "close", None)
    if close is not None:
        await close()
    await _empty_tables(engine)
    await engine.dispose()


async def _readyz(bot: BotClient) -> int:
    async with bot.session.get(f"{bot.base_url}/readyz") as response:
        return response.status


async def test_the_bot_survives_a_database_outage(bot: BotClient, stub: StubConnector, proxy: CuttableProxy) -> None:
    assert (await bot.post(message("status of recommendation 8", stub.url))).status == 200
    assert (await stub.wait_for(1))[0].card is not None
    assert await _readyz(bot) == 200

    proxy.cut()
    statuses = [(await bot.post(message("status of recommendation 8", stub.url))).status for _ in range(5)]
    assert all(status < 500 for status in statuses), statuses
    sent = await stub.wait_for(6, timeout=30)
    assert all(UNREACHABLE_REPLY in one.text for one in sent[1:6]), [one.readable for one in sent[1:6]]
    assert await _readyz(bot) == 503

    proxy.restore()
    assert (await bot.post(message("status of recommendation 8", stub.url))).status == 200
    assert (await stub.wait_for(7, timeout=30))[6].card is not None
    assert await _readyz(bot) == 200
