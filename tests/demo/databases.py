"""The demo county in SQLite files of the tests' own: most demo tests compare fresh databases with each other
and with a non-empty one, so they do not use the suite's shared database. The shared database holds Tortoise's
global fallback, so each of these is opened in a TortoiseContext bound to the running test only. Tortoise binds
its models to one SQL dialect per process, so they run in the SQLite pass of the suite only."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from tortoise import Tortoise
from tortoise.context import TortoiseContext

from demo import DemoSummary
from resolvers.platform.migrate import run_migrations
from settings import tortoise_config

SEED = 7
SCALE = 0.05  # 20 villages, 2,500 customers
on_sqlite_pass = pytest.mark.skipif(
    os.environ.get("PALMCREDIT_TEST_BACKEND", "sqlite") != "sqlite",
    reason="Tortoise binds its models to one dialect per process; these tests make SQLite databases",
)


@asynccontextmanager
async def sqlite_database(path: Path, *, create: bool = False) -> AsyncIterator[None]:
    """The SQLite database at path (created and migrated first if asked), open for the current task only."""
    url = f"sqlite://{path}"
    with TortoiseContext():
        if create:
            await run_migrations(url)
        await Tortoise.init(config=tortoise_config(url))
        try:
            yield
        finally:
            await Tortoise.close_connections()


@dataclass(frozen=True)
class DemoCounty:
    path: Path
    summary: DemoSummary
    progress: list[str]
