"""The front door holds: bad requests get 4xx, strangers get 401/403 and no reply, health probes answer."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.fakes.stub_connector import StubConnector
from tests.fakes.teams import BotClient, activity, message

APP_ID = "00000000-0000-0000-0000-00000000b0d1"


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        (b"this is not json", "application/json", 400),
        (b"", "application/json", 400),
        (b"[1, 2, 3]", "application/json", 400),
        (b'"a string"', "application/json", 400),
        (b"\xff\xfe\xfa not utf-8", "application/json", 400),
        (b'{"text": "status of recommendation 8"}', "application/json", 400),  # no type
        (b'{"type": "message", "text": "hi"}', "application/json", 400),  # no conversation
        (b'{"type": "message", "conversation": {"id": 5}, "from": "me"}', "application/json", 400),
        (
            b'{"type": "message", "text": "rec 8", "conversation": {"id": "a:1"}, "from": {"id": "29:1"}}',
            "application/json",
            400,
        ),
        (b'{"type": "message"}', "text/plain", 415),
        (b'{"type": "message"}', "", 415),
    ],
)
async def test_malformed_requests_get_a_4xx_and_the_server_keeps_serving(
    bot: BotClient, stub: StubConnector, raw: bytes, content_type: str, status: int
) -> None:
    headers = {"Content-Type": content_type} if content_type else {"Content-Type": ""}
    response = await bot.post(None, raw=raw, headers=headers)
    assert response.status == status
    good = await bot.post(message("status of recommendation 8", stub.url))
    assert good.status == 200
    assert "Recommendation 8" in stub.sent[-1].readable


async def test_a_body_over_the_size_limit_gets_413(bot: BotClient, stub: StubConnector) -> None:
    huge = message("x" * 300_000, stub.url)
    response = await bot.post(huge)
    assert response.status == 413
    assert stub.sent == []


async def test_health_and_readiness(bot: BotClient) -> None:
    async with bot.session.get(f"{bot.base_url}/healthz") as response:
        assert response.status == 200
    async with bot.session.get(f"{bot.base_url}/readyz") as response:
        assert response.status == 200
        assert (await response.json())["status"] == "ready"
    async with bot.session.get(f"{bot.base_url}/api/messages") as response:
        assert response.status == 405


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer garbage",
        "Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2FwaS5ib3RmcmFtZXdvcmsuY29tIiwiYXVkIjoiMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDBiMGQxIn0.c2lnbmF0dXJl",
        "Basic dXNlcjpwYXNz",
        "Bearer",
    ],
)
async def test_with_an_app_id_strangers_get_401_and_no_reply(
    start_bot: Callable[..., object], stub: StubConnector, authorization: str | None
) -> None:
    bot: BotClient = await start_bot(app_id=APP_ID, app_password="secret")  # type: ignore[misc]
    headers = {"Authorization": authorization} if authorization else {}
    response = await bot.post(message("status of recommendation 8", stub.url), headers=headers)
    assert response.status == 401
    assert stub.sent == []


async def test_other_tenants_get_no_data(start_bot: Callable[..., object], stub: StubConnector) -> None:
    bot: BotClient = await start_bot(allowed_tenants=("11111111-2222-3333-4444-555555555555",))  # type: ignore[misc]
    response = await bot.post(message("status of recommendation 8", stub.url))
    assert response.status == 403
    assert stub.sent == []

    allowed = message("status of recommendation 8", stub.url, tenant="11111111-2222-3333-4444-555555555555")
    assert (await bot.post(allowed)).status == 200
    assert "Recommendation 8" in stub.sent[-1].readable


async def test_an_activity_without_channel_data_is_refused_when_tenants_are_restricted(
    start_bot: Callable[..., object], stub: StubConnector
) -> None:
    bot: BotClient = await start_bot(allowed_tenants=("11111111-2222-3333-4444-555555555555",))  # type: ignore[misc]
    body = activity("message", stub.url, text="status of recommendation 8")
    del body["channelData"]
    body["conversation"].pop("tenantId")
    assert (await bot.post(body)).status == 403
    assert stub.sent == []


async def test_activities_of_other_types_are_accepted_quietly(bot: BotClient, stub: StubConnector) -> None:
    for activity_type in ("typing", "messageReaction", "event", "endOfConversation"):
        response = await bot.post(activity(activity_type, stub.url))
        assert response.status == 200, activity_type
    assert stub.sent == []


async def test_the_error_body_says_what_was_wrong(bot: BotClient) -> None:
    async with bot.session.post(
        f"{bot.base_url}/api/messages", data=b"{not json", headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 400
        assert json.loads(await response.text()) == {"error": "the request body is not valid JSON"}


async def test_a_message_without_a_sender_is_refused(bot: BotClient, stub: StubConnector) -> None:
    body = message("status of recommendation 8", stub.url)
    del body["from"]
    response = await bot.post(body)
    assert response.status == 400
    assert stub.sent == []


async def test_tenant_restriction_trusts_only_teams_channel_data(
    start_bot: Callable[..., object], stub: StubConnector
) -> None:
    tenant = "11111111-2222-3333-4444-555555555555"
    bot: BotClient = await start_bot(allowed_tenants=(tenant,))  # type: ignore[misc]
    forged = message("status of recommendation 8", stub.url, tenant=tenant, channelId="directline")
    assert (await bot.post(forged)).status == 403
    assert stub.sent == []
