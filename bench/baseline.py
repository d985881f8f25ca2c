"""The baseline: the floor (bench/floor.py) with RecBot's own ORM query in place of its Core select.

Parse the activity JSON, run the same indexed select RecBot runs for the item
(`storage.tracker.find_items`, through an ORM session), and POST a one-line reply to the connector.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from bench.floor import QUESTION, healthz, reply
from domain.vocabulary import Kind
from storage import tracker
from storage.database import create_engine, create_sessionmaker

SESSIONMAKER = web.AppKey("sessionmaker", object)
CLIENT = web.AppKey("client", aiohttp.ClientSession)


async def _messages(request: web.Request) -> web.Response:
    activity = json.loads(await request.read())
    match = QUESTION.search(activity.get("text") or "")
    text = "I don't know that one."
    if match:
        async with request.app[SESSIONMAKER]() as session:  # type: ignore[operator]
            items = await tracker.find_items(
                session, number=int(match.group(2)), kind=Kind.RECOMMENDATION, report_code=match.group(1)
            )
        if items:
            text = f"{items[0].reference}: {items[0].status}"
    await reply(request.app[CLIENT], activity, text)
    return web.Response(status=200)


def create_baseline_app(database_url: str) -> web.Application:
    """The baseline app over `database_url`."""
    app = web.Application()

    async def resources(app: web.Application) -> AsyncIterator[None]:
        engine = create_engine(database_url)
        app[SESSIONMAKER] = create_sessionmaker(engine)
        app[CLIENT] = aiohttp.ClientSession()
        yield
        await app[CLIENT].close()
        await engine.dispose()

    app.cleanup_ctx.append(resources)
    app.router.add_post("/api/messages", _messages)
    app.router.add_get("/healthz", healthz)
    return app
