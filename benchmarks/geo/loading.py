"""Loading the benchmark's county into PostgreSQL with COPY, in a child process (generate_and_load), so that
the generator's memory is given back before anything is measured."""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import numpy as np

from benchmarks.geo.population import (
    CUSTOMER_COPY_COLUMNS,
    as_strings,
    customer_columns,
    draw_population,
    grid_rows,
)
from geo.demo_grid import build_demo_grid, read_county_outline

COPY_BATCH = 100_000


def _records(columns: dict[str, Any], names: tuple[str, ...], start: int, stop: int) -> list[tuple[Any, ...]]:
    sliced = [columns[name][start:stop] for name in names]
    return list(zip(*(c if isinstance(c, list) else c.tolist() for c in sliced), strict=True))


@asynccontextmanager
async def bulk_loading(conn: asyncpg.Connection, table: str) -> AsyncIterator[None]:
    """Inside a transaction: the table's secondary indexes and unique constraints dropped and its foreign-key
    triggers off while rows are copied in, then everything recreated from its own definition. Building an
    index once is many times faster than a million random insertions into it; the rows are consistent by
    construction, so skipping the foreign-key checks loses nothing."""
    constraints = await conn.fetch(
        "SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint "
        "WHERE conrelid = $1::regclass AND contype = 'u'",
        table,
    )
    indexes = await conn.fetch(
        "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition "
        "FROM pg_index i WHERE i.indrelid = $1::regclass AND NOT i.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        table,
    )
    for constraint in constraints:
        await conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint["conname"]}"')
    for index in indexes:
        await conn.execute(f"DROP INDEX {index['name']}")  # regclass text: already quoted where needed
    await conn.execute("SET LOCAL session_replication_role = replica")
    yield
    await conn.execute("SET LOCAL session_replication_role = origin")
    for index in indexes:
        await conn.execute(index["definition"])
    for constraint in constraints:
        await conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{constraint["conname"]}" {constraint["definition"]}')


async def load_county(url: str, customers: int, villages: int, seed: int) -> dict[str, Any]:
    """Generate the grid and the customers and copy them into the database; returns what was made."""
    started = time.perf_counter()
    outline = read_county_outline()
    grid = build_demo_grid(outline, seed=seed, village_count=villages)
    rows, node_rows = grid_rows(grid)
    grid_s = time.perf_counter() - started

    t0 = time.perf_counter()
    population = draw_population(outline, rows, customers, seed)
    names = (as_strings(list(grid.townships["name"])), as_strings(list(grid.villages["name"])))
    columns, order = customer_columns(population, rows, names, seed)
    generate_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    now = datetime.now(UTC)
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.copy_records_to_table(
                "grid_node", records=node_rows,
                columns=["id", "level", "name", "code", "path", "depth", "polygon", "centroid_lon",
                         "centroid_lat", "created_at", "updated_at", "parent_id"],
            )  # fmt: skip
            await conn.copy_records_to_table(
                "household",
                records=[
                    (h + 1, int(rows.village_ids[v]), "", now) for h, v in enumerate(population.household_village)
                ],
                columns=["id", "village_id", "address", "created_at"],
            )
            async with bulk_loading(conn, "customer"):
                for start in range(0, len(population), COPY_BATCH):
                    records = _records(columns, CUSTOMER_COPY_COLUMNS, start, start + COPY_BATCH)
                    await conn.copy_records_to_table("customer", records=records, columns=list(CUSTOMER_COPY_COLUMNS))
            await conn.execute("CREATE TABLE bench_truth (id int PRIMARY KEY, kind text NOT NULL, village_id int)")
            home = population.home[order]
            drawn_in = np.where(home >= 0, rows.village_ids[np.maximum(home, 0)], None)
            await conn.copy_records_to_table(
                "bench_truth",
                records=list(
                    zip(columns["id"].tolist(), population.kind[order].tolist(), drawn_in.tolist(), strict=True)
                ),
            )
            for table in ("grid_node", "household", "customer"):
                await conn.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
        copy_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        await conn.execute("VACUUM ANALYZE")
        vacuum_s = time.perf_counter() - t0
    finally:
        await conn.close()
    return {
        "villages": len(rows.village_ids),
        "townships": len(rows.township_ids),
        "households": len(population.household_village),
        "kinds": population.counts,
        "grid_s": grid_s,
        "generate_s": generate_s,
        "copy_s": copy_s,
        "vacuum_s": vacuum_s,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def load_county_in_child(url: str, customers: int, villages: int, seed: int) -> dict[str, Any]:
    return asyncio.run(load_county(url, customers, villages, seed))
