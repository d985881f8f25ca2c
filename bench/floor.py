"""The bare floor of the stack: aiohttp, SQLAlchemy Core, the driver, and nothing of RecBot's.

Parse the activity JSON, run one indexed select (the item's status by report code, kind and
number) through SQLAlchemy Core on a pooled connection, and POST a one-line reply to the
connector. No ORM session, no bot state, no tenant check, no card: what any service answering a
status question over this stack must do at the least. It imports no project code, so nothing
RecBot changes can make the floor faster or slower. The baseline (bench/baseline.py) is the same
shape over RecBot's own ORM query.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

QUESTION = re.compile(r"([A-Z]+-\d{4})\s+R(\d+)", re.IGNORECASE)
# Uses ix_items_number_kind and reports' unique upper(code); 'recommendation' is the kind's stored value.
_STATUS = text(
    "SELECT items.status FROM items JOIN reports ON reports.id = items.report_id "
    "WHERE items.number = :number AND items.kind = 'recommendation' AND upper(reports.code) = :code"
)
ENGINE = web.AppKey("engine", AsyncEngine)
CLIENT = web.AppKey("client", aiohttp.ClientSession)


async def _messages(request: web.Request) -> web.Response:
    activity = json.loads(await request.read())
    match = QUESTION.search(activity.get("text") or "")
    text_reply = "I don't know that one."
    if match:
        async with request.app[ENGINE].connect() as connection:
            status = await connection.scalar(_STATUS, {"number": int(match.group(2)), "code": match.group(1).upper()})
        if status is not None:
            text_reply = f"{match.group(1)} R{match.group(2)}: {status}"
    await reply(request.app[CLIENT], activity, text_reply)
    return web.Response(status=200)


async def reply(client: aiohttp.ClientSession, activity: dict[str, Any], text_reply: str) -> None:
    """POST a one-line reply to `activity` to its connector."""
    conversation_id = activity["conversation"]["id"]
    url = f"{activity['serviceUrl'].rstrip('/')}/v3/conversations/{conversation_id}/activities/{activity['id']}"
    body = {
        "type": "message",
        "text": text_reply,
        "conversation": activity["conversation"],
        "from": activity["recipient"],
        "recipient": activity["from"],
        "replyToId": activity["id"],
    }
    async with client.post(url, json=body) as response:
        await response.read()


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


# As many pooled connections as RecBot keeps (storage.database.PoolSettings): with SQLAlchemy's
# default of 5 (+10 that are closed when returned), the floor opened and closed PostgreSQL
# connections on every turn at c=16, a cost of configuration, not of the stack.
POSTGRES_POOL = {"pool_size": 20, "max_overflow": 10}


def _engine(database_url: str) -> AsyncEngine:
    if not database_url.startswith("sqlite"):
        return create_async_engine(database_url, **POSTGRES_POOL)
    engine = create_async_engine(database_url)

    # The same journal as RecBot's database (readers beside the writer): a fair comparison.
    @event.listens_for(engine.sync_engine, "connect")
    def _wal(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    return engine


def create_floor_app(database_url: str) -> web.Application:
    """The floor app over `database_url` (a RecBot database: it reads the items and reports tables)."""
    app = web.Application()

    async def resources(app: web.Application) -> AsyncIterator[None]:
        app[ENGINE] = _engine(database_url)
        app[CLIENT] = aiohttp.ClientSession()
        yield
        await app[CLIENT].close()
        await app[ENGINE].dispose()

    app.cleanup_ctx.append(resources)
    app.router.add_post("/api/messages", _messages)
    app.router.add_get("/healthz", healthz)
    return app
