"""importGrid: a file uploaded as a GraphQL multipart request (operations, map, file parts), imported as
villages or townships; refused files and refused users change nothing; the size limit, at the mutation and at
the HTTP door."""

from __future__ import annotations

import dataclasses
import io
import json
import tempfile
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import resolvers.grid.uploads
from app import create_app
from models import AuditLog, Customer, GridLevel, GridNode, Job, OutboxMessage
from settings import SETTINGS
from tests.factories import ROLES, Api, World, make_customer, new_id_number
from tests.grid_files import grid_snapshot, square, write_layer

IMPORT = """
mutation($file: Upload!, $level: GridImportLevel!, $parentCodeField: String) {
  importGrid(file: $file, level: $level, parentCodeField: $parentCodeField) {
    __typename
    ... on Job { kind status error
      gridImport { file level featuresOk gapAreaM2
        problems { feature code kind severity messageZh messageEn }
        counts { created updated unchanged customersToPlace } } }
    ... on JobError { code field messageZh messageEn }
  }
}
"""
PREFLIGHT = {"X-Palmcredit-Request": "1"}  # a multipart post must show it is no cross-site form

NEW_VILLAGE = "320324101003"


@pytest.fixture
def temp_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the upload's temporary folder goes during the test, to see that it is gone afterwards."""
    folder = tmp_path / "server-temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def villages_file(tmp_path: Path, world: World, *, bad: bool = False) -> bytes:
    """张庄村 redrawn and a new village beside it; with `bad`, one nameless and one in an unknown township."""
    wangji = world.township1.code
    rows = [
        (world.village1a.code, "张庄村", wangji, square(117.90, 33.90, 0.012)),
        (NEW_VILLAGE, "" if bad else "新庄村", wangji, square(117.92, 33.90)),
    ]
    if bad:
        rows.append(("320324109001", "外村", "320324109", square(117.93, 33.90)))
    features = [{"code": c, "name": n, "parent_code": p, "geometry": g} for c, n, p, g in rows]
    return write_layer(tmp_path / "upload" / "villages.geojson", features).read_bytes()


async def upload(
    api: Api, user: str | None, file_name: str, content: bytes, **variables: Any
) -> dict[str, Any]:  # fmt: skip
    """POST a GraphQL multipart request, as `user` (None: signed out)."""
    operations = {"query": IMPORT, "variables": {"level": "VILLAGE", **variables, "file": None}}
    response = await api.client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (file_name, content, "application/octet-stream")},
        headers=PREFLIGHT | ({"Authorization": f"Bearer {await api.token(user)}"} if user else {}),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def leftovers(folder: Path) -> list[str]:
    return [path.name for path in folder.iterdir()]


async def everything() -> tuple[str, int, int, int, list[bool]]:
    """The grid, the jobs, the outbox, the audit log and the customers' placement marks."""
    marks = await Customer.all().order_by("id").values_list("needs_placement", flat=True)
    counts = (await Job.all().count(), await OutboxMessage.all().count(), await AuditLog.all().count())
    return (await grid_snapshot(), *counts, list(marks))


async def test_an_administrator_uploads_villages(api: Api, world: World, tmp_path: Path, temp_folder: Path) -> None:
    located = await make_customer(
        world.village1a, world.staff["manager1a"], "甲", id_number=new_id_number(), lon=117.911, lat=33.905
    )
    body = await upload(api, "admin", "睢宁县村界.geojson", villages_file(tmp_path, world))

    result = body["data"]["importGrid"]
    assert (result["__typename"], result["kind"], result["status"], result["error"]) == (
        "Job", "grid_import", "SUCCEEDED", ""
    )  # fmt: skip
    report = result["gridImport"]
    assert (report["file"], report["level"], report["featuresOk"], report["problems"]) == (
        "睢宁县村界.geojson", "VILLAGE", 2, []
    )  # fmt: skip
    assert report["counts"] == {"created": 1, "updated": 1, "unchanged": 0, "customersToPlace": 1}
    village = await GridNode.get(code=world.village1a.code)
    assert (village.id, village.polygon["type"]) == (world.village1a.id, "Polygon")
    new = await GridNode.get(code=NEW_VILLAGE)
    assert (new.level, new.path) == (GridLevel.VILLAGE, f"{world.township1.path}{new.id}/")
    assert (await Customer.get(id=located.id)).needs_placement is True
    assert await OutboxMessage.filter(task="start_job").count() == 1
    assert leftovers(temp_folder) == []  # the upload was deleted


async def test_a_bad_file_uploaded_is_refused_with_its_problems(
    api: Api, world: World, tmp_path: Path, temp_folder: Path
) -> None:
    content = villages_file(tmp_path, world, bad=True)
    await api.token("admin")
    before = await everything()

    body = await upload(api, "admin", "villages.geojson", content)

    result = body["data"]["importGrid"]
    assert (result["__typename"], result["status"], result["error"]) == (
        "Job", "FAILED", "2 errors: nothing was imported"
    )  # fmt: skip
    report = result["gridImport"]
    assert report["counts"] is None
    assert [(p["feature"], p["code"], p["kind"], p["severity"]) for p in report["problems"]] == [
        (1, NEW_VILLAGE, "MISSING_ATTRIBUTE", "ERROR"),
        (2, "320324109001", "UNKNOWN_PARENT", "ERROR"),
    ]
    assert report["problems"][0]["messageEn"] == f"Feature #1 (code {NEW_VILLAGE}): no name (field 'name')"
    assert report["problems"][1]["messageZh"].startswith("要素 #2（编码 320324109001）")
    grid, jobs, outbox, audit, marks = await everything()
    assert (grid, outbox, marks) == (before[0], before[2], before[4])
    assert (jobs, audit) == (before[1] + 1, before[3] + 1)  # the refused run and its audit row, nothing else
    assert leftovers(temp_folder) == []


@pytest.mark.parametrize("user", ROLES)
async def test_only_head_office_and_the_administrator_may_import(
    api: Api, world: World, tmp_path: Path, user: str
) -> None:
    content = villages_file(tmp_path, world)
    await api.token(user)
    before = await everything()

    body = await upload(api, user, "villages.geojson", content)

    result = body["data"]["importGrid"]
    if user in ("head", "admin"):
        assert (result["__typename"], result["status"]) == ("Job", "SUCCEEDED")
        return
    assert result == {
        "__typename": "JobError",
        "code": "FORBIDDEN",
        "field": None,
        "messageZh": "无权导入网格",
        "messageEn": "not allowed to import the grid",
    }
    assert await everything() == before


async def test_signed_out_uploads_are_refused(api: Api, world: World, tmp_path: Path) -> None:
    before = await everything()
    body = await upload(api, None, "villages.geojson", villages_file(tmp_path, world))
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await everything() == before


async def test_townships_upload_as_a_zipped_shapefile(api: Api, world: World, tmp_path: Path) -> None:
    layer = write_layer(
        tmp_path / "shp" / "乡镇.shp",
        [
            {"code": world.township1.code, "name": "王集镇", "geometry": square(117.90, 33.90, 0.02, 0.02)},
            {"code": "320324103", "name": "官山镇", "geometry": square(117.92, 33.90, 0.02, 0.02)},
        ],
        crs="EPSG:4547",
    )
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as target:
        for part in sorted(layer.parent.iterdir()):
            target.write(part, f"乡镇边界/{part.name}")

    body = await upload(api, "head", "townships.zip", archive.getvalue(), level="TOWNSHIP")

    report = body["data"]["importGrid"]["gridImport"]
    assert (report["level"], report["problems"]) == ("TOWNSHIP", [])
    assert report["counts"] == {"created": 1, "updated": 1, "unchanged": 0, "customersToPlace": 0}
    guanshan = await GridNode.get(code="320324103")
    assert (guanshan.level, guanshan.parent_id) == (GridLevel.TOWNSHIP, world.county.id)  # type: ignore[attr-defined]
    assert (await GridNode.get(code=world.township1.code)).id == world.township1.id


@pytest.mark.parametrize(
    ("file_name", "content", "message_en"),
    [
        ("villages.shp", b"\x00\x00\x27\x0a", "files of this type (.shp) cannot be imported"),
        ("villages", b"{}", "files of this type (no extension) cannot be imported"),
        ("villages.geojson", b"<OGRVRTDataSource/>", "the file's content is not GeoJSON, as its extension .geojson"),
        ("villages.gpkg", b'{"type": "FeatureCollection"}', "the file's content is not GeoPackage"),
        ("villages.zip", b"PK\x03\x04 broken", "the zip is damaged and cannot be read"),
        ("villages.geojson", b'{"type": "FeatureCollection", "features": [', "Cannot read villages.geojson"),
    ],
)  # fmt: skip
async def test_files_that_are_not_a_layer_are_refused(
    api: Api, world: World, temp_folder: Path, file_name: str, content: bytes, message_en: str
) -> None:
    await api.token("admin")
    before = await everything()
    result = (await upload(api, "admin", file_name, content))["data"]["importGrid"]
    assert (result["__typename"], result["code"], result["field"]) == ("JobError", "INVALID_VALUE", "file")
    assert result["messageEn"].startswith(message_en)
    assert result["messageZh"]
    assert str(temp_folder) not in result["messageEn"]
    assert await everything() == before
    assert leftovers(temp_folder) == []


async def test_a_file_variable_sent_as_json_is_refused(api: Api, world: World) -> None:
    body = await api.as_("admin", IMPORT, {"file": "villages.geojson", "level": "VILLAGE"})
    assert body["data"]["importGrid"]["code"] == "INVALID_VALUE"
    assert body["data"]["importGrid"]["field"] == "file"


async def test_a_file_over_the_limit_is_refused(
    api: Api, world: World, tmp_path: Path, temp_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = villages_file(tmp_path, world)
    assert len(content) > 512
    monkeypatch.setattr(resolvers.grid.uploads, "SETTINGS", dataclasses.replace(SETTINGS, max_upload_bytes=512))
    await api.token("admin")
    before = await everything()

    result = (await upload(api, "admin", "villages.geojson", content))["data"]["importGrid"]

    assert result == {
        "__typename": "JobError",
        "code": "INVALID_VALUE",
        "field": "file",
        "messageZh": "文件超过 0.5 KB 的上限",
        "messageEn": "the file is larger than the 0.5 KB limit",
    }
    assert await everything() == before
    assert leftovers(temp_folder) == []


@pytest.fixture
async def small_door(database: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose upload limit is 1 KB."""
    app = create_app(dataclasses.replace(SETTINGS, max_upload_bytes=1024), manage_orm=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client


async def test_a_body_far_over_the_limit_is_refused_before_it_is_read(
    api: Api, world: World, small_door: httpx.AsyncClient
) -> None:
    token = await api.token("admin")
    before = await everything()
    operations = json.dumps({"query": IMPORT, "variables": {"level": "VILLAGE", "file": None}})
    response = await small_door.post(
        "/graphql",
        data={"operations": operations, "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("villages.geojson", b"{" + b" " * 400_000 + b"}", "application/geo+json")},
        headers={"Authorization": f"Bearer {token}", **PREFLIGHT},
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"] == {
        "code": "INVALID_VALUE",
        "field": "file",
        "messageZh": "上传的文件超过 1 KB 的上限",
        "messageEn": "the upload is larger than the 1 KB limit",
    }

    async def chunked() -> AsyncIterator[bytes]:
        yield b"--boundary\r\n"

    unstated = await small_door.post(
        "/graphql",
        content=chunked(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "multipart/form-data; boundary=boundary",
            **PREFLIGHT,
        },
    )
    assert unstated.status_code == 411
    assert unstated.json()["errors"][0]["extensions"]["field"] == "file"
    assert await everything() == before


async def test_overlapping_villages_are_imported_and_their_overlaps_listed(
    api: Api, world: World, tmp_path: Path
) -> None:
    wangji = world.township1.code
    features = [
        {"code": NEW_VILLAGE, "name": "新庄村", "parent_code": wangji, "geometry": square(117.92, 33.90)},
        {"code": "320324101004", "name": "东庄村", "parent_code": wangji, "geometry": square(117.925, 33.90)},
    ]
    content = write_layer(tmp_path / "upload" / "overlapping.geojson", features).read_bytes()
    operations = {
        "query": "mutation($file: Upload!) { importGrid(file: $file) { __typename ... on Job { status "
        "gridImport { overlaps { codeA codeB areaM2 } counts { created } } } } }",
        "variables": {"file": None},
    }
    response = await api.client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("overlapping.geojson", content, "application/octet-stream")},
        headers={"Authorization": f"Bearer {await api.token('admin')}", **PREFLIGHT},
    )
    body = response.json()
    assert "errors" not in body
    result = body["data"]["importGrid"]
    assert (result["__typename"], result["status"]) == ("Job", "SUCCEEDED")
    (overlap,) = result["gridImport"]["overlaps"]
    assert (overlap["codeA"], overlap["codeB"]) == (NEW_VILLAGE, "320324101004")
    assert overlap["areaM2"] == 512938.8  # 0.005° × 0.01° at 33.9°N
    assert result["gridImport"]["counts"] == {"created": 2}
