"""Assigning a million customers to villages: our chunked job (resolvers.assignment) against a PostGIS UPDATE.

Setup, not timed: a fresh PostgreSQL database (dropped at the end, also on failure) with the project's
migrations and PostGIS; the demo county's villages (geo.demo_grid: Voronoi cells inside the real outline of
Suining County, under its real townships) stored as grid_node rows with GeoJSON polygons; and customers, of
which about
  97 %  lie inside the county,            1 %  lie just outside it (20–300 m: NEAREST),
   1 %  are unplaceable (2–30 km away, coordinates at (0, 0) or with lon and lat swapped),
   1 %  have no coordinates but an address naming their township and village (ADDRESS),
plus a few hundred exactly on vertices shared by several villages (border ties). Everything follows the seed.
The data is generated and copied in a child process.

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
reported as PostGIS's placing cost. Our time is broken down into start_run, villages, read, assign and write
(summed over workers).
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
import resource
import secrets
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import numpy as np
import numpy.typing as npt
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry
from tortoise import Tortoise

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import resolvers.grid.assignment as assignment_module
from domain.customers.idcard import make_id_number
from geo.demo_grid import (
    COUNTY_CODE,
    GEOGRAPHIC_CRS,
    METRIC_CRS,
    DemoGrid,
    apportion,
    build_demo_grid,
    read_county_outline,
    sample_points,
)
from models import JobStatus, OutboxMessage
from resolvers.grid.assignment import AssignmentScope, start_run
from resolvers.grid.kpis import roll_up_kpis
from resolvers.platform import jobs
from resolvers.platform.migrate import run_migrations
from settings import tortoise_config

ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
SEED = 20261128
FULL = (1_000_000, 10_000)
SMALL = (20_000, 300)
CHUNK_SIZE = 100_000
COPY_BATCH = 100_000
MAX_DISTANCE_M = 500.0
TARGET_RATIO = 4.0
TARGET_PEAK_MB = 4096
DEFAULT_WORKERS = max(1, min(4, os.cpu_count() or 1))
RESHAPED_SHARE = 0.05  # reassign scenario: share of villages whose polygon is redrawn

# Customer kinds, recorded per customer in the bench_truth table for the cross-checks.
INSIDE, BORDER, NEAR, FAR, ADDRESS = "inside", "border", "near", "far", "address"
KINDS = (INSIDE, BORDER, NEAR, FAR, ADDRESS)
NEAR_M = (20.0, 300.0)  # outside the outline by this much: within AssignOptions.max_distance_m
FAR_M = (2_000.0, 30_000.0)

_SURNAMES = tuple("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾田董袁潘于蒋蔡余杜叶程苏魏吕丁")
_GIVEN = tuple("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰文辉建国志红梅海燕萍鹏飞宇浩欣怡晨阳")
_LOAN_CLASSES = ("PASS", "SPECIAL_MENTION", "SUBSTANDARD", "DOUBTFUL", "LOSS")
_LOAN_CLASS_WEIGHTS = (0.93, 0.04, 0.015, 0.01, 0.005)
_ID_WEIGHTS = np.array((7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2), dtype=np.int64)
_ID_CHECK = np.array(list("10X98765432"), dtype=object)
_BIRTH_FROM, _BIRTH_TO = date(1940, 1, 1), date(2005, 12, 31)

Strings = npt.NDArray[Any]
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

CUSTOMER_COPY_COLUMNS = (
    "id", "id_number", "name", "birth_date", "sex", "phone", "address", "lon", "lat", "household_id",
    "is_household_head", "deposit_balance", "loan_balance", "credit_line", "loan_class", "placement",
    "needs_placement", "has_ebanking", "has_third_party_payment", "has_social_security_card", "tags",
    "source", "version", "created_at", "updated_at",
)  # fmt: skip


# --- generating the county and its customers (runs in a child process) -------------------------------------


@dataclass(frozen=True)
class GridRows:
    """Grid node ids for the demo grid: county 1, townships 2…, villages after them."""

    township_ids: Ints
    village_ids: Ints
    village_township: Ints  # position of each village's township
    village_shapes: npt.NDArray[np.object_]


def grid_rows(grid: DemoGrid) -> tuple[GridRows, list[tuple[Any, ...]]]:
    now = datetime.now(UTC)
    townships, villages = grid.townships, grid.villages
    township_ids = np.arange(2, 2 + len(townships), dtype=np.int64)
    village_ids = np.arange(2 + len(townships), 2 + len(townships) + len(villages), dtype=np.int64)
    township_at = {code: i for i, code in enumerate(townships["code"])}
    village_township = np.array([township_at[code] for code in villages["parent_code"]], dtype=np.int64)

    def row(node_id: int, level: str, frame: Any, i: int, path: str, depth: int, parent: int | None) -> tuple[Any, ...]:
        return (
            node_id, level, frame["name"].iloc[i], frame["code"].iloc[i], path, depth,
            shapely.to_geojson(frame.geometry.iloc[i]),
            float(frame["lon"].iloc[i]), float(frame["lat"].iloc[i]),
            now, now, parent,
        )  # fmt: skip

    rows = [row(1, "COUNTY", grid.county, 0, "/1/", 0, None)]
    rows += [row(int(t), "TOWNSHIP", townships, i, f"/1/{t}/", 1, 1) for i, t in enumerate(township_ids)]
    rows += [
        row(int(v), "VILLAGE", villages, i, f"/1/{township_ids[village_township[i]]}/{v}/", 2,
            int(township_ids[village_township[i]]))
        for i, v in enumerate(village_ids)
    ]  # fmt: skip
    shapes = np.asarray(villages.geometry.array, dtype=object)
    return GridRows(township_ids, village_ids, village_township, shapes), rows


@dataclass
class Population:
    """Customers before ids are given: coordinates (NaN when unknown), kind, and the village they were drawn
    in (-1 when none), plus household membership for those drawn inside a village."""

    lon: Floats
    lat: Floats
    kind: Strings
    home: Ints
    household: Ints  # -1 for none
    head: npt.NDArray[np.bool_]
    counts: dict[str, int] = field(default_factory=dict)


def draw_population(outline: BaseGeometry, grid: GridRows, customers: int, rng: np.random.Generator) -> Population:
    shapes = grid.village_shapes
    n_near = n_far = n_address = max(1, round(customers * 0.01))
    n_border = min(300, customers // 100)
    n_inside = customers - n_near - n_far - n_address - n_border

    per_village = apportion(shapely.area(shapes), n_inside)
    inside = sample_points(shapes, per_village, rng, decimals=6)
    n_inside = len(inside)  # at least one per village, even when asked for fewer customers than villages
    inside_home = np.repeat(np.arange(len(shapes)), per_village)
    rank = np.arange(n_inside) - np.searchsorted(inside_home, inside_home)  # position within its village
    household_size = 3
    household_key = inside_home * (customers + 1) + rank // household_size
    _, household = np.unique(household_key, return_inverse=True)

    border = _shared_vertices(shapes, n_border, rng)
    near = _around_outline(outline, n_near, NEAR_M, rng)
    far = _far_points(outline, inside, n_far, rng)

    lon = np.concatenate([inside[:, 0], border[:, 0], near[:, 0], far[:, 0], np.full(n_address, np.nan)])
    lat = np.concatenate([inside[:, 1], border[:, 1], near[:, 1], far[:, 1], np.full(n_address, np.nan)])
    sizes = {INSIDE: n_inside, BORDER: len(border), NEAR: len(near), FAR: len(far), ADDRESS: n_address}
    kind = np.repeat(np.array(KINDS, dtype=object), [sizes[k] for k in KINDS])
    none = np.full(len(lon) - n_inside - n_address, -1)
    home = np.concatenate([inside_home, none, rng.integers(0, len(shapes), n_address)])
    no_household = np.full(len(lon) - n_inside, -1)
    order = rng.permutation(len(lon))  # ids in no spatial order, as customers arrive
    return Population(
        lon=lon[order], lat=lat[order], kind=kind[order], home=home[order],
        household=np.concatenate([household, no_household])[order],
        head=np.concatenate([rank % household_size == 0, no_household >= 0])[order],
        counts=sizes,
    )  # fmt: skip


def _shared_vertices(shapes: npt.NDArray[np.object_], count: int, rng: np.random.Generator) -> Floats:
    """count polygon vertices (exact coordinates) that belong to two villages or more."""
    coords, owner = shapely.get_coordinates(shapes, return_index=True)
    unique, first, inverse = np.unique(coords, axis=0, return_index=True, return_inverse=True)
    pairs = np.unique(np.column_stack([inverse.ravel(), owner]), axis=0)
    villages_at = np.bincount(pairs[:, 0], minlength=len(unique))
    shared = first[villages_at >= 2]
    picked: Floats = coords[rng.choice(shared, size=min(count, len(shared)), replace=False)]
    return picked


def _metric() -> tuple[pyproj.Transformer, pyproj.Transformer]:
    to_metric = pyproj.Transformer.from_crs(GEOGRAPHIC_CRS, METRIC_CRS, always_xy=True)
    to_geographic = pyproj.Transformer.from_crs(METRIC_CRS, GEOGRAPHIC_CRS, always_xy=True)
    return to_metric, to_geographic


def _to_geographic(xy: Floats, to_geographic: pyproj.Transformer) -> Floats:
    lon, lat = to_geographic.transform(xy[:, 0], xy[:, 1])
    return np.round(np.column_stack([lon, lat]), 6)


def _around_outline(outline: BaseGeometry, count: int, metres: tuple[float, float], rng: np.random.Generator) -> Floats:
    """count points outside the county at between metres[0] and metres[1] from its outline (at most)."""
    to_metric, to_geographic = _metric()
    county = shapely.transform(outline, lambda c: np.column_stack(to_metric.transform(c[:, 0], c[:, 1])))
    ring = max(shapely.get_parts(county), key=shapely.area).exterior
    shapely.prepare(county)
    found: list[Floats] = []
    while sum(len(f) for f in found) < count:
        n = 3 * count + 16
        base = shapely.get_coordinates(shapely.line_interpolate_point(ring, rng.uniform(0, 1, n), normalized=True))
        angle, distance = rng.uniform(0, 2 * np.pi, n), rng.uniform(*metres, n)
        xy = base + distance[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
        found.append(xy[~shapely.dwithin(county, shapely.points(xy), metres[0] / 2)])
    return _to_geographic(np.concatenate(found)[:count], to_geographic)


def _far_points(outline: BaseGeometry, inside: Floats, count: int, rng: np.random.Generator) -> Floats:
    """Unplaceable coordinates: a fifth at (0, 0) give or take, a fifth swapped, the rest 2–30 km away."""
    to_metric, to_geographic = _metric()
    county = shapely.transform(outline, lambda c: np.column_stack(to_metric.transform(c[:, 0], c[:, 1])))
    shapely.prepare(county)
    n_zero = n_swapped = count // 5
    n_away = count - n_zero - n_swapped
    west, south, east, north = shapely.bounds(county)
    found: list[Floats] = []
    while sum(len(f) for f in found) < n_away:
        n = 2 * n_away + 16
        xy = rng.uniform((west - FAR_M[1], south - FAR_M[1]), (east + FAR_M[1], north + FAR_M[1]), (n, 2))
        found.append(xy[~shapely.dwithin(county, shapely.points(xy), FAR_M[0])])
    away = _to_geographic(np.concatenate(found)[:n_away], to_geographic)
    zero = np.round(rng.uniform(0, 0.01, (n_zero, 2)), 6)
    swapped = inside[rng.integers(0, len(inside), n_swapped)][:, ::-1]
    return np.concatenate([away, zero, swapped])


def _strings(values: Any) -> Strings:
    return np.asarray(values, dtype=np.dtypes.StringDType())


def _cents_text(cents: Ints) -> Strings:
    """Decimal text ("1234.05") for amounts in cents: asyncpg copies numeric from text, no Decimal needed."""
    whole = _strings((cents // 100).astype(str))
    return np.strings.add(np.strings.add(whole, "."), np.strings.zfill(_strings((cents % 100).astype(str)), 2))


def id_numbers(birth_day: Ints, male: npt.NDArray[np.bool_], slot: Ints) -> tuple[Strings, list[date]]:
    """Valid, distinct 18-digit ID numbers (region 320324), vectorised; slot is unique per birth day."""
    born = np.datetime64(_BIRTH_FROM) + birth_day.astype("timedelta64[D]")
    year = born.astype("datetime64[Y]").astype(np.int64) + 1970
    month = born.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (born - born.astype("datetime64[M]")).astype(np.int64) + 1
    sequence = slot * 2 + male  # odd for men
    first17 = int(COUNTY_CODE) * 10**11 + (year * 10_000 + month * 100 + day) * 1_000 + sequence
    digits = (first17[:, None] // 10 ** np.arange(16, -1, -1)) % 10
    check = _ID_CHECK[(digits @ _ID_WEIGHTS) % 11].astype(str)
    numbers = np.strings.add(np.strings.zfill(_strings(first17.astype(str)), 17), _strings(check))
    dates = [_BIRTH_FROM + timedelta(days=d) for d in range((_BIRTH_TO - _BIRTH_FROM).days + 1)]
    births = np.asarray(dates, dtype=object)[birth_day].tolist()
    sample = make_id_number(COUNTY_CODE, births[0], int(sequence[0]))
    assert str(numbers[0]) == sample, (numbers[0], sample)
    return numbers, births


def customer_columns(
    population: Population, grid: GridRows, names: tuple[Strings, Strings], rng: np.random.Generator
) -> dict[str, Any]:
    """Every copied column, as arrays or lists, customer i at position i (id i + 1)."""
    n = len(population.lon)
    days = (_BIRTH_TO - _BIRTH_FROM).days + 1
    slots = rng.choice(days * 500, size=n, replace=False)
    male = rng.random(n) < 0.5
    numbers, births = id_numbers(slots // 500, male, slots % 500)
    surnames, given = _strings(_SURNAMES), _strings(_GIVEN)
    person = np.strings.add(surnames[rng.integers(0, len(surnames), n)], given[rng.integers(0, len(given), n)])
    second = np.where(rng.random(n) < 0.7, given[rng.integers(0, len(given), n)], _strings(""))
    person = np.strings.add(person, second)

    township_names, village_names = names
    home = np.where(population.home >= 0, population.home, rng.integers(0, len(village_names), n))
    place = np.strings.add(township_names[grid.village_township[home]], village_names[home])
    house = np.strings.add(_strings(rng.integers(1, 200, n).astype(str)), "号")
    address = np.strings.add(np.strings.add(_strings("江苏省徐州市睢宁县"), place), house)
    phone = _strings(rng.integers(13_000_000_000, 19_999_999_999, n).astype(str))

    has_loan = rng.random(n) < 0.25
    loan = np.where(has_loan, np.round(rng.lognormal(11.5, 0.8, n)).astype(np.int64) * 100, 0)
    credit = np.where(has_loan | (rng.random(n) < 0.15), rng.integers(1, 50, n) * 1_000_000, 0)
    deposit = np.round(rng.lognormal(10.0, 1.6, n)).astype(np.int64)
    loan_class = np.where(has_loan, rng.choice(np.array(_LOAN_CLASSES, dtype=object), n, p=_LOAN_CLASS_WEIGHTS), None)
    household = np.where(population.household >= 0, population.household + 1, 0)
    located = ~np.isnan(population.lon)
    now = datetime.now(UTC)
    return {
        "id": np.arange(1, n + 1, dtype=np.int64),
        "id_number": numbers,
        "name": person,
        "birth_date": births,
        "sex": np.where(male, "MALE", "FEMALE").astype(object),
        "phone": phone,
        "address": address,
        "lon": np.where(located, population.lon, None),
        "lat": np.where(located, population.lat, None),
        "household_id": np.where(household > 0, household, None),
        "is_household_head": population.head,
        "deposit_balance": _cents_text(deposit),
        "loan_balance": _cents_text(loan),
        "credit_line": _cents_text(credit),
        "loan_class": loan_class,
        "placement": np.full(n, "MANUAL", dtype=object),
        "needs_placement": np.zeros(n, dtype=bool),
        "has_ebanking": rng.random(n) < 0.55,
        "has_third_party_payment": rng.random(n) < 0.6,
        "has_social_security_card": rng.random(n) < 0.8,
        "tags": np.full(n, ",", dtype=object),
        "source": np.where(rng.random(n) < 0.7, "CORE_BANKING", "SURVEY").astype(object),
        "version": np.ones(n, dtype=np.int64),
        "created_at": np.full(n, now, dtype=object),
        "updated_at": np.full(n, now, dtype=object),
    }


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
    rng = np.random.default_rng(seed)
    outline = read_county_outline()
    grid = build_demo_grid(outline, seed=seed, village_count=villages)
    rows, node_rows = grid_rows(grid)
    grid_s = time.perf_counter() - started

    t0 = time.perf_counter()
    population = draw_population(outline, rows, customers, rng)
    names = (_strings(list(grid.townships["name"])), _strings(list(grid.villages["name"])))
    columns = customer_columns(population, rows, names, rng)
    village_of_household = np.zeros(int(population.household.max()) + 1, dtype=np.int64)
    village_of_household[population.household[population.household >= 0]] = population.home[population.household >= 0]
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
                records=[(h + 1, int(rows.village_ids[v]), "", now) for h, v in enumerate(village_of_household)],
                columns=["id", "village_id", "address", "created_at"],
            )
            async with bulk_loading(conn, "customer"):
                for start in range(0, customers, COPY_BATCH):
                    records = _records(columns, CUSTOMER_COPY_COLUMNS, start, start + COPY_BATCH)
                    await conn.copy_records_to_table("customer", records=records, columns=list(CUSTOMER_COPY_COLUMNS))
            await conn.execute("CREATE TABLE bench_truth (id int PRIMARY KEY, kind text NOT NULL, village_id int)")
            drawn_in = np.where(population.home >= 0, rows.village_ids[np.maximum(population.home, 0)], None)
            await conn.copy_records_to_table(
                "bench_truth",
                records=list(zip(columns["id"].tolist(), population.kind.tolist(), drawn_in.tolist(), strict=True)),
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
        "households": len(village_of_household),
        "kinds": population.counts,
        "grid_s": grid_s,
        "generate_s": generate_s,
        "copy_s": copy_s,
        "vacuum_s": vacuum_s,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def load_county_in_child(url: str, customers: int, villages: int, seed: int) -> dict[str, Any]:
    return asyncio.run(load_county(url, customers, villages, seed))


# --- measuring ----------------------------------------------------------------------------------------------


@dataclass
class Breakdown:
    """Where our run's time went. plan is start_run (chunk bounds, job rows, outbox); villages, read, assign
    and write are summed over chunks and over workers, so with several workers they add up to more than the
    wall-clock total."""

    plan_s: float = 0.0
    villages_s: float = 0.0
    read_s: float = 0.0
    assign_s: float = 0.0
    write_s: float = 0.0
    total_s: float = 0.0
    workers: int = 1
    worker_peak_mb: list[float] = field(default_factory=list)

    def add(self, other: dict[str, float]) -> None:
        for name in ("villages_s", "read_s", "assign_s", "write_s"):
            setattr(self, name, getattr(self, name) + other[name])

    @property
    def working_s(self) -> float:
        """Time the workers spent inside the job's chunks' own calls, summed over workers."""
        return self.villages_s + self.read_s + self.assign_s + self.write_s


# The calls the assignment job makes, and the Breakdown field each one's time goes to.
CALLS = {
    "load_villages": "villages_s",
    "read_frame": "read_s",
    "assign_customers": "assign_s",
    "update_customer_villages": "write_s",
}


@contextmanager
def timing_calls(breakdown: Breakdown) -> Iterator[None]:
    """Time the calls a chunk makes (villages, read, place, write) without changing what it runs: the
    wrappers add a clock reading around each call, nothing else."""
    originals = {name: getattr(assignment_module, name) for name in CALLS}

    def async_timer(function: Callable[..., Any], attribute: str) -> Callable[..., Any]:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                setattr(breakdown, attribute, getattr(breakdown, attribute) + time.perf_counter() - t0)

        return timed

    def sync_timer(function: Callable[..., Any], attribute: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                setattr(breakdown, attribute, getattr(breakdown, attribute) + time.perf_counter() - t0)

        return timed

    for name, function in originals.items():
        timer = sync_timer if name == "assign_customers" else async_timer
        setattr(assignment_module, name, timer(function, CALLS[name]))
    try:
        yield
    finally:
        for name, function in originals.items():
            setattr(assignment_module, name, function)


def worker_main(url: str, commands: Any, replies: Any) -> None:
    """A worker process, as `palmcredit worker` is one: connected and idle until given a job, then it runs
    jobs.run_job_chunk (the function the arq task calls) over the job's chunks. Every worker walks the chunks
    in order; a chunk another worker holds answers BUSY and is passed over, so the workers share the job."""
    asyncio.run(_worker_loop(url, commands, replies))


async def _worker_loop(url: str, commands: Any, replies: Any) -> None:
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
    loop = asyncio.get_running_loop()
    replies.put(("ready", {}))
    try:
        while (command := await loop.run_in_executor(None, commands.get)) is not None:
            job_id, chunks = command
            breakdown = Breakdown()
            outcomes: dict[str, int] = {}
            with timing_calls(breakdown):
                for number in range(chunks):
                    outcome = (await jobs.run_job_chunk(job_id, number)).value
                    outcomes[outcome] = outcomes.get(outcome, 0) + 1
            figures = {name: getattr(breakdown, name) for name in ("villages_s", "read_s", "assign_s", "write_s")}
            figures["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            replies.put(("done", {**figures, "outcomes": outcomes}))
    finally:
        await Tortoise.close_connections()


class Workers:
    """N worker processes, started (imports, connections) before any timing, as a deployment's workers are
    running before a run is started."""

    def __init__(self, url: str, count: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.commands: Any = context.Queue()
        self.replies: Any = context.Queue()
        self.processes = [
            context.Process(target=worker_main, args=(url, self.commands, self.replies), daemon=True)
            for _ in range(count)
        ]

    async def _reply(self) -> tuple[str, dict[str, Any]]:
        reply: tuple[str, dict[str, Any]] = await asyncio.get_running_loop().run_in_executor(None, self.replies.get)
        return reply

    async def start(self) -> None:
        for process in self.processes:
            process.start()
        for _ in self.processes:
            kind, _detail = await self._reply()
            assert kind == "ready", kind

    async def run(self, job_id: int, chunks: int) -> list[dict[str, Any]]:
        for _ in self.processes:
            self.commands.put((job_id, chunks))
        return [(await self._reply())[1] for _ in self.processes]

    def stop(self) -> None:
        for _ in self.processes:
            self.commands.put(None)
        for process in self.processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()


async def run_ours(workers: Workers) -> tuple[Breakdown, dict[str, Any], int]:
    """The assignment job as the product runs it: start_run records the job and its chunks (plan in SQL,
    outbox messages), then the worker processes run the chunks, each in its own transaction, and the last
    one to finish reduces the chunks' counts into the job's result."""
    breakdown = Breakdown(workers=len(workers.processes))
    started = time.perf_counter()
    job = await start_run(AssignmentScope.ALL, created_by=None, max_distance_m=MAX_DISTANCE_M, chunk_size=CHUNK_SIZE)
    breakdown.plan_s = time.perf_counter() - started
    replies = await workers.run(job.id, job.chunks_total)
    breakdown.total_s = time.perf_counter() - started
    for reply in replies:
        breakdown.add(reply)
        breakdown.worker_peak_mb.append(reply["peak_mb"])
    await job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, (job.status, job.error, replies)
    # the job's outbox messages were never relayed (the workers were handed the job directly): mark them
    await OutboxMessage.filter(dispatched_at=None).update(dispatched_at=datetime.now(UTC))
    return breakdown, job.result, job.chunks_total


async def timed_sql(conn: asyncpg.Connection, sql: str) -> tuple[float, str]:
    t0 = time.perf_counter()
    status = await conn.execute(sql)
    return time.perf_counter() - t0, status


async def settle(conn: asyncpg.Connection) -> float:
    """Dead tuples vacuumed, statistics fresh, dirty pages flushed: the next run starts from a clean table."""
    t0 = time.perf_counter()
    await conn.execute("VACUUM ANALYZE customer")
    await conn.execute("CHECKPOINT")
    return time.perf_counter() - t0


POSTGIS_UPDATE = "UPDATE customer c SET village_id = v.id FROM village_geo v WHERE ST_Covers(v.geom, c.geom)"

COMPARISON = """
    SELECT
      count(*) FILTER (WHERE o.placement = 'INSIDE' AND o.village_id IS DISTINCT FROM c.village_id
                       AND t.id IS NULL) AS inside_differs,
      count(*) FILTER (WHERE c.village_id IS NOT NULL AND o.placement <> 'INSIDE') AS postgis_only,
      count(*) FILTER (WHERE t.id IS NOT NULL) AS border_ties,
      count(*) FILTER (WHERE t.id IS NOT NULL AND o.village_id = t.smallest) AS ties_to_smallest_id,
      count(*) FILTER (WHERE c.village_id IS NOT NULL) AS postgis_placed,
      count(*) FILTER (WHERE o.placement = 'INSIDE') AS ours_inside
    FROM {postgis} c JOIN {ours} o USING (id) LEFT JOIN {ties} t USING (id)
"""

DISAGREEMENT_SAMPLE = """
    SELECT c.id, k.lon, k.lat, o.placement, o.village_id AS ours, c.village_id AS postgis
    FROM {postgis} c JOIN {ours} o USING (id) JOIN customer k USING (id) LEFT JOIN {ties} t USING (id)
    WHERE (o.placement = 'INSIDE' AND o.village_id IS DISTINCT FROM c.village_id AND t.id IS NULL)
       OR (c.village_id IS NOT NULL AND o.placement <> 'INSIDE')
    ORDER BY c.id LIMIT 5
"""

BY_KIND = """
    SELECT b.kind, o.placement, count(*) AS customers,
           count(*) FILTER (WHERE b.village_id IS NOT NULL AND o.village_id = b.village_id)
             AS in_drawn_village
    FROM bench_truth b JOIN ours o USING (id) GROUP BY b.kind, o.placement ORDER BY b.kind, o.placement
"""


async def compare(conn: asyncpg.Connection, **tables: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Counts for the report and the first disagreements, between a PostGIS assignment (table postgis: id,
    village_id), ours (ours: id, village_id, placement) and the points covered twice (ties)."""
    comparison = dict(await conn.fetchrow(COMPARISON.format(**tables)))
    sample = [dict(r) for r in await conn.fetch(DISAGREEMENT_SAMPLE.format(**tables))]
    return comparison, sample


async def run_postgis(conn: asyncpg.Connection, log: Callable[[str], None]) -> dict[str, Any]:
    """Save our result, build the PostGIS side, time its UPDATE, then compare the two assignments."""
    t0 = time.perf_counter()
    await conn.execute("CREATE TABLE ours AS SELECT id, village_id, placement FROM customer")
    await conn.execute("ALTER TABLE ours ADD PRIMARY KEY (id)")
    # Filling the points and clearing our villages as one table rewrite (ALTER … TYPE … USING), not as a
    # million-row UPDATE: same result, indexes rebuilt once, no dead tuples, minutes faster at full size.
    await conn.execute("ALTER TABLE customer ADD COLUMN geom geometry(Point, 4326)")
    await conn.execute(
        "ALTER TABLE customer "
        "ALTER COLUMN geom TYPE geometry(Point, 4326) USING ST_SetSRID(ST_MakePoint(lon, lat), 4326), "
        "ALTER COLUMN village_id TYPE integer USING NULL"
    )
    await conn.execute("CREATE INDEX customer_geom_gist ON customer USING gist (geom)")
    await conn.execute(
        "CREATE TABLE village_geo AS SELECT id, "
        "ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(polygon::text), 4326))::geometry(MultiPolygon, 4326) AS geom "
        "FROM grid_node WHERE level = 'VILLAGE' AND polygon IS NOT NULL"
    )
    await conn.execute("ALTER TABLE village_geo ADD PRIMARY KEY (id)")
    await conn.execute("CREATE INDEX village_geo_gist ON village_geo USING gist (geom)")
    await conn.execute("VACUUM ANALYZE village_geo")
    setup_s = time.perf_counter() - t0
    settle_s = await settle(conn)
    log(f"PostGIS setup (not timed): ours saved, geom column + GiST, village_geo + GiST: {setup_s:.1f} s; "
        f"VACUUM ANALYZE + CHECKPOINT before the run: {settle_s:.1f} s")  # fmt: skip
    plan = [r[0] for r in await conn.fetch("EXPLAIN " + POSTGIS_UPDATE)]
    log("PostGIS plan: " + " | ".join(line.strip() for line in plan))

    postgis_s, status = await timed_sql(conn, POSTGIS_UPDATE)
    log(f"PostGIS UPDATE: {postgis_s:.2f} s ({status})")

    # The same join without writing customers: what PostGIS spends placing, to set beside our read + assign,
    # on a table vacuumed again after the UPDATE.
    await settle(conn)
    t0 = time.perf_counter()
    await conn.execute(
        "CREATE TABLE covered_twice AS SELECT c.id, count(*) AS villages, min(v.id) AS smallest "
        "FROM customer c JOIN village_geo v ON ST_Covers(v.geom, c.geom) GROUP BY c.id HAVING count(*) > 1"
    )
    join_s = time.perf_counter() - t0
    log(f"PostGIS join alone (border ties: ST_Covers join + GROUP BY, no customer writes): {join_s:.2f} s")
    t0 = time.perf_counter()
    await conn.execute("ALTER TABLE covered_twice ADD PRIMARY KEY (id)")
    comparison, sample = await compare(conn, postgis="customer", ours="ours", ties="covered_twice")
    by_kind = [dict(r) for r in await conn.fetch(BY_KIND)]
    log(f"comparison queries: {time.perf_counter() - t0:.1f} s")
    return {
        "postgis_s": postgis_s,
        "postgis_join_s": join_s,
        "comparison": comparison,
        "sample": sample,
        "by_kind": by_kind,
    }


# --- the daily reassignment: some village borders redrawn, everyone placed again ------------------------------


def redrawn_villages(
    ids: Ints, township: Ints, shapes: npt.NDArray[np.object_], share: float, rng: np.random.Generator
) -> dict[int, BaseGeometry]:
    """New polygons for about share of the villages: neighbourhoods (a village and the villages of its
    township it touches) redrawn as Voronoi cells around seeds moved by up to half a village's width, clipped
    to the neighbourhood. Not snapped to the coordinate grid: snap-rounding bends the outline by a hair and
    opens slivers; unsnapped, the outline is kept exactly, so the villages still tile the county and only
    customers inside a neighbourhood can change village."""
    tree = shapely.STRtree(shapes)
    taken = np.zeros(len(shapes), dtype=bool)
    redrawn: dict[int, BaseGeometry] = {}
    for seed in rng.permutation(len(shapes)):
        if len(redrawn) >= share * len(shapes):
            break
        near = tree.query(shapes[seed], predicate="touches")
        group = np.unique(np.append(near[township[near] == township[seed]], seed))
        if len(group) < 2 or taken[group].any():
            continue
        region = shapely.union_all(shapes[group])
        centres = shapely.get_coordinates(shapely.point_on_surface(shapes[group]))
        reach = 0.5 * np.sqrt(shapely.area(shapes[group]))
        angle = rng.uniform(0, 2 * np.pi, len(group))
        moved = centres + reach[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
        outside = ~shapely.contains_xy(region, moved[:, 0], moved[:, 1])
        moved[outside] = centres[outside]
        diagram = shapely.voronoi_polygons(shapely.multipoints(moved), extend_to=region, ordered=True)
        cells = shapely.intersection(shapely.get_parts(diagram), region)
        # a clipped cell can come back as a collection holding a point or line of contact: keep its polygons
        parts = [shapely.get_parts(cell) for cell in cells]
        polygons = [part[shapely.get_type_id(part) == shapely.GeometryType.POLYGON] for part in parts]
        if any(len(p) == 0 for p in polygons):
            continue
        taken[group] = True
        redrawn.update({int(ids[i]): shapely.multipolygons(p) for i, p in zip(group, polygons, strict=True)})
    return redrawn


async def redraw_villages(conn: asyncpg.Connection, seed: int) -> list[int]:
    """Redraw about RESHAPED_SHARE of the villages (see redrawn_villages) in grid_node, through SQL."""
    rows = await conn.fetch(
        "SELECT id, parent_id, polygon::text AS polygon FROM grid_node WHERE level = 'VILLAGE' ORDER BY id"
    )
    ids = np.array([r["id"] for r in rows], dtype=np.int64)
    township = np.array([r["parent_id"] for r in rows], dtype=np.int64)
    shapes = np.asarray(shapely.from_geojson([r["polygon"] for r in rows]), dtype=object)
    redrawn = redrawn_villages(ids, township, shapes, RESHAPED_SHARE, np.random.default_rng(seed + 1))
    await conn.executemany(
        "UPDATE grid_node SET polygon = $2::jsonb, updated_at = now() WHERE id = $1",
        [(village, shapely.to_geojson(shape)) for village, shape in redrawn.items()],
    )
    return sorted(redrawn)


async def restore_villages(conn: asyncpg.Connection, table: str) -> str:
    """customer.village_id as saved in table (id, village_id), rewriting only the rows that differ."""
    status: str = await conn.execute(
        f"UPDATE customer c SET village_id = s.village_id FROM {table} s "
        "WHERE c.id = s.id AND c.village_id IS DISTINCT FROM s.village_id"
    )
    return status


POSTGIS_CHANGED_ONLY = POSTGIS_UPDATE + " AND c.village_id IS DISTINCT FROM v.id"


async def run_reassign(
    conn: asyncpg.Connection, workers: Workers, seed: int, log: Callable[[str], None]
) -> dict[str, Any]:
    """After both first assignments: redraw some villages, then place everyone again, PostGIS's way (plain
    and changed rows only, each from PostGIS's first assignment) and ours (from our first assignment)."""
    t0 = time.perf_counter()
    changed = await redraw_villages(conn, seed)
    redraw_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    await conn.execute(
        "UPDATE village_geo v SET geom = ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(g.polygon::text), 4326)) "
        "FROM grid_node g WHERE g.id = v.id AND g.id = ANY($1::int[])",
        changed,
    )
    await conn.execute("VACUUM ANALYZE village_geo")
    village_geo_s = time.perf_counter() - t0
    log(f"reassign: {len(changed):,} villages redrawn in grid_node ({redraw_s:.1f} s, not timed); "
        f"village_geo updated from them + VACUUM ANALYZE: {village_geo_s:.2f} s (not in PostGIS's time)")  # fmt: skip

    await conn.execute("CREATE TABLE postgis_first AS SELECT id, village_id FROM customer")
    await settle(conn)
    postgis_s, status = await timed_sql(conn, POSTGIS_UPDATE)
    log(f"reassign PostGIS UPDATE: {postgis_s:.2f} s ({status})")
    await conn.execute("CREATE TABLE postgis_again AS SELECT id, village_id FROM customer")
    await conn.execute("ALTER TABLE postgis_again ADD PRIMARY KEY (id)")
    status = await restore_villages(conn, "postgis_first")
    await settle(conn)
    log(f"reassign: back to PostGIS's first assignment ({status})")
    changed_only_s, changed_status = await timed_sql(conn, POSTGIS_CHANGED_ONLY)
    log(f"reassign PostGIS UPDATE, changed rows only: {changed_only_s:.2f} s ({changed_status})")
    await conn.execute(
        "CREATE TABLE covered_twice_again AS SELECT c.id, count(*) AS villages, min(v.id) AS smallest "
        "FROM customer c JOIN village_geo v ON ST_Covers(v.geom, c.geom) GROUP BY c.id HAVING count(*) > 1"
    )
    await conn.execute("ALTER TABLE covered_twice_again ADD PRIMARY KEY (id)")
    differs = await conn.fetchval(
        "SELECT count(*) FROM customer c JOIN postgis_again a USING (id) LEFT JOIN covered_twice_again t "
        "USING (id) WHERE c.village_id IS DISTINCT FROM a.village_id AND t.id IS NULL"
    )

    # Ours runs on the table as migrated, from our first assignment (placements were never touched since).
    status = await restore_villages(conn, "ours")
    await conn.execute("ALTER TABLE customer DROP COLUMN geom")
    await settle(conn)
    log(f"reassign: back to our first assignment ({status}), geom column and its GiST index dropped")
    breakdown, counts, chunks = await run_ours(workers)
    log(f"reassign ours: {breakdown.total_s:.2f} s over {chunks} chunks (write {breakdown.write_s:.2f} s)")
    await conn.execute("CREATE TABLE ours_again AS SELECT id, village_id, placement FROM customer")
    await conn.execute("ALTER TABLE ours_again ADD PRIMARY KEY (id)")
    comparison, sample = await compare(conn, postgis="postgis_again", ours="ours_again", ties="covered_twice_again")
    return {
        "villages_redrawn": len(changed),
        "village_geo_s": village_geo_s,
        "postgis_s": postgis_s,
        "postgis_changed_only_s": changed_only_s,
        "postgis_changed_rows": int(changed_status.split()[-1]),
        "postgis_variants_differ": int(differs),
        "breakdown": breakdown,
        "counts": counts,
        "comparison": comparison,
        "sample": sample,
    }


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


def print_breakdown(breakdown: Breakdown) -> None:
    print(f"our time ({breakdown.workers} worker process(es); the chunks' calls are timed in place and summed "
          "over chunks and workers):")  # fmt: skip
    for label, value in (
        ("start_run (chunk bounds in SQL, job + chunk rows, outbox)", breakdown.plan_s),
        ("load_villages (once per worker)", breakdown.villages_s),
        ("read   (read_frame: COPY → CSV → pandas)", breakdown.read_s),
        ("assign (geo.assign.assign_customers)", breakdown.assign_s),
        ("write  (update_customer_villages)", breakdown.write_s),
    ):
        print(f"  {label:<70} {value:>8.2f} s")
    busy = breakdown.total_s * breakdown.workers
    print(f"  {'wall clock, end to end':<70} {breakdown.total_s:>8.2f} s")
    outside = busy - breakdown.working_s - breakdown.plan_s * breakdown.workers
    label = "workers busy outside those calls (claims, glue, commits, progress)"
    print(f"  {label:<70} {outside:>8.2f} s (of {busy:.2f} worker-s)")


def report(result: dict[str, Any], customers: int, villages: int) -> dict[str, Any]:
    breakdown: Breakdown = result["breakdown"]
    counts, comparison = result["counts"], result["comparison"]
    ours_s, postgis_s = breakdown.total_s, result["postgis_s"]
    ratio = postgis_s / ours_s
    join_s = result["postgis_join_s"]
    disagreements = int(comparison["inside_differs"]) + int(comparison["postgis_only"])
    inside = counts["placed"] - counts["nearest"] - counts["fallback"]

    print()
    print("placement by kind of customer (ours; 'in drawn village' = the village the point was drawn in):")
    for row in result["by_kind"]:
        print(f"  {row['kind']:<8} {row['placement']:<9} {row['customers']:>10,}  in drawn village "
              f"{row['in_drawn_village']:>10,}")  # fmt: skip
    print()
    print("FIRST ASSIGNMENT: every customer placed for the first time (village_id NULL before), so both")
    print("sides rewrite every row")
    print_breakdown(breakdown)
    print()
    print("Both runs start from a vacuumed, analysed, checkpointed table (VACUUM ANALYZE + CHECKPOINT")
    print("between runs), so neither pays for the other's dead tuples. Ours ran on the table as migrated;")
    print("PostGIS's UPDATE also maintains the GiST index on customer.geom, as a PostGIS deployment would.")
    print()
    placing_s = breakdown.villages_s + breakdown.read_s + breakdown.assign_s
    rows = [
        ("customers", f"{customers:,}", ""),
        ("villages", f"{villages:,}", ""),
        ("ours (s)", f"{ours_s:.2f}", f"end to end, {breakdown.workers} worker(s): start_run to the job's result"),
        ("PostGIS (s)", f"{postgis_s:.2f}", "one UPDATE … ST_Covers"),
        ("ratio PostGIS ÷ ours", f"{ratio:.2f}",
         f"target ≥ {TARGET_RATIO:g}: {'met' if ratio >= TARGET_RATIO else 'MISSED'} for a first assignment"),
        ("placing (worker-s)", f"{placing_s:.2f}",
         f"villages + read + assign, summed over workers; PostGIS join alone {join_s:.2f} s"),
        ("writing (worker-s)", f"{breakdown.write_s:.2f}",
         f"summed over workers; PostGIS UPDATE − join ≈ {postgis_s - join_s:.2f} s (incl. its GiST upkeep)"),
        ("disagreements", f"{disagreements:,}",
         f"INSIDE, other village {comparison['inside_differs']:,}; "
         f"PostGIS-only {comparison['postgis_only']:,}"),
        ("border ties", f"{comparison['border_ties']:,}",
         f"covered by ≥ 2 villages; ours chose the smallest id in {comparison['ties_to_smallest_id']:,}"),
        ("INSIDE", f"{inside:,}", f"PostGIS placed {comparison['postgis_placed']:,}"),
        ("NEAREST", f"{counts['nearest']:,}", f"within {MAX_DISTANCE_M:g} m"),
        ("ADDRESS", f"{counts['fallback']:,}", "no coordinates, village named in the address"),
        ("UNPLACED", f"{counts['unplaced']:,}", f"flags over all customers: {counts['flagged']}"),
        ("peak RSS (MB)", f"{result['peak_mb']:.0f}", f"target ≤ {TARGET_PEAK_MB}: "
         f"{'met' if result['peak_mb'] <= TARGET_PEAK_MB else 'MISSED'} (the workers' ru_maxrss added up)"),
        ("KPI roll-up (s)", f"{result['kpi_s']:.2f}", "roll_up_kpis() over our assignment"),
    ]  # fmt: skip
    for label, value, note in rows:
        print(f"{label:<22} {value:>12}   {note}")
    if result["sample"]:
        print("first disagreements:", result["sample"])
    again = report_reassign(result["reassign"])
    return {
        "benchmark": "geo_assign",
        "customers": customers,
        "villages": villages,
        "workers": breakdown.workers,
        # the headline: reassigning a million customers (the "done when"), against the named baseline
        "ours_s": again["reassign_ours_s"],
        "postgis_s": again["reassign_postgis_s"],
        "ratio": again["reassign_ratio"],
        "disagreements": again["reassign_disagreements"],
        "peak_mb": round(result["peak_mb"], 1),
        "kpi_rollup_s": round(result["kpi_s"], 3),
        **again,
        "first_ours_s": round(ours_s, 3),
        "first_postgis_s": round(postgis_s, 3),
        "first_ratio": round(ratio, 3),
        "first_disagreements": disagreements,
        "first_border_ties": int(comparison["border_ties"]),
        "first_read_s": round(breakdown.read_s, 3),
        "first_assign_s": round(breakdown.assign_s, 3),
        "first_write_s": round(breakdown.write_s, 3),
        "postgis_join_s": round(join_s, 3),
    }


def report_reassign(again: dict[str, Any]) -> dict[str, Any]:
    """The reassign scenario's table; returns its keys for the JSON line."""
    breakdown: Breakdown = again["breakdown"]
    counts, comparison = again["counts"], again["comparison"]
    ours_s, postgis_s, changed_only_s = breakdown.total_s, again["postgis_s"], again["postgis_changed_only_s"]
    disagreements = int(comparison["inside_differs"]) + int(comparison["postgis_only"])
    print()
    print(f"REASSIGN: {again['villages_redrawn']:,} village polygons redrawn, then every customer placed again")
    print("(each side from its own first assignment, on a vacuumed, analysed, checkpointed table)")
    print_breakdown(breakdown)
    print()
    ratio, changed_ratio = postgis_s / ours_s, changed_only_s / ours_s
    rows = [
        ("ours (s)", f"{ours_s:.2f}",
         "same job over all customers; it writes only the rows whose village changed"),
        ("PostGIS (s)", f"{postgis_s:.2f}", "the same UPDATE … ST_Covers (rewrites every covered row)"),
        ("ratio PostGIS ÷ ours", f"{ratio:.2f}",
         f"target ≥ {TARGET_RATIO:g}: {'met' if ratio >= TARGET_RATIO else 'MISSED'}"),
        ("PostGIS changed (s)", f"{changed_only_s:.2f}",
         f"… AND c.village_id IS DISTINCT FROM v.id: {again['postgis_changed_rows']:,} rows written"),
        ("ratio changed ÷ ours", f"{changed_ratio:.2f}",
         f"against the smarter UPDATE: {'≥' if changed_ratio >= TARGET_RATIO else '<'} {TARGET_RATIO:g}"),
        ("moved", f"{counts['moved']:,}", "customers whose village changed (ours)"),
        ("disagreements", f"{disagreements:,}",
         f"INSIDE, other village {comparison['inside_differs']:,}; "
         f"PostGIS-only {comparison['postgis_only']:,}; PostGIS variants differ on "
         f"{again['postgis_variants_differ']:,} (ties excluded)"),
        ("border ties", f"{comparison['border_ties']:,}",
         f"ours chose the smallest id in {comparison['ties_to_smallest_id']:,}"),
        ("village_geo update (s)", f"{again['village_geo_s']:.2f}",
         "PostGIS's upkeep of the redrawn villages, not in its time"),
    ]  # fmt: skip
    for label, value, note in rows:
        print(f"{label:<22} {value:>12}   {note}")
    if again["sample"]:
        print("first reassign disagreements:", again["sample"])
    return {
        "reassign_ours_s": round(ours_s, 3),
        "reassign_postgis_s": round(postgis_s, 3),
        "reassign_ratio": round(ratio, 3),
        "reassign_postgis_changed_only_s": round(changed_only_s, 3),
        "reassign_ratio_changed_only": round(changed_ratio, 3),
        "reassign_moved": int(counts["moved"]),
        "reassign_disagreements": disagreements,
        "reassign_read_s": round(breakdown.read_s, 3),
        "reassign_assign_s": round(breakdown.assign_s, 3),
        "reassign_write_s": round(breakdown.write_s, 3),
    }


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
