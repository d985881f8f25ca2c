"""Starting and stopping the processes of a benchmark: servers under test and load generators."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from typing import Any

from bench import data

PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def start_server(
    kind: str, database_url: str, env: dict[str, str] | None = None
) -> tuple[asyncio.subprocess.Process, str]:
    """`python -m bench.serve KIND URL PORT` in its own process; returns it and its base URL once ready."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        PYTHON,
        "-m",
        "bench.serve",
        kind,
        database_url,
        str(port),
        stdout=asyncio.subprocess.PIPE,
        cwd=data.ROOT,
        env={**os.environ, **(env or {})},
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 60)
    if line.strip() != b"ready":
        raise RuntimeError(f"{kind} server did not start: {line!r}")
    return process, f"http://127.0.0.1:{port}"


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()


async def run_load(*arguments: str, timeout: float) -> dict[str, Any]:
    """`python -m bench.load ARGUMENTS…` in its own process; its one line of JSON."""
    process = await asyncio.create_subprocess_exec(
        PYTHON,
        "-m",
        "bench.load",
        *arguments,
        stdout=asyncio.subprocess.PIPE,
        cwd=data.ROOT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout)
    return json.loads(output)


async def closed_loop(
    target: str, service_url: str, concurrency: int, seconds: float, warmup: float, questions: list[str]
) -> dict[str, Any]:
    """Status questions from `concurrency` closed-loop clients against the server at `target`."""
    return await run_load(
        f"{target}/api/messages",
        service_url,
        str(concurrency),
        str(seconds),
        str(warmup),
        json.dumps(questions),
        timeout=seconds + warmup + 60,
    )
