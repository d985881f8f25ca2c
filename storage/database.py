"""Engines, sessions, migrations and the readiness probe."""

from __future__ import annotations

import ast
import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from storage import sqlite_driver

if TYPE_CHECKING:
    from alembic.config import Config

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
        database, options = _sqlite_connect_args(url)
        gate = sqlite_driver.WriteGate(timeout=options["timeout"])
        engine = create_async_engine(
            url, hide_parameters=True, async_creator=lambda: sqlite_driver.connect(database, gate, **options)
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
            cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
            # Foreign keys are off by default (the driver has put the database in WAL mode).
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


def _sqlite_connect_args(url: str) -> tuple[str, dict[str, Any]]:
    """What SQLAlchemy's aiosqlite dialect would pass to `sqlite3.connect` for `url`, with a 15 s busy timeout."""
    parsed = make_url(url)
    arguments, options = parsed.get_dialect()().create_connect_args(parsed)
    return arguments[0], {**options, "timeout": 15}


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
    """Sessions on the same engine for work that only reads; never write through them (each statement
    would commit on its own: only a write that is one statement, `storage.state.StateTable`'s, may).

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
    # Alembic is imported where it is used: it takes a quarter of a second, and `recbot serve` does
    # not need it (issue 12).
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema of `engine`'s database to `revision` through Alembic."""

    from alembic import command

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
    head = _head_of_scripts()
    if head is not None and await _stored_revision(engine) == head:
        # Alembic would say the same; anything less plain (no version table, several heads, an
        # older revision) is left to it, with its own answers and errors.
        return True
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()

    def current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(current) == head


# `recbot serve` checks the schema before it starts. Alembic answers that in a quarter of a second
# of imports; for the plain case (scripts in one chain, one row in the version table) these read
# the same two facts directly, and `schema_is_current` asks Alembic whenever they cannot tell.
_REVISION_FIELDS = ("revision", "down_revision", "branch_labels", "depends_on")
_UNREADABLE = object()


def _revision_fields(path: Path) -> dict[str, object]:
    """The module-level `revision`, `down_revision`, `branch_labels` and `depends_on` of a migration script."""
    fields: dict[str, object] = {}
    try:
        module = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except (SyntaxError, ValueError):
        return fields  # Alembic says what is wrong with it
    for node in module.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in _REVISION_FIELDS:
            try:
                fields[target.id] = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError):
                fields[target.id] = _UNREADABLE
    return fields


def _head_of_scripts() -> str | None:
    """The newest revision when the migration scripts form one plain chain (what Alembic's
    `ScriptDirectory.get_current_head()` then answers); None when they do not, or cannot be read so."""
    down_of: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        if path.name.startswith(("__init__", ".#")):
            continue  # Alembic skips these too
        fields = _revision_fields(path)
        revision, down = fields.get("revision"), fields.get("down_revision", _UNREADABLE)
        if not isinstance(revision, str) or revision in down_of or not (down is None or isinstance(down, str)):
            return None
        if fields.get("branch_labels") is not None or fields.get("depends_on") is not None:
            return None
        down_of[revision] = down
    heads = set(down_of) - set(down_of.values())
    if len(heads) != 1:
        return None
    head = heads.pop()
    # One chain from the head down to a first revision, through every script.
    revision_or_none: str | None = head
    walked = 0
    while revision_or_none is not None and revision_or_none in down_of and walked <= len(down_of):
        revision_or_none, walked = down_of[revision_or_none], walked + 1
    return head if revision_or_none is None and walked == len(down_of) else None


async def _stored_revision(engine: AsyncEngine) -> str | None:
    """The one revision in `alembic_version`; None when there is not exactly one, or no table."""
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    except DBAPIError:
        return None  # no version table, or no database: Alembic tells which
    return rows[0] if len(rows) == 1 and isinstance(rows[0], str) else None
