"""Importing village polygons (网格导入) from GeoJSON, GeoPackage or Shapefile.

The file is checked whole first (geo.importing): any error-level problem refuses the import and nothing is
written. Otherwise every village is created or updated by its code in one transaction — an updated village
keeps its id, so its customers and their history stay with it — and the customers a changed polygon may
affect are marked for placement; an assignment run of those customers is queued in the same transaction.
Every import, refused or not, is a recorded job whose result is the report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import shapely
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from domain.access import Actor, Role
from domain.errors import DomainError, ErrorCode, forbidden
from geo.importing import GridImport, ImportFileError, prepare_villages, read_features
from models import Customer, GridLevel, GridNode, Job, JobStatus
from resolvers import outbox
from resolvers.audit import record

KIND = "grid_import"
NEAREST_MARGIN_DEG = 0.01  # ≈ 1 km: beyond the assignment's nearest-village distance
MARK_ALL_ABOVE = 200  # more changed villages than this: mark every located customer instead of per-village boxes


@dataclass(frozen=True)
class ImportFields:
    code: str = "code"
    name: str = "name"
    parent_code: str | None = "parent_code"
    parent_name: str | None = None
    layer: str | None = None


def authorize(actor: Actor) -> None:
    if not actor.has(Role.ADMIN, Role.HEAD_OFFICE):
        raise forbidden("导入网格", "import the grid")


async def import_villages(actor: Actor, path: str | Path, fields: ImportFields = ImportFields()) -> Job:
    """Check and import a village layer; returns the recorded job (SUCCEEDED with counts, or FAILED with
    the problems and nothing written)."""
    authorize(actor)
    try:
        frame = read_features(path, fields.layer)
    except ImportFileError as error:
        raise DomainError(ErrorCode.INVALID_VALUE, error.message_zh, error.message_en, "file") from None
    townships = {t.code: t for t in await GridNode.filter(level=GridLevel.TOWNSHIP)}
    county = await GridNode.filter(level=GridLevel.COUNTY).first()
    outline = shapely.geometry.shape(county.polygon) if county is not None and county.polygon else None
    checked = prepare_villages(
        frame,
        code_field=fields.code,
        name_field=fields.name,
        parent_code_field=fields.parent_code,
        parent_name_field=fields.parent_name,
        known_parents={code: t.name for code, t in townships.items()},
        outline=outline,
    )
    report = _report(checked, Path(path).name)
    started = datetime.now(UTC)
    if not checked.ok:
        job = await Job.create(
            kind=KIND, status=JobStatus.FAILED, params={"file": Path(path).name}, created_by_id=actor.staff_id,
            started_at=started, finished_at=datetime.now(UTC), result=report,
            error=f"{sum(p['severity'] == 'error' for p in report['problems'])} errors: nothing was imported",
        )  # fmt: skip
        await record(actor, "grid.import.refused", "Job", job.id, {"file": Path(path).name})
        return job
    async with in_transaction() as conn:
        counts = await _write_villages(conn, checked, townships)
        report["counts"] = counts
        job = await Job.create(
            kind=KIND, status=JobStatus.SUCCEEDED, params={"file": Path(path).name}, created_by_id=actor.staff_id,
            started_at=started, finished_at=datetime.now(UTC), result=report, using_db=conn,
        )  # fmt: skip
        if counts["customers_to_place"]:
            key = f"grid_import:{job.id}:assign"
            await outbox.enqueue("start_assignment", ["PENDING", actor.staff_id, key], key, using_db=conn)
        await record(actor, "grid.import", "Job", job.id, counts, using_db=conn)
    outbox.wake()
    return job


def _report(checked: GridImport, file_name: str) -> dict[str, Any]:
    return {
        "file": file_name,
        "features_ok": len(checked.villages),
        "problems": [
            {"feature": p.feature, "code": p.code, "kind": p.kind, "severity": p.severity,
             "message_zh": p.message_zh, "message_en": p.message_en}
            for p in checked.problems
        ],
        "overlaps": [
            {"code_a": o.code_a, "code_b": o.code_b, "area_m2": round(o.area_m2, 1)} for o in checked.overlaps
        ],
        "gap_area_m2": None if math.isnan(checked.gap_area_m2) else round(checked.gap_area_m2, 1),
    }  # fmt: skip


async def _write_villages(
    conn: BaseDBAsyncClient, checked: GridImport, townships: dict[str, GridNode]
) -> dict[str, int]:
    existing = {v.code: v for v in await GridNode.filter(level=GridLevel.VILLAGE).using_db(conn)}
    created = updated = unchanged = 0
    changed_shapes: list[tuple[Any, Any]] = []
    for row in checked.villages.itertuples():
        parent = townships[str(row.parent_code)]
        geometry = shapely.geometry.mapping(row.geometry)
        polygon = _rounded(geometry)
        centroid = row.geometry.representative_point()
        village = existing.get(str(row.code))
        if village is None:
            node = await GridNode.create(
                level=GridLevel.VILLAGE, name=str(row.name), code=str(row.code), parent_id=parent.id, path="/",
                depth=parent.depth + 1, polygon=polygon, centroid_lon=centroid.x, centroid_lat=centroid.y,
                using_db=conn,
            )  # fmt: skip
            await GridNode.filter(id=node.id).using_db(conn).update(path=f"{parent.path}{node.id}/")
            changed_shapes.append((None, row.geometry))
            created += 1
            continue
        old_shape = shapely.geometry.shape(village.polygon) if village.polygon else None
        moved_parent = village.parent_id != parent.id  # type: ignore[attr-defined]
        same = (
            not moved_parent and village.name == str(row.name)
            and old_shape is not None
            and shapely.equals_exact(old_shape, shapely.geometry.shape(polygon), tolerance=1e-7)
        )  # fmt: skip
        if same:
            unchanged += 1
            continue
        await GridNode.filter(id=village.id).using_db(conn).update(
            name=str(row.name), polygon=polygon, centroid_lon=centroid.x, centroid_lat=centroid.y,
            parent_id=parent.id, depth=parent.depth + 1, updated_at=datetime.now(UTC),
        )  # fmt: skip
        if moved_parent:
            await _move_subtree(conn, village.path, f"{parent.path}{village.id}/")
        changed_shapes.append((old_shape, row.geometry))
        updated += 1
    to_place = await _mark_affected(conn, changed_shapes)
    return {"created": created, "updated": updated, "unchanged": unchanged, "customers_to_place": to_place}


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
