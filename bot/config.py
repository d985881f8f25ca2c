"""Settings, read once from the environment (and an optional .env file) and validated."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./recbot.db"
APP_TYPES = {"multitenant": "MultiTenant", "singletenant": "SingleTenant", "userassignedmsi": "UserAssignedMSI"}

log = logging.getLogger(__name__)


class SettingsError(ValueError):
    """The configuration cannot work; the message says which variable to fix."""


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in re.split(r"[,;\s]+", value) if part.strip())


@dataclass(frozen=True)
class Settings:
    """Everything RecBot reads from its environment. Build with `Settings.from_env()`."""

    database_url: str = DEFAULT_DATABASE_URL
    app_id: str = ""
    app_password: str = field(default="", repr=False)
    app_type: str = "MultiTenant"
    app_tenant_id: str = ""
    allowed_tenants: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()
    timezone: str = "Europe/London"
    # Inbound activities larger than this are refused with 413; Teams caps messages near 28 KB.
    max_request_bytes: int = 256 * 1024
    # Run the digest/nudge scheduler inside `recbot serve` (RECBOT_SCHEDULER=off for cron-only setups).
    run_scheduler: bool = True

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, *, dotenv: bool = True) -> Settings:
        """Read the settings from `environ` (default: the process environment plus `.env`)."""
        if environ is None:
            if dotenv:
                from dotenv import load_dotenv

                load_dotenv(override=False)
            environ = dict(os.environ)
        settings = cls(
            database_url=environ.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL,
            app_id=environ.get("MicrosoftAppId", "").strip(),
            app_password=environ.get("MicrosoftAppPassword", "").strip(),
            app_type=environ.get("MicrosoftAppType", "").strip() or "MultiTenant",
            app_tenant_id=environ.get("MicrosoftAppTenantId", "").strip(),
            allowed_tenants=_split(environ.get("RECBOT_ALLOWED_TENANTS", "")),
            admins=tuple(admin.lower() for admin in _split(environ.get("RECBOT_ADMINS", ""))),
            timezone=environ.get("RECBOT_TIMEZONE", "").strip() or "Europe/London",
            run_scheduler=environ.get("RECBOT_SCHEDULER", "on").strip().lower() not in ("off", "0", "false", "no"),
        )
        settings.validate()
        return settings

    @property
    def authentication_enabled(self) -> bool:
        return bool(self.app_id)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def validate(self) -> None:
        """Refuse configurations that would fail later or run open by mistake."""
        app_type = APP_TYPES.get(self.app_type.lower())
        if app_type is None:
            raise SettingsError(
                f"MicrosoftAppType must be one of {', '.join(APP_TYPES.values())}, not {self.app_type!r}"
            )
        object.__setattr__(self, "app_type", app_type)
        if app_type in ("SingleTenant", "UserAssignedMSI"):
            if not self.app_id:
                raise SettingsError(f"MicrosoftAppType={app_type} needs MicrosoftAppId")
            if not self.app_tenant_id:
                raise SettingsError(f"MicrosoftAppType={app_type} needs MicrosoftAppTenantId")
        if app_type == "SingleTenant" and not self.app_password:
            raise SettingsError("MicrosoftAppType=SingleTenant needs MicrosoftAppPassword")
        if self.app_id and app_type == "MultiTenant" and not self.app_password:
            raise SettingsError("MicrosoftAppId is set but MicrosoftAppPassword is empty")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise SettingsError(f"RECBOT_TIMEZONE {self.timezone!r} is not a known time zone") from error
        if not self.database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise SettingsError(
                "DATABASE_URL must be an async SQLAlchemy URL: sqlite+aiosqlite:///… or postgresql+asyncpg://…"
            )

    def warn_if_open(self) -> None:
        """Log loudly when the bot runs without authentication or without a tenant allow-list."""
        if self.authentication_enabled and not self.allowed_tenants:
            log.warning(
                "RECBOT_ALLOWED_TENANTS is empty: any Entra tenant that installs the app can read the tracker. "
                "Set it to your tenant id."
            )
        if not self.authentication_enabled:
            log.warning(
                "MicrosoftAppId is empty: LOCAL MODE, requests are NOT authenticated. "
                "Never expose this endpoint beyond this machine."
            )
