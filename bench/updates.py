"""The update-dialog benchmark: whole dialogs over HTTP, every turn through to the stored row.

RecBot runs in its own process (`bench.serve recbot`) with the load users as `RECBOT_ADMINS`; the
load process (`bench.load --dialogs`) runs `concurrency` users, each in their own personal chat,
each posting one dialog after another ("update REF" → status → assessment → narrative → skip →
skip → confirm). Afterwards the `updates` table is checked: every dialog the load finished stored
exactly one row (by the confirm turn's activity id), and nothing else was stored.

For scale, the floor (bench/floor.py) and the baseline answer status questions at the same
concurrency in the same run: a dialog is seven turns, so "turns/s × floor" compares each turn with
the least one request costs on this stack. The stateful floor takes the same dialogs (each turn
reads and writes the sender's state row and replies), for the least a turn of a conversation costs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench import data, procs
from bench.load import DIALOG_ANSWERS, dialog_user
from storage.database import create_engine, create_sessionmaker
from storage.models import Update

CONCURRENCY = 8
REFERENCES = [f"{data.SEED_CODE} R{number}" for number in data.SEED_NUMBERS] + [
    f"BENCH-2000 R{number}" for number in (17, 123, 250, 301)
]
TURNS = len(DIALOG_ANSWERS) + 1


async def _stored(url: str, confirm_ids: list[str]) -> tuple[int, dict[str, int]]:
    """(all update rows, rows per confirm activity key)."""
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            total = await session.scalar(select(func.count(Update.id))) or 0
            per_id: dict[str, int] = {}
            for start in range(0, len(confirm_ids), 500):
                chunk = confirm_ids[start : start + 500]
                rows = await session.execute(
                    select(Update.source_activity_key, func.count(Update.id))
                    .where(Update.source_activity_key.in_(chunk))
                    .group_by(Update.source_activity_key)
                )
                per_id.update({activity_id: count for activity_id, count in rows})
    finally:
        await engine.dispose()
    return total, per_id


async def _status_questions(kind: str, url: str, stub_url: str, seconds: float, warmup: float) -> dict[str, Any]:
    """A reference server (`floor` or `baseline`) answering status questions at the dialogs' concurrency."""
    process, target = await procs.start_server(kind, url)
    try:
        questions = [f"status of {reference}" for reference in REFERENCES]
        return await procs.closed_loop(target, stub_url, CONCURRENCY, seconds, warmup, questions)
    finally:
        await procs.stop(process)


async def _dialogs(
    kind: str, url: str, stub_url: str, seconds: float, warmup: float, env: dict[str, str]
) -> dict[str, Any]:
    """The dialog load against a `kind` server (`recbot` or `stateful-floor`)."""
    process, target = await procs.start_server(kind, url, env=env)
    try:
        return await procs.run_load(
            "--dialogs",
            f"{target}/api/messages",
            stub_url,
            str(CONCURRENCY),
            str(seconds),
            str(warmup),
            json.dumps(REFERENCES),
            timeout=seconds + warmup + 120,
        )
    finally:
        await procs.stop(process)


async def bench_update_dialog(
    backend: str, workdir: Path, stub_url: str, seconds: float, warmup: float
) -> dict[str, Any]:
    url = await data.new_database(backend, workdir)
    csv_path = workdir / "updates-500.csv"
    data.write_csv(csv_path, reports=1, items_per_report=500)
    await data.import_into(url, data.SEED, csv_path)
    admins = ",".join(dialog_user(index).email for index in range(CONCURRENCY))
    try:
        before, _ = await _stored(url, [])
        references = {
            kind: await _status_questions(kind, url, stub_url, seconds, warmup) for kind in ("floor", "baseline")
        }
        stateful_floor = await _dialogs("stateful-floor", url, stub_url, seconds, warmup, {})
        result = await _dialogs("recbot", url, stub_url, seconds, warmup, {"RECBOT_ADMINS": admins})
        confirm_ids: list[str] = result.pop("confirm_ids")
        after, per_id = await _stored(url, confirm_ids)
    finally:
        await data.drop_database(url)
    missing = sum(1 for activity_id in confirm_ids if per_id.get(activity_id, 0) == 0)
    doubled = sum(1 for count in per_id.values() if count > 1)
    result.update(
        backend=backend,
        floor_throughput=references["floor"]["throughput"],
        baseline_throughput=references["baseline"]["throughput"],
        stateful_floor_turns=stateful_floor["turns_per_second"],
        turns=TURNS,
        completed=len(confirm_ids),
        rows_added=after - before,
        missing=missing,
        doubled=doubled,
        exactly_once=missing == 0 and doubled == 0 and after - before == len(confirm_ids),
    )
    return result
