"""The one migration history builds the same schema as the models on SQLite and PostgreSQL."""

import warnings
from datetime import datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, column, insert, inspect, select, table
from sqlalchemy.ext.asyncio import AsyncEngine

from services.importers import parse_document
from storage.database import alembic_config, upgrade
from storage.models import Base, Item
from tests.conftest import SEED

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


async def test_an_upgraded_database_has_the_titles_an_import_gives(engine: AsyncEngine) -> None:
    """Migration 0008 derives every stored item's title as `recbot import` does (told apart within a report)."""
    (seed,) = parse_document(SEED.name, SEED.read_text())
    items = [(item.kind.value, item.number, item.text) for item in seed.items]
    items.append(("recommendation", 10, seed.items[2].text))  # R8's text again: its title must differ

    def to_0007(connection: Connection) -> None:
        config = alembic_config(str(engine.url))
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")

    async with engine.begin() as connection:
        await connection.run_sync(to_0007)
    try:
        reports = table("reports", column("id"), column("code"), column("title"), column("imported_at"))
        rows = table("items", column("report_id"), column("kind"), column("number"), column("text"), column("status"),
                     column("created_at"))  # fmt: skip
        now = datetime(2026, 12, 1, 12, 0)
        async with engine.begin() as connection:
            await connection.execute(insert(reports).values(id=1, code="OIC-2025", title=seed.title, imported_at=now))
            await connection.execute(
                insert(rows),
                [
                    {"report_id": 1, "kind": kind, "number": number, "text": text, "status": "Not started",
                     "created_at": now}
                    for kind, number, text in items
                ],
            )  # fmt: skip
        await upgrade(engine)
        async with engine.connect() as connection:
            titles = dict((await connection.execute(select(Item.number, Item.title))).all())
    finally:
        await upgrade(engine)
    assert titles == {
        2: "Required intelligence document",
        4: "Clear plans to collect, analyse and share information",
        8: "Hydra training package",
        9: "Four modules of the e-learning package",
        10: "Hydra training package (2)",
    }
