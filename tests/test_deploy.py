"""The deployment files: Dockerfile, .dockerignore, compose.yaml, deploy/nginx.conf and the example env.

The files are read and checked everywhere (PyYAML, from the test extra, reads compose.yaml).
`docker compose config` and `docker build` run only where a Docker engine answers.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
import uuid
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
NGINX = ROOT / "deploy" / "nginx.conf"
ENV_EXAMPLE = ROOT / "deploy" / "recbot.env.example"
SERVE = ["recbot", "serve", "--host", "0.0.0.0", "--port", "3978"]


# --- the Dockerfile -------------------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def _final_stage() -> list[tuple[str, str]]:
    instructions = _instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def _image_command() -> list[str]:
    commands = [arguments for keyword, arguments in _final_stage() if keyword == "CMD"]
    assert commands, "the image has no CMD"
    command: list[str] = json.loads(commands[-1])
    return command


def test_the_image_is_slim_python_3_11() -> None:
    bases = [arguments.split()[0] for keyword, arguments in _instructions() if keyword == "FROM"]
    assert bases and all(base.startswith("python:3.11-slim") for base in bases), bases


def test_the_image_runs_as_a_user_other_than_root() -> None:
    users = [arguments for keyword, arguments in _final_stage() if keyword == "USER"]
    assert users, "the final stage has no USER: the bot would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_the_image_serves_authenticated_on_every_interface() -> None:
    assert [keyword for keyword, _ in _final_stage() if keyword == "ENTRYPOINT"] == []
    assert _image_command() == SERVE  # no --allow-unauthenticated: credentials come from the environment


def test_the_health_check_asks_readyz_with_python() -> None:
    checks = [arguments for keyword, arguments in _final_stage() if keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    exec_form = checks[0][checks[0].index("CMD") + len("CMD") :].strip()
    program, flag, code = json.loads(exec_form)
    assert (program, flag) == ("python", "-c")
    assert "urllib.request" in code and "http://127.0.0.1:3978/readyz" in code
    compile(code, "HEALTHCHECK", "exec")


def test_the_build_context_lets_in_only_the_project() -> None:
    rules = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*", "the build context must start from nothing (secrets, .venv, *.db stay out)"
    let_in = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"][
        "find"
    ]["include"]
    packages = {
        path.name
        for path in ROOT.iterdir()
        if (path / "__init__.py").exists() and any(re.fullmatch(p.replace("*", ".*"), path.name) for p in patterns)
    }
    assert packages <= let_in, f"packages missing from .dockerignore: {sorted(packages - let_in)}"
    assert {"pyproject.toml", "README.md"} <= let_in
    assert not let_in & {".env", ".venv", ".git", "deploy", "build", "docs", "tests"}


# --- compose.yaml ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    import yaml

    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def _command(service: dict[str, Any]) -> list[str]:
    """What the service runs: its own command, or the image's CMD when it builds this Dockerfile."""
    if "command" in service:
        command = service["command"]
        return command.split() if isinstance(command, str) else list(command)
    return _image_command() if "build" in service else []


def _replicas(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: service for name, service in services.items() if _command(service)[:2] == ["recbot", "serve"]}


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    depends = service.get("depends_on", {})
    if isinstance(depends, list):
        return dict.fromkeys(depends, "service_started")
    return {name: options.get("condition", "service_started") for name, options in depends.items()}


def test_postgres_16_keeps_its_data_in_a_volume_and_has_a_health_check(services: dict[str, dict[str, Any]]) -> None:
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:16")
    assert any(str(volume).endswith(":/var/lib/postgresql/data") for volume in postgres["volumes"])
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_migrate_upgrades_the_schema_once_postgres_is_healthy(services: dict[str, dict[str, Any]]) -> None:
    migrate = services["migrate"]
    assert _command(migrate) == ["recbot", "db", "upgrade"]
    assert _depends_on(migrate) == {"postgres": "service_healthy"}
    assert migrate.get("restart", "no") == "no"


def test_two_replicas_serve_after_the_migration(services: dict[str, dict[str, Any]]) -> None:
    replicas = _replicas(services)
    assert len(replicas) == 2, sorted(replicas)
    for name, replica in replicas.items():
        assert "deploy" not in replica, f"{name}: plain `docker compose up` runs two named services instead"
        assert _depends_on(replica) == {"migrate": "service_completed_successfully"}, name
        assert replica["env_file"]


def test_every_replica_runs_the_scheduler(services: dict[str, dict[str, Any]]) -> None:
    # A digest run takes an advisory lock (storage.deliveries.one_run_at_a_time): replicas are alike.
    settings = [replica.get("environment", {}).get("RECBOT_SCHEDULER") for replica in _replicas(services).values()]
    assert all(setting in (None, "on") for setting in settings)


def test_the_proxy_spreads_the_bots_routes_over_both_replicas(services: dict[str, dict[str, Any]]) -> None:
    replicas = _replicas(services)
    proxy = services["proxy"]
    assert _depends_on(proxy) == dict.fromkeys(replicas, "service_healthy")
    assert len(proxy["ports"]) == 1
    assert proxy["healthcheck"]["test"]
    assert any(str(volume).startswith("./deploy/nginx.conf:") for volume in proxy["volumes"])
    config = NGINX.read_text(encoding="utf-8")
    assert set(re.findall(r"^\s*server\s+([\w.-]+):3978\b", config, re.MULTILINE)) == set(replicas)
    for route in ("/api/messages", "/healthz", "/readyz"):
        assert "proxy_pass http://recbot;" in _location(config, route), route
    assert "limit_except POST" in _location(config, "/api/messages")


def _location(config: str, route: str) -> str:
    """The body of nginx's `location = ROUTE { … }`, nested blocks included."""
    start = config.index(f"location = {route} {{") + len(f"location = {route} {{")
    depth = 1
    for end in range(start, len(config)):
        depth += {"{": 1, "}": -1}.get(config[end], 0)
        if depth == 0:
            return config[start:end]
    raise AssertionError(f"location {route} is not closed")


def test_the_example_env_names_every_setting() -> None:
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    values = dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    for name in (
        "DATABASE_URL",
        "MicrosoftAppId",
        "MicrosoftAppPassword",
        "MicrosoftAppType",
        "MicrosoftAppTenantId",
        "RECBOT_ALLOWED_TENANTS",
        "RECBOT_ADMINS",
        "RECBOT_TIMEZONE",
        "RECBOT_SCHEDULER",
    ):
        assert name in values, name
    assert re.fullmatch(r"postgresql\+asyncpg://[^@]+@postgres:5432/\w+", values["DATABASE_URL"])
    assert values["MicrosoftAppType"] == "SingleTenant"


# --- Docker itself, where an engine answers ---------------------------------------------------------


@pytest.fixture(scope="module")
def docker() -> str:
    client = shutil.which("docker")
    if client is None:
        pytest.skip("no Docker client on this machine")
    if subprocess.run([client, "info"], capture_output=True, timeout=30).returncode != 0:
        pytest.skip("no Docker engine on this machine")
    return client


def test_docker_compose_accepts_the_file(docker: str, tmp_path: Path) -> None:
    if subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30).returncode != 0:
        pytest.skip("docker compose is not installed on this machine")
    # compose wants the env file to exist: use the example, in a copy of the files compose reads.
    (tmp_path / "deploy").mkdir()
    for path in (COMPOSE, DOCKERFILE, NGINX):
        shutil.copy(path, tmp_path / path.relative_to(ROOT))
    shutil.copy(ENV_EXAMPLE, tmp_path / "deploy" / "recbot.env")
    result = subprocess.run(
        [docker, "compose", "--project-directory", str(tmp_path), "-f", str(tmp_path / "compose.yaml"), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_the_image_builds_and_runs_as_its_own_user(docker: str) -> None:
    tag = f"recbot-test:{uuid.uuid4().hex[:8]}"
    build = subprocess.run([docker, "build", "-q", "-t", tag, str(ROOT)], capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stderr
    try:
        user = subprocess.run([docker, "run", "--rm", tag, "id", "-u"], capture_output=True, text=True, timeout=60)
        assert user.stdout.strip() not in ("", "0"), user
        help_text = subprocess.run(
            [docker, "run", "--rm", tag, "recbot", "--help"], capture_output=True, text=True, timeout=60
        )
        assert help_text.returncode == 0 and "serve" in help_text.stdout, help_text
    finally:
        subprocess.run([docker, "image", "rm", "-f", tag], capture_output=True, timeout=60)
