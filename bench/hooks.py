"""The update-dialog and digest benchmarks, as hooks the runner calls once per database backend.

- `update_dialog` (bench/updates.py): whole update dialogs over HTTP from the load process, every
  turn through to the stored row; dialogs per second at concurrency 8, each turn compared with the
  floor's and the baseline's request rates at the same concurrency and with the stateful floor's turns;
  every dialog checked to have stored one row.
- `digest` (bench/digest.py): plan and compose one run for 500/5,000 items × 20/200
  subscriptions; seconds and SQL statements (a `before_cursor_execute` listener); target < 10 s
  at 5,000 items / 200 subscriptions, statement count independent of items and subscriptions.
- `extension` (bench/extension.py): message-extension queries (`composeExtension/query`) over HTTP at
  concurrency 16, by reference and by words, beside RecBot's status question for the same references
  and the baseline's, all in the same run: answers per second, × baseline, × status question.
- `imports` (bench/imports.py): `recbot import` of the seed document and of CSV trackers up to
  10,000 items, a re-import (nothing may change), and the floor: the same rows written with one
  Core executemany per table; target < 2 s for 10,000 items.
- `parsers` (bench/parsers.py): every parser fed adversarial text of 300, 3,000 and 30,000
  characters, one character class at a time; the worst time per class. It reads no database, so
  it is in `ONCE`: the runner calls it once, not once per backend.

A hook returns rows for the report, or a `Pending` saying why it measured nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Pending:
    name: str
    reason: str


@dataclass
class Context:
    backend: str
    workdir: Path
    stub_url: str
    seconds: float
    warmup: float
    quick: bool = False
    log: list[str] = field(default_factory=list)


async def update_dialog(context: Context) -> list[dict[str, Any]] | Pending:
    from bench.updates import bench_update_dialog

    row = await bench_update_dialog(context.backend, context.workdir, context.stub_url, context.seconds, context.warmup)
    print(
        f"  {context.backend:10} update dialogs c={row['concurrency']}: {row['dialogs_per_second']:.1f} dialogs/s "
        f"({row['turns_per_second']:.0f} turns/s, floor {row['floor_throughput']:.0f}/s, "
        f"baseline {row['baseline_throughput']:.0f}/s, stateful floor {row['stateful_floor_turns']:.0f} turns/s), "
        f"dialog p50 {row['dialog_p50']:.0f} ms, p95 {row['dialog_p95']:.0f} ms; {row['completed']} dialogs, "
        f"{row['rows_added']} rows, missing {row['missing']}, doubled {row['doubled']}, errors {row['errors']}",
        flush=True,
    )
    return [row]


async def digest(context: Context) -> list[dict[str, Any]] | Pending:
    from bench.digest import SIZES, bench_digest

    rows = []
    for items, subscriptions in SIZES:
        row = await bench_digest(context.backend, context.workdir, items=items, subscriptions=subscriptions)
        print(
            f"  {context.backend:10} digest run {items} items / {subscriptions} subscriptions: {row['seconds']:.2f} s "
            f"(plan {row['plan_seconds']:.2f}, compose {row['compose_seconds']:.2f}), {row['statements']} statements, "
            f"{row['digests']} digests + {row['nudges']} nudges, largest {row['largest_bytes']} bytes",
            flush=True,
        )
        rows.append(row)
    return rows


async def extension(context: Context) -> list[dict[str, Any]] | Pending:
    from bench.extension import bench_extension

    rows = await bench_extension(context.backend, context.workdir, context.stub_url, context.seconds, context.warmup)
    for row in rows:
        versus = f", {row['vs_status']:.2f} × status question" if row["vs_status"] is not None else ""
        print(
            f"  {context.backend:10} {row['what']:38} c={row['concurrency']}: {row['throughput']:.0f}/s "
            f"({row['ratio']:.2f} × baseline{versus}), p50 {row['p50']:.1f} ms, p99 {row['p99']:.1f} ms, "
            f"errors {row['errors']}",
            flush=True,
        )
    return rows


async def imports(context: Context) -> list[dict[str, Any]] | Pending:
    from bench.imports import bench_imports

    rows = await bench_imports(context.backend, context.workdir, quick=context.quick)
    for row in rows:
        print(
            f"  {context.backend:10} import {row['what']}: {row['seconds']:.2f} s (re-import {row['reimport_seconds']:.2f} s, "
            f"floor {row['floor_seconds']:.2f} s for the same {row['rows']:,} rows); "
            f"same rows {row['same_rows']}, re-import changed nothing {row['idempotent']}",
            flush=True,
        )
    return rows


async def parsers(context: Context) -> list[dict[str, Any]] | Pending:
    from bench.parsers import TARGET_SIZE, measure

    rows = measure()
    for name in dict.fromkeys(row["parser"] for row in rows):
        worst = max(
            (row for row in rows if row["parser"] == name and row["size"] == TARGET_SIZE),
            key=lambda row: row["worst_ms"],
        )
        print(
            f"  {name:26} worst at {TARGET_SIZE:,} characters: {worst['worst_ms']:7.2f} ms ({worst['input']})",
            flush=True,
        )
    return rows


HOOKS = {"imports": imports, "updates": update_dialog, "digests": digest, "extension": extension}
# Hooks that measure no database: called once, with the first backend's context.
ONCE = {"parsers": parsers}
