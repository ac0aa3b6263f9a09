"""Importing the grid's polygons (网格导入) — townships or villages — from GeoJSON, GeoPackage or Shapefile.

The file is checked whole first (geo.importing): any error-level problem refuses the import, nothing is written
and the job is recorded FAILED with the report. Otherwise every node is created or updated by its code in one
transaction. An updated node keeps its id, so what hangs on it stays with it: a village's customers and their
history, a township's villages, staff scope and KPIs. Villages are placed under their township (a parent code
or name attribute); townships under the county (a parent code or name attribute, else the grid's one county).

Customers are placed by village, so only a village import marks the customers a changed polygon may affect for
placement and queues an assignment run of them, in the same transaction. A village import measures its gaps
against the union of the township polygons once townships have been imported, the county outline before.
Every import, refused or not, is a recorded job whose result is the report.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import geopandas as gpd
import shapely
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q

from domain.access import Actor
from domain.errors import DomainError, ErrorCode, forbidden
from domain.grid.errors import GridErrorCode
from geo.importing import GridImport, ImportFileError, prepare_villages, read_features
from models import Customer, GridLevel, GridNode, Job, JobStatus
from resolvers.grid import policy
from resolvers.grid.assignment import ASSIGNMENT, AssignmentParams, AssignmentScope
from resolvers.platform import jobs, outbox
from resolvers.platform.db import dialect
from resolvers.platform.job_kinds import Described, RecordedKind
from resolvers.platform.unit_of_work import unit_of_work

NEAREST_MARGIN_DEG = 0.01  # ≈ 1 km: beyond the assignment's nearest-village distance
MARK_ALL_ABOVE = 200  # more changed villages than this: mark every located customer instead of per-village boxes
VILLAGE_PARENT_CODE_FIELD = "parent_code"  # where a village layer names its township when no field is given


class GridImportLevel(StrEnum):
    """The grid level a polygon layer holds: 村 / 乡镇"""

    VILLAGE = "VILLAGE"
    TOWNSHIP = "TOWNSHIP"

    @property
    def grid_level(self) -> GridLevel:
        return GridLevel(self.value)

    @property
    def parent_level(self) -> GridLevel:
        return GridLevel.TOWNSHIP if self is GridImportLevel.VILLAGE else GridLevel.COUNTY


class GridImportSeverity(StrEnum):
    """ERROR: the import was refused; WARNING: imported, reported"""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class GridImportParams:
    file: str
    level: GridImportLevel


@dataclass(frozen=True)
class GridImportProblem:
    """One problem found in an imported file, usually of one feature"""

    feature: Annotated[int | None, Described("The feature's 0-based position in the file; null for the file")]
    code: Annotated[str | None, Described("The feature's code, when it has one")]
    kind: Annotated[
        str,
        Described(
            "INVALID_GEOMETRY, REPAIRED_GEOMETRY, EMPTY_GEOMETRY, MISSING_ATTRIBUTE, DUPLICATE_CODE, NO_CRS, "
            "OUTSIDE_CHINA, UNKNOWN_PARENT or CODE_IN_USE"
        ),
    ]
    severity: GridImportSeverity
    message: Annotated[str, Described("中文 / English")]
    message_zh: str
    message_en: str


@dataclass(frozen=True)
class GridImportOverlap:
    """Two imported areas that overlap"""

    code_a: str
    code_b: str
    area_m2: Annotated[float, Described("The overlap's area in square metres")]


@dataclass(frozen=True)
class GridImportCounts:
    """What an import that went ahead wrote"""

    created: int
    updated: Annotated[int, Described("Existing nodes whose name, polygon or parent changed; ids kept")]
    unchanged: int
    customers_to_place: Annotated[
        int, Described("Customers marked for placement because a village boundary near them changed (0 for townships)")
    ]


@dataclass(frozen=True)
class GridImportReport:
    """The report of a grid import (网格导入报告)"""

    file: Annotated[str, Described("The imported file's name")]
    level: GridImportLevel
    features_ok: Annotated[int, Described("Features without errors")]
    problems: Annotated[tuple[GridImportProblem, ...], Described("Errors first by file, then by feature")]
    overlaps: tuple[GridImportOverlap, ...]
    gap_area_m2: Annotated[
        float | None,
        Described(
            "Area the layer should cover and does not, in m²: inside the townships (villages), the county "
            "outline, or else the layer's convex hull; null when not measured"
        ),
    ]
    counts: Annotated[GridImportCounts | None, Described("Null when the import was refused")] = None


GRID_IMPORT = RecordedKind(
    name="grid_import",
    title_zh="网格导入",
    title_en="grid import",
    params=GridImportParams,
    report=GridImportReport,
)


@dataclass(frozen=True)
class ImportFields:
    """Which attributes of the layer hold what. Without a parent field, a village layer names its township in
    "parent_code", and a township layer goes under the grid's county (there must be exactly one)."""

    code: str = "code"
    name: str = "name"
    parent_code: str | None = None
    parent_name: str | None = None
    layer: str | None = None


@dataclass(frozen=True)
class _Parents:
    """Where the imported nodes go: the parent each feature names (`by_code`), or all under `only`."""

    by_code: dict[str, GridNode]
    only: GridNode | None
    code_field: str | None
    name_field: str | None
    outline: Any  # the area the layer should cover (EPSG:4326), None when unknown


def authorize(actor: Actor) -> None:
    if not policy.may_run_batch_work(actor):
        raise forbidden("导入网格", "import the grid")


async def import_villages(actor: Actor, path: str | Path, fields: ImportFields = ImportFields()) -> Job:
    """Check and import a village layer; see import_grid."""
    return await import_grid(actor, path, GridImportLevel.VILLAGE, fields)


async def import_townships(actor: Actor, path: str | Path, fields: ImportFields = ImportFields()) -> Job:
    """Check and import a township layer; see import_grid."""
    return await import_grid(actor, path, GridImportLevel.TOWNSHIP, fields)


async def import_grid(
    actor: Actor,
    path: str | Path,
    level: GridImportLevel = GridImportLevel.VILLAGE,
    fields: ImportFields = ImportFields(),
) -> Job:
    """Check and import a layer of one level; returns the recorded job: SUCCEEDED with counts, or FAILED with
    the problems and nothing written. A file that cannot be read at all, or a grid the layer cannot be placed
    in, raises DomainError and records nothing."""
    authorize(actor)
    try:
        # reading and checking are CPU work: off the event loop, so the API keeps answering meanwhile
        frame = await asyncio.to_thread(read_features, path, fields.layer or None)
    except ImportFileError as error:
        raise DomainError(ErrorCode.INVALID_VALUE, error.message_zh, error.message_en, "file") from None
    parents = await _parents(level, fields)
    taken_codes = [str(code) for code in await GridNode.exclude(level=level.grid_level).values_list("code", flat=True)]
    check = functools.partial(
        prepare_villages,
        frame,
        code_field=fields.code,
        name_field=fields.name,
        parent_code_field=parents.code_field,
        parent_name_field=parents.name_field,
        known_parents=None if parents.only else {code: node.name for code, node in parents.by_code.items()},
        outline=parents.outline,
        taken_codes=taken_codes,
        neighbours=await _existing_shapes(level),
    )
    checked = await asyncio.to_thread(check)
    params = GridImportParams(Path(path).name, level)
    report = _report(checked, params)
    if not checked.ok:
        return await _refuse(actor, params, report)
    return await _apply(actor, checked, parents, params, report)


async def _refuse(actor: Actor, params: GridImportParams, report: GridImportReport) -> Job:
    """Record the refused import with its report; nothing else is written."""
    errors = sum(p.severity is GridImportSeverity.ERROR for p in report.problems)
    async with unit_of_work() as uow:
        job = await jobs.record(
            GRID_IMPORT, params, report, status=JobStatus.FAILED, created_by=actor.staff_id,
            started_at=datetime.now(UTC), error=f"{errors} errors: nothing was imported", using_db=uow.conn,
        )  # fmt: skip
        await uow.audit(actor, "grid.import.refused", "Job", job.id, {"file": params.file, "level": params.level.value})
    return job


async def _apply(
    actor: Actor, checked: GridImport, parents: _Parents, params: GridImportParams, report: GridImportReport
) -> Job:
    """Write the checked layer, the job, the placement it calls for and the audit row in one transaction."""
    started = datetime.now(UTC)
    async with unit_of_work() as uow:
        conn = uow.conn
        if dialect(conn) == "postgres":
            # one import writes at a time: a second one waits, then finds the first's nodes and updates them
            # instead of creating the same codes again (SQLite writers are serialised already)
            await conn.execute_query("SELECT pg_advisory_xact_lock(hashtext('palmcredit.grid_import'))")
        level = params.level
        written, changed_shapes = await _write_nodes(conn, checked, level, parents)
        # customers are placed by village: a township's new outline moves nobody
        to_place = await _mark_affected(conn, changed_shapes) if level is GridImportLevel.VILLAGE else 0
        counts = GridImportCounts(**written, customers_to_place=to_place)
        job = await jobs.record(
            GRID_IMPORT, params, dataclasses.replace(report, counts=counts), status=JobStatus.SUCCEEDED,
            created_by=actor.staff_id, started_at=started, using_db=conn,
        )  # fmt: skip
        if to_place:
            await jobs.start_later(
                ASSIGNMENT, AssignmentParams(AssignmentScope.PENDING), created_by=actor.staff_id,
                dedup_key=f"{GRID_IMPORT.name}:{job.id}:assign", using_db=conn,
            )  # fmt: skip
            uow.on_commit(outbox.wake)
        await uow.audit(actor, "grid.import", "Job", job.id, {"level": level.value, **dataclasses.asdict(counts)})
    return job


async def _parents(level: GridImportLevel, fields: ImportFields) -> _Parents:
    """The possible parents of the layer's nodes and the attributes that name them; DomainError when a township
    layer names no county and the grid has none, or several."""
    parents = await GridNode.filter(level=level.parent_level)
    code_field, name_field = fields.parent_code or None, fields.parent_name or None
    only = None
    if code_field is None and name_field is None:
        if level is GridImportLevel.VILLAGE:
            code_field = VILLAGE_PARENT_CODE_FIELD
        elif len(parents) == 1:
            only = parents[0]
        elif not parents:
            raise DomainError(
                GridErrorCode.UNKNOWN_GRID_NODE,
                "网格中还没有县，无法导入乡镇",
                "the grid has no county to import the townships under",
                "level",
            )
        else:
            raise DomainError(
                ErrorCode.INVALID_VALUE,
                "网格中有多个县：请指定上级编码字段，写明每个乡镇所属的县",
                "the grid has several counties: name each township's county with a parent code field",
                "parentCodeField",
            )
    return _Parents({p.code: p for p in parents}, only, code_field, name_field, await _outline(level, parents))


async def _existing_shapes(level: GridImportLevel) -> gpd.GeoDataFrame:
    """The nodes of the level already in the grid, with their polygons: the layer is checked against those it
    leaves in place (overlaps with them, and the gap they and it leave)."""
    rows = await GridNode.filter(level=level.grid_level, polygon__not_isnull=True).values_list("code", "polygon")
    shapes = [shapely.geometry.shape(polygon) for _, polygon in rows]
    return gpd.GeoDataFrame({"code": [str(code) for code, _ in rows]}, geometry=shapes, crs="EPSG:4326")


async def _outline(level: GridImportLevel, parents: list[GridNode]) -> Any:
    """The area the layer should cover: the union of its parents' polygons; for villages whose townships have
    none yet, the county's."""
    shapes = [shapely.geometry.shape(p.polygon) for p in parents if p.polygon]
    if not shapes and level is GridImportLevel.VILLAGE:
        counties = await GridNode.filter(level=GridLevel.COUNTY)
        shapes = [shapely.geometry.shape(c.polygon) for c in counties if c.polygon]
    return shapely.union_all(shapes) if shapes else None


def _report(checked: GridImport, params: GridImportParams) -> GridImportReport:
    return GridImportReport(
        file=params.file,
        level=params.level,
        features_ok=len(checked.villages),
        problems=tuple(
            GridImportProblem(
                feature=p.feature, code=p.code, kind=p.kind, severity=GridImportSeverity(p.severity),
                message=f"{p.message_zh} / {p.message_en}", message_zh=p.message_zh, message_en=p.message_en,
            )
            for p in checked.problems
        ),
        overlaps=tuple(GridImportOverlap(o.code_a, o.code_b, round(o.area_m2, 1)) for o in checked.overlaps),
        gap_area_m2=None if math.isnan(checked.gap_area_m2) else round(checked.gap_area_m2, 1),
    )  # fmt: skip


async def _write_nodes(
    conn: BaseDBAsyncClient, checked: GridImport, level: GridImportLevel, parents: _Parents
) -> tuple[dict[str, int], list[tuple[Any, Any]]]:
    """Create or update every checked feature by its code; returns the counts and the (old, new) shapes of the
    nodes whose polygon is new or changed."""
    existing = {n.code: n for n in await GridNode.filter(level=level.grid_level).using_db(conn)}
    created = updated = unchanged = 0
    changed_shapes: list[tuple[Any, Any]] = []
    for row in checked.villages.itertuples():
        parent = parents.only or parents.by_code[str(row.parent_code)]
        geometry = shapely.geometry.mapping(row.geometry)
        polygon = _rounded(geometry)
        centroid = row.geometry.representative_point()
        node = existing.get(str(row.code))
        if node is None:
            new = await GridNode.create(
                level=level.grid_level, name=str(row.name), code=str(row.code), parent_id=parent.id, path="/",
                depth=parent.depth + 1, polygon=polygon, centroid_lon=centroid.x, centroid_lat=centroid.y,
                using_db=conn,
            )  # fmt: skip
            await GridNode.filter(id=new.id).using_db(conn).update(path=f"{parent.path}{new.id}/")
            changed_shapes.append((None, row.geometry))
            created += 1
            continue
        old_shape = shapely.geometry.shape(node.polygon) if node.polygon else None
        moved_parent = node.parent_id != parent.id  # type: ignore[attr-defined]
        same = (
            not moved_parent and node.name == str(row.name)
            and old_shape is not None
            and shapely.equals_exact(old_shape, shapely.geometry.shape(polygon), tolerance=1e-7)
        )  # fmt: skip
        if same:
            unchanged += 1
            continue
        await GridNode.filter(id=node.id).using_db(conn).update(
            name=str(row.name), polygon=polygon, centroid_lon=centroid.x, centroid_lat=centroid.y,
            parent_id=parent.id, depth=parent.depth + 1, updated_at=datetime.now(UTC),
        )  # fmt: skip
        if moved_parent:
            await _move_subtree(conn, node.path, f"{parent.path}{node.id}/")
        changed_shapes.append((old_shape, row.geometry))
        updated += 1
    return {"created": created, "updated": updated, "unchanged": unchanged}, changed_shapes


def _rounded(geometry: Any) -> Any:
    """GeoJSON coordinates to 6 decimals (≈ 0.1 m): smaller rows, stable comparisons."""
    if isinstance(geometry, (list, tuple)):
        return [_rounded(g) for g in geometry]
    if isinstance(geometry, float):
        return round(geometry, 6)
    if isinstance(geometry, dict):
        return {k: _rounded(v) for k, v in geometry.items()}
    return geometry


async def _move_subtree(conn: BaseDBAsyncClient, old_path: str, new_path: str) -> None:
    """Rewrite the materialized paths of a node and everything under it."""
    for node in await GridNode.filter(path__startswith=old_path).using_db(conn):
        await (
            GridNode.filter(id=node.id)
            .using_db(conn)
            .update(
                path=new_path + node.path[len(old_path) :],
                depth=node.depth + new_path.count("/") - old_path.count("/"),
            )
        )


async def _mark_affected(conn: BaseDBAsyncClient, changed: list[tuple[Any, Any]]) -> int:
    """Mark for placement the customers a changed polygon may move, and those still without a village."""
    if not changed:
        return 0
    located = Q(lon__not_isnull=True)
    if len(changed) > MARK_ALL_ABOVE:
        boxes = located
    else:
        boxes = Q(id=-1)
        for old, new in changed:
            for shape in (old, new):
                if shape is None:
                    continue
                west, south, east, north = shapely.bounds(shape)
                boxes |= Q(
                    lon__gte=west - NEAREST_MARGIN_DEG, lon__lte=east + NEAREST_MARGIN_DEG,
                    lat__gte=south - NEAREST_MARGIN_DEG, lat__lte=north + NEAREST_MARGIN_DEG,
                )  # fmt: skip
    return await Customer.filter(boxes | Q(village_id=None)).using_db(conn).update(needs_placement=True)
