"""Logging: plain lines for people, or one JSON object per line for a log platform (RECBOT_LOG_FORMAT=json).

Every request to /api/messages is one turn: `turn_middleware` gives it an id, and every line logged
while it runs carries that id and the activity's type; the turn ends with one "turn" line saying
how it went and how long it took. No line carries what anyone typed (see domain/failures.py).
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from domain.failures import describe_failure

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# The turn being handled: {"turn_id": …, "activity_type": …}, filled in as the turn goes.
_TURN: ContextVar[dict[str, str] | None] = ContextVar("recbot_turn", default=None)
# Fields a log call may add with `extra=` and the JSON line then carries.
_FIELDS = ("outcome", "status", "duration_ms")

log = logging.getLogger("recbot.turns")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the turn's fields, and any error's description."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_TURN.get() or {})
        entry.update({name: getattr(record, name) for name in _FIELDS if hasattr(record, name)})
        if record.exc_info and record.exc_info[1] is not None:
            entry["error"] = describe_failure(record.exc_info[1])
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: str) -> None:
    """Send INFO and above to stderr, as text or JSON lines (unless logging is set up already, as under pytest)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    logging.getLogger("alembic").setLevel(logging.WARNING)


def note_activity_type(activity_type: str) -> None:
    """Record the type of the activity this turn handles, for its log lines."""
    turn = _TURN.get()
    if turn is not None:
        turn["activity_type"] = activity_type


def _outcome(status: int) -> str:
    if status < 300:
        return "answered"
    if status in (401, 403):
        return "refused"
    return "bad request" if status < 500 else "failed"


@web.middleware
async def turn_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Log one line per /api/messages request: outcome, HTTP status and duration, under a turn id."""
    if request.path != "/api/messages":
        return await handler(request)
    token = _TURN.set({"turn_id": uuid.uuid4().hex[:16]})
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as error:
        status = error.status
        raise
    finally:
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        log.info(
            "turn %s",
            _outcome(status),
            extra={"outcome": _outcome(status), "status": status, "duration_ms": duration_ms},
        )
        _TURN.reset(token)
