"""The import benchmark: `recbot import` of a generated tracker, against the bare floor of its rows.

For each tracker (the seed PCC document; CSV trackers of 10 reports × 1,000 and 1 × 10,000 items,
each item with an owner among 40 and an initial update), in a new database:

- `import`: `services.importing.import_file`, as `recbot import` runs it (read, parse, store in one
  transaction), timed from the file to the commit;
- `re-import`: the same file again, which must change nothing ("already imported");
- `floor`: the rows that import stored (reports, people, items, updates) read back and written into
  another new database with one SQLAlchemy Core executemany per table, in one transaction: what
  storing them costs with no parsing, no look-ups and no idempotence. Same run, same machine.

Target (issue 12): the 10,000-item tracker under 2 s on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, select

from bench import data
from services.importing import import_file
from storage.database import create_engine, create_sessionmaker
from storage.models import Item, Person, Report, Update

TARGET_SECONDS, TARGET_ITEMS = 2.0, 10_000
# Written in this order (foreign keys); ids are copied, so the floor stores the very same rows.
TABLES: tuple[Table, ...] = (Report.__table__, Person.__table__, Item.__table__, Update.__table__)  # type: ignore[assignment]


def trackers(workdir: Path, quick: bool) -> list[tuple[str, Path, int]]:
    """(label, file, items) for each file imported; `quick` leaves out the 10 × 1,000 tracker."""
    shapes = [(1, TARGET_ITEMS)] if quick else [(10, 1_000), (1, TARGET_ITEMS)]
    files = [("seed document (4 recommendations)", data.SEED, 4)]
    for reports, per_report in shapes:
        path = workdir / f"import-{reports}x{per_report}.csv"
        data.write_csv(path, reports=reports, items_per_report=per_report, first_year=2100)
        label = (
            f"CSV tracker, {reports} × {per_report:,} items" if reports > 1 else f"CSV tracker, {per_report:,} items"
        )
        files.append((label, path, reports * per_report))
    return files


async def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return {
                table.name: int(await connection.scalar(select(func.count()).select_from(table)) or 0)
                for table in TABLES
            }
    finally:
        await engine.dispose()


async def _floor(source_url: str, workdir: Path, backend: str) -> tuple[float, dict[str, int]]:
    """Seconds to write the rows of `source_url` into a new database, one Core executemany per table."""
    engine = create_engine(source_url)
    try:
        async with engine.connect() as connection:
            rows = {
                table.name: [dict(row._mapping) for row in await connection.execute(select(table))] for table in TABLES
            }
    finally:
        await engine.dispose()
    url = await data.new_database(backend, workdir)
    engine = create_engine(url)
    try:
        started = time.perf_counter()
        async with engine.begin() as connection:
            for table in TABLES:
                if rows[table.name]:
                    await connection.execute(table.insert(), rows[table.name])
        seconds = time.perf_counter() - started
    finally:
        await engine.dispose()
    try:
        return seconds, await _counts(url)
    finally:
        await data.drop_database(url)


async def bench_imports(backend: str, workdir: Path, *, quick: bool = False) -> list[dict[str, Any]]:
    rows = []
    for label, path, items in trackers(workdir, quick):
        url = await data.new_database(backend, workdir)
        try:
            engine = create_engine(url)
            try:
                started = time.perf_counter()
                lines = await import_file(create_sessionmaker(engine), path)
                seconds = time.perf_counter() - started
                started = time.perf_counter()
                again = await import_file(create_sessionmaker(engine), path)
                reimport_seconds = time.perf_counter() - started
            finally:
                await engine.dispose()
            stored = await _counts(url)
            floor_seconds, floor_stored = await _floor(url, workdir, backend)
        finally:
            await data.drop_database(url)
        rows.append(
            {
                "backend": backend,
                "what": label,
                "items": items,
                "seconds": seconds,
                "reimport_seconds": reimport_seconds,
                "floor_seconds": floor_seconds,
                "rows": sum(stored.values()),
                "same_rows": stored == floor_stored and stored["items"] == items,
                "idempotent": all(line.endswith("already imported: nothing changed") for line in again),
                "reports": len(lines),
            }
        )
    return rows
