"""The one migration history builds the same schema as the models on SQLite and PostgreSQL."""

import warnings

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import upgrade
from storage.models import Base

EXPRESSION_INDEXES = {"reports": "uq_reports_code_upper", "digest_subscriptions": "uq_digest_subscriptions_target"}


async def test_migrations_match_the_models_and_rerun_cleanly(engine: AsyncEngine) -> None:
    await upgrade(engine)  # a second upgrade is a no-op

    def diff(connection: object) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": False})  # type: ignore[arg-type]
        with warnings.catch_warnings():
            # Expression indexes are neither reflected nor compared; they are checked below.
            warnings.filterwarnings("ignore", message=".*expression-based index")
            return compare_metadata(context, Base.metadata)

    def index_names(connection: object, table: str) -> set[str]:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*expression-based index")
            return {index["name"] for index in inspect(connection).get_indexes(table)}  # type: ignore[arg-type]

    async with engine.connect() as connection:
        assert await connection.run_sync(diff) == []
        for table, name in EXPRESSION_INDEXES.items():
            if engine.dialect.name == "postgresql":
                assert name in await connection.run_sync(index_names, table)
            else:
                found = await connection.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)
                )
                assert found.scalar() == name
