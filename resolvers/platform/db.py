"""Raw SQL that works on both SQLite and PostgreSQL: placeholders differ, the rest is kept portable."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.queryset import AwaitableQuery


def connection() -> BaseDBAsyncClient:
    return cast(BaseDBAsyncClient, connections.get("default"))


def dialect(conn: BaseDBAsyncClient | None = None) -> str:
    return str((conn or connection()).capabilities.dialect)


def placeholders(conn: BaseDBAsyncClient, start: int, count: int) -> list[str]:
    """Positional placeholders for the connection's driver: ? for SQLite, $n for asyncpg."""
    if dialect(conn) == "postgres":
        return [f"${i}" for i in range(start + 1, start + count + 1)]
    return ["?"] * count


async def fetch(sql: str, params: Sequence[Any] = (), conn: BaseDBAsyncClient | None = None) -> list[dict[str, Any]]:
    conn = conn or connection()
    return list(await conn.execute_query_dict(sql, list(params)))


def statement(query: AwaitableQuery[Any]) -> tuple[str, list[Any]]:
    """The SQL and parameters the ORM would run for a query, to wrap in a statement of our own (a derived
    table) while the query's filters stay the ORM's — the access policies' own filters included."""
    query._choose_db_if_not_chosen()
    query._make_query()
    sql, params = query.query.get_parameterized_sql()
    return sql, list(params)
