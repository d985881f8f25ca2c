"""Throw-away PostgreSQL databases for the tests and the benchmarks: one administrative statement at a time."""

from __future__ import annotations

from sqlalchemy.engine import make_url


async def execute_on_server(server_url: str, sql: str) -> None:
    """Run `sql` (CREATE DATABASE, DROP DATABASE …) on the server of `server_url`, outside any transaction."""
    import asyncpg

    dsn = make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn, timeout=3)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def url_of_database(server_url: str, name: str) -> str:
    """`server_url` pointed at the database `name`."""
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)
