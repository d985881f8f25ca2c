"""The load generator, in its own process: closed-loop clients posting Teams-shaped status questions.

`python -m bench.load TARGET_URL SERVICE_URL CONCURRENCY SECONDS WARMUP QUESTIONS_JSON` prints
one JSON object: requests, errors, throughput (per second), latency percentiles and every latency (ms).

`python -m bench.load --rate TARGET_URL SERVICE_URL RATE SECONDS WARMUP QUESTIONS_JSON` is the open
loop instead: questions arrive at RATE per second on average (Poisson), whether or not earlier ones
have been answered, as people's questions do (see `run_open`).

`python -m bench.load --dialogs TARGET_URL SERVICE_URL CONCURRENCY SECONDS WARMUP REFERENCES_JSON`
drives whole update dialogs instead (see `run_dialogs`).
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from dataclasses import dataclass, field

import aiohttp

from domain.updates import activity_key
from tests.fakes.teams import TENANT, User, activity


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


JSON = {"Content-Type": "application/json"}


@dataclass
class Tally:
    """The latencies (ms) of answered questions, and the failures by HTTP status (0: no answer)."""

    latencies: list[float] = field(default_factory=list)
    failures: dict[int, int] = field(default_factory=dict)

    async def ask(self, session: aiohttp.ClientSession, target: str, body: bytes, *, measured: bool) -> None:
        sent = time.perf_counter()
        try:
            async with session.post(target, data=body, headers=JSON) as response:
                await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError):
            status = 0
        if not measured:
            return
        if status == 200:
            self.latencies.append((time.perf_counter() - sent) * 1000)
        else:
            self.failures[status] = self.failures.get(status, 0) + 1

    def summary(self, seconds: float) -> dict[str, object]:
        latencies = sorted(self.latencies)
        return {
            "requests": len(latencies),
            "errors": sum(self.failures.values()),
            "error_statuses": self.failures,
            "throughput": len(latencies) / seconds,
            "p50": percentile(latencies, 0.50),
            "p95": percentile(latencies, 0.95),
            "p99": percentile(latencies, 0.99),
            "latencies": [round(latency, 3) for latency in latencies],
        }


async def run(
    target: str, service_url: str, concurrency: int, seconds: float, warmup: float, questions: list[str]
) -> dict[str, object]:
    """Closed loop of status questions."""
    return await closed_loop(target, bodies(service_url, questions), concurrency, seconds, warmup)


async def closed_loop(
    target: str, payloads: list[bytes], concurrency: int, seconds: float, warmup: float
) -> dict[str, object]:
    """`concurrency` clients, each posting the next payload as soon as it has its answer."""
    tally = Tally()
    asked = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        measure_from = time.perf_counter() + warmup
        stop_at = measure_from + seconds

        async def client() -> None:
            nonlocal asked
            while (now := time.perf_counter()) < stop_at:
                asked += 1
                await tally.ask(session, target, payloads[asked % len(payloads)], measured=now >= measure_from)

        await asyncio.gather(*(client() for _ in range(concurrency)))
    return tally.summary(seconds) | {"concurrency": concurrency}


async def run_open(
    target: str, service_url: str, rate: float, seconds: float, warmup: float, questions: list[str]
) -> dict[str, object]:
    """Open loop: questions arrive at `rate` per second on average (exponential gaps, fixed seed).

    Unlike the closed loop, a slow answer does not hold back the next question, so the latencies are
    what people would see at that rate, queueing included.
    """
    payloads = bodies(service_url, questions)
    gaps = random.Random(20261128)
    tally = Tally()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        measure_from = time.perf_counter() + warmup
        stop_at = measure_from + seconds
        asked: list[asyncio.Task[None]] = []
        due = time.perf_counter()
        while due < stop_at:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            body = payloads[len(asked) % len(payloads)]
            asked.append(asyncio.create_task(tally.ask(session, target, body, measured=due >= measure_from)))
            due += gaps.expovariate(rate)
        await asyncio.gather(*asked)
    return tally.summary(seconds) | {"rate": rate}


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
                "message",
                service_url,
                conversation_id=conversation_id,
                user=user,
                tenant=TENANT,
                text=text,
                textFormat="plain",
            )
            sent = time.perf_counter()
            try:
                async with session.post(target, data=json.dumps(body).encode(), headers=JSON) as response:
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
                    answer or f"Load test update {count} by officer {index}: action plan reviewed."
                    for answer in DIALOG_ANSWERS
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
                confirms.append(activity_key(conversation_id, activity_id) or "")
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
    mode = sys.argv[1] if sys.argv[1].startswith("--") else ""
    target, service_url, level, seconds, warmup, extra = sys.argv[2 if mode else 1 :][:6]
    common = (float(seconds), float(warmup), json.loads(extra))
    if mode == "--dialogs":
        result = asyncio.run(run_dialogs(target, service_url, int(level), *common))
    elif mode == "--rate":
        result = asyncio.run(run_open(target, service_url, float(level), *common))
    else:
        result = asyncio.run(run(target, service_url, int(level), *common))
    print(json.dumps(result), flush=True)
