"""RECBOT_LOG_FORMAT=json: one JSON object per line, a line per turn with its id, type, outcome and
duration, and nothing anyone typed."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Callable, Iterator

import pytest

from bot.config import Settings, SettingsError
from bot.logs import JsonFormatter
from tests.fakes.stub_connector import StubConnector
from tests.fakes.teams import BotClient, message


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


async def test_each_turn_is_one_json_line_without_what_was_typed(
    start_bot: Callable[..., object], stub: StubConnector, json_lines: io.StringIO
) -> None:
    bot: BotClient = await start_bot()  # type: ignore[misc]
    secret = "status of R8 — the hydra note nobody should log"
    assert (await bot.post(message(secret, stub.url))).status == 200
    assert (await bot.post(None, raw=b"{not json")).status == 400
    entries = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    turns = [entry for entry in entries if entry["logger"] == "recbot.turns"]
    assert [(turn["outcome"], turn["status"]) for turn in turns] == [("answered", 200), ("bad request", 400)]
    assert turns[0]["activity_type"] == "message" and "activity_type" not in turns[1]
    assert len({turn["turn_id"] for turn in turns}) == 2
    assert all(turn["duration_ms"] >= 0 and turn["time"] and turn["level"] == "INFO" for turn in turns)
    assert "hydra note" not in json_lines.getvalue()


def test_errors_are_described_not_quoted() -> None:
    typed = "Jane's " + "narrative"
    try:
        raise ValueError(typed)
    except ValueError:
        record = logging.getLogger("x").makeRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = json.loads(JsonFormatter().format(record))
    assert line["error"].startswith("ValueError") and typed not in line["error"]


def test_the_log_format_is_text_or_json() -> None:
    assert Settings.from_env({"RECBOT_LOG_FORMAT": "JSON"}).log_format == "json"
    assert Settings.from_env({}).log_format == "text"
    with pytest.raises(SettingsError, match="RECBOT_LOG_FORMAT"):
        Settings.from_env({"RECBOT_LOG_FORMAT": "xml"})
