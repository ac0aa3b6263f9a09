"""Raw SQL that works on both SQLite and PostgreSQL: placeholders differ, the rest is kept portable."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient


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
