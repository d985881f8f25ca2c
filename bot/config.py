"""Settings, read once from the environment (and an optional .env file) and validated."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.database import PoolSettings

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./recbot.db"
# RECBOT_ALLOWED_TENANTS=* : any Entra tenant may talk to the bot, said on purpose.
ANY_TENANT = "*"
APP_TYPES = {"multitenant": "MultiTenant", "singletenant": "SingleTenant", "userassignedmsi": "UserAssignedMSI"}

log = logging.getLogger(__name__)


class SettingsError(ValueError):
    """The configuration cannot work; the message says which variable to fix."""


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in re.split(r"[,;\s]+", value) if part.strip())


def _switch(environ: dict[str, str], name: str, default: bool) -> bool:
    text = environ.get(name, "").strip().lower()
    return default if not text else text not in ("off", "0", "false", "no")


def _count(environ: dict[str, str], name: str, default: int, *, minimum: int) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdecimal() or int(text) < minimum:
        raise SettingsError(f"{name} must be a whole number of at least {minimum}, not {text!r}")
    return int(text)


@dataclass(frozen=True)
class Settings:
    """Everything RecBot reads from its environment. Build with `Settings.from_env()`."""

    database_url: str = DEFAULT_DATABASE_URL
    app_id: str = ""
    app_password: str = field(default="", repr=False)
    app_type: str = "MultiTenant"
    app_tenant_id: str = ""
    # Empty: the bot's own tenant (MicrosoftAppTenantId) when set, else any tenant in local mode;
    # ("*",): any tenant, on purpose. Read it through `tenant_allowed`.
    allowed_tenants: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()
    timezone: str = "Europe/London"
    # Inbound activities larger than this are refused with 413; Teams caps messages near 28 KB.
    max_request_bytes: int = 256 * 1024
    # Run the digest/nudge scheduler inside `recbot serve` (RECBOT_SCHEDULER=off for cron-only setups).
    run_scheduler: bool = True
    # PostgreSQL connections per process (RECBOT_DB_POOL_SIZE, RECBOT_DB_MAX_OVERFLOW, RECBOT_DB_PGBOUNCER).
    pool: PoolSettings = PoolSettings()
    # RECBOT_LOG_FORMAT: "text" (lines for people) or "json" (one object per line).
    log_format: str = "text"
    # RECBOT_TELEMETRY=on: OpenTelemetry traces over OTLP (bot/telemetry.py; the `telemetry` extra).
    telemetry: bool = False

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, *, dotenv: bool = True) -> Settings:
        """Read the settings from `environ` (default: the process environment plus `.env`)."""
        if environ is None:
            if dotenv:
                from dotenv import load_dotenv

                # The working directory's .env, as the README says (load_dotenv() alone searches
                # upwards from this module's folder and would miss secrets placed beside the app).
                load_dotenv(Path.cwd() / ".env", override=False)
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
            run_scheduler=_switch(environ, "RECBOT_SCHEDULER", True),
            log_format=environ.get("RECBOT_LOG_FORMAT", "").strip().lower() or "text",
            telemetry=_switch(environ, "RECBOT_TELEMETRY", False),
            pool=PoolSettings(
                size=_count(environ, "RECBOT_DB_POOL_SIZE", PoolSettings.size, minimum=1),
                max_overflow=_count(environ, "RECBOT_DB_MAX_OVERFLOW", PoolSettings.max_overflow, minimum=0),
                pgbouncer=_switch(environ, "RECBOT_DB_PGBOUNCER", False),
            ),
        )
        settings.validate()
        return settings

    @property
    def authentication_enabled(self) -> bool:
        return bool(self.app_id)

    @property
    def home_tenant(self) -> str | None:
        """The force's own Entra tenant: MicrosoftAppTenantId, else the one allowed tenant, else unknown.

        Only there may an e-mail address link a placeholder person to whoever is talking.
        """
        if self.app_tenant_id:
            return self.app_tenant_id
        named = [tenant for tenant in self.allowed_tenants if tenant != ANY_TENANT]
        return named[0] if len(named) == 1 else None

    @property
    def any_tenant(self) -> bool:
        """True when activities from every tenant may reach the bot (RECBOT_ALLOWED_TENANTS=*, or local mode
        with no tenant named: validate() refuses an authenticated bot that is open by omission)."""
        return ANY_TENANT in self.allowed_tenants or not (self.allowed_tenants or self.app_tenant_id)

    def tenant_allowed(self, tenant_id: str | None) -> bool:
        """True when an activity from `tenant_id` may reach the bot."""
        if self.any_tenant:
            return True
        return tenant_id in (self.allowed_tenants or (self.app_tenant_id,))

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
        if self.log_format not in ("text", "json"):
            raise SettingsError(f"RECBOT_LOG_FORMAT must be text or json, not {self.log_format!r}")
        if self.telemetry:
            from bot import telemetry

            if not telemetry.available():
                raise SettingsError(f"RECBOT_TELEMETRY=on needs OpenTelemetry installed: {telemetry.EXTRA}")
        if ANY_TENANT in self.allowed_tenants and len(self.allowed_tenants) > 1:
            raise SettingsError("RECBOT_ALLOWED_TENANTS is either * (any tenant) or a list of tenant ids, not both")
        if self.authentication_enabled and not self.allowed_tenants and not self.app_tenant_id:
            raise SettingsError(
                "Set RECBOT_ALLOWED_TENANTS to your Entra tenant id (or MicrosoftAppTenantId): otherwise any tenant "
                "that installs the app could use the bot. Set RECBOT_ALLOWED_TENANTS=* if that is really meant."
            )
        if not self.database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise SettingsError(
                "DATABASE_URL must be an async SQLAlchemy URL: sqlite+aiosqlite:///… or postgresql+asyncpg://…"
            )

    def warn_if_open(self) -> None:
        """Log loudly when the bot runs without authentication or open to every tenant."""
        if ANY_TENANT in self.allowed_tenants:
            log.warning(
                "RECBOT_ALLOWED_TENANTS=*: any Entra tenant that installs the app can read the tracker, and "
                "e-mail addresses link nobody (no home tenant) unless MicrosoftAppTenantId is set."
            )
        if not self.authentication_enabled:
            log.warning(
                "MicrosoftAppId is empty: LOCAL MODE, requests are NOT authenticated. "
                "Never expose this endpoint beyond this machine."
            )
