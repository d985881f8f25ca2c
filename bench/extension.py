"""The invoke benchmark: message-extension queries and card actions beside the status question.

One database (the seed and a 500-item report), in one run:

- the baseline (`bench.serve baseline`) answering status questions: the floor every ratio is to;
- RecBot (`bench.serve recbot`) answering the same status questions ("status of OIC-2025 R8");
- RecBot answering message-extension queries (`composeExtension/query`) for the same references
  ("OIC-2025 R8"), and for words ("hydra training"), which go through the free-text search;
- RecBot answering `adaptiveCard/action` refreshes of the same items' status cards (Universal
  Actions: the card as the person looking at it sees it, their identity and rights included).

Then, on a second database (the seed and 10,000 generated items), the free-text search at size: the
baseline and RecBot's status question again, free-text questions ("where are we with the hydra
training?") as chat messages, and the extension's words queries.

An invoke's answer is its HTTP response (no reply is posted to the connector), so a round trip is one
HTTP exchange; a status question's includes the reply posted to the stub connector. Before the load,
each query is asked once and must come back as results.

`python -m bench.extension TARGET_URL SERVICE_URL CONCURRENCY SECONDS WARMUP INVOKES_JSON` is the
load process for the invokes (closed loop, like `bench.load`; INVOKES_JSON is {"name": invoke name,
"values": [invoke values, asked in turn]}); it prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import aiohttp

from bench import data, procs
from bench.load import JSON, closed_loop
from storage import tracker
from storage.database import create_engine, create_sessionmaker
from tests.fakes.teams import TENANT, User, activity

CONCURRENCY = 16
REFERENCES = [f"{data.SEED_CODE} R{number}" for number in data.SEED_NUMBERS] + [
    f"BENCH-2000 R{number}" for number in (17, 123, 250, 301)
]
WORDS = ["hydra", "hydra training", "e-learning package", "organised immigration crime"]
# Free-text questions (chat messages) that go through the same search as the words above.
QUESTIONS = [
    "where are we with the hydra training?",
    "hydra training",
    "e-learning package",
    "organised immigration crime",
]
# The large tracker of the search rows: the seed and 10 reports of 1,000 items.
LARGE_REPORTS, LARGE_ITEMS_PER_REPORT = 10, 1000
LARGE = f"{LARGE_REPORTS * LARGE_ITEMS_PER_REPORT:,} items"


def query_value(query: str) -> dict[str, Any]:
    """The value of a `composeExtension/query` invoke for a typed query."""
    return {
        "commandId": "searchItems",
        "parameters": [{"name": "query", "value": query}],
        "queryOptions": {"skip": 0, "count": 25},
    }


def refresh_value(item_id: int) -> dict[str, Any]:
    """The value of the `adaptiveCard/action` refresh a status card of this item asks for."""
    return {"action": {"type": "Action.Execute", "verb": "refresh", "data": {"view": {"item": item_id}}}}


def invoke_bodies(service_url: str, name: str, values: list[Any], conversations: int = 50) -> list[bytes]:
    """Pre-serialised invokes from `conversations` channels, the values in turn."""
    result = []
    for index in range(max(len(values), conversations) * 2):
        user = User(
            teams_id=f"29:bench-user-{index % conversations}",
            aad_object_id=f"6d7b5c2e-0000-4c8e-9a40-{index % conversations:012d}",
            name=f"Officer {index % conversations}",
            email=f"officer{index % conversations}@force.police.uk",
        )
        body = activity(
            "invoke",
            service_url,
            conversation_id=f"19:bench-channel-{index % conversations}@thread.tacv2",
            conversation_type="channel",
            user=user,
            tenant=TENANT,
            name=name,
            value=values[index % len(values)],
        )
        result.append(json.dumps(body).encode())
    return result


async def run(
    target: str, service_url: str, concurrency: int, seconds: float, warmup: float, name: str, values: list[Any]
) -> dict[str, object]:
    """Closed loop of invokes (`bench.load.closed_loop`)."""
    return await closed_loop(target, invoke_bodies(service_url, name, values), concurrency, seconds, warmup)


async def _check(target: str, service_url: str, queries: list[str]) -> list[str]:
    """Each query asked once: the ones that did not come back as a list of results."""
    wrong = []
    async with aiohttp.ClientSession() as session:
        values = [query_value(query) for query in queries]
        bodies = invoke_bodies(service_url, "composeExtension/query", values, conversations=1)
        for query, body in zip(queries, bodies, strict=False):
            async with session.post(f"{target}/api/messages", data=body, headers=JSON) as response:
                answer = await response.json() if response.status == 200 else {}
            extension = answer.get("composeExtension") or {}
            if extension.get("type") != "result" or not extension.get("attachments"):
                wrong.append(query)
    return wrong


async def _invoke_load(
    target: str, stub_url: str, seconds: float, warmup: float, name: str, values: list[Any]
) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        procs.PYTHON,
        "-m",
        "bench.extension",
        f"{target}/api/messages",
        stub_url,
        str(CONCURRENCY),
        str(seconds),
        str(warmup),
        json.dumps({"name": name, "values": values}),
        stdout=asyncio.subprocess.PIPE,
        cwd=data.ROOT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), seconds + warmup + 60)
    result: dict[str, Any] = json.loads(output)
    return result


async def _status_load(
    target: str, stub_url: str, seconds: float, warmup: float, questions: list[str] | None = None
) -> dict[str, Any]:
    questions = questions or [f"status of {reference}" for reference in REFERENCES]
    return await procs.closed_loop(target, stub_url, CONCURRENCY, seconds, warmup, questions)


def _row(backend: str, what: str, measured: dict[str, Any], baseline: float, status: float | None) -> dict[str, Any]:
    throughput = float(measured["throughput"])
    return {
        "backend": backend,
        "what": what,
        "concurrency": measured["concurrency"],
        "throughput": throughput,
        "ratio": throughput / baseline if baseline else float("nan"),
        "vs_status": throughput / status if status else None,
        "p50": measured["p50"],
        "p95": measured["p95"],
        "p99": measured["p99"],
        "errors": measured["errors"],
    }


async def bench_extension(
    backend: str, workdir: Path, stub_url: str, seconds: float, warmup: float
) -> list[dict[str, Any]]:
    """Baseline status questions, RecBot status questions, RecBot extension queries; one row each."""
    url = await data.new_database(backend, workdir)
    csv_path = workdir / "extension-500.csv"
    data.write_csv(csv_path, reports=1, items_per_report=500)
    await data.import_into(url, data.SEED, csv_path)
    item_ids = await _item_ids(url, REFERENCES)
    try:
        process, target = await procs.start_server("baseline", url)
        try:
            baseline = await _status_load(target, stub_url, seconds, warmup)
        finally:
            await procs.stop(process)
        process, target = await procs.start_server("recbot", url)
        try:
            wrong = await _check(target, stub_url, REFERENCES + WORDS)
            if wrong:
                raise RuntimeError(f"message-extension queries without results: {wrong}")
            status = await _status_load(target, stub_url, seconds, warmup)
            query = "composeExtension/query"
            references = await _invoke_load(
                target, stub_url, seconds, warmup, query, [query_value(reference) for reference in REFERENCES]
            )
            words = await _invoke_load(target, stub_url, seconds, warmup, query, [query_value(word) for word in WORDS])
            refreshes = await _invoke_load(
                target, stub_url, seconds, warmup, "adaptiveCard/action", [refresh_value(i) for i in item_ids]
            )
        finally:
            await procs.stop(process)
    finally:
        await data.drop_database(url)
    floor, asked = baseline["throughput"], status["throughput"]
    return [
        _row(backend, "baseline: status question", baseline, floor, None),
        _row(backend, "RecBot: status question", status, floor, None),
        _row(backend, "RecBot: extension query, reference", references, floor, asked),
        _row(backend, "RecBot: extension query, words", words, floor, asked),
        _row(backend, "RecBot: status card refresh (adaptiveCard/action)", refreshes, floor, asked),
    ] + await bench_search_large(backend, workdir, stub_url, seconds, warmup)


async def bench_search_large(
    backend: str, workdir: Path, stub_url: str, seconds: float, warmup: float
) -> list[dict[str, Any]]:
    """Free-text search at 10,000 items: questions and the extension's words, beside the baseline and the status question."""
    url = await data.new_database(backend, workdir)
    csv_path = workdir / "extension-large.csv"
    data.write_csv(csv_path, reports=LARGE_REPORTS, items_per_report=LARGE_ITEMS_PER_REPORT)
    await data.import_into(url, data.SEED, csv_path)
    try:
        process, target = await procs.start_server("baseline", url)
        try:
            baseline = await _status_load(target, stub_url, seconds, warmup)
        finally:
            await procs.stop(process)
        process, target = await procs.start_server("recbot", url)
        try:
            wrong = await _check(target, stub_url, WORDS)
            if wrong:
                raise RuntimeError(f"message-extension queries without results at {LARGE}: {wrong}")
            status = await _status_load(target, stub_url, seconds, warmup)
            questions = await _status_load(target, stub_url, seconds, warmup, QUESTIONS)
            query = "composeExtension/query"
            words = await _invoke_load(target, stub_url, seconds, warmup, query, [query_value(word) for word in WORDS])
        finally:
            await procs.stop(process)
    finally:
        await data.drop_database(url)
    floor, asked = baseline["throughput"], status["throughput"]
    return [
        _row(backend, f"baseline: status question ({LARGE})", baseline, floor, None),
        _row(backend, f"RecBot: status question ({LARGE})", status, floor, None),
        _row(backend, f"RecBot: free-text question ({LARGE})", questions, floor, asked),
        _row(backend, f"RecBot: extension query, words ({LARGE})", words, floor, asked),
    ]


async def _item_ids(url: str, references: list[str]) -> list[int]:
    """The ids of the items these references name ("OIC-2025 R8"), as a card's refresh carries them."""
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            ids = []
            for reference in references:
                code, number = reference.rsplit(" R", 1)
                [item] = await tracker.find_items(session, number=int(number), report_code=code)
                ids.append(item.id)
    finally:
        await engine.dispose()
    return ids


if __name__ == "__main__":
    target, service_url, level, seconds, warmup, invokes = sys.argv[1:7]
    spec = json.loads(invokes)
    result = asyncio.run(
        run(target, service_url, int(level), float(seconds), float(warmup), spec["name"], spec["values"])
    )
    print(json.dumps(result), flush=True)
