"""Importing village polygons: files written here in each format and CRS, features broken in every way."""

from __future__ import annotations

import math
import pathlib
import zipfile
from typing import Any

import geopandas
import numpy as np
import pandas
import pytest
import shapely
from shapely.geometry import LineString, Polygon, box

from geo.importing import GridImport, ImportFileError, Overlap, prepare_villages, read_features

TOWNSHIPS = {"320324101": "王集镇", "320324102": "官山镇"}
WANGJI, GUANSHAN = "320324101", "320324102"


def block(columns: int = 2, rows: int = 2) -> geopandas.GeoDataFrame:
    """columns × rows villages, 0.01° squares tiling a rectangle near 睢宁, in EPSG:4326."""
    cells = [(c, r) for r in range(rows) for c in range(columns)]
    return geopandas.GeoDataFrame(
        {
            "code": [f"3203241012{i:02d}" for i in range(len(cells))],
            "name": [f"第{i}村" for i in range(len(cells))],
            "parent": [WANGJI if c < columns / 2 else GUANSHAN for c, _ in cells],
        },
        geometry=[box(117.9 + 0.01 * c, 33.9 + 0.01 * r, 117.91 + 0.01 * c, 33.91 + 0.01 * r) for c, r in cells],
        crs="EPSG:4326",
    )


def write(frame: geopandas.GeoDataFrame, path: pathlib.Path, **kwargs: str) -> pathlib.Path:
    frame.to_file(path, engine="pyogrio", **kwargs)
    return path


def prepare(frame: geopandas.GeoDataFrame, **kwargs: Any) -> GridImport:
    options: dict[str, Any] = {"parent_code_field": "parent", "known_parents": TOWNSHIPS, **kwargs}
    return prepare_villages(frame, **options)


def kinds(result: GridImport) -> list[tuple[int | None, str, str]]:
    return [(p.feature, p.kind, p.severity) for p in result.problems]


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp"])
@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:4547", "EPSG:32650"])
def test_every_format_and_crs_imports_the_same_villages(tmp_path: pathlib.Path, suffix: str, crs: str) -> None:
    source = block()
    path = write(source.to_crs(crs), tmp_path / f"villages{suffix}")
    result = prepare(read_features(path))
    assert result.ok
    assert result.problems == []
    assert result.overlaps == []
    assert result.gap_area_m2 == pytest.approx(0.0, abs=1.0)
    villages = result.villages
    assert list(villages.columns) == ["code", "name", "parent_code", "parent_name", "geometry"]
    assert villages.crs == "EPSG:4326"
    assert villages.index.tolist() == [0, 1, 2, 3]
    assert villages["code"].tolist() == source["code"].tolist()
    assert villages["name"].tolist() == source["name"].tolist()
    assert villages["parent_code"].tolist() == [WANGJI, GUANSHAN, WANGJI, GUANSHAN]
    assert villages["parent_name"].tolist() == ["王集镇", "官山镇", "王集镇", "官山镇"]
    assert shapely.is_valid(villages.geometry.to_numpy()).all()
    # equal to the source after reprojection, within a millimetre or so
    assert shapely.hausdorff_distance(villages.geometry.to_numpy(), source.geometry.to_numpy()).max() < 1e-8


def test_every_bad_feature_is_reported(tmp_path: pathlib.Path) -> None:
    def square(i: int) -> Polygon:
        return box(117.9 + 0.01 * i, 33.9, 117.91 + 0.01 * i, 33.91)

    features = [
        ("320324101200", "好村", WANGJI, square(0)),
        (
            "320324101201",
            "蝴蝶村",
            WANGJI,
            Polygon([(117.91, 33.9), (117.92, 33.91), (117.92, 33.9), (117.91, 33.91)]),
        ),
        ("320324101202", "空村", WANGJI, None),
        (None, "无码村", WANGJI, square(3)),
        ("320324101204", "重码一村", WANGJI, square(4)),
        ("320324101204", "重码二村", WANGJI, square(5)),
        ("320324101206", "外镇村", "320324999", square(6)),
        ("320324101207", "  ", WANGJI, square(7)),
        ("320324101208", "线村", WANGJI, LineString([(117.98, 33.9), (117.99, 33.91)])),
        ("320324101209", "颠倒村", WANGJI, box(33.9, 117.99, 33.91, 118.0)),
        (
            "320324101210",
            "尖刺村",
            WANGJI,
            Polygon(
                [
                    (118.0, 33.9),
                    (118.01, 33.9),
                    (118.01, 33.91),
                    (118.0, 33.91),
                    (118.0, 33.9),
                    (118.005, 33.905),
                ]
            ),
        ),
    ]
    frame = geopandas.GeoDataFrame(
        {
            "code": [f[0] for f in features],
            "name": [f[1] for f in features],
            "parent": [f[2] for f in features],
        },
        geometry=[f[3] for f in features],
        crs="EPSG:4326",
    )
    result = prepare(read_features(write(frame, tmp_path / "bad.gpkg")))
    assert not result.ok
    assert kinds(result) == [
        (1, "REPAIRED_GEOMETRY", "warning"),
        (2, "EMPTY_GEOMETRY", "error"),
        (3, "MISSING_ATTRIBUTE", "error"),
        (4, "DUPLICATE_CODE", "error"),
        (5, "DUPLICATE_CODE", "error"),
        (6, "UNKNOWN_PARENT", "error"),
        (7, "MISSING_ATTRIBUTE", "error"),
        (8, "INVALID_GEOMETRY", "error"),
        (9, "OUTSIDE_CHINA", "error"),
        (10, "REPAIRED_GEOMETRY", "warning"),
    ]
    by_feature = {p.feature: p for p in result.problems}
    assert by_feature[1].code == "320324101201"
    assert "Self-intersection" in by_feature[1].message_en
    assert by_feature[3].code is None
    assert "编码" in by_feature[3].message_zh
    assert "field 'code'" in by_feature[3].message_en
    assert "field 'name'" in by_feature[7].message_en
    assert "#5" in by_feature[4].message_en
    assert "320324999" in by_feature[6].message_zh
    assert result.villages.index.tolist() == [0, 1, 10]
    bowtie = result.villages.geometry.loc[1]
    assert bowtie.geom_type == "MultiPolygon"
    assert bowtie.is_valid
    assert bowtie.area == pytest.approx(0.01 * 0.01 / 2)
    spike = result.villages.geometry.loc[10]
    assert (spike.geom_type, spike.is_valid) == ("Polygon", True)
    assert spike.area == pytest.approx(0.01 * 0.01)


def test_a_file_without_crs_in_metres_is_refused(tmp_path: pathlib.Path) -> None:
    path = write(block().to_crs("EPSG:4547"), tmp_path / "metres.shp")
    path.with_suffix(".prj").unlink()
    frame = read_features(path)
    assert frame.crs is None
    result = prepare(frame)
    assert kinds(result) == [(None, "NO_CRS", "error")]
    assert not result.ok
    assert result.villages.empty
    assert list(result.villages.columns) == ["code", "name", "parent_code", "parent_name", "geometry"]
    assert result.overlaps == []
    assert math.isnan(result.gap_area_m2)


def test_a_file_without_crs_in_longitude_latitude_is_assumed_wgs84(tmp_path: pathlib.Path) -> None:
    path = write(block(), tmp_path / "lonlat.shp")
    path.with_suffix(".prj").unlink()
    result = prepare(read_features(path))
    assert kinds(result) == [(None, "NO_CRS", "warning")]
    assert result.ok
    assert len(result.villages) == 4
    assert result.villages.crs == "EPSG:4326"


def test_swapped_axes_and_a_wrong_declared_crs_are_outside_china(tmp_path: pathlib.Path) -> None:
    swapped = block()
    swapped["geometry"] = shapely.transform(swapped.geometry.to_numpy(), lambda xy: xy[:, ::-1])
    result = prepare(read_features(write(swapped, tmp_path / "swapped.geojson")))
    assert kinds(result) == [(i, "OUTSIDE_CHINA", "error") for i in range(4)]
    assert "33.9" in result.problems[0].message_en
    # metres declared as degrees
    mislabelled = block().to_crs("EPSG:32650").set_crs("EPSG:4326", allow_override=True)
    result = prepare(read_features(write(mislabelled, tmp_path / "mislabelled.gpkg")))
    assert kinds(result) == [(i, "OUTSIDE_CHINA", "error") for i in range(4)]


def metric_squares(*boxes: tuple[float, float, float, float]) -> geopandas.GeoDataFrame:
    """Villages given as boxes in metres (UTM zone 50), returned in EPSG:4326."""
    return geopandas.GeoDataFrame(
        {
            "code": [f"32032410120{i}" for i in range(len(boxes))],
            "name": [f"第{i}村" for i in range(len(boxes))],
            "parent": WANGJI,
        },
        geometry=[box(*b) for b in boxes],
        crs="EPSG:32650",
    ).to_crs("EPSG:4326")


def test_overlaps_are_reported_with_their_area() -> None:
    x, y = 400_000.0, 3_750_000.0
    frame = metric_squares(
        (x, y, x + 1000, y + 1000),
        (x + 800, y, x + 1800, y + 1000),  # overlaps the first by 200 m × 1000 m
        (x + 1800, y, x + 2800, y + 1000),  # shares a border with the second only
        (x + 2799.5, y, x + 3800, y + 1000),  # overlaps the third by 0.5 m × 1000 m
    )
    result = prepare(frame)
    assert result.ok
    assert [(o.code_a, o.code_b) for o in result.overlaps] == [
        ("320324101200", "320324101201"),
        ("320324101202", "320324101203"),
    ]
    assert result.overlaps[0].area_m2 == pytest.approx(200_000, rel=0.01)
    assert result.overlaps[1].area_m2 == pytest.approx(500, rel=0.01)
    bigger = prepare(frame, min_area_m2=1000.0)
    assert bigger.overlaps == [Overlap("320324101200", "320324101201", bigger.overlaps[0].area_m2)]


def test_gap_area_against_an_outline_and_against_the_convex_hull() -> None:
    x, y = 400_000.0, 3_750_000.0
    frame = metric_squares((x, y, x + 1000, y + 1000), (x + 1000, y, x + 1500, y + 1000))
    outline = geopandas.GeoSeries([box(x, y, x + 2000, y + 1000)], crs="EPSG:32650").to_crs("EPSG:4326").iloc[0]
    assert prepare(frame, outline=outline).gap_area_m2 == pytest.approx(500 * 1000, rel=0.01)
    assert prepare(frame).gap_area_m2 == pytest.approx(0.0, abs=1.0)  # a rectangle is its own hull
    l_shape = metric_squares(
        (x, y, x + 1000, y + 1000), (x + 1000, y, x + 2000, y + 1000), (x, y + 1000, x + 1000, y + 2000)
    )
    assert prepare(l_shape).gap_area_m2 == pytest.approx(500_000, rel=0.01)  # the hull's missing triangle


def test_parents_by_name_and_known_parents_either_way() -> None:
    frame = block(2, 1)
    frame["township"] = ["王集镇", "官山镇"]
    by_name = prepare_villages(
        frame,
        parent_code_field=None,
        parent_name_field="township",
        known_parents={name: code for code, name in TOWNSHIPS.items()},
    )
    assert by_name.ok
    assert by_name.villages["parent_code"].tolist() == [WANGJI, GUANSHAN]
    assert by_name.villages["parent_name"].tolist() == ["王集镇", "官山镇"]
    reversed_map = prepare_villages(
        frame, parent_code_field=None, parent_name_field="township", known_parents=TOWNSHIPS
    )
    assert reversed_map.villages["parent_code"].tolist() == [WANGJI, GUANSHAN]
    no_hierarchy = prepare_villages(frame, parent_code_field=None)
    assert no_hierarchy.ok
    assert no_hierarchy.villages["parent_code"].isna().all()
    unchecked = prepare_villages(frame, parent_code_field="parent")
    assert unchecked.villages["parent_code"].tolist() == [WANGJI, GUANSHAN]
    assert unchecked.villages["parent_name"].isna().all()


def test_numeric_codes_read_as_text_and_missing_fields_are_file_errors() -> None:
    frame = block(3, 1)
    frame["code"] = pandas.array([320324101201.0, np.nan, 320324101203.0], dtype="float64")
    frame["parent"] = pandas.array([320324101, 320324101, 320324101], dtype="int64")
    result = prepare(frame)
    assert kinds(result) == [(1, "MISSING_ATTRIBUTE", "error")]
    assert result.villages["code"].tolist() == ["320324101201", "320324101203"]
    assert result.villages["parent_code"].tolist() == [WANGJI, WANGJI]

    missing = prepare(block(), code_field="xzqdm")
    assert kinds(missing) == [(None, "MISSING_ATTRIBUTE", "error")]
    assert "xzqdm" in missing.problems[0].message_zh
    assert missing.villages.empty


def test_read_features_refuses_unreadable_files(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ImportFileError) as missing:
        read_features(tmp_path / "nowhere.geojson")
    assert "找不到文件" in missing.value.message_zh
    garbage = tmp_path / "garbage.geojson"
    garbage.write_text("not json", encoding="utf-8")
    with pytest.raises(ImportFileError) as unreadable:
        read_features(garbage)
    assert "garbage.geojson" in unreadable.value.message_en
    layers = tmp_path / "layers.gpkg"
    write(block(), layers, layer="villages")
    write(block(1, 1), layers, layer="townships")
    with pytest.raises(ImportFileError) as several:
        read_features(layers)
    assert "villages" in several.value.message_en
    assert len(read_features(layers, layer="villages")) == 4
    with pytest.raises(ImportFileError):
        read_features(layers, layer="roads")


def zipped(tmp_path: pathlib.Path, frame: geopandas.GeoDataFrame, folder: str = "", extra: str = "") -> pathlib.Path:
    """The frame as a Shapefile zipped, its parts under `folder` in the archive, with an `extra` member."""
    tmp_path.mkdir(exist_ok=True)
    shapefile = write(frame, tmp_path / "villages.shp")
    archive = tmp_path / "villages.zip"
    with zipfile.ZipFile(archive, "w") as target:
        for part in sorted(tmp_path.glob("villages.*")):
            if part != archive:
                target.write(part, f"{folder}{part.name}")
        target.writestr("__MACOSX/._villages.shp", b"resource fork")
        if extra:
            target.writestr(extra, b"<OGRVRTDataSource/>")
    for part in tmp_path.glob("villages.*"):
        if part != archive:
            part.unlink()
    assert not shapefile.exists()
    return archive


@pytest.mark.parametrize("folder", ["", "边界/村/"])
def test_a_zipped_shapefile_is_read_at_the_top_or_in_a_folder(tmp_path: pathlib.Path, folder: str) -> None:
    source = block()
    result = prepare(read_features(zipped(tmp_path, source.to_crs("EPSG:4547"), folder)))
    assert result.ok
    assert result.villages["code"].tolist() == source["code"].tolist()
    assert shapely.hausdorff_distance(result.villages.geometry.to_numpy(), source.geometry.to_numpy()).max() < 1e-8


def test_a_zip_holding_anything_but_a_shapefile_is_refused(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ImportFileError) as other:
        read_features(zipped(tmp_path / "a", block(), extra="secrets.vrt"))
    assert "secrets.vrt" in other.value.message_en
    (tmp_path / "b").mkdir()
    with zipfile.ZipFile(tmp_path / "b" / "empty.zip", "w") as archive:
        archive.writestr("villages.dbf", b"")
    with pytest.raises(ImportFileError) as empty:
        read_features(tmp_path / "b" / "empty.zip")
    assert empty.value.message_en == "The zip empty.zip holds no Shapefile (.shp)"
    not_a_zip = tmp_path / "b" / "broken.zip"
    not_a_zip.write_bytes(b"PK\x03\x04 but nothing after")
    with pytest.raises(ImportFileError) as broken:
        read_features(not_a_zip)
    assert "broken.zip" in broken.value.message_en


def test_read_errors_never_show_the_folder(tmp_path: pathlib.Path) -> None:
    garbage = tmp_path / "garbage.geojson"
    garbage.write_text("not json", encoding="utf-8")
    with pytest.raises(ImportFileError) as unreadable:
        read_features(garbage)
    assert str(tmp_path) not in unreadable.value.message_en
    assert str(tmp_path) not in unreadable.value.message_zh


def test_a_code_another_level_already_has_is_an_error() -> None:
    result = prepare(block(2, 1), taken_codes={"320324101201", "320324"})
    assert kinds(result) == [(1, "CODE_IN_USE", "error")]
    assert result.villages.index.tolist() == [0]
    assert "320324101201" in result.problems[0].message_en


def test_a_partial_layer_is_checked_against_the_nodes_it_leaves_in_place() -> None:
    grid = block(3, 1)  # three villages in a row, as the grid has them
    redrawn = grid.iloc[[1]].copy()  # the file redraws the middle one, 0.002° (≈ 190 m) further east
    redrawn["geometry"] = redrawn.geometry.translate(xoff=0.002)
    result = prepare(redrawn, neighbours=grid[["code", "geometry"]])
    assert result.ok
    # it now overlaps its eastern neighbour, which stays; its own old shape is replaced, not compared
    assert [(o.code_a, o.code_b) for o in result.overlaps] == [("320324101201", "320324101202")]
    assert result.overlaps[0].area_m2 == pytest.approx(0.002 * 0.01 * 111_000 * 111_000 * 0.83, rel=0.05)
    # and leaves a strip uncovered beside its western neighbour, measured within the three together
    assert result.gap_area_m2 == pytest.approx(result.overlaps[0].area_m2, rel=0.01)
    # without the neighbours, one square: nothing overlaps, no gap
    alone = prepare(redrawn)
    assert (alone.overlaps, alone.gap_area_m2) == ([], pytest.approx(0.0, abs=1.0))
