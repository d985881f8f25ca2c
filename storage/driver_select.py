"""A SELECT compiled once per dialect and run on the driver's own connection (issue 14).

SQLAlchemy's execution of a Core statement costs more than the statement itself for the one a
status question runs (`storage.tracker.find_items_with_latest`): its cache key is hashed to find the
compiled form, the parameters are built, an execution context and a result are made, and events are
dispatched, every time. Measured on PostgreSQL in a loop, with the pooled connection in both:
320–380 µs through `AsyncConnection.execute` against 180–215 µs on asyncpg directly.

`DriverSelect` compiles the statement once per dialect with SQLAlchemy, and converts parameters and
values with the same bind and result processors SQLAlchemy would use, so the rows are those
`connection.execute` gives (tests/storage/test_driver_select.py compares them on both databases).
When something listens to the engine's statements (tracing with RECBOT_TELEMETRY=on, a test
counting them), it runs the statement through SQLAlchemy instead, so that they see it; and when the
driver fails, it runs it again through SQLAlchemy, whose error (and dropping of a broken connection
from the pool) is the one the rest of RecBot knows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # Each positional parameter: its name, its value unless given, and SQLAlchemy's bind processor.
    parameters: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]
    # Each column's result processor, or None where the driver's value is the answer.
    columns: tuple[Callable[[Any], Any] | None, ...]

    def arguments(self, given: Mapping[str, Any]) -> list[Any]:
        values = []
        for name, default, process in self.parameters:
            value = given.get(name, default)
            values.append(process(value) if process is not None else value)
        return values

    def row(self, values: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            value if process is None else process(value) for process, value in zip(self.columns, values, strict=True)
        )


async def _asyncpg_rows(driver: Any, sql: str, arguments: list[Any]) -> Sequence[Sequence[Any]]:
    rows: Sequence[Sequence[Any]] = await driver.fetch(sql, *arguments)
    return rows


async def _sqlite_rows(driver: Any, sql: str, arguments: list[Any]) -> Sequence[Sequence[Any]]:
    cursor = await driver.cursor()
    try:
        await cursor.execute(sql, arguments)
        rows: Sequence[Sequence[Any]] = await cursor.fetchall()
        return rows
    finally:
        await cursor.close()


_RUNNERS = {"asyncpg": _asyncpg_rows, "aiosqlite": _sqlite_rows}


class DriverSelect:
    """`statement`'s rows, as tuples, from the driver's connection under an `AsyncConnection`."""

    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    async def all(self, connection: AsyncConnection, parameters: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        dialect = connection.dialect
        run = _RUNNERS.get(dialect.driver)
        if run is None or connection.sync_engine.dispatch.before_cursor_execute:
            return await self._through_sqlalchemy(connection, parameters)
        compiled = self._compiled.get(dialect.driver) or self._compile(dialect)
        raw = await connection.get_raw_connection()
        try:
            rows = await run(raw.driver_connection, compiled.sql, compiled.arguments(parameters))
        except Exception:  # noqa: BLE001 - any driver error: SQLAlchemy's run raises its own for it
            # Run again through SQLAlchemy, which raises its error (the one the bot answers "database
            # unreachable" to) and takes a broken connection out of the pool, or answers if the
            # failure has passed. A SELECT is safe to run twice.
            return await self._through_sqlalchemy(connection, parameters)
        return [compiled.row(row) for row in rows]

    async def _through_sqlalchemy(
        self, connection: AsyncConnection, parameters: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in await connection.execute(self.statement, parameters)]

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        if compiled.post_compile_params:
            # An expanding IN or a literal_execute parameter is rendered anew for each execution.
            raise TypeError("DriverSelect runs statements whose SQL does not depend on the parameters")
        binds = [(name, compiled.binds[name]) for name in compiled.positiontup or ()]
        compiled_form = _Compiled(
            sql=compiled.string,
            parameters=tuple(
                (name, bind.effective_value, bind.type.dialect_impl(dialect).bind_processor(dialect))
                for name, bind in binds
            ),
            columns=tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in self.statement.selected_columns
            ),
        )
        self._compiled[dialect.driver] = compiled_form
        return compiled_form
