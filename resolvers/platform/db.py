"""Raw SQL that works on both SQLite and PostgreSQL: placeholders differ, the rest is kept portable."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
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


INSERT_BATCH = 1000


async def insert_rows(
    model: type[Model], rows: Sequence[Mapping[str, Any]], conn: BaseDBAsyncClient | None = None
) -> None:
    """Insert plain rows (field name → value, every column but the id) in multi-row INSERTs, each value as the
    ORM would write it: for a batch job's thousands of history and audit rows, without building a model object
    for each (which costs more than the database's work)."""
    if not rows:
        return
    conn = conn or connection()
    meta = model._meta
    names = list(rows[0])
    columns = ", ".join(meta.fields_db_projection[n] for n in names)
    fields = [meta.fields_map[n] for n in names]
    for start in range(0, len(rows), INSERT_BATCH):
        batch = rows[start : start + INSERT_BATCH]
        marks = placeholders(conn, 0, len(names) * len(batch))
        width = len(names)
        values = ", ".join(f"({', '.join(marks[i * width : (i + 1) * width])})" for i in range(len(batch)))
        params = [f.to_db_value(row[n], model) for row in batch for n, f in zip(names, fields, strict=True)]
        await conn.execute_query(f"INSERT INTO {meta.db_table} ({columns}) VALUES {values}", params)
