"""Message-extension search (`composeExtension/query`), end to end over HTTP on SQLite and PostgreSQL.

Teams posts the invoke to /api/messages and shows the body of the HTTP answer: the results are in
the response itself, nothing is sent to the connector.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from domain.records import ItemRecord, ReportRecord
from domain.vocabulary import Kind
from storage import tracker
from storage.database import create_engine, create_sessionmaker
from tests.e2e.test_status_questions import facts
from tests.fakes.stub_connector import StubConnector
from tests.fakes.teams import CHANNEL, BotClient, activity

OTHER_TENANT = "0c0c0c0c-1111-2222-3333-444444444444"
ADAPTIVE = "application/vnd.microsoft.card.adaptive"
THUMBNAIL = "application/vnd.microsoft.card.thumbnail"


def query(
    service_url: str,
    text: str | None,
    *,
    value: object = None,
    skip: int = 0,
    count: int = 25,
    **fields: Any,
) -> dict[str, Any]:
    """A `composeExtension/query` invoke as Teams sends it from a channel's compose box."""
    if value is None:
        parameters = [{"name": "initialRun", "value": "true"}] if text is None else [{"name": "query", "value": text}]
        value = {"commandId": "searchItems", "parameters": parameters, "queryOptions": {"skip": skip, "count": count}}
    fields.setdefault("conversation_id", CHANNEL)
    fields.setdefault("conversation_type", "channel")
    return activity("invoke", service_url, name="composeExtension/query", value=value, **fields)


async def search(bot: BotClient, body: dict[str, Any], *, status: int = 200) -> dict[str, Any]:
    response = await bot.post(body)
    assert response.status == status, await response.text()
    answer: dict[str, Any] = await response.json()
    return answer


def results(answer: dict[str, Any]) -> list[dict[str, Any]]:
    extension = answer["composeExtension"]
    assert extension["type"] == "result"
    assert extension["attachmentLayout"] == "list"
    return list(extension["attachments"])


def titles(answer: dict[str, Any]) -> list[str]:
    return [attachment["preview"]["content"]["title"] for attachment in results(answer)]


async def test_words_find_the_hydra_recommendation_first(bot: BotClient, stub: StubConnector) -> None:
    answer = await search(bot, query(stub.url, "hydra"))
    found = results(answer)
    assert 1 <= len(found) <= 10
    first = found[0]
    assert first["preview"]["content"]["title"] == "OIC-2025 R8 · Hydra training package"
    assert first["preview"]["contentType"] == THUMBNAIL
    assert "In progress · RAG: Red · " in first["preview"]["content"]["text"]
    assert "chief constables, working with the Modern Slavery &amp; Organised" in first["preview"]["content"]["text"]
    # The inserted card is the status question's card: the same facts, the same text.
    card = first["content"]
    assert first["contentType"] == ADAPTIVE and card["version"] == "1.5"
    assert facts(card)["Status"] == "In progress"
    assert facts(card)["HMICFRS due date"] == "30 April 2026"
    assert "RAG: Red · Overdue by 6 months" in card["fallbackText"]
    assert "Latest update (PCC response, 16 May 2025" in card["fallbackText"]
    # Its buttons post bot commands, which would go astray in a chat without RecBot: left out.
    assert "actions" not in card
    assert stub.sent == []  # the answer is the HTTP response; nothing is posted to the chat


async def test_the_same_card_as_the_status_question(bot: BotClient, stub: StubConnector) -> None:
    [inserted] = results(await search(bot, query(stub.url, "R8")))
    await bot.post(activity("message", stub.url, text="status of OIC-2025 R8"))
    asked = stub.sent[-1].card
    assert asked is not None
    assert inserted["content"] == {name: value for name, value in asked.items() if name != "actions"}


@pytest.mark.parametrize("typed", ["R8", "r8", "OIC-2025 R8", "recommendation 8", "rec 8"])
async def test_a_reference_finds_that_item(bot: BotClient, stub: StubConnector, typed: str) -> None:
    assert titles(await search(bot, query(stub.url, typed))) == ["OIC-2025 R8 · Hydra training package"]


async def test_a_reference_in_two_reports_lists_both(bot: BotClient, stub: StubConnector, seeded_database: str) -> None:
    engine = create_engine(seeded_database)
    try:
        async with create_sessionmaker(engine).begin() as session:
            await tracker.save_report(
                session,
                ReportRecord(
                    title="Police race action plan inspection",
                    code="PRA-2025",
                    published_on=date(2025, 9, 1),
                    items=(
                        ItemRecord(
                            kind=Kind.RECOMMENDATION, number=8, text="By 31 March 2026, forces should publish data."
                        ),
                    ),
                ),
            )
    finally:
        await engine.dispose()
    found = titles(await search(bot, query(stub.url, "R8")))
    assert sorted(found) == ["OIC-2025 R8 · Hydra training package", "PRA-2025 R8 · Publish data"]


async def test_opening_the_extension_lists_the_first_items(bot: BotClient, stub: StubConnector) -> None:
    found = results(await search(bot, query(stub.url, None)))
    assert 1 <= len(found) <= 10
    assert all(attachment["content"]["type"] == "AdaptiveCard" for attachment in found)
    # An emptied search box shows the same.
    assert titles(await search(bot, query(stub.url, "  "))) == [a["preview"]["content"]["title"] for a in found]


async def test_pages_follow_skip_and_count(bot: BotClient, stub: StubConnector) -> None:
    everything = titles(await search(bot, query(stub.url, None, count=25)))
    assert titles(await search(bot, query(stub.url, None, skip=1, count=2))) == everything[1:3]
    assert titles(await search(bot, query(stub.url, None, skip=50))) == []


async def test_nothing_found_is_said_plainly(bot: BotClient, stub: StubConnector) -> None:
    for typed in ("qwxzzv plorf", "R42", "XYZ-2020 R8"):
        answer = await search(bot, query(stub.url, typed))
        assert answer["composeExtension"]["type"] == "message"
        assert answer["composeExtension"]["text"].startswith(f'Nothing matches "{typed}".')
        assert "R8" in answer["composeExtension"]["text"]


async def test_a_long_query_is_cut_before_it_is_read(bot: BotClient, stub: StubConnector) -> None:
    answer = await search(bot, query(stub.url, "hydra " + "x" * 50_000 + "\x00"))
    assert answer["composeExtension"]["type"] in ("result", "message")


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("not an object", "no value object"),
        ({"commandId": "deleteEverything", "parameters": []}, "unknown message-extension command"),
        ({"commandId": "searchItems", "parameters": "hydra"}, "parameters must be a list"),
        ({"commandId": "searchItems", "parameters": [{"value": "hydra"}]}, "with a name"),
        ({"commandId": "searchItems", "parameters": [{"name": "query", "value": 8}]}, "must be text"),
        (
            {"commandId": "searchItems", "parameters": [], "queryOptions": {"skip": "many"}},
            "queryOptions.skip must be a whole number",
        ),
        ({"commandId": "searchItems", "parameters": [], "queryOptions": [1]}, "queryOptions must be an object"),
    ],
)
async def test_a_malformed_value_gets_400_with_the_reason(
    bot: BotClient, stub: StubConnector, value: object, says: str
) -> None:
    answer = await search(bot, query(stub.url, "", value=value), status=400)
    assert says in answer["error"]


async def test_another_tenant_is_refused_at_the_front_door(bot: BotClient, stub: StubConnector) -> None:
    response = await bot.post(query(stub.url, "hydra", tenant=OTHER_TENANT))
    assert response.status == 403
    assert "hydra" not in (await response.text()).lower()


async def test_an_allowed_second_tenant_may_search(start_bot: Callable[..., object], stub: StubConnector) -> None:
    bot: BotClient = await start_bot(allowed_tenants=(OTHER_TENANT,))  # type: ignore[misc]
    assert titles(await search(bot, query(stub.url, "R8", tenant=OTHER_TENANT))) == [
        "OIC-2025 R8 · Hydra training package"
    ]


@pytest.mark.skipif(not os.environ.get("RECBOT_RENDER_CARDS"), reason="set RECBOT_RENDER_CARDS=folder to keep a card")
async def test_keep_a_result_card_for_the_renderer(bot: BotClient, stub: StubConnector) -> None:
    """Writes the first "hydra" result for `render-card` (../shared/tools/render-card) to look at."""
    [first, *_] = results(await search(bot, query(stub.url, "hydra")))
    folder = Path(os.environ["RECBOT_RENDER_CARDS"])
    folder.mkdir(parents=True, exist_ok=True)
    reply = {"type": "message", "attachments": [{"contentType": ADAPTIVE, "content": first["content"]}]}
    (folder / "extension-result.json").write_text(json.dumps(reply, indent=2), encoding="utf-8")
