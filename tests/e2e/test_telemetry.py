"""RECBOT_TELEMETRY=on: a status question over HTTP is traced, request and SQL, and no span holds what was typed."""

from __future__ import annotations

import json
from dataclasses import replace

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from bot.app import create_app
from bot.config import Settings, SettingsError
from domain.clock import FixedClock
from tests.fakes.stub_connector import StubConnector
from tests.fakes.teams import TENANT, message


async def test_a_status_question_is_traced_without_its_text(
    seeded_database: str, stub: StubConnector, clock: FixedClock
) -> None:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    settings = replace(
        Settings(database_url=seeded_database, run_scheduler=False, app_tenant_id=TENANT), telemetry=True
    )
    settings.validate()
    server = TestServer(create_app(settings, clock=clock, tracer_provider=provider), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            body = message("status of the hydra recommendation 8", stub.url)
            async with session.post(server.make_url("/api/messages"), json=body) as response:
                assert response.status == 200
    finally:
        await server.close()
    finished = spans.get_finished_spans()
    server_spans = [span for span in finished if span.kind.name == "SERVER"]
    assert [span.attributes.get("http.route") or span.name for span in server_spans]
    assert any(dict(span.attributes or {}).get("db.statement") for span in finished)  # the item's query
    assert "hydra" not in json.dumps([dict(span.attributes or {}) for span in finished], default=str)
    assert "OIC-2025 R8" in stub.sent[-1].readable


def test_telemetry_needs_its_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import telemetry

    assert Settings.from_env({"RECBOT_TELEMETRY": "on"}, dotenv=False).telemetry
    monkeypatch.setattr(telemetry, "available", lambda: False)
    with pytest.raises(SettingsError, match=r"recbot\[telemetry\]"):
        replace(Settings(database_url="sqlite+aiosqlite://"), telemetry=True).validate()
