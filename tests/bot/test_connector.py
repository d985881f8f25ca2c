"""The pooled Bot Connector: one token for many turns, retries of transient failures, SDK errors."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import msal
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount
from botframework.connector.auth import (
    ClaimsIdentity,
    ConnectorFactory,
    MicrosoftAppCredentials,
    microsoft_app_credentials,
)
from botframework.connector.auth.jwt_token_validation import JwtTokenValidation
from msrest.exceptions import ClientRequestError, HttpOperationError

from bot.connector import ConnectorPool, PooledConnectorFactory, RetryPolicy
from tests.fakes.stub_connector import StubConnector, start_stub_connector
from tests.fakes.teams import BotClient, message

APP_ID = "00000000-0000-0000-0000-00000000b07d"
FAST = RetryPolicy(attempts=5, base_delay=0.01, max_delay=0.05, max_retry_after=2.0)


@dataclass
class _EntraResponse:
    status_code: int
    text: str
    headers: dict[str, str] = field(default_factory=dict)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise RuntimeError(f"stub Entra answered {self.status_code}")


@dataclass
class StubEntra:
    """msal's HTTP client, answering as login.microsoftonline.com would; counts token requests."""

    token_requests: int = 0
    other_requests: list[str] = field(default_factory=list)

    def _tenant(self, url: str) -> str:
        return urlparse(url).path.strip("/").split("/")[0] or "botframework.com"

    def get(self, url: str, params: Any = None, headers: Any = None, **kwargs: Any) -> _EntraResponse:
        self.other_requests.append(url)
        if "discovery/instance" in url:
            return _EntraResponse(
                200,
                json.dumps(
                    {
                        "tenant_discovery_endpoint": "https://login.microsoftonline.com/botframework.com/v2.0/.well-known/openid-configuration",
                        "metadata": [
                            {"preferred_network": "login.microsoftonline.com", "aliases": ["login.microsoftonline.com"]}
                        ],
                    }
                ),
            )
        tenant = self._tenant(url)
        base = f"https://login.microsoftonline.com/{tenant}"
        return _EntraResponse(
            200,
            json.dumps(
                {
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "issuer": f"https://login.microsoftonline.com/{tenant}/v2.0",
                    "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                }
            ),
        )

    def post(
        self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kwargs: Any
    ) -> _EntraResponse:
        if not url.endswith("/token"):
            self.other_requests.append(url)
            return _EntraResponse(404, "{}")
        self.token_requests += 1
        return _EntraResponse(
            200,
            json.dumps(
                {
                    "token_type": "Bearer",
                    "expires_in": 3599,
                    "ext_expires_in": 3599,
                    "access_token": f"stub-token-{self.token_requests}",
                }
            ),
        )

    def close(self) -> None:
        return None


@pytest.fixture
def entra(monkeypatch: pytest.MonkeyPatch) -> StubEntra:
    """Every msal app the SDK builds talks to the stub (msal's own caching logic still runs)."""
    stub_entra = StubEntra()
    real = msal.ConfidentialClientApplication

    def confidential_client(*args: Any, **kwargs: Any) -> msal.ConfidentialClientApplication:
        return real(*args, http_client=stub_entra, **kwargs)

    monkeypatch.setattr(microsoft_app_credentials, "ConfidentialClientApplication", confidential_client)
    return stub_entra


@pytest.fixture
def channel_tokens_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inbound tokens pass as if the channel had signed them (the inbound check is not under test)."""

    async def authenticate_request(activity: Activity, auth_header: str, *args: Any, **kwargs: Any) -> ClaimsIdentity:
        assert auth_header == "Bearer channel-token"
        return ClaimsIdentity({"aud": APP_ID, "ver": "1.0", "iss": "https://api.botframework.com"}, True)

    monkeypatch.setattr(JwtTokenValidation, "authenticate_request", staticmethod(authenticate_request))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_hundred_turns_fetch_one_token(
    start_bot: Callable[..., Any], stub: StubConnector, entra: StubEntra, channel_tokens_accepted: None
) -> None:
    bot: BotClient = await start_bot(app_id=APP_ID, app_password="secret")
    bot.headers["Authorization"] = "Bearer channel-token"
    for _ in range(100):
        response = await bot.post(message("help", stub.url))
        assert response.status == 200
    sent = await stub.wait_for(100)
    assert len(sent) == 100
    assert entra.token_requests == 1
    assert {one.authorization for one in sent} == {"Bearer stub-token-1"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_throttled_then_failing_connector_delivers_the_reply_once(
    start_bot: Callable[..., Any], stub: StubConnector
) -> None:
    bot: BotClient = await start_bot()
    stub.fail_next.extend([(429, {"Retry-After": "1"}), (500, {})])
    started = time.monotonic()
    response = await bot.post(message("status of recommendation 8", stub.url))
    assert response.status == 200
    sent = await stub.wait_for(1)
    assert time.monotonic() - started >= 1.0, "Retry-After was not honoured"
    await asyncio.sleep(0.2)
    assert len(stub.sent) == 1
    assert "Recommendation 8" in sent[0].readable or "8" in sent[0].readable
    assert not stub.fail_next


@dataclass
class _LocalFactory(ConnectorFactory):
    """The SDK's factory stand-in: counts how often the pool had to ask for credentials."""

    created: int = 0

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        self.created += 1

        class _Client:
            class config:  # noqa: N801 - shaped like ConnectorClient.config
                credentials = MicrosoftAppCredentials("", "")

        return _Client()


@pytest.fixture
async def connector() -> AsyncIterator[tuple[StubConnector, ConnectorPool]]:
    stub_connector = await start_stub_connector()
    pool = ConnectorPool(retry=FAST)
    yield stub_connector, pool
    await pool.close()
    assert stub_connector.server is not None
    await stub_connector.server.close()


def _reply() -> Activity:
    return Activity(
        type="message",
        text="hello",
        conversation=ConversationAccount(id="a:conversation"),
        from_property=ChannelAccount(id="28:bot"),
        recipient=ChannelAccount(id="29:user"),
    )


async def test_clients_are_reused_per_service_url_and_audience(connector: tuple[StubConnector, ConnectorPool]) -> None:
    stub_connector, pool = connector
    inner = _LocalFactory()
    factory = PooledConnectorFactory(pool, inner, "")
    first = await factory.create(stub_connector.url, "aud")
    assert await PooledConnectorFactory(pool, inner, "").create(stub_connector.url, "aud") is first
    assert await factory.create(stub_connector.url, "other") is not first
    assert inner.created == 2
    await first.conversations.send_to_conversation("a:conversation", _reply())
    assert stub_connector.sent[0].text == "hello"
    assert stub_connector.sent[0].authorization is None  # local mode signs nothing


@pytest.mark.parametrize("status", [403, 404, 400])
async def test_permanent_failures_raise_the_sdk_error_at_once(
    connector: tuple[StubConnector, ConnectorPool], status: int
) -> None:
    stub_connector, pool = connector
    client = await PooledConnectorFactory(pool, _LocalFactory(), "").create(stub_connector.url)
    stub_connector.fail_next.append((status, {}))
    with pytest.raises(HttpOperationError) as raised:
        await client.conversations.reply_to_activity("a:conversation", "1", _reply())
    assert raised.value.response.status_code == status
    assert stub_connector.sent == []  # not retried: the one stubbed failure was the only attempt


async def test_transient_failures_give_up_after_bounded_attempts(
    connector: tuple[StubConnector, ConnectorPool],
) -> None:
    stub_connector, pool = connector
    client = await PooledConnectorFactory(pool, _LocalFactory(), "").create(stub_connector.url)
    stub_connector.fail_next.extend([(status, {}) for status in (503, 502, 504, 412, 500, 200)])
    with pytest.raises(HttpOperationError) as raised:
        await client.conversations.send_to_conversation("a:conversation", _reply())
    assert raised.value.response.status_code == 500
    assert len(stub_connector.fail_next) == 1  # five attempts, then the error


async def test_an_unreachable_connector_raises_client_request_error(
    connector: tuple[StubConnector, ConnectorPool],
) -> None:
    _, pool = connector
    client = await PooledConnectorFactory(pool, _LocalFactory(), "").create("http://127.0.0.1:9/")
    with pytest.raises(ClientRequestError):
        await client.conversations.send_to_conversation("a:conversation", _reply())


def test_retry_after_is_capped_and_parsed() -> None:
    policy = RetryPolicy(max_retry_after=10)
    assert policy.retry_after("3") == 3
    assert policy.retry_after("3600") == 10
    assert policy.retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert policy.retry_after("soon") is None
    assert all(0 <= policy.backoff(attempt) <= policy.max_delay for attempt in range(1, 10))


async def test_closing_the_pool_closes_its_session(connector: tuple[StubConnector, ConnectorPool]) -> None:
    stub_connector, pool = connector
    client = await PooledConnectorFactory(pool, _LocalFactory(), "").create(stub_connector.url)
    await client.conversations.send_to_conversation("a:conversation", _reply())
    session = pool.session()
    await pool.close()
    assert session.closed


async def test_replies_are_sent_as_msrest_sends_them() -> None:
    """Replies and messages skip msrest's operation (issue 14); `raw=True` still goes msrest's way, and
    both must send the same request (the body the same JSON, written by orjson rather than `json`) and
    raise the same error."""
    seen: list[tuple[str, str, dict[str, str], Any]] = []  # method, path, headers, the JSON body
    failing = False

    async def record(request: web.Request) -> web.Response:
        headers = {name: request.headers.get(name, "") for name in _COMPARED_HEADERS}
        seen.append((request.method, request.raw_path, headers, json.loads(await request.read())))
        if failing:
            return web.json_response({"error": {"code": "BotNotInConversationRoster", "message": "gone"}}, status=403)
        return web.json_response({"id": "reply-1"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    server = TestServer(app)
    await server.start_server()
    pool = ConnectorPool(retry=FAST)
    try:
        client = await PooledConnectorFactory(pool, _LocalFactory(), "").create(str(server.make_url("/amer/")))
        conversation, activity_id = "19:abc@thread.tacv2;messageid=17 /?#é", "1700000000000"
        reply = _reply()
        for raw in (False, True):
            sent = await client.conversations.reply_to_activity(conversation, activity_id, reply, raw=raw)
            assert (sent.output if raw else sent).id == "reply-1"
            await client.conversations.send_to_conversation(conversation, reply, raw=raw)
        fast_reply, fast_message, msrest_reply, msrest_message = seen
        assert fast_reply == msrest_reply and fast_message == msrest_message
        # aiohttp's URL leaves ":@;=" as they are in a path; "/", "?" and "#" stay escaped.
        escaped = "19:abc@thread.tacv2;messageid=17%20%2F%3F%23%C3%A9"
        assert (fast_reply[1], fast_message[1]) == (
            f"/amer/v3/conversations/{escaped}/activities/{activity_id}",
            f"/amer/v3/conversations/{escaped}/activities",
        )
        assert fast_reply[3] == {
            "type": "message",
            "text": "hello",
            "conversation": {"id": "a:conversation"},
            "from": {"id": "28:bot"},
            "recipient": {"id": "29:user"},
        }

        # orjson refuses a lone surrogate (someone's text can hold one); `json` escapes it.
        seen.clear()
        odd = _reply()
        odd.text = "café \ud800"
        await client.conversations.reply_to_activity(conversation, activity_id, odd)
        assert seen[0][3]["text"] == "café \ud800"

        failing = True
        errors = []
        for raw in (False, True):
            with pytest.raises(HttpOperationError) as raised:
                await client.conversations.reply_to_activity(conversation, activity_id, reply, raw=raw)
            errors.append(raised.value)
        assert [(str(error), error.response.status_code) for error in errors] == [
            ("(BotNotInConversationRoster) gone", 403)
        ] * 2
    finally:
        await pool.close()
        await server.close()


_COMPARED_HEADERS = ("Accept", "Content-Type", "x-ms-conversation-id", "User-Agent", "Authorization")
