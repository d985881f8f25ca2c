"""The load generator, in its own process: closed-loop clients posting Teams-shaped status questions.

`python -m bench.load TARGET_URL SERVICE_URL CONCURRENCY SECONDS WARMUP QUESTIONS_JSON` prints
one JSON object: requests, errors, throughput (per second) and latency percentiles (ms).

`python -m bench.load --dialogs TARGET_URL SERVICE_URL CONCURRENCY SECONDS WARMUP REFERENCES_JSON`
drives whole update dialogs instead (see `run_dialogs`).
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




# --- whole update dialogs ----------------------------------------------------------------------

DIALOG_ANSWERS = ("In progress", "at risk", None, "skip", "skip", "confirm")  # None: the narrative


def dialog_user(worker: int) -> User:
    """Load user `worker`: the stub connector names `29:bench-user-N` officerN@force.police.uk."""
    return User(
        teams_id=f"29:bench-user-{worker}",
        aad_object_id=f"6d7b5c2e-0000-4c8e-9a40-{worker:012d}",
        name=f"Officer {worker}",
        email=f"officer{worker}@force.police.uk",
    )


async def run_dialogs(
    target: str, service_url: str, concurrency: int, seconds: float, warmup: float, references: list[str]
) -> dict[str, object]:
    """`concurrency` users, each in their own personal chat, post whole update dialogs back to back.

    A dialog is seven turns: "update REF", a status, an assessment, a narrative, skip (evidence),
    skip (revised date), confirm. Each turn waits for the previous one's HTTP answer (the bot has
    replied to the connector by then). A dialog started before the end of the measured window runs
    to its end, so every dialog started is complete and should have stored exactly one row: the
    confirm activity ids are returned for the runner to check against the `updates` table.
    """
    headers = {"Content-Type": "application/json"}
    durations: list[float] = []
    turn_latencies: list[float] = []
    confirms: list[str] = []
    errors = 0
    statuses: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        start = time.perf_counter()
        measure_from = start + warmup
        stop_at = measure_from + seconds

        async def turn(user: User, conversation_id: str, text: str) -> tuple[str, int, float]:
            body = activity(
                "message", service_url, conversation_id=conversation_id, user=user, tenant=TENANT,
                text=text, textFormat="plain",
            )
            sent = time.perf_counter()
            try:
                async with session.post(target, data=json.dumps(body).encode(), headers=headers) as response:
                    await response.read()
                    status = response.status
            except (TimeoutError, aiohttp.ClientError):
                status = 0
            return body["id"], status, (time.perf_counter() - sent) * 1000

        async def worker(index: int) -> None:
            nonlocal errors
            user = dialog_user(index)
            conversation_id = f"a:bench-dialog-{index}"
            count = 0
            while time.perf_counter() < stop_at:
                reference = references[(index + count) % len(references)]
                count += 1
                began = time.perf_counter()
                texts = [f"update {reference}"] + [
                    answer or f"Load test update {count} by officer {index}: action plan reviewed." for answer in DIALOG_ANSWERS
                ]
                ok = True
                activity_id = ""
                for text in texts:
                    activity_id, status, latency = await turn(user, conversation_id, text)
                    if status != 200:
                        ok = False
                        statuses[status] = statuses.get(status, 0) + 1
                    elif began >= measure_from:
                        turn_latencies.append(latency)
                finished = time.perf_counter()
                if not ok:
                    errors += 1
                    await turn(user, conversation_id, "cancel")
                    continue
                confirms.append(activity_id)
                if measure_from <= finished <= stop_at:
                    durations.append((finished - began) * 1000)

        await asyncio.gather(*(worker(index) for index in range(concurrency)))
    durations.sort()
    turn_latencies.sort()
    return {
        "concurrency": concurrency,
        "dialogs": len(durations),
        "dialogs_per_second": len(durations) / seconds,
        "turns_per_second": len(durations) * (len(DIALOG_ANSWERS) + 1) / seconds,
        "errors": errors,
        "error_statuses": statuses,
        "dialog_p50": percentile(durations, 0.50),
        "dialog_p95": percentile(durations, 0.95),
        "turn_p50": percentile(turn_latencies, 0.50),
        "turn_p95": percentile(turn_latencies, 0.95),
        "turn_p99": percentile(turn_latencies, 0.99),
        "confirm_ids": confirms,
    }


if __name__ == "__main__":
    arguments = sys.argv[1:]
    runner = run
    if arguments and arguments[0] == "--dialogs":
        arguments, runner = arguments[1:], run_dialogs  # type: ignore[assignment]
    target, service_url, concurrency, seconds, warmup, extra = arguments[:6]
    result = asyncio.run(runner(target, service_url, int(concurrency), float(seconds), float(warmup), json.loads(extra)))
    print(json.dumps(result), flush=True)
