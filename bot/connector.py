"""Outbound calls to the Bot Connector: one aiohttp session per app, pooled clients, retries.

The SDK's `CloudAdapter` builds a new `ConnectorClient` for every turn, and msrest's default async
pipeline sends each request with `requests` inside a thread-pool executor (BOTFRAMEWORK.md,
"Performance"). This module replaces both: a `ConnectorPool` owns one `aiohttp.ClientSession` and
keeps one `ConnectorClient` per (app id, service URL, audience), whose msrest pipeline sends with
that session; replies and messages, sent on every turn, skip msrest's operation and go straight to
`ConnectorPool.send` (`_Conversations`). The clients are the SDK's own, so callers still get its
models and its exceptions
(`ErrorResponseException`, an `msrest.exceptions.HttpOperationError` whose `.response.status_code`
tells 403/404 — bot removed — from the rest; `ClientRequestError` when no response came back).

Transient failures (429, 412, 500, 502, 503, 504, timeouts, dropped connections) are retried with
exponential backoff and full jitter, honouring a capped `Retry-After`, a bounded number of times.
Retrying a POST after a 5xx or a timeout can, rarely, deliver a message twice; Teams' guidance is
to retry, and a duplicate beats a silently lost answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from enum import Enum
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson
from botbuilder.schema import Activity, ErrorResponseException, ResourceResponse
from botframework.connector.aio import ConnectorClient
from botframework.connector.aio.operations_async import ConversationsOperations
from botframework.connector.auth import ConnectorFactory
from botframework.connector.auth._connector_factory_impl import USER_AGENT
from msrest.authentication import Authentication
from msrest.exceptions import ClientRequestError
from msrest.pipeline import AsyncHTTPSender, AsyncPipeline, Request, Response
from msrest.pipeline.universal import RawDeserializer
from msrest.serialization import Deserializer, Model, Serializer
from msrest.universal_http import ClientRequest
from msrest.universal_http.async_abc import AsyncClientResponse
from multidict import CIMultiDict

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({412, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up on one call to the connector."""

    attempts: int = 5
    base_delay: float = 0.25
    max_delay: float = 8.0
    # Teams may ask for long pauses; a reply that waits longer than this is worth less than an error.
    max_retry_after: float = 10.0

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff before retry number `attempt` (1-based)."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))

    def retry_after(self, value: str | None) -> float | None:
        """Seconds asked for by a `Retry-After` header (delta-seconds or HTTP date), capped."""
        if not value:
            return None
        try:
            seconds = float(value)
        except ValueError:
            try:
                seconds = parsedate_to_datetime(value).timestamp() - time.time()
            except (TypeError, ValueError):
                return None
        return max(0.0, min(seconds, self.max_retry_after))


class ConnectorResponse(AsyncClientResponse):
    """A fully read response; it is its own `internal_response`, shaped like `requests.Response`.

    `HttpOperationError.response` is the internal response, so `error.response.status_code` works
    as it did with the SDK's `requests` sender.
    """

    def __init__(
        self, request: ClientRequest, status: int, reason: str | None, headers: CIMultiDict[str], content: bytes
    ):
        super().__init__(request, self)
        self.status_code: int = status
        self.reason = reason
        self.headers = headers
        self.content = content

    def body(self) -> bytes:
        return self.content

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise ClientRequestError(f"Received status code {self.status_code}")


class _PoolSender(AsyncHTTPSender):
    """The end of msrest's pipeline: `ConnectorPool.send` (signed, retried, on the shared session)."""

    def __init__(self, pool: ConnectorPool, credentials: Authentication) -> None:
        self._pool = pool
        self._credentials = credentials

    async def __aenter__(self) -> _PoolSender:
        return self

    async def __aexit__(self, *exc_details: object) -> None:
        return None  # the session belongs to the pool, not to one client

    async def send(self, request: Request, **config: Any) -> Response:
        http_request: ClientRequest = request.http_request
        headers = {name: value for name, value in http_request.headers.items() if name.lower() != "content-length"}
        data = http_request.data
        if isinstance(data, str):
            data = data.encode("utf-8")  # msrest's Content-Length counts characters, not bytes
        return Response(
            request, await self._pool.send(http_request.method, http_request.url, headers, data, self._credentials)
        )


class ConnectorPool:
    """The app's connection to the Bot Connector: one aiohttp session, pooled clients, cached tokens.

    Create it anywhere; the session opens lazily inside the running loop. `close()` it on app
    cleanup.
    """

    # msal hands out tokens with at least five minutes to live; reuse a header for less than that.
    TOKEN_REUSE_SECONDS = 240.0

    def __init__(
        self,
        *,
        retry: RetryPolicy | None = None,
        timeout: aiohttp.ClientTimeout | None = None,
        max_clients: int = 1000,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self.timeout = timeout or aiohttp.ClientTimeout(total=20, connect=5)
        self._max_clients = max_clients
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self._clients: OrderedDict[tuple[str, str, str], ConnectorClient] = OrderedDict()
        self._headers: dict[int, tuple[Authentication, str | None, float]] = {}
        self._token_lock: asyncio.Lock | None = None

    def session(self) -> aiohttp.ClientSession:
        """The shared session, opened on first use in the running loop."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            # A session cannot cross event loops (e.g. two `asyncio.run` calls in a CLI command).
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200, ttl_dns_cache=300))
            self._session_loop = loop
            self._token_lock = asyncio.Lock()
        return self._session

    async def close(self) -> None:
        """Close the session; the pool reopens one if used again."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
        self._clients.clear()
        self._headers.clear()

    async def authorization(self, credentials: Authentication, *, refresh: bool = False) -> str | None:
        """The `Authorization` header for these credentials (None when they sign nothing, local mode)."""
        cached = self._headers.get(id(credentials))
        if not refresh and cached is not None and cached[0] is credentials and cached[2] > time.monotonic():
            return cached[1]
        self.session()  # makes sure the lock belongs to this loop
        assert self._token_lock is not None
        async with self._token_lock:
            cached = self._headers.get(id(credentials))
            if not refresh and cached is not None and cached[0] is credentials and cached[2] > time.monotonic():
                return cached[1]
            # The SDK's credentials fetch tokens synchronously (msal over requests): keep that off the loop.
            header = await asyncio.to_thread(_signed_header, credentials)
            self._headers[id(credentials)] = (credentials, header, time.monotonic() + self.TOKEN_REUSE_SECONDS)
            return header

    async def client(
        self, app_id: str, service_url: str, audience: str, credentials: Callable[[], Awaitable[Authentication]]
    ) -> ConnectorClient:
        """The pooled client for this app id, service URL and audience; `credentials` runs on a miss."""
        key = (app_id, service_url, audience)
        client = self._clients.get(key)
        if client is not None:
            self._clients.move_to_end(key)
            return client
        resolved = await credentials()
        client = ConnectorClient(
            resolved, base_url=service_url, pipeline_type=lambda config: self._pipeline(config, resolved)
        )
        client.config.add_user_agent(USER_AGENT)
        _speed_up(client)
        client.conversations = _Conversations(client, self, resolved)
        client = self._clients.setdefault(key, client)
        if len(self._clients) > self._max_clients:
            self._clients.popitem(last=False)
        return client

    def _pipeline(self, config: Any, credentials: Authentication) -> AsyncPipeline:
        return AsyncPipeline(
            [config.user_agent_policy, RawDeserializer(), config.http_logger_policy], _PoolSender(self, credentials)
        )

    async def send(
        self, method: str, url: str, headers: dict[str, str], data: bytes | None, credentials: Authentication
    ) -> ConnectorResponse:
        """One call to the connector: signed with `credentials`, transient failures retried (see the
        module docstring). Answers whatever status came last; raises `ClientRequestError` when no
        answer came back at all."""
        policy = self.retry
        for attempt in range(1, policy.attempts + 1):
            try:
                response = await self._signed(method, url, headers, data, credentials)
            except (TimeoutError, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as error:
                if attempt == policy.attempts:
                    raise ClientRequestError(f"the Bot Connector did not answer after {attempt} attempts") from error
                delay = policy.backoff(attempt)
                reason = type(error).__name__
            else:
                if response.status_code not in RETRYABLE_STATUSES or attempt == policy.attempts:
                    return response
                asked = policy.retry_after(response.headers.get("Retry-After"))
                delay = policy.backoff(attempt) if asked is None else asked
                reason = str(response.status_code)
            log.warning(
                "Bot Connector %s %s failed (%s); retry %d/%d in %.2fs",
                method,
                url,
                reason,
                attempt,
                policy.attempts - 1,
                delay,
            )
            await asyncio.sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises on the last attempt")

    async def _signed(
        self, method: str, url: str, headers: dict[str, str], data: bytes | None, credentials: Authentication
    ) -> ConnectorResponse:
        """Sends with the credentials' token; a refused token (revoked, expired early) is fetched afresh once."""
        header = await self.authorization(credentials)
        response = await self._send_once(method, url, _with_authorization(headers, header), data)
        if response.status_code == 401 and header:
            header = await self.authorization(credentials, refresh=True)
            response = await self._send_once(method, url, _with_authorization(headers, header), data)
        return response

    async def _send_once(self, method: str, url: str, headers: dict[str, str], data: bytes | None) -> ConnectorResponse:
        async with self.session().request(method, url, headers=headers, data=data, timeout=self.timeout) as response:
            content = await response.read()
            return ConnectorResponse(
                ClientRequest(method, url), response.status, response.reason, CIMultiDict(response.headers), content
            )


def _with_authorization(headers: dict[str, str], authorization: str | None) -> dict[str, str]:
    unsigned = {name: value for name, value in headers.items() if name.lower() != "authorization"}
    return {**unsigned, "Authorization": authorization} if authorization else unsigned


class _Conversations(ConversationsOperations):
    """The SDK's conversation operations, with the two that every answer and digest uses, a reply and
    a message to a conversation, posted straight through the pool.

    msrest's operation (URL formatting, request objects, its pipeline) cost more on the event loop
    than the HTTP call itself (issue 14). The request is the one msrest would send: same URL, headers
    and body; the answer is read by the same deserializer, and a failure raises the same
    `ErrorResponseException`. Anything unusual (raw answers, custom headers, per-call options, an id
    that is not a string, an activity only msrest can write) goes the SDK's way.
    """

    def __init__(self, client: ConnectorClient, pool: ConnectorPool, credentials: Authentication) -> None:
        operations = client.conversations
        super().__init__(operations._client, operations.config, operations._serialize, operations._deserialize)
        self._pool = pool
        self._credentials = credentials
        base_url = str(client.config.base_url)
        # msrest formats the service URL and joins paths to it; for a plain URL that is concatenation.
        self._base_url = base_url.rstrip("/") if not any(mark in base_url for mark in "?#{}") else None
        self._user_agent = client.config.user_agent

    async def reply_to_activity(  # type: ignore[no-untyped-def]
        self, conversation_id, activity_id, activity, *, custom_headers=None, raw=False, **operation_config
    ):
        if not custom_headers and not raw and not operation_config and type(activity_id) is str:
            # Only a reply names its conversation in a header too.
            path = f"/activities/{quote(activity_id, safe='')}"
            sent = await self._post(conversation_id, path, activity, {"x-ms-conversation-id": conversation_id})
            if sent is not _NOT_SENT:
                return sent
        return await super().reply_to_activity(
            conversation_id, activity_id, activity, custom_headers=custom_headers, raw=raw, **operation_config
        )

    async def send_to_conversation(  # type: ignore[no-untyped-def]
        self, conversation_id, activity, *, custom_headers=None, raw=False, **operation_config
    ):
        if not custom_headers and not raw and not operation_config:
            sent = await self._post(conversation_id, "/activities", activity, {})
            if sent is not _NOT_SENT:
                return sent
        return await super().send_to_conversation(
            conversation_id, activity, custom_headers=custom_headers, raw=raw, **operation_config
        )

    async def _post(self, conversation_id: object, path: str, activity: object, headers: dict[str, object]) -> Any:
        """The connector's ResourceResponse, or `_NOT_SENT` when the call must go msrest's way."""
        body = activity_json(activity) if isinstance(activity, Activity) else None
        if body is None or self._base_url is None or type(conversation_id) is not str:
            return _NOT_SENT
        url = f"{self._base_url}/v3/conversations/{quote(conversation_id, safe='')}{path}"
        request_headers = {
            "Accept": "application/json",
            "Content-Type": "application/json; charset=utf-8",
            **headers,
            "User-Agent": self._user_agent,
        }
        data = _dumps(body)
        response = await self._pool.send("POST", url, request_headers, data, self._credentials)
        if response.status_code not in (200, 201, 202):
            raise ErrorResponseException(self._deserialize, response)
        return self._deserialize("ResourceResponse", response)

    # The SDK's operations read their URL templates from here.
    reply_to_activity.metadata = ConversationsOperations.reply_to_activity.metadata  # type: ignore[attr-defined]
    send_to_conversation.metadata = ConversationsOperations.send_to_conversation.metadata  # type: ignore[attr-defined]


_NOT_SENT = object()


def _dumps(body: object) -> bytes:
    """A request body's bytes: orjson (a card reply in ~1 µs, against ~24 µs for `json`), or `json` for
    what orjson refuses, such as a lone surrogate someone typed (which `json` escapes)."""
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError:
        return json.dumps(body).encode("utf-8")


# --- request bodies without msrest's model walk ------------------------------------------------
#
# msrest turns an outgoing Activity into JSON by first re-deserialising it, validating it, and
# then serialising every attribute through generic dispatch, walking an Adaptive Card's content
# dict node by node: about a millisecond per card reply, the largest single cost of a status
# question. Bot Framework schema models have no validation rules, no flattened keys and no
# additional-properties slot, so for the shapes replies actually have (models, plain JSON, str
# enums, aware datetimes) the JSON is a direct walk of `_attribute_map`. Anything else (a dict
# where a model belongs, a tuple, a naive datetime, a custom object in a card) is left to msrest,
# so the wire format is always exactly msrest's.


class _NotPlain(Exception):
    """The value is not in a shape the fast path knows to give msrest's exact output for."""


_JSON_SCALARS = (str, int, float, bool, type(None))


def _plain_json(value: Any) -> Any:
    """`value` itself when it is plain JSON of exact built-in types (what msrest's `object` keeps as is)."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlain
            if type(item) not in _JSON_SCALARS:
                _plain_json(item)
        return value
    if kind is list:
        for item in value:
            if type(item) not in _JSON_SCALARS:
                _plain_json(item)
        return value
    if kind in _JSON_SCALARS:
        return value
    raise _NotPlain


def _typed(value: Any, data_type: str) -> Any:
    """msrest's serialisation of a non-None `value` declared as `data_type`."""
    kind = type(value)
    if data_type == "str":
        if kind is str:
            return value
        if isinstance(value, Enum) and type(value.value) is str:
            return value.value
        raise _NotPlain
    if data_type == "object":
        if isinstance(value, Model) and not isinstance(value, Enum):
            return _model_json(value)  # a card model as an attachment's content: msrest writes the model
        return _plain_json(value)
    if data_type == "bool" or data_type == "int":
        if kind is (bool if data_type == "bool" else int):
            return value
        raise _NotPlain
    if data_type == "float":
        if kind is float or kind is int:
            return float(value)
        raise _NotPlain
    if data_type == "iso-8601":
        if kind is datetime and value.tzinfo is not None:
            return Serializer.serialize_iso(value)
        raise _NotPlain
    if data_type[0] == "[" and data_type[-1] == "]":
        if kind is not list:
            raise _NotPlain
        inner = data_type[1:-1]
        return [None if item is None else _typed(item, inner) for item in value]
    if data_type[0] == "{" and data_type[-1] == "}":
        if kind is not dict:
            raise _NotPlain
        inner = data_type[1:-1]
        result = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlain
            result[key] = None if item is None else _typed(item, inner)
        return result
    if isinstance(value, Model) and not isinstance(value, Enum):
        return _model_json(value)
    raise _NotPlain


def _model_json(model: Model) -> dict[str, Any]:
    cls = type(model)
    if getattr(cls, "_validation", None) or model.is_xml_model():
        raise _NotPlain
    result: dict[str, Any] = {}
    for attr, description in cls._attribute_map.items():
        key = description["key"]
        if attr == "additional_properties" or not key or "." in key:
            raise _NotPlain
        value = getattr(model, attr)
        if value is not None:
            result[key] = _typed(value, description["type"])
    return result


def activity_json(activity: Activity) -> dict[str, Any] | None:
    """The Bot Framework JSON of `activity`, exactly as msrest writes it; None when only msrest can tell."""
    try:
        return _model_json(activity)
    except _NotPlain:
        return None


class _FastBodySerializer(Serializer):
    """msrest's serializer, with outgoing activities written by `activity_json` when it can."""

    def body(self, data: Any, data_type: str, **kwargs: Any) -> Any:
        if data_type == "Activity" and isinstance(data, Activity) and not kwargs:
            body = activity_json(data)
            if body is not None:
                return body
        return super().body(data, data_type, **kwargs)


class _FastResponseDeserializer(Deserializer):
    """msrest's deserializer; the connector's usual answer, `{"id": "…"}`, is read directly."""

    def __call__(self, target_obj: Any, response_data: Any, content_type: str | None = None) -> Any:
        if target_obj == "ResourceResponse":
            data = self._unpack_content(response_data, content_type)
            if type(data) is dict and data.keys() <= {"id"} and type(data.get("id")) in (str, type(None)):
                return ResourceResponse(id=data.get("id"))
            return self._deserialize(target_obj, data)
        return super().__call__(target_obj, response_data, content_type)


def _speed_up(client: ConnectorClient) -> None:
    """Give the client's operations the fast body serializer and response deserializer."""
    serializer = _FastBodySerializer(client._serialize.dependencies)
    serializer.client_side_validation = client._serialize.client_side_validation
    deserializer = _FastResponseDeserializer(client._deserialize.dependencies)
    for operations in (client.conversations, client.attachments):
        operations._serialize = serializer
        operations._deserialize = deserializer


def _signed_header(credentials: Authentication) -> str | None:
    # `signed_session` is the SDK's one public way to sign for every credentials class (password,
    # certificate, managed identity); it only touches `.headers`, so a stand-in session will do.
    holder = SimpleNamespace(headers={})
    credentials.signed_session(holder)  # type: ignore[arg-type]
    return holder.headers.get("Authorization")


class PooledConnectorFactory(ConnectorFactory):
    """The SDK's `ConnectorFactory` interface over a `ConnectorPool`.

    Credentials still come from the SDK's own factory (so clouds, scopes and app types behave as
    before); only on a pool miss is it asked to build a client, whose credentials are kept.
    """

    def __init__(self, pool: ConnectorPool, inner: ConnectorFactory, app_id: str | None) -> None:
        self._pool = pool
        self._inner = inner
        self._app_id = app_id or ""

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        async def credentials() -> Authentication:
            return (await self._inner.create(service_url, audience)).config.credentials

        return await self._pool.client(self._app_id, service_url, audience or "", credentials)
