"""The load generator, in its own process: closed-loop clients posting Teams-shaped status questions.

`python -m bench.load TARGET_URL SERVICE_URL CONCURRENCY SECONDS WARMUP QUESTIONS_JSON` prints
one JSON object: requests, errors, throughput (per second) and latency percentiles (ms).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import aiohttp

from tests.teams import TENANT, User, activity


def bodies(service_url: str, questions: list[str], conversations: int = 50) -> list[bytes]:
    """Pre-serialised activities: personal chats of `conversations` users, the questions in turn."""
    result = []
    for index in range(max(len(questions), conversations) * 2):
        user = User(
            teams_id=f"29:bench-user-{index % conversations}",
            aad_object_id=f"6d7b5c2e-0000-4c8e-9a40-{index % conversations:012d}",
            name=f"Officer {index % conversations}",
            email=f"officer{index % conversations}@force.police.uk",
        )
        body = activity(
            "message",
            service_url,
            conversation_id=f"a:bench-conversation-{index % conversations}",
            user=user,
            tenant=TENANT,
            text=questions[index % len(questions)],
            textFormat="plain",
        )
        result.append(json.dumps(body).encode())
    return result


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


async def run(target: str, service_url: str, concurrency: int, seconds: float, warmup: float, questions: list[str]) -> dict[str, float]:
    payloads = bodies(service_url, questions)
    latencies: list[float] = []
    errors = 0
    statuses: dict[int, int] = {}
    counter = 0
    headers = {"Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        start = time.perf_counter()
        measure_from = start + warmup
        stop_at = measure_from + seconds

        async def client() -> None:
            nonlocal counter, errors
            while True:
                body = payloads[counter % len(payloads)]
                counter += 1
                sent = time.perf_counter()
                if sent >= stop_at:
                    return
                try:
                    async with session.post(target, data=body, headers=headers) as response:
                        await response.read()
                        status = response.status
                except (TimeoutError, aiohttp.ClientError):
                    status = 0
                done = time.perf_counter()
                if sent >= measure_from:
                    if status == 200:
                        latencies.append((done - sent) * 1000)
                    else:
                        errors += 1
                        statuses[status] = statuses.get(status, 0) + 1

        await asyncio.gather(*(client() for _ in range(concurrency)))
    latencies.sort()
    return {
        "concurrency": concurrency,
        "requests": len(latencies),
        "errors": errors,
        "error_statuses": statuses,
        "throughput": len(latencies) / seconds,
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
    }


if __name__ == "__main__":
    target, service_url, concurrency, seconds, warmup, questions = sys.argv[1:7]
    result = asyncio.run(run(target, service_url, int(concurrency), float(seconds), float(warmup), json.loads(questions)))
    print(json.dumps(result), flush=True)
