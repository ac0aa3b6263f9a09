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
    """Delete every row of every model table, with foreign keys not checked: rows referring to each other (a grid
    node's parent, a staff member's scope) leave no order that would satisfy them.

    PostgreSQL deletes with the session's triggers (foreign keys among them) off and then restarts every sequence
    a test advanced, so ids start from 1 again. A TRUNCATE of every table did the same at about 250 ms a test
    (each table gets new files), against about 2 ms for these deletes on the few rows a test leaves. SQLite turns
    foreign keys off around its deletes and forgets the tables' last ids (sqlite_sequence) for the same reason."""
    tables = model_tables()
    deletes = "".join(f"DELETE FROM {table};" for table in tables)
    if backend == "postgres":
        await conn.execute_script(
            "SET session_replication_role = replica;"
            f"{deletes}"
            "SET session_replication_role = DEFAULT;"
            "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, 1, false)"
            " FROM pg_sequences WHERE last_value IS NOT NULL"
        )
        return
    await conn.execute_script("PRAGMA foreign_keys = OFF")
    try:
        await conn.execute_script(f"{deletes}DELETE FROM sqlite_sequence;")
    finally:
        await conn.execute_script("PRAGMA foreign_keys = ON")
