"""Benchmark databases and documents: throw-away SQLite files and PostgreSQL databases, generated CSVs."""

from __future__ import annotations

import csv
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url

from services.export import TRACKER_COLUMNS
from services.importing import import_file
from storage.database import create_engine, create_sessionmaker, upgrade
from tests.postgres import execute_on_server, url_of_database

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "samples" / "oic-2025-cheshire-pcc-response.txt"
SEED_CODE = "OIC-2025"
SEED_NUMBERS = (2, 4, 8, 9)
POSTGRES_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
STATUSES = ("Not started", "In progress", "Blocked", "Awaiting sign-off", "Closed")


def write_csv(path: Path, *, reports: int, items_per_report: int, first_year: int = 2000) -> list[str]:
    """A tracker CSV of `reports` × `items_per_report` recommendations; returns the report codes."""
    codes = []
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(TRACKER_COLUMNS)
        for report in range(reports):
            code = f"BENCH-{first_year + report}"
            codes.append(code)
            for number in range(1, items_per_report + 1):
                writer.writerow(
                    [
                        code,
                        f"Benchmark inspection {first_year + report}" if number == 1 else "",
                        "16/05/2025",
                        "Thematic",
                        "recommendation",
                        number,
                        f"By 30 April 2026, the force should review its arrangements for case file quality area {number}, "
                        "including supervision, training and the use of the digital case file system, and report progress.",
                        "30/04/2026",
                        STATUSES[number % len(STATUSES)],
                        f"owner{number % 40}@force.police.uk",
                        f"Progress reviewed at the governance board; action plan {number} is on track.",
                    ]
                )
    return codes


async def _postgres_admin(sql: str) -> None:
    await execute_on_server(POSTGRES_ADMIN_URL, sql)


async def new_database(backend: str, workdir: Path) -> str:
    """The URL of a new, migrated, empty database on `backend` ("sqlite" or "postgresql")."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / f'bench-{uuid.uuid4().hex[:8]}.db'}"
    else:
        name = f"recbot_bench_{uuid.uuid4().hex[:10]}"
        await _postgres_admin(f'CREATE DATABASE "{name}"')
        url = url_of_database(POSTGRES_ADMIN_URL, name)
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    return url


async def drop_database(url: str) -> None:
    """Remove a database made by `new_database`."""
    if url.startswith("sqlite"):
        path = Path(make_url(url).database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    await _postgres_admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


async def import_into(url: str, *paths: Path) -> None:
    engine = create_engine(url)
    try:
        for path in paths:
            await import_file(create_sessionmaker(engine), path)
    finally:
        await engine.dispose()


async def postgres_available() -> bool:
    try:
        await _postgres_admin("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure means "no server"
        return False
    return True
