"""Applying the migrations: the one way a database is built or brought up to date, for the palmcredit
command, the test suite and the benchmarks alike."""

from __future__ import annotations

from collections.abc import Callable

from tortoise import Tortoise
from tortoise.migrations.api import migrate

from settings import tortoise_config

Progress = Callable[[str], object]


async def run_migrations(database_url: str, *, progress: Progress | None = None) -> None:
    """Apply every migration to the database, creating the SQLite file if needed. progress, when given, is
    told of each migration as it starts and is done ("apply_start palmcredit 0001_initial")."""

    def report(event: str, app: str, name: str) -> None:
        if progress is not None:
            progress(f"{event} {app} {name}")

    try:
        await migrate(config=tortoise_config(database_url), progress=report if progress is not None else None)
    finally:
        await Tortoise.close_connections()
