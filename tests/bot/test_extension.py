"""The message extension's reading of a `composeExtension/query` value, and its preview: pure functions."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from bot.cards.extension import preview, said
from bot.extension import COMMAND_ID, MAX_RESULTS, QUERY_LIMIT, Query, read_query
from bot.manifest import MANIFEST_DIR
from storage.models import Item


def value(*parameters: dict[str, Any], **options: object) -> dict[str, Any]:
    return {"commandId": COMMAND_ID, "parameters": list(parameters), "queryOptions": options}


def test_a_typed_query_is_read_with_its_page() -> None:
    assert read_query(value({"name": "query", "value": "  hydra   training "}, skip=10, count=5)) == Query(
        "hydra training", 10, 5
    )


def test_opening_the_extension_is_an_empty_query() -> None:
    assert read_query(value({"name": "initialRun", "value": "true"})) == Query("")
    assert read_query({"commandId": COMMAND_ID}) == Query("")
    assert read_query(value({"name": "query"})) == Query("")


def test_never_more_than_ten_results_are_asked_for() -> None:
    assert read_query(value({"name": "query", "value": "R8"}, count=25)) == Query("R8", 0, MAX_RESULTS)


def test_the_query_is_capped_and_cleaned_before_anything_reads_it() -> None:
    read = read_query(value({"name": "query", "value": "r8\x00\x1b" + "a" * 1_000_000}))
    assert isinstance(read, Query)
    assert read.text.startswith("r8 a") and len(read.text) <= QUERY_LIMIT
    assert not any(ord(character) < 0x20 for character in read.text)


def test_reading_a_huge_value_takes_no_time() -> None:
    huge = value(*({"name": "query", "value": "x" * 10_000} for _ in range(10_000)))
    started = time.perf_counter()
    assert isinstance(read_query(huge), Query)
    assert time.perf_counter() - started < 0.05


@pytest.mark.parametrize(
    "malformed",
    [
        None,
        [],
        "hydra",
        {"commandId": "other"},
        {"commandId": 7},
        {"commandId": COMMAND_ID, "parameters": {"name": "query"}},
        {"commandId": COMMAND_ID, "parameters": ["query"]},
        {"commandId": COMMAND_ID, "parameters": [{"name": 1, "value": "x"}]},
        {"commandId": COMMAND_ID, "parameters": [{"name": "query", "value": ["x"]}]},
        {"commandId": COMMAND_ID, "queryOptions": "all"},
        {"commandId": COMMAND_ID, "queryOptions": {"count": -1}},
        {"commandId": COMMAND_ID, "queryOptions": {"count": True}},
        {"commandId": COMMAND_ID, "queryOptions": {"skip": 1.5}},
    ],
)
def test_a_malformed_value_is_refused_with_a_reason(malformed: object) -> None:
    reason = read_query(malformed)
    assert isinstance(reason, str) and reason


def _item(text: str, title: str | None = None) -> Item:
    report = SimpleNamespace(code="OIC-2025", title="Organised immigration crime")
    fake = SimpleNamespace(
        reference="OIC-2025 R8",
        label="Recommendation 8",
        title=title,
        text=text,
        status="In progress",
        current_due_on=date(2026, 4, 30),
        due_on=date(2026, 4, 30),
        revised_due_on=None,
        assessment=None,
        last_update_at=None,
        report=report,
    )
    return cast(Item, fake)


def test_the_preview_shows_reference_status_rag_and_an_excerpt_as_text() -> None:
    shown = preview(_item("Train <b>everyone</b> & check\n\nit. " + "word " * 100), date(2026, 11, 2))
    assert shown["contentType"] == "application/vnd.microsoft.card.thumbnail"
    assert shown["content"]["title"] == "OIC-2025 R8 · Recommendation 8"
    text = shown["content"]["text"]
    assert text.startswith("In progress · RAG: Red · Train &lt;b&gt;everyone&lt;/b&gt; &amp; check it.")
    assert len(text) < 200 and text.endswith("…")


def test_the_preview_names_a_titled_item_by_its_title() -> None:
    shown = preview(_item("By 30 April 2026, …", title="Hydra training package"), date(2026, 11, 2))
    assert shown["content"]["title"] == "OIC-2025 R8 · Hydra training package"


def test_a_message_answer() -> None:
    assert said("Nothing matches.") == {"composeExtension": {"type": "message", "text": "Nothing matches."}}


def test_the_manifest_declares_the_command_the_bot_answers() -> None:
    manifest = json.loads((Path(MANIFEST_DIR) / "manifest.json").read_text(encoding="utf-8"))
    [extension] = manifest["composeExtensions"]
    assert extension["botId"] == manifest["bots"][0]["botId"]
    [command] = extension["commands"]
    assert command["id"] == COMMAND_ID and command["type"] == "query" and command["initialRun"] is True
    assert set(command["context"]) == {"compose", "commandBox"}
    assert [parameter["name"] for parameter in command["parameters"]] == ["query"]
    # Teams' limits the schema does not check (tests/bot/test_manifest.py checks the schema).
    assert len(command["title"]) <= 32 and 0 < len(command["description"]) <= 128
    for parameter in command["parameters"]:
        assert len(parameter["title"]) <= 32 and 0 < len(parameter["description"]) <= 128
