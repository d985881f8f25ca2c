"""Run every benchmark and write docs/benchmarks.md and docs/benchmarks.png.

    .venv/bin/python -m bench            # full run, SQLite and PostgreSQL (~18-20 minutes)
    .venv/bin/python -m bench --quick    # shorter levels, for a smoke run

Processes: this one runs the stub Bot Connector; each server under test (RecBot's create_app,
RecBot with the SDK's own connector, the baseline, the bare floor) runs in its own process; the load
comes from a third process. Every figure is compared with the floor (bench/floor.py: the stack with no
project code) and the baseline (bench/baseline.py: the same over RecBot's ORM query) measured in the
same run. The update-dialog, digest and parser benchmarks are in bench/updates.py, bench/digest.py
and bench/parsers.py (run through bench/hooks.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench import data, hooks, procs
from bench.load import percentile
from bench.procs import PYTHON, closed_loop, free_port, start_server, stop
from bench.report import write_report
from bench.stub import CountingConnector

LEVELS = (1, 16, 64)
# The open loop: "concurrency 16" as people see it, 16 people at once, each asking a question a
# second on average (quicker than anyone reads a card); then shares of the floor's closed-loop
# throughput at c=16, to show where the latency turns. Both 16 people and a quarter of the floor's
# rate carry the p99 target.
PEOPLE, QUESTIONS_PER_PERSON_PER_SECOND = 16, 1.0
OPEN_LOOP_OF = 16
OPEN_LOOP_SHARES = (0.1, 0.25, 0.4)
OPEN_LOOP_TARGET_SHARE = 0.25
BENCHMARKS = ("status", "imports", "startup", "updates", "digests", "extension", "parsers")


@dataclass
class Results:
    status: list[dict[str, Any]] = field(default_factory=list)
    open_loop: list[dict[str, Any]] = field(default_factory=list)
    imports: list[dict[str, Any]] = field(default_factory=list)
    startup: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    digests: list[dict[str, Any]] = field(default_factory=list)
    extension: list[dict[str, Any]] = field(default_factory=list)
    parsers: list[dict[str, Any]] = field(default_factory=list)
    pending: list[hooks.Pending] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


async def run_open_load(
    target: str, service_url: str, rate: float, seconds: float, warmup: float, questions: list[str]
) -> dict[str, Any]:
    return await procs.run_load(
        "--rate",
        f"{target}/api/messages",
        service_url,
        f"{rate:.1f}",
        str(seconds),
        str(warmup),
        json.dumps(questions),
        timeout=seconds + warmup + 60,
    )


def questions() -> list[str]:
    seed = [f"status of {data.SEED_CODE} R{number}" for number in data.SEED_NUMBERS]
    tracker = [f"status of BENCH-2000 R{number}" for number in (17, 123, 250, 301, 499, 64, 7, 388)]
    return seed + tracker


def _ratios(mine: list[dict[str, Any]], reference: list[dict[str, Any]]) -> list[float]:
    """Round by round, `mine`'s throughput over `reference`'s (measured beside it), sorted."""
    return sorted(
        own["throughput"] / other["throughput"]
        for own, other in zip(mine, reference, strict=True)
        if other["throughput"]
    )


def pooled(
    backend: str,
    kind: str,
    concurrency: int,
    rounds: list[dict[str, Any]],
    baseline: list[dict[str, Any]],
    floor: list[dict[str, Any]],
) -> dict[str, Any]:
    """One server's rounds at one level as one row; its ratios to the baseline and the floor are taken round by round."""
    latencies = sorted(latency for result in rounds for latency in result["latencies"])
    seconds = sum(result["requests"] / result["throughput"] for result in rounds if result["throughput"])
    row = {
        "backend": backend,
        "kind": kind,
        "concurrency": concurrency,
        "rounds": len(rounds),
        "throughput": len(latencies) / seconds if seconds else 0.0,
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
        "errors": sum(result["errors"] for result in rounds),
        "replies": sum(result["replies"] for result in rounds),
    }
    for name, reference in (("ratio", baseline), ("floor_ratio", floor)):
        ratios = _ratios(rounds, reference)
        row[name] = statistics.median(ratios) if ratios else float("nan")
        row[f"{name}_low"] = ratios[0] if ratios else float("nan")
        row[f"{name}_high"] = ratios[-1] if ratios else float("nan")
    return row


async def bench_status(
    backend: str, workdir: Path, stub: CountingConnector, stub_url: str, args: argparse.Namespace, results: Results
) -> None:
    """Closed loop at each level, servers taking turns round by round; then the open loop."""
    url = await data.new_database(backend, workdir)
    csv_path = workdir / "status-500.csv"
    data.write_csv(csv_path, reports=1, items_per_report=500)
    await data.import_into(url, data.SEED, csv_path)
    kinds = ["floor", "baseline", "recbot"] + ([] if args.skip_sdk or backend != "sqlite" else ["recbot-sdk"])
    servers: dict[str, tuple[Any, str]] = {}
    try:
        for kind in kinds:
            servers[kind] = await start_server(kind, url)
        capacity = 0.0
        for concurrency in LEVELS:
            rounds: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
            for round_index in range(args.rounds):
                # Taking turns (and reversing the order every other round) spreads the machine's
                # slow and fast moments over every server alike.
                for kind in kinds if round_index % 2 == 0 else kinds[::-1]:
                    before = stub.replies
                    result = await closed_loop(
                        servers[kind][1], stub_url, concurrency, args.seconds, args.warmup, questions()
                    )
                    rounds[kind].append(result | {"replies": stub.replies - before})
            for kind in kinds:
                row = pooled(backend, kind, concurrency, rounds[kind], rounds["baseline"], rounds["floor"])
                results.status.append(row)
                if kind == "floor" and concurrency == OPEN_LOOP_OF:
                    capacity = row["throughput"]
                print(
                    f"  {backend:10} {kind:11} c={concurrency:<3} {row['throughput']:7.1f}/s × floor {row['floor_ratio']:.2f} "
                    f"({row['floor_ratio_low']:.2f}–{row['floor_ratio_high']:.2f}), × baseline {row['ratio']:.2f} "
                    f"p50 {row['p50']:6.1f} p95 {row['p95']:6.1f} "
                    f"p99 {row['p99']:6.1f} ms errors {row['errors']}",
                    flush=True,
                )
        await open_loop(
            backend, {kind: target for kind, (_, target) in servers.items()}, capacity, stub_url, args, results
        )
    finally:
        for process, _ in servers.values():
            await stop(process)
        await data.drop_database(url)


async def open_loop(
    backend: str, targets: dict[str, str], capacity: float, stub_url: str, args: argparse.Namespace, results: Results
) -> None:
    """Questions at fixed rates to the floor and RecBot: 16 people, then shares of the floor's `capacity`."""
    loads = [
        (
            f"{PEOPLE} people, a question a second each",
            f"{PEOPLE} people",
            PEOPLE * QUESTIONS_PER_PERSON_PER_SECOND,
            True,
        )
    ]
    loads += [
        (
            f"{share:.0%} of the floor's c={OPEN_LOOP_OF} throughput",
            f"{share:.0%} of floor",
            share * capacity,
            share == OPEN_LOOP_TARGET_SHARE,
        )
        for share in OPEN_LOOP_SHARES
    ]
    for load, short, rate, target in loads:
        for kind in ("floor", "recbot"):
            result = await run_open_load(
                targets[kind], stub_url, rate, args.seconds * args.rounds, args.warmup, questions()
            )
            del result["latencies"]
            results.open_loop.append(
                result | {"backend": backend, "kind": kind, "load": load, "short": short, "target": target}
            )
            print(
                f"  {backend:10} {kind:11} open loop {rate:6.1f}/s ({load}): "
                f"p50 {result['p50']:6.1f} p95 {result['p95']:6.1f} p99 {result['p99']:6.1f} ms errors {result['errors']}",
                flush=True,
            )


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


STARTS = 3


async def _start_serve(url: str, workdir: Path) -> tuple[asyncio.subprocess.Process, str, float | None]:
    """`recbot serve` as a subprocess: the process, its base URL, and seconds until /readyz said 200."""
    port = free_port()
    recbot = Path(PYTHON).with_name("recbot")
    env = {**os.environ, "DATABASE_URL": url, "MicrosoftAppId": "", "PYTHONWARNINGS": "ignore"}
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        str(recbot),
        "serve",
        "--port",
        str(port),
        cwd=workdir,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        deadline = time.perf_counter() + 30
        while time.perf_counter() < deadline and process.returncode is None:
            try:
                async with session.get(f"{base}/readyz") as response:
                    if response.status == 200:
                        return process, base, time.perf_counter() - started
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.01)
    return process, base, None


async def bench_startup(backend: str, workdir: Path, stub_url: str, results: Results) -> None:
    """`recbot serve` over 10,000 items: time to /readyz (median of three starts) and memory after reading them all."""
    url = await data.new_database(backend, workdir)
    csv_path = workdir / "startup-10000.csv"
    data.write_csv(csv_path, reports=20, items_per_report=500, first_year=2200)
    started = time.perf_counter()
    await data.import_into(url, csv_path)
    import_seconds = time.perf_counter() - started
    starts: list[float | None] = []
    try:
        for attempt in range(STARTS):
            process, base, ready_after = await _start_serve(url, workdir)
            starts.append(ready_after)
            try:
                if attempt < STARTS - 1:
                    continue
                idle_rss, _ = rss_mb(process.pid)
                from bench.load import bodies

                asks = [
                    "status of BENCH-2205 R17",
                    "list overdue",
                    "where are we with case file quality supervision?",
                    "my recommendations",
                ]
                async with aiohttp.ClientSession() as session:
                    for body in bodies(stub_url, asks, conversations=4)[:8]:
                        async with session.post(
                            f"{base}/api/messages", data=body, headers={"Content-Type": "application/json"}
                        ) as response:
                            await response.read()
                            if response.status != 200:
                                results.notes.append(f"startup benchmark: a question got HTTP {response.status}")
                loaded_rss, peak_rss = rss_mb(process.pid)
            finally:
                await stop(process)
    finally:
        await data.drop_database(url)
    ready = None if None in starts else statistics.median(start for start in starts if start is not None)
    results.startup.append(
        {
            "backend": backend,
            "items": 10_000,
            "import_seconds": import_seconds,
            "ready_seconds": ready,
            "starts": starts,
            "idle_rss_mb": idle_rss,
            "loaded_rss_mb": loaded_rss,
            "peak_rss_mb": peak_rss,
        }
    )
    shown = ", ".join("never" if start is None else f"{start:.2f}" for start in starts)
    print(
        f"  {backend:10} recbot serve: /readyz after {shown} s, RSS {idle_rss:.0f} MB idle, "
        f"{loaded_rss:.0f} MB after reading 10,000 items (peak {peak_rss:.0f}); import took {import_seconds:.1f} s",
        flush=True,
    )


def record(name: str, outcome: list[dict[str, Any]] | hooks.Pending, results: Results) -> None:
    """A hook's rows into its list in `results`, or its reason into `pending`."""
    if isinstance(outcome, hooks.Pending):
        results.pending.append(outcome)
    else:
        getattr(results, name).extend(outcome)


async def main(args: argparse.Namespace) -> int:
    stub = CountingConnector()
    runner = web.AppRunner(stub.app(), access_log=None)
    await runner.setup()
    stub_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", stub_port).start()
    stub_url = f"http://127.0.0.1:{stub_port}/"
    results = Results()
    backends = ["sqlite"]
    if not args.skip_postgres:
        if await data.postgres_available():
            backends.append("postgresql")
        else:
            results.notes.append(f"PostgreSQL was not reachable at {data.POSTGRES_ADMIN_URL}: SQLite only")
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="recbot-bench-") as workdir:
            for backend in backends:
                if "status" in args.only:
                    print(f"status questions on {backend}", flush=True)
                    await bench_status(backend, Path(workdir), stub, stub_url, args, results)
            if "startup" in args.only:
                print("startup and memory", flush=True)
                for backend in backends:
                    await bench_startup(backend, Path(workdir), stub_url, results)
            for backend in backends:
                context = hooks.Context(
                    backend, Path(workdir), stub_url, args.seconds * args.rounds, args.warmup, args.quick
                )
                for name, hook in hooks.HOOKS.items():
                    if name not in args.only:
                        continue
                    print(f"{name} on {backend}", flush=True)
                    record(name, await hook(context), results)
            context = hooks.Context(
                backends[0], Path(workdir), stub_url, args.seconds * args.rounds, args.warmup, args.quick
            )
            for name, hook in hooks.ONCE.items():
                if name in args.only:
                    print(name, flush=True)
                    record(name, await hook(context), results)
    finally:
        await runner.cleanup()
    machine = (
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}"
    )
    write_report(
        results,
        Path(args.output),
        machine=machine,
        seconds=args.seconds,
        rounds=args.rounds,
        elapsed=time.perf_counter() - started,
    )
    print(f"wrote {args.output} and its plot in {time.perf_counter() - started:.0f} s")
    return 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=4.0, help="measured seconds per server, level and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per level, the servers taking turns")
    parser.add_argument("--warmup", type=float, default=1.5, help="unmeasured seconds before each level")
    parser.add_argument("--quick", action="store_true", help="2 s levels (a smoke run, noisier numbers)")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument(
        "--skip-sdk", action="store_true", help="skip the 'before' run with the SDK's per-turn connector"
    )
    parser.add_argument("--output", default=str(data.ROOT / "docs" / "benchmarks.md"))
    parser.add_argument(
        "--only", default=",".join(BENCHMARKS), help=f"comma-separated subset of {','.join(BENCHMARKS)} (default: all)"
    )
    args = parser.parse_args(argv)
    args.only = {name.strip() for name in args.only.split(",") if name.strip()}
    if unknown := args.only - set(BENCHMARKS):
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    if args.quick:
        args.seconds, args.warmup, args.rounds = 2.0, 0.5, 1
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
