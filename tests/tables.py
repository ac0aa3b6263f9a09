"""The tables the suite empties before every test: derived from the registered models, so that a new model
cannot leak rows from one test into the next."""

from __future__ import annotations

from typing import Any, cast

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.fields.relational import ManyToManyFieldInstance


def model_tables() -> list[str]:
    """The table of every registered Tortoise model and the through table of every many-to-many relation
    between them, each once, in name order."""
    tables: set[str] = set()
    for app in Tortoise.apps.values():
        for model in app.values():
            tables.add(model._meta.db_table)
            for relation in model._meta.m2m_fields:
                tables.add(cast(ManyToManyFieldInstance[Any], model._meta.fields_map[relation]).through)
    return sorted(tables)


async def empty_tables(conn: BaseDBAsyncClient, backend: str) -> None:
    """Delete every row of every model table. PostgreSQL truncates them all at once and restarts their ids;
    SQLite deletes table by table with foreign keys off, as rows referring to each other (a grid node's parent,
    a staff member's scope) leave no order that would satisfy them, then turns them back on."""
    tables = model_tables()
    if backend == "postgres":
        await conn.execute_script(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        return
    await conn.execute_script("PRAGMA foreign_keys = OFF")
    try:
        await conn.execute_script("".join(f"DELETE FROM {table};" for table in tables))
    finally:
        await conn.execute_script("PRAGMA foreign_keys = ON")
