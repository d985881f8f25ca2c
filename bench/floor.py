"""The bare floor of the stack: aiohttp, SQLAlchemy Core, the driver, and nothing of RecBot's.

Parse the activity JSON, run one indexed select (the item's status by report code, kind and
number) through SQLAlchemy Core on a pooled connection, and POST a one-line reply to the
connector. No ORM session, no bot state, no tenant check, no card: what any service answering a
status question over this stack must do at the least. It imports no project code, so nothing
RecBot changes can make the floor faster or slower. The baseline (bench/baseline.py) is the same
shape over RecBot's own ORM query.

The stateful floor (`create_floor_app(url, stateful=True)`) is the least a turn of a conversation
that remembers where it is must do: read the sender's state row, write it back under a new eTag
(compare-and-set), and POST a one-line reply. The update-dialog benchmark reads RecBot's turns
against it too.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import JSON, Column, DateTime, MetaData, String, Table, bindparam, event, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

QUESTION = re.compile(r"([A-Z]+-\d{4})\s+R(\d+)", re.IGNORECASE)
# Uses ix_items_number_kind and reports' unique upper(code); 'recommendation' is the kind's stored value.
_STATUS = text(
    "SELECT items.status FROM items JOIN reports ON reports.id = items.report_id "
    "WHERE items.number = :number AND items.kind = 'recommendation' AND upper(reports.code) = :code"
)
# RecBot's bot_state table, as far as the stateful floor uses it (its own keys, never RecBot's).
_STATE = Table(
    "bot_state",
    MetaData(),
    Column("key", String, primary_key=True),
    Column("etag", String),
    Column("document", JSON),
    Column("updated_at", DateTime),
)
_READ_STATE = select(_STATE.c.etag, _STATE.c.document).where(_STATE.c.key == bindparam("key"))
_WRITE_STATE = (
    update(_STATE)
    .where(_STATE.c.key == bindparam("row_key"), _STATE.c.etag == bindparam("expected"))
    .values(etag=bindparam("etag"), document=bindparam("document"), updated_at=bindparam("updated_at"))
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


async def _stateful_turn(request: web.Request) -> web.Response:
    activity = json.loads(await request.read())
    key = f"floor/{activity['conversation']['id']}/{activity['from']['id']}"
    engine = request.app[ENGINE]
    async with engine.connect() as connection:
        stored = (await connection.execute(_READ_STATE, {"key": key})).first()
    turns = (stored.document.get("turns", 0) if stored else 0) + 1
    values = {
        "etag": uuid.uuid4().hex,
        "document": {"turns": turns, "last": activity.get("text")},
        "updated_at": datetime.now(UTC).replace(tzinfo=None),
    }
    async with engine.begin() as connection:
        if stored is None:
            await connection.execute(insert(_STATE).values(key=key, **values))
        else:
            await connection.execute(_WRITE_STATE, {"row_key": key, "expected": stored.etag, **values})
    await reply(request.app[CLIENT], activity, f"Turn {turns}.")
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

    # The same journal and durability as RecBot's database (readers beside the writer; a commit is
    # synced at checkpoints): a fair comparison, for the stateful floor's writes too.
    @event.listens_for(engine.sync_engine, "connect")
    def _wal(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def create_floor_app(database_url: str, *, stateful: bool = False) -> web.Application:
    """The floor app over `database_url` (a RecBot database: it reads the items and reports tables, or
    reads and writes rows of its own in bot_state when `stateful`)."""
    app = web.Application()

    async def resources(app: web.Application) -> AsyncIterator[None]:
        app[ENGINE] = _engine(database_url)
        app[CLIENT] = aiohttp.ClientSession()
        yield
        await app[CLIENT].close()
        await app[ENGINE].dispose()

    app.cleanup_ctx.append(resources)
    app.router.add_post("/api/messages", _stateful_turn if stateful else _messages)
    app.router.add_get("/healthz", healthz)
    return app
