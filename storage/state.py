"""The `bot_state` table: JSON documents under keys, each with an eTag for optimistic concurrency.

SQL only; `bot/state.py` puts the Bot Framework's state objects in and out of these documents.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.selectable import ScalarSelect

from storage.database import for_reading
from storage.driver_select import DriverSelect
from storage.models import BotState as BotStateRow

_TABLE = cast(Table, BotStateRow.__table__)


class EtagConflict(Exception):
    """A conditional write found another eTag (or no row at all) under its key; nothing was written."""

    def __init__(self, key: str, expected: str, current: str | None) -> None:
        found = f"it is now {current!r}" if current is not None else "the key no longer exists"
        super().__init__(f"eTag conflict writing {key!r}: expected eTag {expected!r}, but {found}")
        self.key = key
        self.expected = expected
        self.current = current


def _upsert(dialect: str, values: dict[str, Any]) -> Insert:
    if dialect == "postgresql":
        statement: postgresql.Insert | sqlite.Insert = postgresql.insert(_TABLE).values(values)
    elif dialect == "sqlite":
        statement = sqlite.insert(_TABLE).values(values)
    else:
        raise NotImplementedError(f"SqlStorage supports PostgreSQL and SQLite, not {dialect}")
    replaced = {name: statement.excluded[name] for name in ("etag", "document", "updated_at")}
    return statement.on_conflict_do_update(index_elements=[_TABLE.c.key], set_=replaced)


_COLUMNS = (_TABLE.c.key, _TABLE.c.etag, _TABLE.c.document)
_READ_ONE = DriverSelect(select(*_COLUMNS).where(_TABLE.c.key == bindparam("key")))
_READ_MANY = select(*_COLUMNS).where(_TABLE.c.key.in_(bindparam("keys", expanding=True)))
_ETAG_OF = select(_TABLE.c.etag).where(_TABLE.c.key == bindparam("key"))
# SET takes the row's new values from parameters named after the columns; WHERE needs other names.
_COMPARE_AND_SET = (
    update(_TABLE)
    .where(_TABLE.c.key == bindparam("row_key"), _TABLE.c.etag == bindparam("expected"))
    .values(etag=bindparam("etag"), document=bindparam("document"), updated_at=bindparam("updated_at"))
)


def new_etag() -> str:
    return uuid.uuid4().hex


@dataclass
class StateAlong:
    """One state row read by another statement, so that a turn's state and its answer take one round trip.

    The statement selects `COLUMNS` last and binds `parameters()`; `take` keeps what its first row
    found. A statement that returned no rows read nothing: `was_read` stays False and the row is
    read on its own as usual.
    """

    key: str
    was_read: bool = False
    stored: tuple[str, Any] | None = None  # (eTag, document), or None when there is no row under `key`

    # The row's eTag and document as two scalar subqueries (SQL evaluates each once per statement).
    COLUMNS: ClassVar[tuple[ScalarSelect[Any], ...]] = tuple(
        select(column).where(_TABLE.c.key == bindparam("state_key")).scalar_subquery()
        for column in (_TABLE.c.etag, _TABLE.c.document)
    )

    def parameters(self) -> dict[str, str]:
        return {"state_key": self.key}

    def take(self, row: Sequence[Any]) -> None:
        etag, document = row[-2], row[-1]
        self.stored = None if etag is None else (etag, document)
        self.was_read = True


class StateTable:
    """Reads and writes `bot_state` rows; a batch of writes is one transaction: all or none.

    Core connections throughout: every turn reads its state and a turn of a dialog writes it, and an
    ORM session would only add its own set-up and tear-down around these one-row statements."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._engine: AsyncEngine = sessionmaker.kw["bind"]
        # For what is one statement, atomic by itself: a read, and a write of one row (every turn of an
        # update dialog writes one). On PostgreSQL it runs on its own, without BEGIN and COMMIT: two
        # round trips fewer (`storage.database.for_reading`).
        self._on_its_own: AsyncEngine = for_reading(sessionmaker).kw["bind"]

    async def read(self, keys: Sequence[str]) -> list[tuple[str, str, Any]]:
        """(key, eTag, document) of each stored key; missing keys are left out."""
        async with self._on_its_own.connect() as connection:
            if len(keys) == 1:
                # The usual case (one state object per turn): a primary-key look-up on the driver.
                return await _READ_ONE.all(connection, {"key": keys[0]})
            rows = await connection.execute(_READ_MANY, {"keys": list(keys)})
            return [tuple(row) for row in rows]  # type: ignore[misc]

    async def write(self, rows: Sequence[tuple[str | None, dict[str, Any]]]) -> None:
        """Write each (expected eTag, values) in one transaction: no expectation overwrites, any other
        writes only over that eTag, else `EtagConflict`. `values` holds key, etag, document, updated_at."""
        async with (self._on_its_own if len(rows) == 1 else self._engine).begin() as connection:
            for expected, values in rows:
                if expected is None:
                    await connection.execute(_upsert(connection.dialect.name, values))
                    continue
                # Atomic compare-and-set: on PostgreSQL a racing UPDATE waits for the row lock,
                # then re-checks the WHERE against the winner's row and matches nothing.
                result = await connection.execute(
                    _COMPARE_AND_SET,
                    {
                        "row_key": values["key"],
                        "expected": expected,
                        **{name: values[name] for name in ("etag", "document", "updated_at")},
                    },
                )
                if result.rowcount != 1:
                    current = await connection.scalar(_ETAG_OF, {"key": values["key"]})
                    raise EtagConflict(values["key"], expected, current)

    async def delete(self, keys: Iterable[str]) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(delete(_TABLE).where(_TABLE.c.key.in_(list(keys))))

    async def delete_expired(self, older_than: datetime) -> int:
        """Delete the rows last written before `older_than` (an aware datetime); returns how many."""
        async with self._engine.begin() as connection:
            result = await connection.execute(delete(_TABLE).where(_TABLE.c.updated_at < older_than))
        return result.rowcount

    async def last_written(self, key: str) -> datetime | None:
        """When the row under `key` was last written, or None if there is none."""
        async with self._on_its_own.connect() as connection:
            return await connection.scalar(select(_TABLE.c.updated_at).where(_TABLE.c.key == key))
