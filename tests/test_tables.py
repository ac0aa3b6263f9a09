"""The suite's clean slate covers every table: the model tables are derived from the registered models, and
they are all the tables the migrations create apart from the migrations' own record."""

from __future__ import annotations

import inspect

import pytest
from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.models import Model

import models
from models.grid import Outlet
from tests.conftest import Database
from tests.factories import World
from tests.tables import empty_tables, model_tables

MIGRATION_RECORD = "tortoise_migrations"


def test_every_model_and_many_to_many_table_is_listed() -> None:
    exported = [value for value in vars(models).values() if inspect.isclass(value) and issubclass(value, Model)]
    tables = model_tables()
    assert {model._meta.db_table for model in exported} <= set(tables)
    assert {"staff_scope", "outlet_coverage"} <= set(tables)
    assert len(tables) == len(set(tables)) == len(exported) + 2


async def test_the_listed_tables_are_every_table_the_migrations_made(database: Database) -> None:
    conn = connections.get("default")
    if database.backend == "postgres":
        sql = "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    made = {row["name"] for row in await conn.execute_query_dict(sql)}
    assert made - {MIGRATION_RECORD} == set(model_tables())


async def test_emptying_leaves_no_row_in_any_table(database: Database, world: World) -> None:
    conn = connections.get("default")
    assert (await conn.execute_query_dict("SELECT count(*) AS n FROM staff_scope"))[0]["n"] == 8
    await empty_tables(conn, database.backend)
    for table in model_tables():
        assert (await conn.execute_query_dict(f"SELECT count(*) AS n FROM {table}"))[0]["n"] == 0, table


async def test_ids_start_again_from_one_after_emptying(database: Database) -> None:
    """Tests name rows by id (a relay id of the first campaign, say), so emptying restarts every sequence a test
    advanced, a row that was refused and rolled back included."""
    conn = connections.get("default")
    first = await Outlet.create(code="001", name="城关网点")
    second = await Outlet.create(code="002", name="上姚网点")
    assert second.id == first.id + 1
    with pytest.raises(IntegrityError):
        await Outlet.create(code="002", name="重复网点")
    await empty_tables(conn, database.backend)
    again = await Outlet.create(code="003", name="新网点")
    assert again.id == 1
