"""Optional OpenTelemetry traces of requests and SQL statements (RECBOT_TELEMETRY=on).

Off by default. On, it needs the `telemetry` extra (`pip install 'recbot[telemetry]'`) and sends
spans over OTLP/HTTP wherever the standard variables say (OTEL_EXPORTER_OTLP_ENDPOINT,
OTEL_SERVICE_NAME, …). A request's span names its method, route and status (joining the
caller's trace when a `traceparent` header comes with it); a statement's span holds the SQL with
its parameters left out: never what anyone typed. Imported only when switched on, so `recbot
serve` does not load OpenTelemetry otherwise.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

EXTRA = "pip install 'recbot[telemetry]'"


def available() -> bool:
    """True when the OpenTelemetry SDK and the SQLAlchemy instrumentation can be imported."""
    try:
        import opentelemetry.instrumentation.sqlalchemy  # noqa: F401
        import opentelemetry.sdk.trace  # noqa: F401
    except ImportError:
        return False
    return True


def otlp_provider() -> Any:
    """A tracer provider exporting in batches over OTLP/HTTP, configured by the OTEL_* variables."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "recbot"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def server_middleware(provider: Any) -> Any:
    """An aiohttp middleware that makes a server span of each request: method, route, status."""
    from opentelemetry.propagate import extract
    from opentelemetry.trace import SpanKind, Status, StatusCode

    tracer = provider.get_tracer("recbot")

    @web.middleware
    async def trace_request(request: web.Request, handler: Any) -> web.StreamResponse:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unknown route"
        with tracer.start_as_current_span(
            f"{request.method} {route}",
            context=extract(request.headers),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": request.method, "http.route": route},
        ) as span:
            try:
                response: web.StreamResponse = await handler(request)
            except web.HTTPException as error:
                span.set_attribute("http.response.status_code", error.status)
                raise
            span.set_attribute("http.response.status_code", response.status)
            if response.status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            return response

    return trace_request


def trace_engine(engine: AsyncEngine, provider: Any) -> None:
    """Make a span of each SQL statement the engine runs (statement text only, no parameters)."""
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # The instrumentation declares SQLAlchemy < 2.1; its event hooks work on 2.1 (tests/e2e/test_telemetry.py).
    SQLAlchemyInstrumentor().instrument(
        engine=engine.sync_engine, tracer_provider=provider, enable_commenter=False, skip_dep_check=True
    )


def shutdown(provider: Any) -> None:
    """Send the spans still buffered, and stop tracing SQL (the instrumentor is one per process)."""
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    SQLAlchemyInstrumentor().uninstrument()
    provider.shutdown()
