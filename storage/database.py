"""Engines, sessions, migrations and the readiness probe."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

MIGRATIONS = Path(__file__).parent / "migrations"

# Errors that mean "the database is not there", as opposed to a bug in a query.
UNREACHABLE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    ConnectionError,
    OSError,
    asyncio.TimeoutError,
)


def is_unreachable(error: BaseException) -> bool:
    """True when `error` says the database cannot be reached (rather than a query being wrong)."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, UNREACHABLE_ERRORS)


@dataclass(frozen=True)
class PoolSettings:
    """How many PostgreSQL connections one process keeps, and whether they go through PgBouncer."""

    # Connections beyond `size` are closed when returned: with 10, a burst of questions at c=16
    # opened and closed some on every turn, forking a PostgreSQL backend each time.
    size: int = 20
    max_overflow: int = 10
    # PgBouncer in transaction mode hands each transaction any server connection, where a
    # statement prepared on another one does not exist: asyncpg must not cache prepared statements.
    pgbouncer: bool = False


def create_engine(url: str, pool: PoolSettings = PoolSettings()) -> AsyncEngine:
    """An async engine with the settings each backend needs to serve a bot (`pool` applies to PostgreSQL)."""
    # hide_parameters: an SQL error in the log shows the statement, never what officers typed.
    if url.startswith("sqlite"):
        engine = create_async_engine(url, hide_parameters=True, connect_args={"timeout": 15})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
            cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
            # WAL lets readers run beside the one writer; foreign keys are off by default.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    connect_args: dict[str, Any] = {"timeout": 5, "command_timeout": 10}
    if pool.pgbouncer:
        # SQLAlchemy's and asyncpg's statement caches off, and unique names for what is prepared.
        url = (
            make_url(url)
            .update_query_dict({"prepared_statement_cache_size": "0"})
            .render_as_string(hide_password=False)
        )
        connect_args.update(statement_cache_size=0, prepared_statement_name_func=_statement_name)
    engine = create_async_engine(
        url,
        hide_parameters=True,
        pool_size=pool.size,
        max_overflow=pool.max_overflow,
        pool_timeout=5,
        connect_args=connect_args,
    )
    _ping_when_idle(engine)
    return engine


def _statement_name() -> str:
    return f"__recbot_{uuid.uuid4().hex}__"


# A pooled connection used less than this many seconds ago is trusted without a ping.
PING_AFTER_IDLE_SECONDS = 5.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Ping a pooled connection before use only when it has been idle a while.

    `pool_pre_ping` pings on every checkout: under load that is one more round trip per query
    (two per status question, about a tenth of its cost on PostgreSQL). A connection in steady use
    is checked by that use: the first query to meet a dead connection invalidates the whole pool.
    A connection left idle is where a database restart goes unnoticed, so that one is pinged, and
    replaced if the ping fails (SQLAlchemy retries the checkout on `DisconnectionError`).
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _connected(_dbapi_connection: object, record: ConnectionPoolEntry) -> None:
        record.info["last_used"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(_dbapi_connection: object, record: ConnectionPoolEntry) -> None:
        record.info["last_used"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry, _proxy: object) -> None:
        if time.monotonic() - record.info.get("last_used", 0.0) < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # noqa: BLE001 - any failure means the connection is gone
            raise DisconnectionError("a pooled connection failed its ping") from error


@asynccontextmanager
async def open_engine(url: str, pool: PoolSettings = PoolSettings()) -> AsyncIterator[AsyncEngine]:
    """An engine for one command (the CLI), disposed when the command is done."""
    engine = create_engine(url, pool)
    try:
        yield engine
    finally:
        await engine.dispose()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def for_reading(sessionmaker: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """Sessions on the same engine for work that only reads; never write through them.

    On PostgreSQL they run each statement on its own (autocommit): asyncpg's driver otherwise sends
    BEGIN before a session's first statement and ROLLBACK after its last, two round trips of a
    single SELECT's three. Reads lose nothing: under READ COMMITTED every statement takes its own
    snapshot either way. SQLite's driver reads outside a transaction already, so there it is
    `sessionmaker` itself.
    """
    engine = sessionmaker.kw.get("bind")
    if not isinstance(engine, AsyncEngine) or engine.dialect.name != "postgresql":
        return sessionmaker
    return create_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"))


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema of `engine`'s database to `revision` through Alembic."""

    def run(connection: Connection) -> None:
        config = alembic_config(str(engine.url))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def is_ready(engine: AsyncEngine, timeout: float = 2.0) -> bool:
    """True when the database answers a trivial query within `timeout` seconds."""
    try:
        async with asyncio.timeout(timeout):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        return True
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"
        if is_unreachable(error) or isinstance(error, DBAPIError):
            return False
        raise


async def schema_is_current(engine: AsyncEngine) -> bool:
    """True when the database is at the newest migration."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()

    def current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(current) == head
