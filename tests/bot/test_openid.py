"""Forged tokens cost at most one metadata fetch per period and never stall the server (issue 9, point 4).

The app runs with authentication on, behind a real port. The SDK's own settings for its metadata
URLs (`ChannelValidation.open_id_metadata_endpoint`, `AuthenticationConstants.
TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL`) point at a metadata server that runs in a thread with
its own event loop: a fetch that blocks the app's loop (the SDK's `requests.get`) then stalls the
app, not the metadata server, and these tests fail instead of hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from botframework.connector.auth import AuthenticationConstants, ChannelValidation
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from bot.app import AUTHENTICATION, create_app
from bot.config import Settings
from bot.openid import OpenIdKeys
from storage.database import create_engine, upgrade
from tests.fakes.stub_connector import StubConnector
from tests.fakes.teams import TENANT, activity

APP_ID = "00000000-0000-0000-0000-00000000b0d1"
CHANNEL_ISSUER = "https://api.botframework.com"
# Issuers the SDK sends down its emulator and skill paths (both read the emulator's metadata URL).
EMULATOR_ISSUER = "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/"
SKILL_ISSUER = "https://login.microsoftonline.com/d6d49420-f39b-4df7-a1dc-d59a935871db/v2.0"
FETCH_TIMEOUT = 1.0
# /healthz, asked 0.1 s into a stalled fetch, answers at once unless the loop waits behind the fetch
# (then 0.9 s or more). Under the full suite on a busy 2-core machine "at once" was up to 0.25 s.
HEALTH_BOUND = 0.5
# What the metadata server does when it stalls: nothing, for this long (a network that drops packets).
STALL_SECONDS = 30.0
FLOOD = 50


class ManualClock:
    """A monotonic clock for the key cache that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class MetadataServer:
    """OpenID metadata documents and key sets on 127.0.0.1, served from a thread of its own.

    `/channel/…` stands for login.botframework.com, `/emulator/…` for login.microsoftonline.com.
    `mode` is "ok", "error" (500) or "stall" (no answer for STALL_SECONDS, counted from the first
    request, then 503). `fetches` lists the metadata documents asked for.
    """

    def __init__(self) -> None:
        self.mode = "ok"
        self.delay = 0.0
        self.keys: list[dict[str, Any]] = []
        self.fetches: list[str] = []
        self.key_fetches: list[str] = []
        self.port = 0
        self._stall_ends: float | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="metadata-server", daemon=True)
        self._released = asyncio.Event()
        self._runner: web.AppRunner | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._released.set)
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/{realm}/openid", self._document)
        app.router.add_get("/{realm}/keys", self._key_set)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _document(self, request: web.Request) -> web.Response:
        self.fetches.append(request.path)
        if self.mode == "stall":
            loop = asyncio.get_running_loop()
            if self._stall_ends is None:
                self._stall_ends = loop.time() + STALL_SECONDS
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._released.wait(), max(0.0, self._stall_ends - loop.time()))
            return web.Response(status=503)
        if self.mode == "error":
            return web.Response(status=500, text="upstream trouble")
        await asyncio.sleep(self.delay)
        realm = request.match_info["realm"]
        return web.json_response({"issuer": "stub", "jwks_uri": self.url(f"/{realm}/keys")})

    async def _key_set(self, request: web.Request) -> web.Response:
        self.key_fetches.append(request.path)
        return web.json_response({"keys": self.keys})


def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    """The public half of `key` as Bot Framework publishes it: with Teams among its endorsements."""
    return {**json.loads(RSAAlgorithm.to_jwk(key.public_key())), "kid": kid, "use": "sig", "endorsements": ["msteams"]}


@pytest.fixture(scope="module")
def rsa_keys() -> dict[str, rsa.RSAPrivateKey]:
    """Bot Framework's current key, the key it rotates to, and a stranger's."""
    return {
        name: rsa.generate_private_key(public_exponent=65537, key_size=2048) for name in ("current", "next", "stranger")
    }


def _token(
    key: rsa.RSAPrivateKey | None,
    service_url: str,
    *,
    kid: str | None = "current",
    issuer: str = CHANNEL_ISSUER,
    **claims: Any,
) -> str:
    now = int(time.time())
    payload = {"iss": issuer, "aud": APP_ID, "serviceurl": service_url, "nbf": now - 60, "exp": now + 3600, **claims}
    headers = {"kid": kid} if kid is not None else {}
    if key is None:
        return jwt.encode(payload, "", algorithm="none", headers=headers)
    return jwt.encode(payload, key, algorithm="RS256", headers=headers)


class Front:
    """RecBot's front door over HTTP, with its key cache and that cache's clock in hand."""

    def __init__(
        self, base_url: str, session: aiohttp.ClientSession, service_url: str, keys: OpenIdKeys, clock: ManualClock
    ) -> None:
        self.base_url = base_url
        self.session = session
        self.service_url = service_url
        self.keys = keys
        self.clock = clock

    async def post(self, token: str, activity_type: str = "typing") -> int:
        body = activity(activity_type, self.service_url)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        async with self.session.post(
            f"{self.base_url}/api/messages", data=json.dumps(body), headers=headers
        ) as response:
            await response.read()
            return response.status

    async def flood(self, token: str, count: int = FLOOD) -> list[int]:
        return list(await asyncio.gather(*(self.post(token) for _ in range(count))))

    def probe_health_later(self, wait: float) -> asyncio.Future[float]:
        """The seconds /healthz takes to answer, asked `wait` seconds from now by another thread.

        From a thread, so that a blocked event loop shows as a slow answer instead of hiding it.
        """

        def probe() -> float:
            time.sleep(wait)
            started = time.perf_counter()
            with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=STALL_SECONDS * 2) as response:
                response.read()
            return time.perf_counter() - started

        return asyncio.get_running_loop().run_in_executor(None, probe)


@pytest.fixture
def metadata(monkeypatch: pytest.MonkeyPatch) -> Iterator[MetadataServer]:
    """The metadata server, with the SDK's channel and emulator metadata URLs pointing at it."""
    server = MetadataServer()
    server.start()
    monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", server.url("/channel/openid"))
    monkeypatch.setattr(
        AuthenticationConstants, "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL", server.url("/emulator/openid")
    )
    yield server
    server.stop()


@pytest.fixture
async def front(tmp_path: Path, metadata: MetadataServer, stub: StubConnector) -> AsyncIterator[Front]:
    """RecBot with an app id, a one-tenant allow-list and a one-second metadata timeout."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'recbot.db'}"
    engine = create_engine(database_url)
    await upgrade(engine)
    await engine.dispose()
    settings = Settings(
        database_url=database_url, app_id=APP_ID, app_password="secret", allowed_tenants=(TENANT,), run_scheduler=False
    )
    app = create_app(settings)
    clock = ManualClock()
    authentication = app[AUTHENTICATION]
    keys = OpenIdKeys(authentication.pool.session, timeout=FETCH_TIMEOUT, clock=clock)
    authentication.keys = keys
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        yield Front(str(server.make_url("")).rstrip("/"), session, stub.url, keys, clock)
    await server.close()


@pytest.mark.parametrize(
    "forged",
    ["signed by a stranger", "unsigned (alg none)", "from the emulator's issuer", "shaped like a skill's"],
)
async def test_a_flood_of_forged_tokens_through_a_stalled_metadata_server_costs_one_fetch_and_no_stall(
    front: Front, metadata: MetadataServer, stub: StubConnector, rsa_keys: dict[str, rsa.RSAPrivateKey], forged: str
) -> None:
    metadata.mode = "stall"
    stranger = rsa_keys["stranger"]
    token = {
        "signed by a stranger": lambda: _token(stranger, front.service_url, kid="made-up"),
        "unsigned (alg none)": lambda: _token(None, front.service_url, kid="made-up"),
        "from the emulator's issuer": lambda: _token(
            stranger, front.service_url, issuer=EMULATOR_ISSUER, ver="1.0", appid=APP_ID
        ),
        "shaped like a skill's": lambda: _token(
            stranger, front.service_url, issuer=SKILL_ISSUER, ver="2.0", azp="another-app"
        ),
    }[forged]()

    health = front.probe_health_later(0.1)
    started = time.perf_counter()
    statuses = await front.flood(token)
    took = time.perf_counter() - started

    assert statuses == [401] * FLOOD
    assert took < FETCH_TIMEOUT + 1.0, f"the flood took {took:.2f}s"
    assert await health < HEALTH_BOUND, "/healthz waited behind the metadata fetch"
    assert len(metadata.fetches) <= 1, metadata.fetches
    assert stub.sent == []


async def test_tokens_refused_on_their_face_cause_no_fetch_at_all(
    front: Front, metadata: MetadataServer, rsa_keys: dict[str, rsa.RSAPrivateKey]
) -> None:
    stranger = rsa_keys["stranger"]
    refused_on_sight = [
        _token(stranger, front.service_url, kid=None),  # nothing to look a key up by
        _token(stranger, front.service_url, issuer="https://issuer.example"),
        _token(stranger, front.service_url, issuer="https://login.microsoftonline.com/some-tenant/v2.0"),
        "not-a-jwt",
    ]
    for token in refused_on_sight:
        assert await front.flood(token, 10) == [401] * 10
    assert metadata.fetches == []


async def test_after_a_failed_fetch_forged_tokens_cause_no_new_fetch_until_the_failure_expires(
    front: Front, metadata: MetadataServer, rsa_keys: dict[str, rsa.RSAPrivateKey]
) -> None:
    metadata.mode = "error"
    token = _token(rsa_keys["stranger"], front.service_url, kid="made-up")

    assert await front.flood(token, 20) == [401] * 20
    assert len(metadata.fetches) == 1

    front.clock.advance(30)
    assert await front.flood(token, 20) == [401] * 20
    assert len(metadata.fetches) == 1, "a second wave within the negative-cache period fetched again"

    front.clock.advance(OpenIdKeys.RETRY_FAILED_AFTER)
    assert await front.flood(token, 20) == [401] * 20
    assert len(metadata.fetches) == 2


async def test_a_token_signed_with_the_published_key_is_accepted_and_loading_keys_stalls_nothing(
    front: Front, metadata: MetadataServer, stub: StubConnector, rsa_keys: dict[str, rsa.RSAPrivateKey]
) -> None:
    metadata.keys = [_jwk(rsa_keys["current"], "current")]
    # A slow metadata server, within the timeout: the first real message must not freeze the others.
    front.keys.timeout = 5.0
    metadata.delay = 1.2
    health = front.probe_health_later(0.1)

    assert await front.post(_token(rsa_keys["current"], front.service_url)) == 200
    assert await health < HEALTH_BOUND, "/healthz waited behind the metadata fetch"
    assert await front.post(_token(rsa_keys["current"], front.service_url)) == 200
    assert metadata.fetches == ["/channel/openid"]
    assert metadata.key_fetches == ["/channel/keys"]

    # The keys are really checked: a stranger's signature under the right kid, another bot's audience,
    # another service URL and an expired token all fail.
    assert await front.post(_token(rsa_keys["stranger"], front.service_url)) == 401
    assert await front.post(_token(rsa_keys["current"], front.service_url, aud="another-bot")) == 401
    assert await front.post(_token(rsa_keys["current"], "https://elsewhere.example/")) == 401
    expired = int(time.time()) - 3600
    assert await front.post(_token(rsa_keys["current"], front.service_url, exp=expired, nbf=expired - 60)) == 401
    assert len(metadata.fetches) == 1
    assert stub.sent == []


async def test_an_unknown_kid_refetches_at_most_once_per_period_and_a_rotated_key_is_picked_up(
    front: Front, metadata: MetadataServer, rsa_keys: dict[str, rsa.RSAPrivateKey]
) -> None:
    metadata.keys = [_jwk(rsa_keys["current"], "current")]
    assert await front.post(_token(rsa_keys["current"], front.service_url)) == 200
    assert len(metadata.fetches) == 1

    made_up = _token(rsa_keys["stranger"], front.service_url, kid=f"made-up-{uuid.uuid4()}")
    assert await front.flood(made_up, 20) == [401] * 20
    assert len(metadata.fetches) == 1, "an unknown kid right after a fetch fetched again"

    front.clock.advance(OpenIdKeys.REFETCH_UNKNOWN_KEY_AFTER)
    assert await front.flood(made_up, 20) == [401] * 20
    assert len(metadata.fetches) == 2, "an unknown kid a period after the last fetch should look once"
    assert await front.flood(made_up, 20) == [401] * 20
    assert len(metadata.fetches) == 2

    # Bot Framework rotates its keys: a token under the new kid is accepted after one more look.
    metadata.keys = [_jwk(rsa_keys["current"], "current"), _jwk(rsa_keys["next"], "next")]
    front.clock.advance(OpenIdKeys.REFETCH_UNKNOWN_KEY_AFTER)
    assert await front.post(_token(rsa_keys["next"], front.service_url, kid="next")) == 200
    assert await front.post(_token(rsa_keys["current"], front.service_url)) == 200
    assert len(metadata.fetches) == 3


async def test_the_sdk_outside_recbots_authentication_refuses_rather_than_fetching(
    metadata: MetadataServer, rsa_keys: dict[str, rsa.RSAPrivateKey]
) -> None:
    from botframework.connector.auth import SimpleCredentialProvider

    from bot.adapter import create_authentication

    await create_authentication(
        Settings(app_id=APP_ID, app_password="secret", allowed_tenants=(TENANT,))
    ).close()  # routes the SDK's metadata through RecBot
    metadata.keys = [_jwk(rsa_keys["current"], "current")]
    token = _token(rsa_keys["current"], "https://service.example/")
    with pytest.raises(PermissionError):
        await ChannelValidation.authenticate_channel_token(
            f"Bearer {token}", SimpleCredentialProvider(APP_ID, "secret"), "msteams"
        )
    assert metadata.fetches == []
