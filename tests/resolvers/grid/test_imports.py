"""Importing townships, and villages after them: created or updated by code keeping ids (and so the villages,
staff scope and KPIs that hang on a township), moved between parents, and a bad file refused whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import shapely

from domain.access import Actor
from domain.errors import DomainError
from models import AuditLog, Customer, GridKpi, GridLevel, GridNode, Job, JobStatus, OutboxMessage, Staff
from resolvers.grid.imports import GridImportLevel, ImportFields, import_grid, import_townships, import_villages
from resolvers.grid.kpis import roll_up_kpis
from resolvers.platform.auth import actor_for
from tests.factories import World, make_customer, make_node, new_id_number
from tests.grid_files import grid_snapshot, square, write_layer

WANGJI, SHUANGGOU, GUANSHAN = "320324101", "320324102", "320324103"
COUNTY_OUTLINE = square(117.80, 33.80, 0.30, 0.20)


def townships(**names: str) -> list[dict[str, Any]]:
    """王集镇 and 双沟镇 of the world side by side, 0.02° × 0.02° and 0.04° × 0.02°, and a new 官山镇 east of them."""
    return [
        {"code": WANGJI, "name": names.get("wangji", "王集镇"), "geometry": square(117.90, 33.90, 0.02, 0.02)},
        {"code": SHUANGGOU, "name": names.get("shuanggou", "双沟镇"), "geometry": square(117.92, 33.90, 0.04, 0.02)},
        {"code": GUANSHAN, "name": "官山镇", "geometry": square(117.96, 33.90, 0.02, 0.02)},
    ]


async def as_user(world: World, username: str) -> Actor:
    staff = await Staff.get(id=world.staff[username].id).prefetch_related("scope")
    return actor_for(staff)


async def test_townships_are_created_and_updated_keeping_their_ids(world: World, tmp_path: Path) -> None:
    await roll_up_kpis("2026-11")
    located = await make_customer(
        world.village1a, world.staff["manager1a"], "甲", id_number=new_id_number(), lon=117.905, lat=33.905
    )
    path = write_layer(tmp_path / "townships.gpkg", townships(shuanggou="双沟街道"), crs="EPSG:4547")

    job = await import_townships(await as_user(world, "admin"), path)

    assert job.status == JobStatus.SUCCEEDED, job.result
    assert job.params == {"file": "townships.gpkg", "level": "TOWNSHIP"}
    assert job.result["counts"] == {"created": 1, "updated": 2, "unchanged": 0, "customers_to_place": 0}
    assert (job.result["level"], job.result["problems"], job.result["overlaps"]) == ("TOWNSHIP", [], [])
    wangji, shuanggou = await GridNode.get(code=WANGJI), await GridNode.get(code=SHUANGGOU)
    assert (wangji.id, wangji.name, wangji.path) == (world.township1.id, "王集镇", world.township1.path)
    assert (shuanggou.id, shuanggou.name) == (world.township2.id, "双沟街道")
    assert shapely.geometry.shape(wangji.polygon).equals_exact(square(117.90, 33.90, 0.02, 0.02), 1e-6)
    guanshan = await GridNode.get(code=GUANSHAN)
    assert (guanshan.level, guanshan.parent_id, guanshan.depth) == (GridLevel.TOWNSHIP, world.county.id, 1)  # type: ignore[attr-defined]
    assert guanshan.path == f"{world.county.path}{guanshan.id}/"
    # what hangs on a township stays with it
    village = await GridNode.get(id=world.village1a.id)
    assert (village.parent_id, village.path) == (world.township1.id, world.village1a.path)  # type: ignore[attr-defined]
    president = await Staff.get(id=world.staff["president1"].id).prefetch_related("scope")
    assert [node.id for node in president.scope] == [world.township1.id]
    assert await GridKpi.filter(node_id=world.township1.id, period="2026-11").count() == 1
    # customers are placed by village: nobody is marked, nothing is queued
    assert (await Customer.get(id=located.id)).needs_placement is False
    assert await Customer.filter(needs_placement=True).count() == 0
    assert await OutboxMessage.all().count() == 0
    audit = await AuditLog.get(action="grid.import")
    assert (audit.actor_username, audit.target_id) == ("admin", str(job.id))
    assert audit.changes == {"level": "TOWNSHIP", "created": 1, "updated": 2, "unchanged": 0, "customers_to_place": 0}

    again = await import_townships(await as_user(world, "head"), path)
    assert again.result["counts"] == {"created": 0, "updated": 0, "unchanged": 3, "customers_to_place": 0}
    renamed = write_layer(tmp_path / "renamed.geojson", townships(shuanggou="双沟镇", wangji="王集镇"))
    third = await import_townships(await as_user(world, "head"), renamed)
    assert third.result["counts"] == {"created": 0, "updated": 1, "unchanged": 2, "customers_to_place": 0}
    assert (await GridNode.get(id=world.township2.id)).name == "双沟镇"
    assert await GridNode.filter(level=GridLevel.TOWNSHIP).count() == 3


async def test_townships_name_their_county_by_a_parent_code_attribute(world: World, tmp_path: Path) -> None:
    county2 = await make_node("邳州市", GridLevel.COUNTY, code="320382")
    features = townships()
    for feature, county in zip(features, [county2.code, world.county.code, "999999"], strict=True):
        feature["county"] = county
    fields = ImportFields(parent_code="county")

    unknown = await import_townships(
        await as_user(world, "admin"), write_layer(tmp_path / "a.geojson", features), fields
    )
    assert unknown.status == JobStatus.FAILED
    errors = [(p["feature"], p["kind"]) for p in unknown.result["problems"] if p["severity"] == "error"]
    assert errors == [(2, "UNKNOWN_PARENT")]

    features[2]["county"] = world.county.code
    job = await import_townships(await as_user(world, "admin"), write_layer(tmp_path / "b.geojson", features), fields)
    assert job.status == JobStatus.SUCCEEDED, job.result
    # 王集镇 moved to the other county, its villages with it
    wangji = await GridNode.get(id=world.township1.id)
    assert (wangji.parent_id, wangji.path) == (county2.id, f"{county2.path}{wangji.id}/")  # type: ignore[attr-defined]
    village = await GridNode.get(id=world.village1a.id)
    assert (village.path, village.depth) == (f"{wangji.path}{village.id}/", 2)
    assert (await GridNode.get(code=GUANSHAN)).parent_id == world.county.id  # type: ignore[attr-defined]


async def test_a_bad_township_file_is_refused_and_changes_nothing(world: World, tmp_path: Path) -> None:
    features = [
        *townships()[:2],
        {"code": GUANSHAN, "name": "官山镇", "geometry": square(117.96, 33.90)},
        {"code": GUANSHAN, "name": "官山镇二", "geometry": square(117.97, 33.90)},
        {"code": "320324104", "name": "", "geometry": square(117.98, 33.90)},
        {"code": world.village1a.code, "name": "张庄镇", "geometry": square(117.99, 33.90)},
        {"code": "320324105", "name": "颠倒镇", "geometry": square(33.90, 117.99)},
    ]
    path = write_layer(tmp_path / "bad.geojson", features)
    before = await grid_snapshot()

    job = await import_townships(await as_user(world, "admin"), path)

    assert job.status == JobStatus.FAILED
    assert job.error == "5 errors: nothing was imported"
    errors = [(p["feature"], p["code"], p["kind"]) for p in job.result["problems"] if p["severity"] == "error"]
    assert errors == [
        (2, GUANSHAN, "DUPLICATE_CODE"),
        (3, GUANSHAN, "DUPLICATE_CODE"),
        (4, "320324104", "MISSING_ATTRIBUTE"),
        (5, world.village1a.code, "CODE_IN_USE"),
        (6, "320324105", "OUTSIDE_CHINA"),
    ]
    assert job.result["counts"] is None  # refused: nothing was written
    assert await grid_snapshot() == before
    assert await OutboxMessage.all().count() == 0
    assert await AuditLog.filter(action="grid.import.refused", target_id=str(job.id)).count() == 1


async def test_a_township_layer_without_a_county_field_needs_exactly_one_county(world: World, tmp_path: Path) -> None:
    await make_node("邳州市", GridLevel.COUNTY, code="320382")
    path = write_layer(tmp_path / "townships.geojson", townships())
    before = await grid_snapshot()
    with pytest.raises(DomainError) as refused:
        await import_townships(await as_user(world, "admin"), path)
    assert (refused.value.code, refused.value.field) == ("INVALID_VALUE", "parentCodeField")
    assert await grid_snapshot() == before
    assert await Job.all().count() == 0


async def test_villages_are_checked_against_the_townships_once_imported(world: World, tmp_path: Path) -> None:
    world.county.polygon = shapely.geometry.mapping(COUNTY_OUTLINE)
    await world.county.save(update_fields=["polygon"])
    tiles = [  # exactly tiling 王集镇 and 双沟镇 as the township layer draws them
        (world.village1a, "张庄村", WANGJI, square(117.90, 33.90, 0.01, 0.02)),
        (world.village1b, "李庄村", WANGJI, square(117.91, 33.90, 0.01, 0.02)),
        (world.village2a, "王庄村", SHUANGGOU, square(117.92, 33.90, 0.04, 0.02)),
    ]
    villages = write_layer(
        tmp_path / "villages.geojson",
        [{"code": v.code, "name": name, "parent_code": parent, "geometry": shape} for v, name, parent, shape in tiles],
    )
    admin = await as_user(world, "admin")

    against_county = await import_grid(admin, villages, GridImportLevel.VILLAGE)
    assert against_county.result["gap_area_m2"] > 500_000_000  # the county outside these three villages

    township_layer = [f for f in townships() if f["code"] != GUANSHAN]
    await import_townships(admin, write_layer(tmp_path / "townships.geojson", township_layer))
    against_townships = await import_villages(admin, villages)
    assert against_townships.status == JobStatus.SUCCEEDED
    assert against_townships.result["gap_area_m2"] == pytest.approx(0.0, abs=1.0)
    assert against_townships.result["counts"]["unchanged"] == 3


async def test_a_partial_village_file_reports_overlaps_with_the_villages_it_leaves(
    world: World, tmp_path: Path
) -> None:
    for village, west in ((world.village1a, 117.90), (world.village1b, 117.91), (world.village2a, 117.92)):
        village.polygon = shapely.geometry.mapping(square(west, 33.90, 0.01, 0.02))
        await village.save(update_fields=["polygon"])
    # 张庄村 redrawn 0.004° east, over a strip of 李庄村, which the file does not touch
    layer = [{"code": world.village1a.code, "name": "张庄村", "parent_code": WANGJI,
              "geometry": square(117.904, 33.90, 0.01, 0.02)}]  # fmt: skip
    job = await import_villages(await as_user(world, "admin"), write_layer(tmp_path / "one.geojson", layer))
    assert job.status == JobStatus.SUCCEEDED  # overlaps are reported, not refused
    assert [(o["code_a"], o["code_b"]) for o in job.result["overlaps"]] == [
        (world.village1a.code, world.village1b.code)
    ]
    strip_m2 = job.result["overlaps"][0]["area_m2"]
    assert strip_m2 == pytest.approx(0.004 * 0.02 * 111_000 * 111_000 * 0.83, rel=0.05)
    assert job.result["counts"]["updated"] == 1
