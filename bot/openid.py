"""Bot Framework's signing keys, fetched with aiohttp off the event loop, cached, one fetch at a time.

Read from the SDK (4.17.1, `botframework/connector/auth/`): every token check builds a
`JwtTokenExtractor`, whose `__init__` asks the static `JwtTokenExtractor.get_open_id_metadata(url)`
for the metadata object of the URL its caller chose. `ChannelValidation` (public cloud, issuer
`https://api.botframework.com`) picks login.botframework.com; `EmulatorValidation` and
`SkillValidation` (issuers `https://sts.windows.net/…/` and `https://login.microsoftonline.com/…/v2.0`
of Microsoft's tenants) pick login.microsoftonline.com's common v2.0 document;
`GovernmentChannelValidation` the .us ones. Tokens from other issuers, tokens that are not JWTs, and
requests without a Bearer header are refused before any metadata is asked for. Once the issuer is
allowed, `_validate_token` awaits `metadata.get(kid)` *before* it looks at the algorithm or the
signature, so an unsigned ("alg": "none") or made-up token is enough to reach the network.
`_OpenIdMetadata.get` then calls `_refresh` whenever its keys are more than a day old or were never
fetched: two `requests.get` calls, synchronous and without a timeout, on the event loop. A failure
raises before `last_updated` moves, so it is not remembered and the next request blocks again; an
unknown kid raises IndexError in `_find`, so the hourly "refresh on a key not found" never happens
(and a rotated key would be refused until the daily refresh).

The SDK's object is asked only for `await get(kid)`, returning something with `public_key` and
`endorsements`; the signature, issuer, audience, expiry, endorsements and service URL checks stay the
SDK's. So `route_sdk_metadata_to_recbot` replaces that one static lookup: the SDK gets a stand-in
whose `get` asks the `OpenIdKeys` of the request being authenticated (bound with `OpenIdKeys.bound()`
by `bot.adapter.PooledAuthentication`). Validating issuer and kid in RecBot before the SDK would not
be enough, since valid tokens would still reach the SDK's synchronous fetch; the stand-in is keyed by
whatever URL the SDK chose, so no issuer routing is copied here. Outside a bound request the
stand-in refuses (fails closed) rather than fetching.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from botframework.connector.auth import JwtTokenExtractor
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt.algorithms import RSAAlgorithm

log = logging.getLogger(__name__)

_bound_keys: ContextVar[OpenIdKeys | None] = ContextVar("recbot_openid_keys", default=None)


@dataclass(frozen=True)
class SigningKey:
    """One published key, shaped as the SDK's `JwtTokenExtractor` reads it."""

    public_key: RSAPublicKey
    endorsements: tuple[str, ...]


@dataclass
class _Document:
    """What is known about one metadata URL."""

    keys: dict[str, SigningKey] = field(default_factory=dict)
    fetched_at: float | None = None
    failed_at: float | None = None
    fetch: asyncio.Task[None] | None = None


class OpenIdKeys:
    """Signing keys per OpenID metadata URL: fetched with aiohttp under a timeout, cached, one fetch in flight.

    Keys are refetched a day after the last success (the SDK's period) in the background while the
    old ones keep answering; a failure is remembered for a minute, so a flood of forged tokens
    costs at most one fetch per URL per minute; a kid that is not in the keys looks again at most
    every five minutes (a key rotation is picked up; a made-up kid does not cause a storm).
    """

    REFRESH_AFTER = 24 * 3600.0
    RETRY_FAILED_AFTER = 60.0
    REFETCH_UNKNOWN_KEY_AFTER = 300.0
    # While refreshes keep failing, last known keys are used this long after they were fetched.
    MAX_KEY_AGE = 2 * 24 * 3600.0

    def __init__(
        self,
        session: Callable[[], aiohttp.ClientSession],
        *,
        timeout: float = 5.0,
        refresh_after: float = REFRESH_AFTER,
        retry_failed_after: float = RETRY_FAILED_AFTER,
        refetch_unknown_key_after: float = REFETCH_UNKNOWN_KEY_AFTER,
        max_key_age: float = MAX_KEY_AGE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = session
        self.timeout = timeout
        self.refresh_after = refresh_after
        self.retry_failed_after = retry_failed_after
        self.refetch_unknown_key_after = refetch_unknown_key_after
        self.max_key_age = max_key_age
        self._clock = clock
        self._documents: dict[str, _Document] = {}

    @contextlib.contextmanager
    def bound(self) -> Iterator[None]:
        """Make these the keys the SDK's token checks use within this block (this task and its awaits)."""
        token = _bound_keys.set(self)
        try:
            yield
        finally:
            _bound_keys.reset(token)

    async def key(self, metadata_url: str, key_id: str) -> SigningKey:
        """The key `key_id` published through `metadata_url`; PermissionError when there is none."""
        document = self._documents.setdefault(metadata_url, _Document())
        if document.fetch is None and self._fetch_due(document, key_id):
            document.fetch = asyncio.ensure_future(self._fetch(metadata_url, document))
        key = self._usable_key(document, key_id)
        if key is None and document.fetch is not None:
            # Everyone waiting for this URL waits for the same fetch; shielded, so one caller that
            # goes away does not cancel it for the others.
            await asyncio.shield(document.fetch)
            key = self._usable_key(document, key_id)
        if key is None:
            raise PermissionError(f"no signing key {key_id!r} published at {metadata_url}")
        return key

    async def close(self) -> None:
        """Cancel fetches in flight (the session belongs to whoever passed it in)."""
        fetches = [document.fetch for document in self._documents.values() if document.fetch is not None]
        for fetch in fetches:
            fetch.cancel()
        await asyncio.gather(*fetches, return_exceptions=True)

    def _fetch_due(self, document: _Document, key_id: str) -> bool:
        now = self._clock()
        if document.failed_at is not None and now - document.failed_at < self.retry_failed_after:
            return False
        if document.fetched_at is None or now - document.fetched_at >= self.refresh_after:
            return True
        # A kid we have not seen: published since the last fetch (a rotation), or made up. Look again, rarely.
        return key_id not in document.keys and now - document.fetched_at >= self.refetch_unknown_key_after

    def _usable_key(self, document: _Document, key_id: str) -> SigningKey | None:
        if document.fetched_at is None or self._clock() - document.fetched_at >= self.max_key_age:
            return None
        return document.keys.get(key_id)

    async def _fetch(self, metadata_url: str, document: _Document) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                keys = await self._download(metadata_url)
        except Exception as error:  # noqa: BLE001 - any failure is remembered the same way
            document.failed_at = self._clock()
            log.warning(
                "could not fetch signing keys from %s (%s); trying again in %.0fs at the earliest",
                metadata_url,
                type(error).__name__,
                self.retry_failed_after,
            )
        else:
            document.keys = keys
            document.fetched_at = self._clock()
            document.failed_at = None
            log.info("fetched %d signing keys from %s", len(keys), metadata_url)
        finally:
            document.fetch = None

    async def _download(self, metadata_url: str) -> dict[str, SigningKey]:
        session = self._session()
        async with session.get(metadata_url) as response:
            response.raise_for_status()
            metadata = await response.json(content_type=None)
        keys_url = metadata["jwks_uri"]
        if not isinstance(keys_url, str):
            raise ValueError("jwks_uri is not a URL")
        async with session.get(keys_url) as response:
            response.raise_for_status()
            key_set = await response.json(content_type=None)
        keys = _signing_keys(key_set["keys"])
        if not keys:
            raise ValueError(f"{keys_url} published no RSA signing keys")
        return keys


def _signing_keys(published: list[dict[str, Any]]) -> dict[str, SigningKey]:
    # Parsed once per fetch (the SDK parsed the JWK on every request); keys the SDK could not use
    # (no kid, not RSA) are left out rather than failing the whole set.
    keys: dict[str, SigningKey] = {}
    for jwk in published:
        kid = jwk.get("kid")
        if not isinstance(kid, str):
            continue
        try:
            public_key = RSAAlgorithm.from_jwk(json.dumps(jwk))
        except Exception:  # noqa: BLE001 - PyJWT raises several kinds for keys it cannot read
            log.debug("skipped published key %r: not an RSA key PyJWT can read", kid)
            continue
        if isinstance(public_key, RSAPublicKey):
            keys[kid] = SigningKey(public_key, tuple(jwk.get("endorsements") or ()))
    return keys


class _BoundMetadata:
    """What the SDK holds as its metadata for one URL: asks the keys bound to the current request."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def get(self, key_id: str | None) -> SigningKey:
        keys = _bound_keys.get()
        if keys is None:
            raise PermissionError(
                "token validation outside RecBot's authentication; refusing rather than fetching keys"
            )
        if not key_id:
            # The SDK could not find a key for it either (its `_find` indexes by kid); no fetch needed.
            raise PermissionError("the token names no signing key")
        return await keys.key(self.url, key_id)


def _bound_metadata(metadata_url: str) -> _BoundMetadata:
    return _BoundMetadata(metadata_url)


def route_sdk_metadata_to_recbot() -> None:
    """Make the SDK's token checks take their keys from the `OpenIdKeys` bound to the request (idempotent)."""
    # JwtTokenExtractor.__init__ calls `JwtTokenExtractor.get_open_id_metadata(url)` by class name,
    # so replacing it on the class reaches every validation path, whatever URL the path picked.
    JwtTokenExtractor.get_open_id_metadata = staticmethod(_bound_metadata)  # type: ignore[method-assign,assignment]
