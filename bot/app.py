"""The aiohttp application: one factory used by `recbot serve` and by the tests.

`POST /api/messages` is RecBot's own front door in front of the SDK: the SDK's
`CloudAdapter.process` answers 500 to forged tokens and malformed bodies (BOTFRAMEWORK.md), so
requests are checked here and only well-formed, authenticated activities reach the adapter.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from botbuilder.core import InvokeResponse
from botbuilder.core.serializer_helper import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.activity_json import read_activity
from bot.adapter import PooledAuthentication, create_adapter, create_authentication
from bot.config import Settings
from bot.handler import RecBot, on_turn_error
from bot.logs import note_activity_type, turn_middleware
from bot.proactive import Deliverer
from bot.turn import tenant_of
from domain.clock import SYSTEM_CLOCK, Clock
from domain.failures import describe_failure
from domain.patterns import compile_waiting
from services.digest_plan import RunSettings
from services.digests import Scheduler
from services.notices import Notifier
from storage.database import create_engine, create_sessionmaker, is_ready

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
AUTHENTICATION = web.AppKey("authentication", PooledAuthentication)
ADAPTER = web.AppKey("adapter", CloudAdapter)
BOT = web.AppKey("bot", RecBot)
SCHEDULER = web.AppKey("scheduler", Scheduler)
PREPARING_FIRST_TURN: web.AppKey[asyncio.Task[None]] = web.AppKey("preparing_first_turn")

# The scheduler's first run (a few queries, and the bank holidays it loads) waits until the server
# has answered its first probes and prepared for the first message (issue 12: ready in under 1.5 s).
SCHEDULER_FIRST_RUN_AFTER = 5.0


def _problem(status: int, detail: str) -> web.Response:
    return web.json_response({"error": detail}, status=status)


# Teams activities nest a few levels (a card's submitted value a few more); the SDK, msrest and the
# bot walk them recursively, so a body nested deeper than this is refused before any of them runs.
MAX_JSON_DEPTH = 32
TOO_DEEP = f"the activity is nested more than {MAX_JSON_DEPTH} levels deep"


def _depth(value: object) -> int:
    """How deeply JSON containers nest in `value` (a scalar is 0), counted without recursion."""
    deepest = 0
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        current, depth = pending.pop()
        children = current.values() if isinstance(current, dict) else current if isinstance(current, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        pending.extend((child, depth + 1) for child in children)
    return deepest


def parse_activity(body: bytes) -> Activity | str:
    """The activity in a request body, or a sentence saying why the body is not one."""
    if not body.strip():
        return "the request body is empty"
    try:
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        return "the request body is not valid UTF-8"
    except ValueError:
        return "the request body is not valid JSON"
    except RecursionError:
        return TOO_DEEP
    # Each level opens with a bracket: a body with few of them cannot nest deeply, and is not walked.
    if body.count(b"{") + body.count(b"[") > MAX_JSON_DEPTH and _depth(payload) > MAX_JSON_DEPTH:
        return TOO_DEEP
    if not isinstance(payload, dict):
        return "the request body must be a JSON object (an activity)"
    if not isinstance(payload.get("type"), str) or not payload["type"]:
        return "the activity has no type"
    try:
        activity = read_activity(payload)
    except Exception:  # noqa: BLE001 - msrest raises many kinds on bad field types
        return "the activity does not match the Bot Framework schema"
    if activity.conversation is None or not activity.conversation.id:
        return "the activity has no conversation"
    if not activity.service_url:
        return "the activity has no serviceUrl to reply to"
    if activity.type == "message" and (activity.from_property is None or not activity.from_property.id):
        return "the message has no sender"
    return activity


async def messages(request: web.Request) -> web.Response:
    """The Bot Framework endpoint: validate, authenticate, then let the adapter run the turn."""
    settings = request.app[SETTINGS]
    if request.content_type != "application/json":
        return _problem(415, "Content-Type must be application/json")
    body = await request.read()  # aiohttp answers 413 itself beyond client_max_size
    activity = parse_activity(body)
    if isinstance(activity, str):
        return _problem(400, activity)
    note_activity_type(activity.type)

    auth_header = request.headers.get("Authorization", "")
    if settings.authentication_enabled and not auth_header:
        return _problem(401, "authentication required")
    try:
        authentication = await request.app[AUTHENTICATION].authenticate_request(activity, auth_header)
    except Exception as error:  # noqa: BLE001 - the SDK raises anything from PermissionError to KeyError
        log.info("refused an activity that failed authentication: %s", type(error).__name__)
        return _problem(401, "authentication failed")

    # Only Teams vouches for channelData.tenant: another channel could claim any tenant.
    if not settings.any_tenant and (
        activity.channel_id != "msteams" or not settings.tenant_allowed(tenant_of(activity))
    ):
        log.warning("refused an activity from tenant %r, not in RECBOT_ALLOWED_TENANTS", tenant_of(activity))
        return _problem(403, "this tenant is not allowed to use this bot")

    invoke_response: InvokeResponse | None = await request.app[ADAPTER].process_activity(
        authentication, activity, request.app[BOT].on_turn
    )
    if invoke_response is None:
        return web.Response(status=200)
    # Invoke bodies are returned here as they are: the SDK's process() serialises them twice.
    invoke_body = invoke_response.body
    if invoke_body is not None and not isinstance(invoke_body, (dict, list)):
        invoke_body = serializer_helper(invoke_body)
    return web.json_response(invoke_body, status=invoke_response.status or 200)


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    if await is_ready(request.app[ENGINE]):
        return web.json_response({"status": "ready"})
    return web.json_response({"status": "database unreachable"}, status=503)


async def settle_memory(app: web.Application) -> None:
    """Once the app is up (an on_startup hook of `recbot serve`): keep the garbage collector off
    what start-up made, and run its young collections less often.

    Under load with Python's defaults, a full collection walked the ~140,000 objects of the modules
    and the app every few seconds, holding every answer for about 100 ms, and young collections ran
    thirty times a second: 4 % of the process's time (gc.callbacks, status questions at c=16).
    Frozen, the start-up objects are never walked again (full collections take about 10 ms); with a
    first threshold of 10,000 collections take a third of the time they did.

    In an app from `create_app` the collection waits until the first turn is prepared
    (`prepare_first_turn`), so that it is not on the way to /readyz and what that loads is frozen too.
    """
    preparing = app.get(PREPARING_FIRST_TURN)
    if preparing is None or preparing.done():
        _settle()
        return
    # Freezing is instant. The collection walked start-up's objects for 60 ms and freed nothing (the
    # collections made while importing had); once the first turn is prepared it walks only what that loaded.
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
    preparing.add_done_callback(lambda _task: _settle())


def _settle() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def _load_and_compile() -> None:
    import bot.dialog_host  # noqa: F401 - botbuilder.dialogs: every message opens the update dialog's state

    compile_waiting()  # the intent grammar (bot/intents.py)


async def prepare_first_turn() -> None:
    """Load what the first message needs and start-up left out (issue 12: ready in under 1.5 s).

    Runs once the app has started, in a worker thread so that the loop answers requests meanwhile
    (it takes about half a second); a message that comes sooner loads or compiles what is missing itself.
    """
    try:
        await asyncio.to_thread(_load_and_compile)
    except Exception as error:  # noqa: BLE001 - a turn loads the same on its own
        log.warning("could not prepare for the first message: %s", describe_failure(error))


def create_app(settings: Settings, *, clock: Clock = SYSTEM_CLOCK, tracer_provider: Any = None) -> web.Application:
    """Build the whole service: database engine, adapter, bot and routes, all reading `clock`.

    With RECBOT_TELEMETRY on, requests and SQL statements are traced (`tracer_provider`: an
    OpenTelemetry TracerProvider, by default one exporting over OTLP).
    """
    middlewares: list[Any] = [turn_middleware]
    if settings.telemetry:
        from bot import telemetry

        tracer_provider = tracer_provider or telemetry.otlp_provider()
        middlewares.insert(0, telemetry.server_middleware(tracer_provider))
    app = web.Application(client_max_size=settings.max_request_bytes, middlewares=middlewares)
    app[SETTINGS] = settings
    authentication = create_authentication(settings)
    adapter = create_adapter(authentication)
    adapter.on_turn_error = on_turn_error
    app[AUTHENTICATION] = authentication
    app[ADAPTER] = adapter

    async def close_connector(_app: web.Application) -> None:
        await authentication.close()

    app.on_cleanup.append(close_connector)

    async def database_bot_and_scheduler(app: web.Application) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url, settings.pool)
        if settings.telemetry:
            from bot import telemetry

            telemetry.trace_engine(engine, tracer_provider)
        sessionmaker = create_sessionmaker(engine)
        deliverer = Deliverer(adapter, sessionmaker, app_id=settings.app_id)
        app[ENGINE] = engine
        notifier = Notifier(sessionmaker, deliverer, lambda: clock.today(settings.tz))
        app[BOT] = RecBot(settings, sessionmaker, clock=clock, notify=notifier.deliver)
        app[SCHEDULER] = Scheduler(
            sessionmaker=sessionmaker,
            deliverer=deliverer,
            settings=RunSettings.from_settings(settings),
            clock=clock.now,
            first_run_after=SCHEDULER_FIRST_RUN_AFTER,
        )
        if settings.run_scheduler:
            app[SCHEDULER].start()
        yield
        await app[SCHEDULER].stop()
        await engine.dispose()
        if settings.telemetry:
            from bot import telemetry

            telemetry.shutdown(tracer_provider)

    app.cleanup_ctx.append(database_bot_and_scheduler)

    async def first_turn_ready(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(prepare_first_turn(), name="recbot-prepare-first-turn")
        app[PREPARING_FIRST_TURN] = task
        yield
        task.cancel()  # its thread finishes on its own
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(first_turn_ready)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app
