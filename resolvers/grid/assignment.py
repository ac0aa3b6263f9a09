"""Assigning customers to villages by location (客户网格归属), as a recorded, chunked job.

A run covers either every customer ("ALL") or only those new or moved since their last placement
("PENDING"), of the whole bank or of the customers currently in one part of the grid (its scope: a branch runs
its own). It is cut into chunks by customer id so that several workers share it; each chunk reads its
customers and the village polygons, places them in one vectorised pass (geo.assign, off the event loop) and
writes back only the rows whose village or placement changed, with its unplaced customers and the arrivals per
village as job output rows, in the same transaction that marks the chunk done. A chunk run twice therefore
changes nothing the second time, and a killed worker's chunk is simply run again.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from tortoise.backends.base.client import BaseDBAsyncClient

from domain.access import Actor, Role
from domain.errors import DomainError, ErrorCode, forbidden, not_found
from domain.grid.paths import ancestor_paths
from geo.assign import AssignOptions, assign_customers
from models import GridLevel, GridNode, Job, Staff
from resolvers.grid import kpis, policy
from resolvers.grid.bulk import CUSTOMER_COLUMNS, read_frame, update_customer_villages
from resolvers.platform import jobs
from resolvers.platform.db import dialect, fetch, placeholders
from resolvers.platform.job_kinds import BANK, ChunkRun, Described, Finishing, GridScope, JobKind, KindSchedule, Listing
from resolvers.platform.notifications import notify
from resolvers.platform.unit_of_work import unit_of_work

CHUNK_SIZE = 100_000
UNPLACED_LISTED = 200
UNPLACED = "unplaced"  # job output: an unplaced customer (ref: customer id)
ARRIVALS = "arrivals"  # job output: customers placed into a village who were not in it before (ref: village id)


class AssignmentScope(StrEnum):
    """Which customers a run places: ALL, or only PENDING ones (new or moved since their last placement)."""

    ALL = "ALL"
    PENDING = "PENDING"


@dataclass(frozen=True)
class AssignmentParams:
    customers: AssignmentScope
    max_distance_m: float = AssignOptions().max_distance_m
    chunk_size: int = CHUNK_SIZE


@dataclass(frozen=True)
class IdRange:
    """A chunk: the customers with ids in [min_id, max_id] (as many as `customers` when it was planned)."""

    min_id: int
    max_id: int
    customers: int


@dataclass(frozen=True)
class PlacementFlagCount:
    """Customers whose coordinates could not be used, by reason"""

    flag: Annotated[
        str,
        Described(
            "NO_COORDINATES (placed by address if it names a village), OUT_OF_RANGE (outside China) "
            "or SWAPPED (latitude and longitude exchanged)"
        ),
    ]
    customers: int


@dataclass(frozen=True)
class PlacementCounts:
    """One chunk's counts."""

    customers: int
    placed: int
    moved: int
    unplaced: int
    nearest: int
    fallback: int
    flagged: tuple[PlacementFlagCount, ...]


@dataclass(frozen=True)
class Placement:
    """What placing a range of customers did: its counts, and the records behind them."""

    counts: PlacementCounts
    unplaced_ids: list[int]
    arrivals: dict[int, int]  # village id: customers placed into it who were not in it before


@dataclass(frozen=True)
class AssignmentReport:
    """The report of an assignment run (网格归属报告)"""

    customers: Annotated[int, Described("Customers the run looked at")]
    placed: Annotated[int, Described("Placed in a village: inside one, the nearest, or by address")]
    moved: Annotated[int, Described("Placed in another village than the one they were in")]
    nearest: Annotated[int, Described("Outside every village, placed in the nearest within the distance")]
    fallback: Annotated[int, Described("Without coordinates, placed by the village named in the address")]
    unplaced: Annotated[int, Described("Left where they were, for a person to look at (UNPLACED)")]
    flagged: tuple[PlacementFlagCount, ...]
    villages_receiving: Annotated[int, Described("Villages that received customers new to them")]
    managers_notified: Annotated[int, Described("Customer managers told who came into their grid")]


async def load_villages(conn: BaseDBAsyncClient) -> gpd.GeoDataFrame:
    """Every village with a polygon, with its township's name for address matching."""
    mark = placeholders(conn, 0, 1)[0]
    rows = await fetch(
        "SELECT v.id AS id, v.name AS name, t.name AS township, v.polygon AS polygon "
        "FROM grid_node v LEFT JOIN grid_node t ON t.id = v.parent_id "
        f"WHERE v.level = {mark} AND v.polygon IS NOT NULL",
        [GridLevel.VILLAGE.value],
        conn,
    )
    geometries = [shapely.from_geojson(_json(r["polygon"])) for r in rows]
    return gpd.GeoDataFrame(
        {
            "id": np.array([r["id"] for r in rows], dtype="int64"),
            "name": [r["name"] for r in rows],
            "township": [r["township"] or "" for r in rows],
        },
        geometry=geometries,
        crs="EPSG:4326",
    )


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


# geo.assign reads an address only for a customer without coordinates: the others' are not sent.
_SELECTED = {"address": "CASE WHEN lon IS NULL OR lat IS NULL THEN address ELSE '' END AS address"}


def _customer_filter(conn: BaseDBAsyncClient, selection: AssignmentScope, scope: GridScope) -> str:
    """The run's customers: those waiting for placement (PENDING) or all, and of the grid scope's villages
    unless it is the whole bank. A scope's path is digits and slashes (GridScope checks), so it is inlined."""
    where = ""
    if selection == AssignmentScope.PENDING:
        where += " AND needs_placement = 1" if dialect(conn) == "sqlite" else " AND needs_placement"
    if not scope.is_bank:
        where += (
            " AND village_id IN (SELECT id FROM grid_node "
            f"WHERE level = '{GridLevel.VILLAGE.value}' AND path LIKE '{scope.path}%')"
        )
    return where


def customer_query(
    conn: BaseDBAsyncClient, selection: AssignmentScope, scope: GridScope, min_id: int, max_id: int
) -> str:
    """The chunk's customers. Ids are integers we produced, so they are inlined (COPY takes no parameters)."""
    columns = ", ".join(_SELECTED.get(column, column) for column in CUSTOMER_COLUMNS)
    return (
        f"SELECT {columns} FROM customer WHERE id >= {int(min_id)} AND id <= {int(max_id)}"
        f"{_customer_filter(conn, selection, scope)} ORDER BY id"
    )


async def plan_chunks(params: AssignmentParams, scope: GridScope, conn: BaseDBAsyncClient) -> list[IdRange]:
    """Id ranges of about chunk_size customers each, cut by the database: no id travels to Python."""
    size = placeholders(conn, 0, 1)[0]
    rows = await fetch(
        "SELECT MIN(id) AS min_id, MAX(id) AS max_id, COUNT(*) AS customers FROM ("
        f"SELECT id, (ROW_NUMBER() OVER (ORDER BY id) - 1) / {size} AS chunk "
        f"FROM customer WHERE 1 = 1{_customer_filter(conn, params.customers, scope)}"
        ") AS numbered GROUP BY chunk ORDER BY chunk",
        [int(params.chunk_size)],
        conn,
    )
    return [IdRange(int(r["min_id"]), int(r["max_id"]), int(r["customers"])) for r in rows]


async def assign_range(
    conn: BaseDBAsyncClient,
    selection: AssignmentScope,
    scope: GridScope,
    chunk: IdRange,
    villages: gpd.GeoDataFrame,
    options: AssignOptions,
) -> Placement:
    """Place the run's customers with ids in the chunk's range and write back what changed, on conn. Inside a
    job's chunk, the time each phase takes is recorded with it (jobs.timed): read, assign and write."""
    with jobs.timed("read"):
        customers = await read_frame(
            conn, customer_query(conn, selection, scope, chunk.min_id, chunk.max_id), CUSTOMER_COLUMNS
        )
        if customers.empty:
            return Placement(PlacementCounts(0, 0, 0, 0, 0, 0, ()), [], {})
        # object first: a chunk whose customers all have coordinates reads an all-empty, hence float, column
        customers["address"] = customers["address"].astype(object).fillna("").astype(str)
        for column in ("lon", "lat"):
            customers[column] = pd.to_numeric(customers[column], errors="coerce").astype("float64")
        customers["id"] = customers["id"].astype("int64")
    with jobs.timed("assign"):
        # vectorised CPU work: off the event loop, so the chunk's lease keeps being renewed meanwhile
        frame = customers[["id", "lon", "lat", "address"]]
        outcome = await asyncio.to_thread(assign_customers, frame, villages, options)
    with jobs.timed("write"):
        return await _write_back(conn, customers, outcome, force=selection == AssignmentScope.PENDING)


async def _write_back(
    conn: BaseDBAsyncClient, before: pd.DataFrame, outcome: pd.DataFrame, *, force: bool
) -> Placement:
    old_village = pd.to_numeric(before["village_id"], errors="coerce").astype("Int64").to_numpy()
    new_village = outcome["village_id"].astype("Int64").to_numpy()
    placement = outcome["placement"].astype(str).to_numpy()
    unplaced = placement == "UNPLACED"
    # An unplaced customer keeps the village they had (a person must look); only their placement changes.
    target_village = np.where(unplaced, old_village, new_village)
    same_village = pd.array(target_village, dtype="Int64") == pd.array(old_village, dtype="Int64")
    same_village = np.asarray(same_village.fillna(pd.isna(target_village) & pd.isna(old_village)), dtype=bool)
    changed = ~same_village | (placement != before["placement"].astype(str).to_numpy())
    if force:
        changed[:] = True
    ids = before["id"].to_numpy()[changed]
    await update_customer_villages(
        conn,
        [int(i) for i in ids],
        [None if pd.isna(v) else int(v) for v in target_village[changed]],
        [str(p) for p in placement[changed]],
    )
    moved = ~same_village & ~unplaced & ~pd.isna(old_village)
    arrived = ~same_village & ~unplaced & ~pd.isna(target_village)
    arrival_villages, arrival_counts = np.unique(target_village[arrived].astype("int64"), return_counts=True)
    flags = outcome["flag"].dropna().value_counts()
    counts = PlacementCounts(
        customers=len(outcome),
        placed=int((~unplaced).sum()),
        moved=int(moved.sum()),
        unplaced=int(unplaced.sum()),
        nearest=int((placement == "NEAREST").sum()),
        fallback=int((placement == "ADDRESS").sum()),
        flagged=tuple(PlacementFlagCount(str(k), int(v)) for k, v in sorted(flags.items())),
    )
    return Placement(
        counts=counts,
        unplaced_ids=[int(i) for i in outcome["id"].to_numpy()[unplaced]],
        arrivals=dict(zip(arrival_villages.tolist(), arrival_counts.tolist(), strict=True)),
    )


def merge_counts(results: Sequence[PlacementCounts]) -> PlacementCounts:
    """A run's counts from its chunks'."""
    flagged: dict[str, int] = {}
    for result in results:
        for flag in result.flagged:
            flagged[flag.flag] = flagged.get(flag.flag, 0) + flag.customers
    return PlacementCounts(
        customers=sum(r.customers for r in results),
        placed=sum(r.placed for r in results),
        moved=sum(r.moved for r in results),
        unplaced=sum(r.unplaced for r in results),
        nearest=sum(r.nearest for r in results),
        fallback=sum(r.fallback for r in results),
        flagged=tuple(PlacementFlagCount(flag, n) for flag, n in sorted(flagged.items())),
    )


# --- the job --------------------------------------------------------------------------------------------------

_village_cache: dict[str, Any] = {}


async def _villages_for_chunk(conn: BaseDBAsyncClient) -> gpd.GeoDataFrame:
    """The village frame, rebuilt only when a village changed since this process last built it: the chunks
    of a run share one."""
    stamp = await GridNode.filter(level=GridLevel.VILLAGE).using_db(conn).order_by("-updated_at").first()
    key = f"{await GridNode.filter(level=GridLevel.VILLAGE).using_db(conn).count()}:{stamp.updated_at if stamp else ''}"
    if _village_cache.get("key") != key:
        _village_cache.update(key=key, frame=await load_villages(conn))
    return _village_cache["frame"]


async def run_chunk(run: ChunkRun[AssignmentParams, IdRange]) -> PlacementCounts:
    with jobs.timed("villages"):
        villages = await _villages_for_chunk(run.conn)
    options = AssignOptions(max_distance_m=run.params.max_distance_m)
    placement = await assign_range(run.conn, run.params.customers, run.scope, run.chunk, villages, options)
    await run.write_outputs(UNPLACED, ((customer, 1) for customer in placement.unplaced_ids))
    await run.write_outputs(ARRIVALS, placement.arrivals.items())
    return placement.counts


async def finish(finishing: Finishing[AssignmentParams], results: Sequence[PlacementCounts]) -> AssignmentReport:
    counts = merge_counts(results)
    arrivals = await finishing.output_totals(ARRIVALS)
    if arrivals:
        # customers changed village: this month's KPIs are stale until rolled up again, so roll them up now
        # rather than at night (queued with the result, so it cannot be lost or asked for twice)
        await jobs.start_later(
            kpis.KPI_ROLLUP,
            kpis.RollupParams(),
            created_by=None,
            dedup_key=f"{ASSIGNMENT_KIND}:{finishing.job_id}:kpis",
            using_db=finishing.conn,
        )
    return AssignmentReport(
        customers=counts.customers,
        placed=counts.placed,
        moved=counts.moved,
        nearest=counts.nearest,
        fallback=counts.fallback,
        unplaced=counts.unplaced,
        flagged=counts.flagged,
        villages_receiving=len(arrivals),
        managers_notified=await notify_managers(finishing, arrivals),
    )


# --- telling customer managers who came into their grid -------------------------------------------------------

NOTICE_KIND = "grid.customers_assigned"
NOTICE_VILLAGES = 100  # villages listed in a notice's payload, most arrivals first
NOTICE_NAMED = 3  # villages named in its text


async def notify_managers(finishing: Finishing[AssignmentParams], arrivals: dict[int, int]) -> int:
    """One notice per customer manager whose grid received customers in this run (placed there for the first
    time or moved in from another village): where they are, so the manager can visit them (走访). Stored on
    the run's connection, pushed once the run's result commits. Returns how many managers were told."""
    if not arrivals:
        return 0
    conn = finishing.conn
    villages = {
        int(v["id"]): v
        for v in await GridNode.filter(id__in=list(arrivals)).using_db(conn).values("id", "name", "path")
    }
    managers_at: dict[str, list[int]] = {}  # grid path: the customer managers whose scope it is
    for staff in await Staff.filter(is_active=True).using_db(conn).prefetch_related("scope"):
        if Role.CUSTOMER_MANAGER.value in staff.roles:
            for node in staff.scope:
                managers_at.setdefault(node.path, []).append(staff.id)
    received: dict[int, dict[int, int]] = {}  # manager: {village: customers}
    for village_id, count in arrivals.items():
        village = villages.get(village_id)
        if village is None:
            continue
        for path in [*ancestor_paths(village["path"]), village["path"]]:
            for manager in managers_at.get(path, ()):
                received.setdefault(manager, {})[village_id] = count
    for manager, by_village in sorted(received.items()):
        ranked = sorted(by_village.items(), key=lambda item: (-item[1], item[0]))
        total = sum(by_village.values())
        named_zh = "、".join(f"{villages[v]['name']}{n}人" for v, n in ranked[:NOTICE_NAMED])
        named_en = ", ".join(f"{villages[v]['name']} {n}" for v, n in ranked[:NOTICE_NAMED])
        more = len(ranked) > NOTICE_NAMED
        note = await notify(
            manager,
            NOTICE_KIND,
            f"网格新增客户{total}人待走访 / {total} new customers in your grid to visit",
            f"{named_zh}{'等' if more else ''}（共{len(ranked)}个村） / {named_en}{', …' if more else ''} "
            f"({len(ranked)} village{'s' if len(ranked) > 1 else ''})",
            {
                "job_id": finishing.job_id,
                "customers": total,
                "villages": [
                    {"id": v, "name": villages[v]["name"], "customers": n} for v, n in ranked[:NOTICE_VILLAGES]
                ],
            },
            using_db=conn,
        )
        finishing.publish_after_commit(note)
    return len(received)


ASSIGNMENT_KIND = "geo_assign"

ASSIGNMENT = JobKind(
    name=ASSIGNMENT_KIND,
    title_zh="网格归属",
    title_en="assignment run",
    params=AssignmentParams,
    chunk=IdRange,
    chunk_result=PlacementCounts,
    report=AssignmentReport,
    plan=plan_chunks,
    run_chunk=run_chunk,
    finish=finish,
    listings=(
        Listing(
            field="unplaced_customers",
            topic=UNPLACED,
            node_type="Customer",
            limit=UNPLACED_LISTED,
            description=f"The first unplaced customers (at most {UNPLACED_LISTED}), smallest id first",
        ),
    ),
    # new or moved customers are placed at five past every hour
    schedule=KindSchedule(times={"minute": 5}, params=lambda when: AssignmentParams(AssignmentScope.PENDING)),
)


def authorize_run(actor: Actor, scope: GridScope) -> None:
    if not policy.may_run_batch_work_over(actor, None if scope.is_bank else scope.path):
        raise forbidden("发起网格归属", "start an assignment run")


async def grid_scope(node_id: int | None) -> GridScope:
    """The scope of a run over a grid node (None: the whole bank)."""
    if node_id is None:
        return BANK
    node = await GridNode.get_or_none(id=node_id)
    if node is None:
        raise not_found("网格", "grid node", "gridNode")
    return GridScope(node.path)


async def start_run(
    customers: AssignmentScope,
    *,
    scope: GridScope = BANK,
    created_by: int | None,
    max_distance_m: float = AssignOptions().max_distance_m,
    chunk_size: int = CHUNK_SIZE,
) -> Job:
    """Record an assignment run cut into chunks and queue them (through the outbox); or, while one is under
    way over the same scope, that one."""
    params = AssignmentParams(customers, max_distance_m, chunk_size)
    return await jobs.start(ASSIGNMENT, params, scope=scope, created_by=created_by)


async def start_assignment(
    actor: Actor,
    customers: AssignmentScope,
    max_distance_m: float | None = None,
    node_id: int | None = None,
) -> Job:
    """Head office or the administrator starts a run, a branch president one over their grid; it is recorded
    with who started it."""
    scope = await grid_scope(node_id)
    authorize_run(actor, scope)
    distance = AssignOptions().max_distance_m if max_distance_m is None else max_distance_m
    if not 0 <= distance <= 5000:
        raise DomainError(
            ErrorCode.INVALID_VALUE,
            "最大距离须在0到5000米之间",
            "maxDistanceM must be 0 to 5000",
            "maxDistanceM",
        )
    async with unit_of_work() as uow:
        job = await start_run(customers, scope=scope, created_by=actor.staff_id, max_distance_m=distance)
        await uow.audit(
            actor, "assignment.start", "Job", job.id,
            {"scope": customers.value, "grid": scope.path, "maxDistanceM": distance},
        )  # fmt: skip
    return job


__all__ = [
    "ASSIGNMENT", "AssignmentParams", "AssignmentReport", "AssignmentScope", "IdRange", "Placement",
    "PlacementCounts", "assign_range", "authorize_run", "grid_scope", "load_villages", "merge_counts",
    "plan_chunks", "start_assignment", "start_run",
]  # fmt: skip
