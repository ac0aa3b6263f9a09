"""Assigning customers to villages by location (客户网格归属), as a recorded, chunked job.

A run covers either every customer ("ALL") or only those new or moved since their last placement
("PENDING"). It is cut into chunks by customer id so that several workers share it; each chunk reads its
customers and the village polygons, places them in one vectorised pass (geo.assign) and writes back only the
rows whose village or placement changed, in the same transaction that marks the chunk done. A chunk run twice
therefore changes nothing the second time, and a killed worker's chunk is simply run again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from tortoise.backends.base.client import BaseDBAsyncClient

from domain.access import Actor, Role
from domain.errors import DomainError, ErrorCode, forbidden
from domain.grid.paths import ancestor_paths
from geo.assign import AssignOptions, assign_customers
from models import Customer, GridLevel, GridNode, Job, JobChunk, Staff
from resolvers.grid import kpis, policy
from resolvers.grid.bulk import CUSTOMER_COLUMNS, read_frame, update_customer_villages
from resolvers.platform import jobs, outbox
from resolvers.platform.db import connection, dialect, fetch, placeholders
from resolvers.platform.notifications import notify
from resolvers.platform.unit_of_work import unit_of_work

KIND = "geo_assign"
CHUNK_SIZE = 100_000
UNPLACED_SAMPLE = 200


class AssignmentScope(StrEnum):
    ALL = "ALL"
    PENDING = "PENDING"


@dataclass(frozen=True)
class ChunkCounts:
    customers: int
    placed: int
    moved: int
    unplaced: int
    nearest: int
    fallback: int
    flagged: dict[str, int]
    unplaced_sample: list[int]
    arrivals: dict[int, int]  # village id: customers placed into it who were not in it before

    def as_dict(self) -> dict[str, Any]:
        return {
            "arrivals": {str(village): count for village, count in self.arrivals.items()},
            "customers": self.customers,
            "placed": self.placed,
            "moved": self.moved,
            "unplaced": self.unplaced,
            "nearest": self.nearest,
            "fallback": self.fallback,
            "flagged": self.flagged,
            "unplaced_sample": self.unplaced_sample,
        }


async def load_villages(conn: BaseDBAsyncClient | None = None) -> gpd.GeoDataFrame:
    """Every village with a polygon, with its township's name for address matching."""
    conn = conn or connection()
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


def _scope_filter(conn: BaseDBAsyncClient, scope: AssignmentScope) -> str:
    if scope == AssignmentScope.ALL:
        return ""
    return " AND needs_placement = 1" if dialect(conn) == "sqlite" else " AND needs_placement"


def customer_query(conn: BaseDBAsyncClient, scope: AssignmentScope, min_id: int, max_id: int) -> str:
    """The chunk's customers. Ids are integers we produced, so they are inlined (COPY takes no parameters)."""
    columns = ", ".join(_SELECTED.get(column, column) for column in CUSTOMER_COLUMNS)
    return (
        f"SELECT {columns} FROM customer "
        f"WHERE id >= {int(min_id)} AND id <= {int(max_id)}{_scope_filter(conn, scope)} ORDER BY id"
    )


async def plan_chunks(scope: AssignmentScope, chunk_size: int = CHUNK_SIZE) -> list[dict[str, int]]:
    """Id ranges of about chunk_size customers each, cut by the database: no id travels to Python."""
    conn = connection()
    size = placeholders(conn, 0, 1)[0]
    rows = await fetch(
        "SELECT MIN(id) AS min_id, MAX(id) AS max_id FROM ("
        f"SELECT id, (ROW_NUMBER() OVER (ORDER BY id) - 1) / {size} AS chunk "
        f"FROM customer WHERE 1 = 1{_scope_filter(conn, scope)}"
        ") AS numbered GROUP BY chunk ORDER BY chunk",
        [int(chunk_size)],
        conn,
    )
    return [{"min_id": int(r["min_id"]), "max_id": int(r["max_id"])} for r in rows]


async def assign_range(
    conn: BaseDBAsyncClient,
    scope: AssignmentScope,
    min_id: int,
    max_id: int,
    villages: gpd.GeoDataFrame | None = None,
    options: AssignOptions | None = None,
) -> ChunkCounts:
    """Place the customers with ids in [min_id, max_id] and write back what changed, on conn. Inside a job's
    chunk, the time each phase takes is recorded with it (jobs.timed): read, assign and write."""
    villages = villages if villages is not None else await load_villages(conn)
    with jobs.timed("read"):
        customers = await read_frame(conn, customer_query(conn, scope, min_id, max_id), CUSTOMER_COLUMNS)
        if customers.empty:
            return ChunkCounts(0, 0, 0, 0, 0, 0, {}, [], {})
        # object first: a chunk whose customers all have coordinates reads an all-empty, hence float, column
        customers["address"] = customers["address"].astype(object).fillna("").astype(str)
        for column in ("lon", "lat"):
            customers[column] = pd.to_numeric(customers[column], errors="coerce").astype("float64")
        customers["id"] = customers["id"].astype("int64")
    with jobs.timed("assign"):
        outcome = assign_customers(customers[["id", "lon", "lat", "address"]], villages, options or AssignOptions())
    with jobs.timed("write"):
        return await _write_back(conn, customers, outcome, force=scope == AssignmentScope.PENDING)


async def _write_back(
    conn: BaseDBAsyncClient, before: pd.DataFrame, outcome: pd.DataFrame, *, force: bool
) -> ChunkCounts:
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
    return ChunkCounts(
        customers=len(outcome),
        placed=int((~unplaced).sum()),
        moved=int(moved.sum()),
        unplaced=int(unplaced.sum()),
        nearest=int((placement == "NEAREST").sum()),
        fallback=int((placement == "ADDRESS").sum()),
        flagged={str(k): int(v) for k, v in flags.items()},
        unplaced_sample=[int(i) for i in outcome["id"].to_numpy()[unplaced][:UNPLACED_SAMPLE]],
        arrivals=dict(zip(arrival_villages.tolist(), arrival_counts.tolist(), strict=True)),
    )


def merge_counts(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A run's report from its chunks' results."""
    total: dict[str, Any] = {
        "customers": 0,
        "placed": 0,
        "moved": 0,
        "unplaced": 0,
        "nearest": 0,
        "fallback": 0,
    }
    flagged: dict[str, int] = {}
    arrivals: dict[str, int] = {}
    sample: list[int] = []
    for result in results:
        for key in total:
            total[key] += int(result.get(key, 0))
        for flag, count in result.get("flagged", {}).items():
            flagged[flag] = flagged.get(flag, 0) + int(count)
        for village, count in result.get("arrivals", {}).items():
            arrivals[village] = arrivals.get(village, 0) + int(count)
        sample.extend(result.get("unplaced_sample", []))
    total["flagged"] = flagged
    total["unplaced_sample"] = sorted(sample)[:UNPLACED_SAMPLE]
    total["arrivals"] = arrivals
    return total


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


async def run_chunk(job: Job, chunk: JobChunk, conn: BaseDBAsyncClient) -> dict[str, Any]:
    scope = AssignmentScope(job.params.get("scope", AssignmentScope.ALL))
    with jobs.timed("villages"):
        villages = await _villages_for_chunk(conn)
    options = AssignOptions(max_distance_m=float(job.params.get("max_distance_m", AssignOptions().max_distance_m)))
    counts = await assign_range(
        conn, scope, int(chunk.params["min_id"]), int(chunk.params["max_id"]), villages, options
    )
    return counts.as_dict()


async def finish(job: Job, results: list[dict[str, Any]], conn: BaseDBAsyncClient) -> dict[str, Any]:
    merged = merge_counts(results)
    arrivals = {int(village): count for village, count in merged["arrivals"].items()}
    merged["managers_notified"] = await notify_managers(job, arrivals, conn)
    if arrivals:
        # customers changed village: this month's KPIs are stale until rolled up again, so roll them up now
        # rather than at night (queued with the result, so it cannot be lost or asked for twice)
        rollup = await jobs.start_job(
            kpis.KIND, {"period": None}, [{}], created_by=None, dedup_key=f"{KIND}:{job.id}:kpis", using_db=conn
        )
        merged["kpi_rollup_job"] = rollup.id
    return merged


# --- telling customer managers who came into their grid -------------------------------------------------------

NOTICE_KIND = "grid.customers_assigned"
NOTICE_VILLAGES = 100  # villages listed in a notice's payload, most arrivals first
NOTICE_NAMED = 3  # villages named in its text


async def notify_managers(job: Job, arrivals: dict[int, int], conn: BaseDBAsyncClient) -> int:
    """One notice per customer manager whose grid received customers in this run (placed there for the first
    time or moved in from another village): where they are, so the manager can visit them (走访). Stored on
    the run's connection, pushed once the run's result commits. Returns how many managers were told."""
    if not arrivals:
        return 0
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
                "job_id": job.id,
                "customers": total,
                "villages": [
                    {"id": v, "name": villages[v]["name"], "customers": n} for v, n in ranked[:NOTICE_VILLAGES]
                ],
            },
            using_db=conn,
        )
        jobs.publish_after_finish(note)
    return len(received)


jobs.register_kind(KIND, run_chunk, finish, title=("网格归属", "assignment run"))


def authorize_run(actor: Actor) -> None:
    if not policy.may_run_batch_work(actor):
        raise forbidden("发起网格归属", "start an assignment run")


async def start_run(
    scope: AssignmentScope,
    *,
    created_by: int | None,
    max_distance_m: float = AssignOptions().max_distance_m,
    chunk_size: int = CHUNK_SIZE,
    dedup_key: str | None = None,
) -> Job:
    """Record an assignment run cut into chunks and queue them (through the outbox)."""
    chunks = await plan_chunks(scope, chunk_size)
    params = {
        "scope": scope.value,
        "max_distance_m": max_distance_m,
        "customers_planned": await _planned(scope),
    }
    async with unit_of_work() as uow:
        job = await jobs.start_job(KIND, params, chunks, created_by=created_by, dedup_key=dedup_key, using_db=uow.conn)
        uow.on_commit(outbox.wake)
    return job


async def _planned(scope: AssignmentScope) -> int:
    qs = Customer.all() if scope == AssignmentScope.ALL else Customer.filter(needs_placement=True)
    return await qs.count()


async def start_assignment(actor: Actor, scope: AssignmentScope, max_distance_m: float | None = None) -> Job:
    """Head office or the administrator starts a run; it is recorded with who started it."""
    authorize_run(actor)
    distance = AssignOptions().max_distance_m if max_distance_m is None else max_distance_m
    if not 0 <= distance <= 5000:
        raise DomainError(
            ErrorCode.INVALID_VALUE,
            "最大距离须在0到5000米之间",
            "maxDistanceM must be 0 to 5000",
            "maxDistanceM",
        )
    async with unit_of_work() as uow:
        job = await start_run(scope, created_by=actor.staff_id, max_distance_m=distance)
        await uow.audit(actor, "assignment.start", "Job", job.id, {"scope": scope.value, "maxDistanceM": distance})
    return job


__all__ = [
    "KIND", "AssignmentScope", "ChunkCounts", "assign_range", "authorize_run", "load_villages", "merge_counts",
    "plan_chunks", "start_assignment", "start_run",
]  # fmt: skip
