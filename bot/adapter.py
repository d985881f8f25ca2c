"""The Bot Framework adapter, built once per app, with the SDK fixes RecBot carries.

The SDK (4.17, archived upstream) stays behind this module and `bot/app.py`'s front door.
"""

from __future__ import annotations

from types import SimpleNamespace

from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.integration.aiohttp.configuration_service_client_credential_factory import (
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    ServiceClientCredentialsFactory,
    UserTokenClient,
)
from botframework.connector.skills import BotFrameworkClient
from msrest.authentication import Authentication

from bot.config import Settings
from bot.connector import ConnectorPool, PooledConnectorFactory
from bot.openid import OpenIdKeys, route_sdk_metadata_to_recbot


class CachedCredentialsFactory(ServiceClientCredentialsFactory):
    """Reuses one credentials object (and so its Entra token) per app id and scope.

    The SDK builds new credentials, and fetches a new token, on every turn (BOTFRAMEWORK.md).
    """

    def __init__(self, inner: ServiceClientCredentialsFactory) -> None:
        self._inner = inner
        self._cache: dict[tuple[str, str, str], Authentication] = {}

    async def is_valid_app_id(self, app_id: str) -> bool:
        return await self._inner.is_valid_app_id(app_id)

    async def is_authentication_disabled(self) -> bool:
        return await self._inner.is_authentication_disabled()

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Authentication:
        key = (app_id, oauth_scope, login_endpoint)
        credentials = self._cache.get(key)
        if credentials is None:
            credentials = await self._inner.create_credentials(app_id, oauth_scope, login_endpoint, validate_authority)
            self._cache[key] = credentials
        return credentials


def _app_id(claims_identity: ClaimsIdentity | None) -> str | None:
    # As the SDK reads it: the audience claim from channels, the appid claim from the Emulator.
    if claims_identity is None:
        return None
    return claims_identity.get_claim_value(AuthenticationConstants.AUDIENCE_CLAIM) or claims_identity.get_claim_value(
        AuthenticationConstants.APP_ID_CLAIM
    )


class PooledAuthentication(BotFrameworkAuthentication):
    """The SDK's authentication, with outbound calls through one pooled aiohttp session.

    Everything is delegated to the SDK except the connector factories, which it would otherwise
    rebuild (with a new `ConnectorClient` and a `requests` sender) on every turn, and the token
    signing keys, which come from `keys` (`bot.openid`: fetched off the event loop, with a timeout,
    cached, failures remembered) instead of the SDK's blocking fetch. `close()` it on app cleanup.
    """

    def __init__(self, inner: BotFrameworkAuthentication, pool: ConnectorPool, keys: OpenIdKeys | None = None) -> None:
        self._inner = inner
        self.pool = pool
        self.keys = keys or OpenIdKeys(pool.session)
        self._user_token_clients: dict[str | None, UserTokenClient] = {}
        route_sdk_metadata_to_recbot()

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        with self.keys.bound():
            result = await self._inner.authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = PooledConnectorFactory(
                self.pool, result.connector_factory, _app_id(result.claims_identity)
            )
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        with self.keys.bound():
            return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return PooledConnectorFactory(
            self.pool, self._inner.create_connector_factory(claims_identity), _app_id(claims_identity)
        )

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        # The adapter asks for one on every turn, and the SDK builds a new msrest client each time
        # (about a third of a status question's CPU when profiled); it is stateless, so reuse it.
        app_id = _app_id(claims_identity)
        client = self._user_token_clients.get(app_id)
        if client is None:
            client = await self._inner.create_user_token_client(claims_identity)
            self._user_token_clients[app_id] = client
        return client

    def create_bot_framework_client(self) -> BotFrameworkClient:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self._inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        with self.keys.bound():
            return await self._inner.authenticate_channel_request(auth_header)

    async def close(self) -> None:
        """Stop key fetches in flight and close the pooled connector session they share."""
        await self.keys.close()
        await self.pool.close()


def create_authentication(settings: Settings, *, pool: ConnectorPool | None = None) -> PooledAuthentication:
    """Bot Framework authentication from the settings: cached credentials, pooled connectors, async signing keys."""
    return PooledAuthentication(create_sdk_authentication(settings), pool or ConnectorPool())


def create_sdk_authentication(settings: Settings) -> BotFrameworkAuthentication:
    """The SDK's authentication with cached credentials only (a connector per turn): the benchmark's "before"."""
    configuration = SimpleNamespace(
        APP_ID=settings.app_id,
        APP_PASSWORD=settings.app_password,
        APP_TYPE=settings.app_type,
        APP_TENANTID=settings.app_tenant_id,
    )
    credentials = CachedCredentialsFactory(ConfigurationServiceClientCredentialFactory(configuration))
    return ConfigurationBotFrameworkAuthentication(configuration, credentials_factory=credentials)


def create_adapter(authentication: BotFrameworkAuthentication) -> CloudAdapter:
    """The SDK adapter over `authentication` (built by `create_authentication`)."""
    return CloudAdapter(authentication)
