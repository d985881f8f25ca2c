"""The floor: the least any such service must do, written as plainly as aiohttp allows.

Parse the activity JSON, run the same indexed select RecBot runs for the item
(`storage.tracker.find_items`), and POST a one-line reply to the connector.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from domain.vocabulary import Kind
from storage import tracker
from storage.database import create_engine, create_sessionmaker

_QUESTION = re.compile(r"([A-Z]+-\d{4})\s+R(\d+)", re.IGNORECASE)
SESSIONMAKER = web.AppKey("sessionmaker", object)
CLIENT = web.AppKey("client", aiohttp.ClientSession)


async def _messages(request: web.Request) -> web.Response:
    activity = json.loads(await request.read())
    match = _QUESTION.search(activity.get("text") or "")
    text = "I don't know that one."
    if match:
        async with request.app[SESSIONMAKER]() as session:  # type: ignore[operator]
            items = await tracker.find_items(
                session, number=int(match.group(2)), kind=Kind.RECOMMENDATION, report_code=match.group(1)
            )
        if items:
            text = f"{items[0].reference}: {items[0].status}"
    conversation_id = activity["conversation"]["id"]
    url = f"{activity['serviceUrl'].rstrip('/')}/v3/conversations/{conversation_id}/activities/{activity['id']}"
    reply = {
        "type": "message",
        "text": text,
        "conversation": activity["conversation"],
        "from": activity["recipient"],
        "recipient": activity["from"],
        "replyToId": activity["id"],
    }
    async with request.app[CLIENT].post(url, json=reply) as response:
        await response.read()
    return web.Response(status=200)


async def _healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


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
    app.router.add_get("/healthz", _healthz)
    return app
