"""aiosqlite, with reads run on the event loop and one thread hop per write (issue 14).

aiosqlite runs each sqlite3 call on the connection's own thread and hands the result back to the
event loop: a queue put, a thread wake-up and a `call_soon_threadsafe` each time, and the GIL
passed back and forth. SQLAlchemy's adapter makes five such calls for one SELECT (create the
cursor, execute, fetch all, close, and a rollback when the connection goes back to the pool).
Measured (bench/, c=16 on SQLite): a bare service making three SELECTs answered half as many
questions per second as one making one SELECT — the hand-offs, not SQLite, were the cost.

Here:
- A SELECT outside a transaction runs on the event loop's thread, statement and rows at once.
  In WAL mode (turned on when a connection opens) a reader never waits for a lock, and an indexed
  read of a local file takes less time than the hand-off would; a connection that could not enter
  WAL mode sends every statement to its thread, as aiosqlite does. The trade-off: a read of many
  rows holds the loop while it runs (it held the GIL for as long on the thread).
- Any other statement (writes, and reads inside a write's transaction, which may wait for the
  write lock) is one call on the connection's thread, its rows fetched in the same call.
- Cursors are made and closed, and fetched rows read, on the loop's thread; a rollback with no
  transaction open (every read-only turn) is skipped, as sqlite3 itself would do nothing.

The connection is never used by two at once (SQLAlchemy's pool hands it to one session at a
time), so which thread touches it does not matter to sqlite3 (check_same_thread is off).
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


def _is_select(sql: str) -> bool:
    return sql.lstrip()[:6].upper() == "SELECT"


class Cursor(aiosqlite.Cursor):
    """An aiosqlite cursor whose rows arrive with the statement that produced them."""

    _conn: Connection

    def __init__(self, connection: Connection, cursor: sqlite3.Cursor) -> None:
        super().__init__(connection, cursor)
        self._rows: list[Any] = []

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Cursor:
        # SQLAlchemy passes a tuple or a dict, as sqlite3 wants.
        bound = cast(Sequence[Any] | Mapping[str, Any], () if parameters is None else parameters)
        if self._conn.reads_on_loop and not self._conn.in_transaction and _is_select(sql):
            rows = _execute_and_fetch(self._cursor, sql, bound)
        else:
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

    # Set when the connection opens: True once the database is in WAL mode.
    reads_on_loop = False

    @contextmanager
    async def cursor(self) -> Cursor:  # type: ignore[override]
        return Cursor(self, self._conn.cursor())

    async def rollback(self) -> None:
        if self._conn.in_transaction:
            await super().rollback()


def connect(database: str, **kwargs: Any) -> Connection:
    """Like `aiosqlite.connect` (`kwargs` go to `sqlite3.connect`, check_same_thread off); the database
    is put in WAL mode, so that readers run beside the one writer."""
    options = {**kwargs, "check_same_thread": False}

    def open_database() -> sqlite3.Connection:
        opened = sqlite3.connect(database, **options)
        mode = opened.execute("PRAGMA journal_mode=WAL").fetchone()
        connection.reads_on_loop = mode is not None and str(mode[0]).lower() == "wal"
        return opened

    connection = Connection(open_database, iter_chunk_size=64)
    # As SQLAlchemy's own aiosqlite dialect does: a connection left open must not keep the process alive.
    connection._thread.daemon = True
    return connection
