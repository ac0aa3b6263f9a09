"""Assigning a million customers to villages: our chunked job (resolvers.grid.assignment) against a PostGIS UPDATE.

Setup, not timed: a fresh PostgreSQL database (dropped at the end, also on failure) with the project's
migrations and PostGIS; the demo county's villages (geo.demo_grid: Voronoi cells inside the real outline of
Suining County, under its real townships) stored as grid_node rows with GeoJSON polygons; and customers made up
by the demo's population generator (demo.people) at points benchmarks/geo/population.py draws, of which about
  97 %  lie inside the county,            1 %  lie just outside it (20–300 m: NEAREST),
   1 %  are unplaceable (2–30 km away, coordinates at (0, 0) or with lon and lat swapped),
   1 %  have no coordinates but an address naming their township and village (ADDRESS),
plus a few hundred exactly on vertices shared by several villages (border ties). Everything follows the seed.
The data is generated and copied (COPY) in a child process.

Timed:
  ours     the assignment job as the product runs it: start_run records the job, its chunks of 100,000
           customer ids and their outbox messages; --workers worker processes (started and connected
           beforehand, as deployed workers are) run jobs.run_job_chunk — what the arq task calls — over the
           chunks, sharing them through the chunks' leases; each chunk reads (COPY), places (geo.assign) and
           writes back (UPDATE … FROM unnest) in its own transaction, and the last one reduces the job's
           result. Timed from start_run to the job's result.
  PostGIS  UPDATE customer c SET village_id = v.id FROM village_geo v WHERE ST_Covers(v.geom, c.geom),
           with GiST indexes on both geometry columns (built beforehand, not timed). PostgreSQL runs an
           UPDATE in one process: it cannot be shared out the way our chunks are.
  KPIs     roll_up_kpis() over our assignment (after a VACUUM ANALYZE, as autovacuum would have run).
Scenarios:
  first    every customer placed for the first time (no village yet), so both sides rewrite every row.
  reassign the daily case and the headline (the issue's "reassigning a million customers"): about 5 % of
           the village polygons redrawn (neighbourhoods re-cut into Voronoi cells inside their common outline,
           written to grid_node through SQL, village_geo updated from them), then every customer placed
           again, each side from its own first assignment on a settled table. Ours writes only the rows whose
           village changed; PostGIS is timed both as named (every covered row rewritten) and in the variant
           writing changed rows only (… AND c.village_id IS DISTINCT FROM v.id).
Each time, the two assignments are compared: our INSIDE customers whose village differs from PostGIS's (points
covered by several villages excluded and counted apart), and customers PostGIS placed that we did not place
INSIDE. The query counting those border ties is the ST_Covers join without writes, so its time is also
reported as PostGIS's placing cost. Our time is broken down into start_run and the phases every chunk records
with its success (job_chunk.timings: villages, read, assign, write), summed over chunks and workers.
Targets: PostGIS ÷ ours ≥ 4, peak RSS ≤ 4096 MB (the workers' peaks added up, as they run at once), no
disagreement beyond border ties. The last line is JSON: ours_s, postgis_s, ratio and disagreements are the
reassign's, first_* the first placement's.

    python benchmarks/geo_assign.py             # 1,000,000 customers, 10,000 villages (several minutes)
    python benchmarks/geo_assign.py --small     # 20,000 customers, 300 villages
    python benchmarks/geo_assign.py --workers 1 # the job on one worker
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import secrets
import sys
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from tortoise import Tortoise

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.geo.loading import load_county_in_child
from benchmarks.geo.postgis import run_postgis, settle
from benchmarks.geo.reassign import run_reassign
from benchmarks.geo.report import report
from benchmarks.geo.workers import CHUNK_SIZE, Workers, run_ours
from resolvers.grid.kpis import roll_up_kpis
from resolvers.platform.migrate import run_migrations
from settings import tortoise_config

ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
SEED = 20261128
FULL = (1_000_000, 10_000)
SMALL = (20_000, 300)
DEFAULT_WORKERS = max(1, min(4, os.cpu_count() or 1))


async def versions(conn: asyncpg.Connection) -> str:
    server = await conn.fetchval("SHOW server_version")
    postgis = await conn.fetchval("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")
    return f"PostgreSQL {server}, PostGIS {postgis}"


async def bench(
    url: str, customers: int, villages: int, seed: int, worker_count: int, log: Callable[[str], None]
) -> dict[str, Any]:
    t0 = time.perf_counter()
    await run_migrations(url)
    raw = await asyncpg.connect(url)
    try:
        await raw.execute("CREATE EXTENSION postgis")
        migrated_s = time.perf_counter() - t0
        log(f"setup: migrations + CREATE EXTENSION postgis: {migrated_s:.1f} s ({await versions(raw)})")

        t0 = time.perf_counter()
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
            made = await asyncio.get_running_loop().run_in_executor(
                pool, load_county_in_child, url, customers, villages, seed
            )
        kinds = ", ".join(f"{k} {v:,}" for k, v in made["kinds"].items())
        log(f"setup: county generated and copied in a child process: {time.perf_counter() - t0:.1f} s "
            f"(grid {made['grid_s']:.1f} s, customers {made['generate_s']:.1f} s, "
            f"COPY {made['copy_s']:.1f} s, VACUUM ANALYZE {made['vacuum_s']:.1f} s; "
            f"child peak {made['peak_mb']:.0f} MB)")  # fmt: skip
        log(f"setup: {made['townships']} townships, {made['villages']:,} villages, "
            f"{made['households']:,} households; customers: {kinds}")  # fmt: skip

        await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
        status = await raw.execute(
            "UPDATE customer SET village_id = NULL, placement = 'MANUAL' "
            "WHERE village_id IS NOT NULL OR placement <> 'MANUAL'"
        )
        settle_s = await settle(raw)
        log(f"reset before our run ({status}); VACUUM ANALYZE + CHECKPOINT: {settle_s:.1f} s")

        assert not tracemalloc.is_tracing(), "tracemalloc slows allocation-heavy code: measure with it off"
        t0 = time.perf_counter()
        workers = Workers(url, worker_count)
        await workers.start()
        log(f"{worker_count} worker process(es) started and connected: {time.perf_counter() - t0:.1f} s (not timed)")
        breakdown, counts, chunks = await run_ours(workers)
        # the workers run at the same time: their peaks add up to what the machine must hold
        peak_mb = sum(breakdown.worker_peak_mb)
        log(
            f"ours: {breakdown.total_s:.2f} s over {chunks} chunks, {worker_count} worker(s); worker peak RSS "
            + ", ".join(f"{mb:.0f}" for mb in breakdown.worker_peak_mb)
            + " MB"
        )

        # As autovacuum would have by the time the roll-up runs: it then reads a table, not our dead tuples.
        settle_s = await settle(raw)
        t0 = time.perf_counter()
        rollup = await roll_up_kpis()
        kpi_s = time.perf_counter() - t0
        log(f"KPI roll-up after VACUUM ANALYZE + CHECKPOINT ({settle_s:.1f} s): {kpi_s:.2f} s "
            f"({rollup.nodes:,} nodes, {rollup.customers:,} customers in villages)")  # fmt: skip

        postgis = await run_postgis(raw, log)
        reassign = await run_reassign(raw, workers, seed, log)
        workers.stop()
    finally:
        await raw.close()
    return {
        "breakdown": breakdown, "counts": counts, "peak_mb": peak_mb, "kpi_s": kpi_s, **postgis,
        "reassign": reassign,
    }  # fmt: skip


def database_url(admin_url: str, name: str) -> str:
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def run(admin_url: str, customers: int, villages: int, seed: int, worker_count: int) -> dict[str, Any]:
    name = f"palmcredit_bench_geo_{secrets.token_hex(4)}"
    url = database_url(admin_url, name)

    def log(message: str) -> None:
        print(message, flush=True)

    log(f"geo_assign: {customers:,} customers, {villages:,} villages, chunks of {CHUNK_SIZE:,}, seed {seed}, "
        f"database {name}")  # fmt: skip
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            result = await bench(url, customers, villages, seed, worker_count, log)
        finally:
            await Tortoise.close_connections()
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
    return report(result, int(result["counts"]["customers"]), villages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help=f"{SMALL[0]:,} customers and {SMALL[1]:,} villages")
    parser.add_argument("--customers", type=int, default=None, help=f"customers (default {FULL[0]:,})")
    parser.add_argument("--villages", type=int, default=None, help=f"villages (default {FULL[1]:,})")
    parser.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS,
        help=f"worker processes sharing the job's chunks (default {DEFAULT_WORKERS}: one per core, at most 4)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=SEED, help="the same seed gives the same county")
    parser.add_argument("--admin-url", default=ADMIN_URL, help="a database to create and drop the bench database from")
    args = parser.parse_args()
    customers, villages = SMALL if args.small else FULL
    figures = asyncio.run(
        run(args.admin_url, args.customers or customers, args.villages or villages, args.seed, args.workers)
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
