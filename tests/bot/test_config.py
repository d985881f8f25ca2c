"""Settings fail closed: no authenticated bot open to every tenant by omission, `.env` read from the
working directory, and local mode kept to this machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings, SettingsError
from storage.database import PoolSettings

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER = "0b0b0b0b-0000-4000-8000-00000000beef"
CREDENTIALS = {"MicrosoftAppId": "00000000-0000-0000-0000-00000000b0d1", "MicrosoftAppPassword": "secret"}


def test_an_authenticated_bot_with_no_tenant_named_refuses_to_start() -> None:
    with pytest.raises(SettingsError, match="RECBOT_ALLOWED_TENANTS"):
        Settings.from_env(dict(CREDENTIALS))


def test_the_bots_own_tenant_is_the_allow_list_by_default() -> None:
    settings = Settings.from_env({**CREDENTIALS, "MicrosoftAppTenantId": TENANT})
    assert settings.tenant_allowed(TENANT) and not settings.tenant_allowed(OTHER) and not settings.tenant_allowed(None)
    assert settings.home_tenant == TENANT and not settings.any_tenant


def test_any_tenant_only_when_said_on_purpose() -> None:
    settings = Settings.from_env({**CREDENTIALS, "RECBOT_ALLOWED_TENANTS": "*"})
    assert settings.any_tenant and settings.tenant_allowed(OTHER)
    assert settings.home_tenant is None  # so e-mail addresses link nobody
    with pytest.raises(SettingsError, match="not both"):
        Settings.from_env({**CREDENTIALS, "RECBOT_ALLOWED_TENANTS": f"*,{TENANT}"})


def test_a_named_allow_list_wins_and_one_tenant_is_home() -> None:
    settings = Settings.from_env({**CREDENTIALS, "RECBOT_ALLOWED_TENANTS": f"{TENANT}, {OTHER}"})
    assert settings.tenant_allowed(OTHER) and not settings.tenant_allowed("someone-else")
    assert settings.home_tenant is None  # two tenants, and no MicrosoftAppTenantId to say which is ours
    assert Settings.from_env({**CREDENTIALS, "RECBOT_ALLOWED_TENANTS": TENANT}).home_tenant == TENANT


def test_local_mode_without_tenants_is_open_and_homeless() -> None:
    settings = Settings.from_env({})
    assert settings.any_tenant and settings.home_tenant is None


def test_dotenv_is_read_from_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text(f"MicrosoftAppTenantId={TENANT}\nRECBOT_TIMEZONE=Europe/Dublin\n")
    monkeypatch.delenv("MicrosoftAppTenantId", raising=False)
    monkeypatch.delenv("RECBOT_TIMEZONE", raising=False)
    monkeypatch.chdir(tmp_path)
    try:
        settings = Settings.from_env()
    finally:
        # load_dotenv writes into os.environ; monkeypatch restores what it deleted, not what was added.
        monkeypatch.delenv("MicrosoftAppTenantId", raising=False)
        monkeypatch.delenv("RECBOT_TIMEZONE", raising=False)
    assert (settings.app_tenant_id, settings.timezone) == (TENANT, "Europe/Dublin")


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "recbot.example.police.uk"])
def test_local_mode_refuses_to_serve_beyond_this_machine(
    host: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("MicrosoftAppId", "MicrosoftAppPassword", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert main(["serve", "--host", host]) == 2
    assert "local mode" in capsys.readouterr().err
    assert not (tmp_path / "recbot.db").exists()  # refused before touching anything


def test_pool_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {"RECBOT_DB_POOL_SIZE": "5", "RECBOT_DB_MAX_OVERFLOW": "0", "RECBOT_DB_PGBOUNCER": "on"}
    )
    assert (settings.pool.size, settings.pool.max_overflow, settings.pool.pgbouncer) == (5, 0, True)
    assert Settings.from_env({}).pool == PoolSettings()
    with pytest.raises(SettingsError, match="RECBOT_DB_POOL_SIZE"):
        Settings.from_env({"RECBOT_DB_POOL_SIZE": "0"})
