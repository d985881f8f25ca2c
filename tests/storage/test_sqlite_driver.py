"""storage/sqlite_driver.py: SQLAlchemy over it behaves as over aiosqlite; reads skip the thread, writes hop
once and queue at the engine's gate."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import sqlite_driver
from storage.database import create_engine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT UNIQUE NOT NULL)"))
    yield engine
    await engine.dispose()


def _count_hops(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    hops: list[object] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: object, *args: object, **kwargs: object) -> object:
        hops.append(fn)
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return hops


async def test_a_read_runs_on_the_loop_and_its_rows_arrive_whole(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO notes (body) VALUES (:body)"), [{"body": f"n{i}"} for i in range(5)])
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))  # the connection is open before counting
        hops = _count_hops(monkeypatch)
        result = await connection.execute(text("SELECT body FROM notes ORDER BY id"))
        assert result.fetchone() == ("n0",)
        assert result.fetchmany(2) == [("n1",), ("n2",)]
        assert result.fetchall() == [("n3",), ("n4",)]
    # No hand-off to the connection's thread: not for the statement, not for a rollback of nothing.
    assert hops == []


async def test_a_write_is_one_hop_and_a_reader_never_waits_for_it(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with engine.connect() as writer, engine.connect() as reader:
        await reader.execute(text("SELECT 1"))
        await writer.execute(text("SELECT 1"))
        hops = _count_hops(monkeypatch)
        await writer.execute(text("INSERT INTO notes (body) VALUES ('pending')"))
        assert len(hops) == 1
        # The writer holds the write lock and has not committed: WAL lets the reader read at once.
        assert (await asyncio.wait_for(reader.execute(text("SELECT count(*) FROM notes")), 1)).scalar_one() == 0
        await writer.commit()
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM notes"))).scalar_one() == 1


async def test_without_wal_every_statement_goes_to_the_thread(tmp_path: Path) -> None:
    # An in-memory database has no write-ahead log: a reader there could wait for a lock.
    connection = await sqlite_driver.connect(":memory:", sqlite_driver.WriteGate(timeout=1))
    try:
        assert connection.reads_on_loop is False
        async with connection.cursor() as cursor:
            await cursor.execute("SELECT 41 + 1")
            assert await cursor.fetchall() == [(42,)]
    finally:
        await connection.close()
    on_disk = await sqlite_driver.connect(str(tmp_path / "wal.db"), sqlite_driver.WriteGate(timeout=1))
    try:
        assert on_disk.reads_on_loop is True
    finally:
        await on_disk.close()


async def test_writes_commit_roll_back_and_report_rows(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        inserted = await connection.execute(text("INSERT INTO notes (body) VALUES ('kept')"))
        assert inserted.rowcount == 1
        assert inserted.lastrowid == 1
        returned = await connection.execute(text("INSERT INTO notes (body) VALUES ('second') RETURNING id"))
        assert returned.scalar_one() == 2
    async with engine.connect() as connection:
        await connection.execute(text("UPDATE notes SET body = 'dropped' WHERE id = 1"))
        await connection.rollback()
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT body FROM notes ORDER BY id"))).scalars().all() == [
            "kept",
            "second",
        ]


async def test_errors_reach_the_caller_and_the_connection_goes_on(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("INSERT INTO notes (body) VALUES ('once')"))
        with pytest.raises(IntegrityError):
            await connection.execute(text("INSERT INTO notes (body) VALUES ('once')"))
        await connection.rollback()
        assert (await connection.execute(text("SELECT count(*) FROM notes"))).scalar_one() == 0


async def test_writers_queue_at_the_gate_in_arrival_order(engine: AsyncEngine) -> None:
    async with engine.connect() as first, engine.connect() as second, engine.connect() as third:
        await first.execute(text("INSERT INTO notes (body) VALUES ('first')"))
        # The others wait their turn at the gate (not in SQLite's sleeping busy handler), in order.
        waiting = [
            asyncio.create_task(connection.execute(text(f"INSERT INTO notes (body) VALUES ('{name}')")))
            for connection, name in ((second, "second"), (third, "third"))
        ]
        await asyncio.sleep(0.05)
        assert not any(task.done() for task in waiting)
        await first.commit()
        await waiting[0]
        assert not waiting[1].done()  # the second holds the gate until its transaction ends
        await second.rollback()
        await waiting[1]
        await third.commit()
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT body FROM notes ORDER BY id"))).scalars().all() == [
            "first",
            "third",
        ]


async def test_a_failed_write_leaves_the_gate_when_rolled_back(engine: AsyncEngine) -> None:
    async with engine.connect() as failing, engine.connect() as other:
        await failing.execute(text("INSERT INTO notes (body) VALUES ('once')"))
        with pytest.raises(IntegrityError):
            await failing.execute(text("INSERT INTO notes (body) VALUES ('once')"))
        await failing.rollback()
        await asyncio.wait_for(other.execute(text("INSERT INTO notes (body) VALUES ('next')")), 1)
        await other.commit()


async def test_waiting_longer_than_the_busy_timeout_fails_as_sqlite_would(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'timeout.db'}")
    try:
        async with engine.connect() as holder, engine.connect() as waiter:
            await holder.execute(text("CREATE TABLE t (x INTEGER)"))
            await holder.commit()
            await holder.execute(text("INSERT INTO t VALUES (1)"))
            # The engine's gate, shared by both connections, with a short timeout instead of 15 s.
            holder.sync_connection.connection.driver_connection._gate.timeout = 0.1  # type: ignore[union-attr]
            with pytest.raises(OperationalError, match="database is locked"):
                await waiter.execute(text("INSERT INTO t VALUES (2)"))
            await holder.commit()
    finally:
        await engine.dispose()
