"""Test fixtures: a fresh database per backend built by running the migrations, a clean slate per test,
factories for the grid, staff and customers, and an HTTP client on the ASGI app.

One pytest run tests one backend, PALMCREDIT_TEST_BACKEND: "sqlite" (a temporary file, the default) or
"postgres" (a database of its own, created and dropped here; never an existing one). `make test` runs the
suite once per backend: Tortoise binds its models to one dialect per process.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from tortoise import Tortoise, connections

from resolvers.platform.migrate import run_migrations
from settings import tortoise_config
from tests.tables import empty_tables
from workers.settings import register_kinds

POSTGRES_ADMIN_URL = os.environ.get("PALMCREDIT_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
BACKEND = os.environ.get("PALMCREDIT_TEST_BACKEND", "sqlite")


@dataclass(frozen=True)
class Database:
    backend: str
    url: str


async def _create_postgres_database() -> tuple[str, str]:
    name = f"palmcredit_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(POSTGRES_ADMIN_URL.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    return name, f"{base}/{name}"


async def _drop_postgres_database(name: str) -> None:
    conn = await asyncpg.connect(POSTGRES_ADMIN_URL.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def database(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    """A migrated database of the backend under test, with Tortoise initialised on it."""
    backend = BACKEND
    pg_name = None
    if backend == "sqlite":
        url = f"sqlite://{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    elif backend == "postgres":
        pg_name, url = await _create_postgres_database()
    else:
        raise pytest.UsageError(f"unknown backend {backend}")
    try:
        await run_migrations(url)
        await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
        register_kinds()
        yield Database(backend=backend, url=url)
        await Tortoise.close_connections()
    finally:
        if pg_name:
            await _drop_postgres_database(pg_name)


@pytest.fixture(autouse=True)
async def clean(database: Database) -> None:
    """Every test starts from empty tables, and with no grid scope remembered from an earlier test's staff (the
    tables restart their ids, so an earlier test's staff id and token version come round again)."""
    from resolvers.credit.decision_records import forget_kept
    from resolvers.platform.auth import forget_scopes

    await empty_tables(connections.get("default"), database.backend)
    forget_scopes()
    forget_kept()


@pytest.fixture
def app(database: Database) -> Any:
    from app import create_app
    from settings import SETTINGS

    return create_app(SETTINGS, manage_orm=False)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(monkeypatch: pytest.MonkeyPatch) -> QueryCounter:
    """Counts the SQL statements sent through the default connection."""
    counter = QueryCounter()
    cls = type(connections.get("default"))
    for method in ("execute_query", "execute_query_dict", "execute_insert"):
        original = getattr(cls, method)

        def wrap(orig: Any) -> Any:
            async def counted(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
                counter.statements.append(query)
                return await orig(self, query, *args, **kwargs)

            return counted

        monkeypatch.setattr(cls, method, wrap(original))
    return counter


pytest_plugins = ["tests.factories"]
