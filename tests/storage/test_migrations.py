"""The one migration history builds the same schema as the models on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import upgrade
from storage.models import Base


async def test_migrations_match_the_models_and_rerun_cleanly(engine: AsyncEngine) -> None:
    await upgrade(engine)  # a second upgrade is a no-op

    def diff(connection: object) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": False})  # type: ignore[arg-type]
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as connection:
        assert await connection.run_sync(diff) == []
