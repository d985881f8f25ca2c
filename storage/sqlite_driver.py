"""aiosqlite with one thread hop per statement instead of four or five (issue 14).

aiosqlite runs each sqlite3 call on the connection's own thread and hands the result back to the
event loop: a queue put, a thread wake-up and a `call_soon_threadsafe` each time, and the GIL
passed back and forth. SQLAlchemy's adapter makes five such calls for one SELECT (create the
cursor, execute, fetch all, close, and a rollback when the connection goes back to the pool).
Measured (bench/, c=16 on SQLite): a bare service making three SELECTs answered half as many
questions per second as one making one SELECT — the hops, not SQLite, were the cost.

Here a statement and the fetching of its rows are one call on the connection's thread; creating
and closing a cursor, and reading rows already fetched, happen on the event loop's thread (the
connection is never used by two at once: SQLAlchemy's pool hands it to one session at a time); a
rollback with no transaction open (every read-only turn) is skipped, as sqlite3 itself would do
nothing. Everything else is aiosqlite's.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import aiosqlite
from aiosqlite.context import contextmanager


def _execute_and_fetch(
    cursor: sqlite3.Cursor, sql: str, parameters: Sequence[Any] | Mapping[str, Any]
) -> list[Any] | None:
    cursor.execute(sql, parameters)
    # A statement without result columns (INSERT, UPDATE, DELETE without RETURNING) has no rows.
    return cursor.fetchall() if cursor.description is not None else None


class Cursor(aiosqlite.Cursor):
    """An aiosqlite cursor whose rows arrive with the statement that produced them."""

    def __init__(self, connection: aiosqlite.Connection, cursor: sqlite3.Cursor) -> None:
        super().__init__(connection, cursor)
        self._rows: list[Any] = []

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Cursor:
        # SQLAlchemy passes a tuple or a dict, as sqlite3 wants.
        bound = cast(Sequence[Any] | Mapping[str, Any], () if parameters is None else parameters)
        rows = await self._execute(_execute_and_fetch, self._cursor, sql, bound)
        self._rows = rows or []
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Cursor:
        self._rows = []
        await super().executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = self.arraysize if size is None else size
        taken, self._rows = self._rows[:count], self._rows[count:]
        return taken

    async def fetchall(self) -> list[Any]:
        taken, self._rows = self._rows, []
        return taken

    async def close(self) -> None:
        self._rows = []
        self._cursor.close()


class Connection(aiosqlite.Connection):
    """An aiosqlite connection making `Cursor`s, and skipping rollbacks that would do nothing."""

    @contextmanager
    async def cursor(self) -> Cursor:  # type: ignore[override]
        return Cursor(self, self._conn.cursor())

    async def rollback(self) -> None:
        if self._conn.in_transaction:
            await super().rollback()


def connect(database: str, **kwargs: Any) -> Connection:
    """Like `aiosqlite.connect`: `kwargs` go to `sqlite3.connect`, with check_same_thread off (see above)."""
    options = {**kwargs, "check_same_thread": False}
    connection = Connection(lambda: sqlite3.connect(database, **options), iter_chunk_size=64)
    # As SQLAlchemy's own aiosqlite dialect does: a connection left open must not keep the process alive.
    connection._thread.daemon = True
    return connection
