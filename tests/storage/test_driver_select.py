"""`DriverSelect` gives the rows SQLAlchemy's own execution gives, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import String, bindparam, cast, event, func, literal, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.records import ItemRecord, ReportRecord
from domain.vocabulary import Kind
from storage import tracker
from storage.database import PoolSettings, create_engine
from storage.driver_select import DriverSelect
from storage.models import BotState, Item, Report, Update
from storage.state import StateAlong

Sessionmaker = async_sessionmaker[AsyncSession]


async def _tracker(sessionmaker: Sessionmaker) -> None:
    record = ReportRecord(
        title="Organised immigration crime",
        code="OIC-2025",
        published_on=date(2025, 5, 16),
        items=(
            ItemRecord(Kind.RECOMMENDATION, 8, "Eight.", date(2026, 4, 30), "We will.", owner_email="lead@force.uk"),
            ItemRecord(Kind.RECOMMENDATION, 9, "Recommendation nine, café.", None, ""),
        ),
    )
    async with sessionmaker.begin() as session:
        await tracker.save_report(session, record)
        session.add(
            BotState(key="asker", etag="e1", document={"dialogs": [1, None, "é"]}, updated_at=datetime.now(UTC))
        )


# Dates, UTC datetimes, NULLs, JSON from a scalar subquery, a parameter used twice and a literal.
_STATEMENT = (
    select(
        Item.id,
        Item.due_on,
        Item.last_update_at,
        Item.title,
        Report.code,
        Update.created_at,
        Update.narrative,
        select(BotState.document).where(BotState.key == bindparam("key")).scalar_subquery(),
        select(BotState.etag).where(BotState.key == bindparam("key")).scalar_subquery(),
        literal("R").concat(cast(Item.number, String)),
    )
    .join(Report, Item.report_id == Report.id)
    .outerjoin(Update, Update.item_id == Item.id)
    .where(func.upper(Report.code) == bindparam("code"))
    .order_by(Item.number)
)


async def _rows(engine: AsyncEngine, query: DriverSelect, parameters: dict[str, Any]) -> list[tuple[Any, ...]]:
    async with engine.connect() as connection:
        return await query.all(connection, parameters)


async def _sqlalchemys_rows(engine: AsyncEngine, parameters: dict[str, Any]) -> list[tuple[Any, ...]]:
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(_STATEMENT, parameters)]


async def test_rows_are_those_sqlalchemy_gives(engine: AsyncEngine, sessionmaker: Sessionmaker) -> None:
    await _tracker(sessionmaker)
    query = DriverSelect(_STATEMENT)
    for parameters in (
        {"key": "asker", "code": "OIC-2025"},
        {"key": "nobody", "code": "OIC-2025"},
        {"key": "asker", "code": "NONE"},
    ):
        assert await _rows(engine, query, parameters) == await _sqlalchemys_rows(engine, parameters), parameters
    found = await _rows(engine, query, {"key": "asker", "code": "OIC-2025"})
    assert [row[1] for row in found] == [date(2026, 4, 30), None]
    assert found[0][5] is not None and found[0][5].tzinfo is not None  # UTCDateTime's own conversion
    assert found[0][7] == {"dialogs": [1, None, "é"]} and found[0][8] == "e1"
    assert [row[9] for row in found] == ["R8", "R9"]


async def test_a_listener_on_the_engine_sees_the_statement(engine: AsyncEngine, sessionmaker: Sessionmaker) -> None:
    """Tracing (RECBOT_TELEMETRY=on) listens to the engine's statements: the statement goes SQLAlchemy's way then."""
    await _tracker(sessionmaker)
    query = DriverSelect(_STATEMENT)
    parameters = {"key": "asker", "code": "OIC-2025"}
    direct = await _rows(engine, query, parameters)
    seen: list[str] = []

    def listen(*arguments: Any) -> None:
        seen.append(arguments[2])

    event.listen(engine.sync_engine, "before_cursor_execute", listen)
    try:
        assert await _rows(engine, query, parameters) == direct
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", listen)
    assert len(seen) == 1 and "bot_state" in seen[0]


async def test_the_status_statement_reads_the_state_row_on_the_driver(
    engine: AsyncEngine, sessionmaker: Sessionmaker
) -> None:
    await _tracker(sessionmaker)
    along = StateAlong("asker")
    async with engine.connect() as connection:
        rows = await tracker.find_items_with_latest(connection, number=8, state=along)
    assert [item.reference for item, _, _ in rows] == ["OIC-2025 R8"]
    assert rows[0][1] is not None and rows[0][1].narrative == "We will."
    assert along.was_read and along.stored == ("e1", {"dialogs": [1, None, "é"]})


async def test_a_statement_whose_sql_depends_on_its_parameters_is_refused(engine: AsyncEngine) -> None:
    expanding = DriverSelect(select(Item.id).where(Item.id.in_(bindparam("ids", expanding=True))))
    with pytest.raises(TypeError, match="does not depend on the parameters"):
        await _rows(engine, expanding, {"ids": [1, 2]})


async def test_a_driver_failure_is_sqlalchemys_error_and_the_connection_is_dropped(
    engine: AsyncEngine, sessionmaker: Sessionmaker
) -> None:
    """The database going away mid-turn must read as SQLAlchemy's error (the bot answers "unreachable" to
    it), and the broken connection must leave the pool, as when SQLAlchemy runs the statement itself."""
    await _tracker(sessionmaker)
    query = DriverSelect(_STATEMENT)
    parameters = {"key": "asker", "code": "OIC-2025"}
    expected = await _rows(engine, query, parameters)
    async with engine.connect() as connection:
        await (await connection.get_raw_connection()).driver_connection.close()
        with pytest.raises(DBAPIError):
            await query.all(connection, parameters)
    assert await _rows(engine, query, parameters) == expected


async def test_rows_through_pgbouncer_mode(engine: AsyncEngine, sessionmaker: Sessionmaker) -> None:
    """RECBOT_DB_PGBOUNCER: asyncpg caches no statements (pgbouncer hands a client's statements to any
    server connection); the driver's unnamed statements must still give the same rows."""
    if engine.dialect.name != "postgresql":
        pytest.skip("pgbouncer mode is PostgreSQL's")
    await _tracker(sessionmaker)
    bouncing = create_engine(engine.url.render_as_string(hide_password=False), PoolSettings(pgbouncer=True))
    try:
        query = DriverSelect(_STATEMENT)
        parameters = {"key": "asker", "code": "OIC-2025"}
        expected = await _sqlalchemys_rows(bouncing, parameters)
        for _ in range(3):  # the same statement again, which a cache would have prepared once, by name
            assert await _rows(bouncing, query, parameters) == expected
    finally:
        await bouncing.dispose()
