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
- Cursors are made and closed, and fetched rows read, on the loop's thread; a commit or rollback
  with no transaction open (every read-only turn) is skipped, as sqlite3 itself would do nothing.
- Write transactions of one engine's connections take turns at a `WriteGate`, in arrival order.
  SQLite lets one connection write at a time and makes the others retry in its busy handler, which
  sleeps 1, 2, 5, 10, … 100 ms between tries: under a steady stream of short writes (every turn of
  an update dialog saves its state) a waiting write could lose again and again, for hundreds of
  milliseconds. Queued, a write waits only for those before it. (Another process on the same file
  still meets SQLite's own lock and busy handler.)

The connection is never used by two at once (SQLAlchemy's pool hands it to one session at a
time), so which thread touches it does not matter to sqlite3 (check_same_thread is off).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
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


class WriteGate:
    """One write transaction at a time among an engine's connections, first come first served.

    A connection passes the gate before a statement that opens a transaction and leaves when the
    transaction ends. Waiting longer than `timeout` fails as SQLite's busy timeout does.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def enter(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a lock serves one event loop; connections never outlive theirs
            self._loop, self._lock = loop, asyncio.Lock()
        try:
            async with asyncio.timeout(self.timeout):
                await self._lock.acquire()
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None

    def leave(self) -> None:
        self._lock.release()


class Cursor(aiosqlite.Cursor):
    """An aiosqlite cursor whose rows arrive with the statement that produced them."""

    _conn: Connection

    def __init__(self, connection: Connection, cursor: sqlite3.Cursor) -> None:
        super().__init__(connection, cursor)
        self._rows: list[Any] = []

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Cursor:
        # SQLAlchemy passes a tuple or a dict, as sqlite3 wants.
        bound = cast(Sequence[Any] | Mapping[str, Any], () if parameters is None else parameters)
        connection = self._conn
        if _is_select(sql):
            if connection.reads_on_loop and not connection.in_transaction:
                rows = _execute_and_fetch(self._cursor, sql, bound)
            else:
                rows = await self._execute(_execute_and_fetch, self._cursor, sql, bound)
        else:
            rows = await connection.writing(_execute_and_fetch, self._cursor, sql, bound)
        self._rows = rows or []
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Cursor:
        self._rows = []
        await self._conn.writing(self._cursor.executemany, sql, parameters)
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
    """An aiosqlite connection making `Cursor`s, taking its turn at the gate to write, and skipping
    commits and rollbacks that would do nothing."""

    # Set when the connection opens: True once the database is in WAL mode.
    reads_on_loop = False

    def __init__(self, connector: Callable[[], sqlite3.Connection], gate: WriteGate, **kwargs: Any) -> None:
        super().__init__(connector, **kwargs)
        self._gate = gate
        self._at_gate = False

    @contextmanager
    async def cursor(self) -> Cursor:  # type: ignore[override]
        return Cursor(self, self._conn.cursor())

    async def writing(self, function: Callable[..., Any], *arguments: Any) -> Any:
        """`function(*arguments)` on the connection's thread; a statement that may open a transaction
        first waits its turn at the gate, which it keeps until the transaction ends."""
        if not self._at_gate and not self._conn.in_transaction:
            await self._gate.enter()
            self._at_gate = True
        try:
            return await self._execute(function, *arguments)
        finally:
            self._leave_when_done()

    async def commit(self) -> None:
        try:
            if self._conn.in_transaction:  # a transaction that only read has nothing to commit
                await super().commit()
        finally:
            self._leave_when_done()

    async def rollback(self) -> None:
        try:
            if self._conn.in_transaction:
                await super().rollback()
        finally:
            self._leave_when_done()

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            self._leave_when_done()

    def _leave_when_done(self) -> None:
        # Closed (no sqlite3 connection any more) also ends the transaction.
        if self._at_gate and (self._connection is None or not self._conn.in_transaction):
            self._at_gate = False
            self._gate.leave()


def connect(database: str, gate: WriteGate, **kwargs: Any) -> Connection:
    """Like `aiosqlite.connect` (`kwargs` go to `sqlite3.connect`, check_same_thread off); the database
    is put in WAL mode, so that readers run beside the one writer, and writes pass through `gate`
    (one per engine)."""
    options = {**kwargs, "check_same_thread": False}

    def open_database() -> sqlite3.Connection:
        opened = sqlite3.connect(database, **options)
        mode = opened.execute("PRAGMA journal_mode=WAL").fetchone()
        connection.reads_on_loop = mode is not None and str(mode[0]).lower() == "wal"
        return opened

    connection = Connection(open_database, gate, iter_chunk_size=64)
    # As SQLAlchemy's own aiosqlite dialect does: a connection left open must not keep the process alive.
    connection._thread.daemon = True
    return connection
