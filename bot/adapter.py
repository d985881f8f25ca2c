"""The Bot Framework adapter, built once per app, with the SDK fixes RecBot carries.

The SDK (4.17, archived upstream) stays behind this module and `bot/app.py`'s front door.
"""

from __future__ import annotations

from types import SimpleNamespace

from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.integration.aiohttp.configuration_service_client_credential_factory import (
    ConfigurationServiceClientCredentialFactory,
)
from botframework.connector.auth import BotFrameworkAuthentication, ServiceClientCredentialsFactory
from msrest.authentication import Authentication

from bot.config import Settings


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


def create_authentication(settings: Settings) -> BotFrameworkAuthentication:
    """Bot Framework authentication from the settings, with cached credentials."""
    configuration = SimpleNamespace(
        APP_ID=settings.app_id,
        APP_PASSWORD=settings.app_password,
        APP_TYPE=settings.app_type,
        APP_TENANTID=settings.app_tenant_id,
    )
    credentials = CachedCredentialsFactory(ConfigurationServiceClientCredentialFactory(configuration))
    return ConfigurationBotFrameworkAuthentication(configuration, credentials_factory=credentials)


def create_adapter(authentication: BotFrameworkAuthentication) -> CloudAdapter:
    return CloudAdapter(authentication)
