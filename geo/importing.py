"""Importing village (or township) polygons: read a GIS file, check every feature, repair what can be.

`read_features` reads GeoJSON, GeoPackage or Shapefile, also a Shapefile zipped (its parts at the top of the
archive or in one folder); only a file that cannot be read raises (`ImportFileError`). `prepare_villages`
never raises for bad data: it checks every feature and reports every problem it finds, each as an error (the
import must be refused) or a warning (imported, reported):

- CRS: any CRS is reprojected to EPSG:4326. A file without one is an error (NO_CRS), unless its coordinates
  are plainly longitude/latitude within China: then EPSG:4326 is assumed, with a warning.
- Position: a feature whose representative point is outside China's range (lon 73–135.5, lat 3.5–53.6)
  after reprojection is an error (OUTSIDE_CHINA): a wrong declared CRS, or swapped axes.
- Attributes: a missing or blank code, name or parent is an error (MISSING_ATTRIBUTE) naming the field; a
  code used by several features is an error on each of them (DUPLICATE_CODE); a parent absent from
  `known_parents`, when given, is an error (UNKNOWN_PARENT); a code that a grid node of another level already
  has (`taken_codes`) is an error (CODE_IN_USE).
- Geometry: a missing or empty geometry is an error (EMPTY_GEOMETRY). An invalid one is repaired
  (`shapely.make_valid`, "structure" method) and only its polygonal parts are kept, with a warning
  (REPAIRED_GEOMETRY); when no area is left, or the feature was never polygonal, it is an error
  (INVALID_GEOMETRY).

`GridImport.villages` holds the features without errors, indexed by their position in the source. Overlaps
between them and the gap they leave inside the envelope (the outline given, else their convex hull) are
measured in square metres: worked out in EPSG:4326, their areas measured in a Lambert azimuthal
equal-area projection centred on the data. Gap pieces of `min_area_m2` or less are ignored.

For townships, call `prepare_villages` on the township layer (with `parent_code_field=None` when the county
is implied); the union of the imported townships is then the `outline` of their villages.
"""

from __future__ import annotations

import math
import os
import pathlib
import zipfile
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import geopandas
import numpy as np
import numpy.typing as npt
import pandas
import pyogrio
import pyproj
import shapely

from domain.geo import CHINA_LAT, CHINA_LON, in_china

ERROR = "error"
WARNING = "warning"

_FIELD_LABELS = {
    "code": ("编码", "code"),
    "name": ("名称", "name"),
    "parent_code": ("上级编码", "parent code"),
    "parent_name": ("上级名称", "parent name"),
}
_POLYGON, _MULTIPOLYGON = 3, 6  # shapely geometry type ids
# What a zipped Shapefile may hold. Anything else is refused rather than handed to GDAL, which would open other
# formats too (a VRT, for one, can point at any file on the server).
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".shp.xml")

Bools = npt.NDArray[np.bool_]
Objects = npt.NDArray[np.object_]


class ImportFileError(Exception):
    """The file could not be read at all: missing, not a GIS format, or ambiguous (several layers)."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en


@dataclass(frozen=True)
class Problem:
    feature: int | None  # 0-based index in the source file, None for file-level problems
    code: str | None  # the feature's code when known
    kind: str  # INVALID_GEOMETRY, REPAIRED_GEOMETRY, EMPTY_GEOMETRY, MISSING_ATTRIBUTE, DUPLICATE_CODE,
    # NO_CRS, OUTSIDE_CHINA, UNKNOWN_PARENT, CODE_IN_USE
    severity: str  # "error" (the import must be refused) or "warning" (imported, reported)
    message_zh: str
    message_en: str


@dataclass(frozen=True)
class Overlap:
    code_a: str
    code_b: str
    area_m2: float


@dataclass(frozen=True)
class GridImport:
    """The outcome of an import.

    villages: the features without errors, indexed by their 0-based position in the source (index name
    "feature"); columns code, name, parent_code, parent_name (pandas str, NaN when unknown) and geometry
    (EPSG:4326, valid Polygon/MultiPolygon). Empty when the file itself has an error.
    overlaps: pairs of villages whose intersection exceeds min_area_m2, in source order.
    gap_area_m2: area inside the envelope (the outline given, else the villages' convex hull) that no village
    covers; NaN when it could not be measured (a file-level error).
    """

    villages: geopandas.GeoDataFrame
    problems: list[Problem]
    overlaps: list[Overlap]
    gap_area_m2: float

    @property
    def ok(self) -> bool:
        """True when no problem is an error: the import may go ahead."""
        return not any(problem.severity == ERROR for problem in self.problems)


def read_features(path: str | pathlib.Path, layer: str | None = None) -> geopandas.GeoDataFrame:
    """Read the features of a GeoJSON, GeoPackage or Shapefile (any CRS; a Shapefile may be zipped) with pyogrio.

    Raises ImportFileError when the file is missing, not a readable GIS file, has no such layer, or has
    several layers and none was named. Its messages name the file, never the folder it is in.
    """
    path = pathlib.Path(path)
    if not path.exists():
        raise ImportFileError(f"找不到文件：{path.name}", f"File not found: {path.name}")
    source = _zipped_shapefiles(path) if path.suffix.lower() == ".zip" else str(path)
    try:
        if layer is None:
            layers = [str(name) for name in pyogrio.list_layers(source)[:, 0]]
            if len(layers) > 1:
                listed = ", ".join(layers)
                raise ImportFileError(
                    f"文件 {path.name} 包含多个图层（{listed}），请指定要导入的图层",
                    f"{path.name} has several layers ({listed}): name the layer to import",
                )
        frame = geopandas.read_file(source, layer=layer, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError, UnicodeError) as error:
        detail = _without_folder(error, path)
        raise ImportFileError(f"无法读取文件 {path.name}：{detail}", f"Cannot read {path.name}: {detail}") from error
    if not isinstance(frame, geopandas.GeoDataFrame):  # a table without geometry
        raise ImportFileError(f"文件 {path.name} 没有几何图形", f"{path.name} has no geometry")
    return frame


def _zipped_shapefiles(path: pathlib.Path) -> str:
    """The GDAL path (/vsizip/) of the folder in a zip archive that holds its Shapefile(s), each one a layer."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [item.filename for item in archive.infolist() if not item.is_dir()]
    except (zipfile.BadZipFile, OSError) as error:
        detail = _without_folder(error, path)
        raise ImportFileError(
            f"无法读取压缩包 {path.name}：{detail}", f"Cannot read the zip {path.name}: {detail}"
        ) from None
    # the resource forks a Mac's archiver adds
    names = [n for n in names if not n.startswith("__MACOSX/") and not pathlib.PurePosixPath(n).name.startswith("._")]
    others = [n for n in names if not n.lower().endswith(_SHAPEFILE_PARTS)]
    if others:
        listed = ", ".join(others[:5]) + (" …" if len(others) > 5 else "")
        raise ImportFileError(
            f"压缩包 {path.name} 只能包含 Shapefile 的组成文件（.shp .shx .dbf .prj .cpg），另有：{listed}",
            f"The zip {path.name} may hold only the parts of a Shapefile (.shp .shx .dbf .prj .cpg); it also "
            f"holds: {listed}",
        )
    folders = sorted({str(pathlib.PurePosixPath(n).parent) for n in names if n.lower().endswith(".shp")})
    if not folders:
        raise ImportFileError(
            f"压缩包 {path.name} 中没有 Shapefile（.shp）", f"The zip {path.name} holds no Shapefile (.shp)"
        )
    if len(folders) > 1:
        listed = ", ".join(folders)
        raise ImportFileError(
            f"压缩包 {path.name} 的 Shapefile 分散在多个文件夹中（{listed}），请放在同一文件夹",
            f"The zip {path.name} has Shapefiles in several folders ({listed}): put them in one",
        )
    return f"/vsizip/{path}" + ("" if folders[0] == "." else f"/{folders[0]}")


def _without_folder(error: Exception, path: pathlib.Path) -> str:
    """The error's text with the file's folder left out: where it lies on the server is nobody's business."""
    return str(error).replace(f"{path.parent}{os.sep}", "")


def prepare_villages(
    frame: geopandas.GeoDataFrame,
    *,
    code_field: str = "code",
    name_field: str = "name",
    parent_code_field: str | None = "parent_code",
    parent_name_field: str | None = None,
    outline: shapely.Geometry | None = None,
    known_parents: dict[str, str] | None = None,
    taken_codes: Collection[str] = (),
    neighbours: geopandas.GeoDataFrame | None = None,
    min_area_m2: float = 1.0,
) -> GridImport:
    """Check, repair and reproject a layer of village polygons; see the module docstring for the rules.

    `known_parents` maps the codes of the existing parents (townships) to their names, or their names to
    their codes; when given, every feature's parent must be one of them, and the parent's other attribute
    is filled in from it. `outline` (EPSG:4326) is the area the villages should cover, e.g. the union of
    their townships; without it the villages' convex hull is used. `taken_codes` are codes that grid nodes of
    another level already have (a township's code in a village layer): a feature with one is an error.
    `neighbours` (columns code and geometry, EPSG:4326) are the nodes of this level already in the grid: those
    the layer does not replace stay as they are, so the layer's overlaps with them are reported too, and the gap
    is what the layer and they leave uncovered together — a file redrawing three villages is checked against
    the other villages around them.
    """
    frame = frame.reset_index(drop=True)
    report = _Report()
    fields = {
        "code": code_field,
        "name": name_field,
        "parent_code": parent_code_field,
        "parent_name": parent_name_field,
    }
    attributes = _read_attributes(frame, fields, report)
    codes = attributes["code"]
    _check_duplicates(codes, report)
    _check_taken(codes, taken_codes, report)
    _resolve_parents(attributes, fields, known_parents, report)

    wgs84 = _to_wgs84(frame, report)
    geometry = _repair(np.asarray(frame.geometry.array, dtype=object) if wgs84 is None else wgs84, codes, report)
    if wgs84 is not None:
        _check_position(geometry, codes, report)

    keep = report.importable(len(frame))
    index = pandas.Index(np.flatnonzero(keep), name="feature")
    villages = geopandas.GeoDataFrame(
        {key: pandas.array(attributes[key][keep], dtype="str") for key in _FIELD_LABELS},
        index=index,
        geometry=geopandas.GeoSeries(geometry[keep], index=index, crs="EPSG:4326"),
        crs="EPSG:4326",
    )
    if report.has_file_error():
        return GridImport(villages, report.sorted(), [], math.nan)
    envelope = _outline(outline, report)
    metric = _equal_area_crs(villages.geometry.to_numpy(), envelope)
    kept = _kept_neighbours(neighbours, codes)
    overlaps = _overlaps(villages, kept, metric, min_area_m2)
    gap = _gap_area(villages, kept, envelope, metric, min_area_m2)
    return GridImport(villages, report.sorted(), overlaps, gap)


def _kept_neighbours(neighbours: geopandas.GeoDataFrame | None, codes: Objects) -> geopandas.GeoDataFrame:
    """The existing nodes the layer leaves in place (their code is not in it), with a usable geometry."""
    if neighbours is None or neighbours.empty:
        return geopandas.GeoDataFrame({"code": []}, geometry=[], crs="EPSG:4326")
    if neighbours.crs is not None and not neighbours.crs.equals("EPSG:4326"):
        neighbours = neighbours.to_crs("EPSG:4326")
    replaced = {str(code) for code in codes if code is not None}
    shapes = np.asarray(neighbours.geometry.array, dtype=object)
    usable = ~(shapely.is_missing(shapes) | shapely.is_empty(shapes))
    kept = usable & ~neighbours["code"].astype(str).isin(replaced).to_numpy()
    return neighbours.loc[kept, ["code", "geometry"]].reset_index(drop=True)


class _Report:
    """The problems found so far, and which features have an error."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, feature: int | None, code: str | None, kind: str, severity: str, zh: str, en: str) -> None:
        self.problems.append(Problem(feature, code, kind, severity, zh, en))

    def add_feature(self, feature: int, code: str | None, kind: str, severity: str, zh: str, en: str) -> None:
        """A problem of one feature; the messages are prefixed with which feature it is."""
        where_zh = f"要素 #{feature}" + (f"（编码 {code}）" if code else "")
        where_en = f"Feature #{feature}" + (f" (code {code})" if code else "")
        self.add(feature, code, kind, severity, f"{where_zh}：{zh}", f"{where_en}: {en}")

    def has_file_error(self) -> bool:
        return any(problem.severity == ERROR and problem.feature is None for problem in self.problems)

    def importable(self, count: int) -> Bools:
        """The features without errors; none when the file itself has one."""
        importable = np.full(count, not self.has_file_error())
        for problem in self.problems:
            if problem.severity == ERROR and problem.feature is not None:
                importable[problem.feature] = False
        return importable

    def sorted(self) -> list[Problem]:
        """File-level problems first, then by feature, each feature's in the order found."""
        return sorted(self.problems, key=lambda p: -1 if p.feature is None else p.feature)


def _read_attributes(
    frame: geopandas.GeoDataFrame, fields: dict[str, str | None], report: _Report
) -> dict[str, Objects]:
    """Each attribute as text (None when missing or blank); errors for missing fields and blank values."""
    attributes: dict[str, Objects] = {}
    for key, field in fields.items():
        values = np.full(len(frame), None, dtype=object)
        if field is not None and field not in frame.columns:
            label_zh, label_en = _FIELD_LABELS[key]
            report.add(
                None,
                None,
                "MISSING_ATTRIBUTE",
                ERROR,
                f"文件中没有{label_zh}字段“{field}”",
                f"The file has no {label_en} field '{field}'",
            )
        elif field is not None:
            values = _as_text(frame[field])
        attributes[key] = values
    codes = attributes["code"]
    for key, field in fields.items():
        if field is None or field not in frame.columns:
            continue
        label_zh, label_en = _FIELD_LABELS[key]
        for feature in np.flatnonzero(pandas.isna(attributes[key])).tolist():
            report.add_feature(
                feature,
                codes[feature],
                "MISSING_ATTRIBUTE",
                ERROR,
                f"缺少{label_zh}（字段“{field}”）",
                f"no {label_en} (field '{field}')",
            )
    return attributes


def _as_text(column: pandas.Series) -> Objects:
    """Values as stripped text, None when missing or blank; 320324101201.0 reads as '320324101201'."""
    values = np.full(len(column), None, dtype=object)
    for position, value in enumerate(column.tolist()):
        if value is None or value is pandas.NA or (isinstance(value, float) and not math.isfinite(value)):
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip()
        values[position] = text or None
    return values


def _check_duplicates(codes: Objects, report: _Report) -> None:
    present = pandas.Series(codes, dtype=object)
    duplicated = present[present.duplicated(keep=False) & present.notna()]
    for code, features in duplicated.groupby(duplicated).groups.items():
        for feature in features.tolist():
            others = [f"#{other}" for other in features.tolist() if other != feature]
            listed = ", ".join(others[:5]) + (" …" if len(others) > 5 else "")
            report.add_feature(
                feature,
                str(code),
                "DUPLICATE_CODE",
                ERROR,
                f"编码与要素 {listed} 重复",
                f"the code is also used by feature {listed}",
            )


def _check_taken(codes: Objects, taken_codes: Collection[str], report: _Report) -> None:
    taken = set(taken_codes)
    for feature, code in enumerate(codes.tolist()):
        if code is not None and code in taken:
            report.add_feature(
                feature,
                code,
                "CODE_IN_USE",
                ERROR,
                "编码已被其他层级的网格单元使用",
                "the code already belongs to a grid unit of another level",
            )


def _resolve_parents(
    attributes: dict[str, Objects],
    fields: dict[str, str | None],
    known_parents: dict[str, str] | None,
    report: _Report,
) -> None:
    """Check each feature's parent against `known_parents` and fill in the parent's other attribute."""
    key = "parent_code" if fields["parent_code"] is not None else "parent_name"
    if known_parents is None or fields[key] is None:
        return
    # Either orientation of known_parents: look a code up to its name, or a name up to its code.
    counterpart = {**{value: item for item, value in known_parents.items()}, **known_parents}
    other = "parent_name" if key == "parent_code" else "parent_code"
    label_zh, label_en = _FIELD_LABELS[key]
    for feature, parent in enumerate(attributes[key].tolist()):
        if parent is None:
            continue  # already reported as missing
        if parent not in counterpart:
            report.add_feature(
                feature,
                attributes["code"][feature],
                "UNKNOWN_PARENT",
                ERROR,
                f"{label_zh}“{parent}”不是已有的上级单位",
                f"{label_en} '{parent}' is not an existing parent",
            )
        elif fields[other] is None:
            attributes[other][feature] = counterpart[parent]


def _to_wgs84(frame: geopandas.GeoDataFrame, report: _Report) -> Objects | None:
    """The geometries in EPSG:4326, or None when the CRS is unknown and cannot be guessed (an error)."""
    if frame.crs is None:
        geoms = np.asarray(frame.geometry.array, dtype=object)
        present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        west, south, east, north = shapely.total_bounds(geoms[present])
        plainly_lonlat = bool(present.any()) and in_china(np.array([west, east]), np.array([south, north])).all()
        if not plainly_lonlat:
            report.add(
                None,
                None,
                "NO_CRS",
                ERROR,
                "文件没有坐标参考系（CRS），坐标也不是中国境内的经纬度，无法确定位置",
                "The file has no coordinate reference system and its coordinates are not longitude/latitude "
                "within China: positions are unknown",
            )
            return None
        report.add(
            None,
            None,
            "NO_CRS",
            WARNING,
            "文件没有坐标参考系（CRS），坐标均为中国境内的经纬度，按 EPSG:4326 导入",
            "The file has no coordinate reference system; its coordinates are longitude/latitude within "
            "China, so EPSG:4326 is assumed",
        )
        return geoms
    return np.asarray(frame.geometry.to_crs("EPSG:4326").array, dtype=object)


def _repair(geometry: Objects, codes: Objects, report: _Report) -> Objects:
    """Valid Polygon/MultiPolygon for every feature that can have one, None for the others (reported)."""
    geometry = geometry.copy()
    empty = shapely.is_missing(geometry) | shapely.is_empty(geometry)
    for feature in np.flatnonzero(empty).tolist():
        report.add_feature(feature, codes[feature], "EMPTY_GEOMETRY", ERROR, "没有几何图形", "no geometry")
    geometry[empty] = None
    finite = np.isfinite(shapely.bounds(geometry)).all(axis=1)
    for feature in np.flatnonzero(~empty & ~finite).tolist():
        report.add_feature(
            feature,
            codes[feature],
            "OUTSIDE_CHINA",
            ERROR,
            "坐标无法转换到经纬度（超出坐标系的范围）",
            "the coordinates cannot be converted to longitude/latitude (outside the CRS's area)",
        )
    geometry[~finite] = None

    present = np.flatnonzero(~shapely.is_missing(geometry))
    kinds = shapely.get_type_id(geometry[present])
    not_polygonal = present[(kinds != _POLYGON) & (kinds != _MULTIPOLYGON)]
    invalid = present[~shapely.is_valid(geometry[present])]
    repair = np.union1d(not_polygonal, invalid)
    reasons = shapely.is_valid_reason(geometry[repair])
    type_ids = shapely.get_type_id(geometry[repair])
    repaired = _polygonal(shapely.make_valid(geometry[repair], method="structure", keep_collapsed=False))
    for feature, reason, kind, result in zip(
        repair.tolist(), reasons.tolist(), type_ids.tolist(), repaired.tolist(), strict=True
    ):
        code = codes[feature]
        if result is None and kind not in (_POLYGON, _MULTIPOLYGON):
            report.add_feature(
                feature, code, "INVALID_GEOMETRY", ERROR, "不是面（多边形）要素", "not a polygon feature"
            )
        elif result is None:
            report.add_feature(
                feature,
                code,
                "INVALID_GEOMETRY",
                ERROR,
                f"几何图形无效（{reason}），修复后没有面积",
                f"invalid geometry ({reason}) with no area left after repair",
            )
        else:
            polygon = kind in (_POLYGON, _MULTIPOLYGON)
            detail_zh, detail_en = (reason, reason) if polygon else ("含非面部分", "non-polygon parts")
            report.add_feature(
                feature,
                code,
                "REPAIRED_GEOMETRY",
                WARNING,
                f"几何图形无效（{detail_zh}），已自动修复，只保留面部分，请核对",
                f"invalid geometry ({detail_en}) repaired automatically, polygonal parts kept: please check",
            )
    geometry[repair] = repaired
    return geometry


def _polygonal(geometry: Objects) -> Objects:
    """The polygonal parts of each geometry as a valid Polygon or MultiPolygon, None when there are none."""
    parts, owner = shapely.get_parts(geometry, return_index=True)
    nested = shapely.get_type_id(parts) >= _MULTIPOLYGON  # a collection inside a collection
    while nested.any():
        inner, inner_owner = shapely.get_parts(parts[nested], return_index=True)
        parts = np.concatenate([parts[~nested], inner])
        owner = np.concatenate([owner[~nested], owner[nested][inner_owner]])
        nested = shapely.get_type_id(parts) >= _MULTIPOLYGON
    polygon = (shapely.get_type_id(parts) == _POLYGON) & (shapely.area(parts) > 0)
    parts, owner = parts[polygon], owner[polygon]
    order = np.argsort(owner, kind="stable")
    result = np.full(len(geometry), None, dtype=object)
    shapely.multipolygons(parts[order], indices=owner[order], out=result)
    counts = np.bincount(owner, minlength=len(geometry))
    single = np.flatnonzero(counts == 1)
    result[single] = shapely.get_geometry(result[single], 0)
    # Parts of a collection may touch along an edge, which a MultiPolygon may not: dissolve those.
    invalid = np.flatnonzero(~shapely.is_valid(result) & (counts > 1))
    result[invalid] = shapely.make_valid(result[invalid], method="structure", keep_collapsed=False)
    return result


def _check_position(geometry: Objects, codes: Objects, report: _Report) -> None:
    present = np.flatnonzero(~shapely.is_missing(geometry))
    points = shapely.point_on_surface(geometry[present])
    outside = ~in_china(shapely.get_x(points), shapely.get_y(points))
    for feature, point in zip(present[outside].tolist(), points[outside].tolist(), strict=True):
        x, y = point.x, point.y
        report.add_feature(
            feature,
            codes[feature],
            "OUTSIDE_CHINA",
            ERROR,
            f"位置（{x:.6g}, {y:.6g}）不在中国境内：坐标系声明有误或经纬度颠倒",
            f"position ({x:.6g}, {y:.6g}) is outside China: wrong CRS declared, or axes swapped",
        )


def _outline(outline: Any, report: _Report) -> Any:
    """The outline made valid and polygonal, or None (with a warning if one was given but unusable)."""
    if outline is None:
        return None
    polygonal = _polygonal(shapely.make_valid(np.array([outline], dtype=object), method="structure"))[0]
    if polygonal is None:
        report.add(
            None,
            None,
            "INVALID_GEOMETRY",
            WARNING,
            "给定的外轮廓没有面积，空隙按村庄的凸包计算",
            "The outline given has no area: gaps are measured against the villages' convex hull",
        )
    return polygonal


def _equal_area_crs(geometry: Objects, envelope: Any) -> pyproj.CRS:
    """A Lambert azimuthal equal-area projection centred on the data: true areas wherever it lies."""
    everything = np.concatenate([geometry, np.array([envelope], dtype=object)])
    west, south, east, north = shapely.total_bounds(everything)
    if not np.isfinite([west, south, east, north]).all():
        west, south, east, north = CHINA_LON[0], CHINA_LAT[0], CHINA_LON[1], CHINA_LAT[1]
    return pyproj.CRS.from_dict(
        {"proj": "laea", "lat_0": (south + north) / 2, "lon_0": (west + east) / 2, "ellps": "WGS84"}
    )


def _overlaps(
    villages: geopandas.GeoDataFrame, kept: geopandas.GeoDataFrame, metric: pyproj.CRS, min_area_m2: float
) -> list[Overlap]:
    """Pairs whose interiors intersect over more than min_area_m2: two of the layer's features, or one of them
    and a node it leaves in place (named second); in source order."""
    ours = np.asarray(villages.geometry.array, dtype=object)
    shapes = np.concatenate([ours, np.asarray(kept.geometry.array, dtype=object)])
    first, second = shapely.STRtree(shapes).query(ours, predicate="intersects")
    pair = (first < second) | (second >= len(ours))  # each pair of the layer's once, never a feature with itself
    first, second = first[pair], second[pair]
    interiors = shapely.relate_pattern(shapes[first], shapes[second], "T********")
    first, second = first[interiors], second[interiors]
    areas = _areas_m2(shapely.intersection(shapes[first], shapes[second]), metric)
    codes = np.concatenate([villages["code"].to_numpy(dtype=object), kept["code"].to_numpy(dtype=object)])
    order = np.lexsort((second, first))
    return [
        Overlap(str(codes[a]), str(codes[b]), float(area))
        for a, b, area in zip(first[order].tolist(), second[order].tolist(), areas[order].tolist(), strict=True)
        if area > min_area_m2
    ]


def _gap_area(
    villages: geopandas.GeoDataFrame,
    kept: geopandas.GeoDataFrame,
    envelope: Any,
    metric: pyproj.CRS,
    min_area_m2: float,
) -> float:
    """Area inside the envelope (outline, else the convex hull) that neither the layer nor the nodes it leaves
    in place cover, in m².

    Gaps of min_area_m2 or less are left out: a straight edge in one CRS is slightly bent in another, so
    villages drawn in a projected CRS leave slivers of a few cm² along the hull or outline.
    """
    covered = shapely.union_all(
        np.concatenate(
            [np.asarray(villages.geometry.array, dtype=object), np.asarray(kept.geometry.array, dtype=object)]
        )
    )
    if envelope is None:
        envelope = shapely.convex_hull(covered)
    gaps = shapely.get_parts(shapely.difference(envelope, covered))
    areas = _areas_m2(gaps, metric)
    return float(areas[areas > min_area_m2].sum())


def _areas_m2(geometry: Objects, metric: pyproj.CRS) -> npt.NDArray[np.float64]:
    """Areas in m² of EPSG:4326 geometries; the topology is worked out in EPSG:4326, only areas projected."""
    areas: npt.NDArray[np.float64] = shapely.area(geopandas.GeoSeries(geometry, crs="EPSG:4326").to_crs(metric).array)
    return areas
