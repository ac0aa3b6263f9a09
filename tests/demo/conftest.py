"""The demo county generated once for the demo tests (in the SQLite pass), book and work in progress included."""

from __future__ import annotations

import os

import pytest

from demo import generate_demo
from tests.demo.databases import SCALE, SEED, DemoCounty, sqlite_database


@pytest.fixture(scope="session")
async def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoCounty:
    if os.environ.get("PALMCREDIT_TEST_BACKEND", "sqlite") != "sqlite":
        pytest.skip("the demo county's own SQLite file is made in the SQLite pass")
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    progress: list[str] = []
    async with sqlite_database(path, create=True):
        summary = await generate_demo(seed=SEED, scale=SCALE, progress=progress.append)
    return DemoCounty(path, summary, progress)
