"""The demo county's grid: synthetic townships and villages inside the real outline of Suining County.

The real township and village boundaries are not public, so the demo draws its own. Townships are Voronoi
cells of seeded points inside the county outline, villages Voronoi cells of seeded points inside each
township, each clipped to its parent so that the children tile it exactly. A few rounds of Lloyd relaxation
(moving every seed to the centre of its cell) even the cells out, as real divisions are: a Voronoi diagram
of raw random points has cells ten times the size of their neighbours.

Geometry is computed in a metric CRS, where areas and centroids mean what they say, and handed back in
EPSG:4326 on a grid of six decimals (about 0.1 m), the precision the database keeps, so that what a caller
tests a point against is exactly what gets stored. Everything is a pure function of the seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

COUNTY_NAME = "睢宁县"
COUNTY_CODE = "320324"
COUNTY_OUTLINE = Path(__file__).resolve().parent.parent / "data" / "suining-county.geojson"
# The real township-level divisions; the first three are the subdistricts (街道) of the county town.
TOWNSHIP_NAMES = (
    "睢城街道", "金城街道", "睢河街道", "王集镇", "双沟镇", "岚山镇", "李集镇", "桃园镇", "官山镇",
    "高作镇", "沙集镇", "凌城镇", "邱集镇", "古邳镇", "姚集镇", "魏集镇", "梁集镇", "庆安镇",
)  # fmt: skip
SUBDISTRICTS = 3

GEOGRAPHIC_CRS = "EPSG:4326"
METRIC_CRS = "EPSG:4547"  # CGCS2000 / 3-degree Gauss-Kruger zone CM 117E, the zone the county lies in
DECIMALS = 6
GRID = 10.0**-DECIMALS
LLOYD_ROUNDS = 3

# Village names are a clan surname or landmark, a settlement word, sometimes a position: 前张庄村, 王圩村.
_VILLAGE_ROOTS = tuple(
    "张王李刘陈杨赵黄周吴徐孙朱马胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石贾夏付方白邹孟秦邱江尹薛闫段雷侯史陶贺顾毛郝龚邵万钱严武戴孔汤庞葛桑仝苗岳柳"
)
_VILLAGE_PLACES = tuple("庄楼集圩湖河营桥店湾园岗洼塘屯寨口套场林沟台墩滩")
_VILLAGE_POSITIONS = ("", "", "", "", "大", "小", "前", "后", "东", "西", "南", "北", "新", "老", "上", "下")

Points = npt.NDArray[np.float64]
Geometries = npt.NDArray[np.object_]


@dataclass(frozen=True)
class DemoGrid:
    """County (one row), townships and villages, each with name, code, parent_code, lon, lat (centroid)
    and a geometry in EPSG:4326. Townships follow TOWNSHIP_NAMES; villages run north to south inside each
    township."""

    county: gpd.GeoDataFrame
    townships: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame


def read_county_outline(path: Path = COUNTY_OUTLINE) -> BaseGeometry:
    """The county outline as one geometry in EPSG:4326."""
    return gpd.read_file(path).to_crs(GEOGRAPHIC_CRS).union_all()


def build_demo_grid(outline: BaseGeometry, *, seed: int, village_count: int) -> DemoGrid:
    """Townships and about village_count villages (at least one per township) tiling the outline.

    Townships are drawn before villages from the same generator, so a seed gives the same townships at every
    village count. A township's polygon is the union of its villages', the county's the union of all, so
    that every level tiles the one above exactly."""
    rng = np.random.default_rng(seed)
    county = gpd.GeoSeries([outline], crs=GEOGRAPHIC_CRS).to_crs(METRIC_CRS).iloc[0]
    township_cells = _in_naming_order(_relaxed_cells(county, len(TOWNSHIP_NAMES), rng), county)
    township_codes = [f"{COUNTY_CODE}{number:03d}" for number in range(1, len(township_cells) + 1)]
    per_township = apportion(shapely.area(township_cells), village_count)
    village_cells = np.concatenate(
        [
            _villages_north_to_south(cell, int(count), rng)
            for cell, count in zip(township_cells, per_township, strict=True)
        ]
    )
    villages = _exact_coverage(gpd.GeoSeries(village_cells, crs=METRIC_CRS).to_crs(GEOGRAPHIC_CRS).to_numpy())
    township_of_village = np.repeat(np.arange(len(township_cells)), per_township)
    townships = np.array(
        [shapely.union_all(villages[township_of_village == t], grid_size=GRID) for t in range(len(township_cells))]
    )
    return DemoGrid(
        county=_frame([COUNTY_NAME], [COUNTY_CODE], [None], np.array([shapely.union_all(townships, grid_size=GRID)])),
        townships=_frame(list(TOWNSHIP_NAMES), township_codes, [COUNTY_CODE] * len(townships), townships),
        villages=_frame(
            [name for count in per_township for name in village_names(int(count), rng)],
            [
                f"{code}{n:03d}"
                for code, count in zip(township_codes, per_township, strict=True)
                for n in range(1, count + 1)
            ],
            [township_codes[t] for t in township_of_village],
            villages,
        ),
    )


def _villages_north_to_south(township: BaseGeometry, count: int, rng: np.random.Generator) -> Geometries:
    """One township's village cells (metric), in the order they are numbered: north to south."""
    cells = _relaxed_cells(township, count, rng)
    ordered: Geometries = cells[np.argsort(-shapely.get_coordinates(shapely.centroid(cells))[:, 1], kind="stable")]
    return ordered


def _exact_coverage(cells: Geometries) -> Geometries:
    """cells, which tile a region up to rounding errors, redrawn from their common linework snap-rounded to
    the DECIMALS grid. Neighbours then share every border vertex; snapping each cell on its own would open
    centimetre-wide gaps and overlaps along borders whose two sides have different vertices (a township border
    met by the villages of both townships). Each face of the linework goes to the cell it lies in, a sliver
    lying in none to the nearest cell."""
    lines = shapely.union_all(shapely.boundary(cells), grid_size=GRID)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    interior = shapely.point_on_surface(faces)
    tree = shapely.STRtree(cells)
    owner = np.full(len(faces), -1)
    face, cell = tree.query(interior, predicate="within")
    first = np.unique(face, return_index=True)[1]
    owner[face[first]] = cell[first]
    stray = np.flatnonzero(owner < 0)
    face, cell = tree.query_nearest(interior[stray])
    first = np.unique(face, return_index=True)[1]
    owner[stray[face[first]]] = cell[first]
    redrawn: Geometries = np.array(
        [shapely.union_all(faces[owner == c], grid_size=GRID) for c in range(len(cells))], dtype=object
    )
    return redrawn


def apportion(weights: npt.ArrayLike, total: int) -> npt.NDArray[np.int64]:
    """total split into integer shares proportional to weights (largest remainder), at least one each."""
    quotas = np.asarray(weights, dtype=np.float64)
    quotas = quotas / quotas.sum() * total
    shares: npt.NDArray[np.int64] = np.maximum(np.floor(quotas).astype(np.int64), 1)
    shortfall = total - int(shares.sum())
    if shortfall > 0:
        shares[np.argsort(np.floor(quotas) - quotas, kind="stable")[:shortfall]] += 1
    return shares


def village_names(count: int, rng: np.random.Generator) -> list[str]:
    """count distinct village names."""
    names: dict[str, None] = {}
    while len(names) < count:
        position, root, place = (
            rng.integers(len(words)) for words in (_VILLAGE_POSITIONS, _VILLAGE_ROOTS, _VILLAGE_PLACES)
        )
        names[f"{_VILLAGE_POSITIONS[position]}{_VILLAGE_ROOTS[root]}{_VILLAGE_PLACES[place]}村"] = None
    return list(names)


def _relaxed_cells(region: BaseGeometry, count: int, rng: np.random.Generator) -> Geometries:
    """count cells tiling region, grown from random seeds moved LLOYD_ROUNDS times to their cell's centre."""
    cells = _voronoi_cells(sample_points([region], [count], rng), region)
    for _ in range(LLOYD_ROUNDS):
        cells = _voronoi_cells(shapely.get_coordinates(_inner_centres(cells)), region)
    return cells


def _voronoi_cells(seeds: Points, region: BaseGeometry) -> Geometries:
    """The Voronoi cell of every seed, in seed order, clipped to region."""
    if len(seeds) == 1:
        return np.array([region], dtype=object)
    diagram = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=region, ordered=True)
    clipped: Geometries = shapely.intersection(shapely.get_parts(diagram), region)
    return clipped


def _inner_centres(cells: Geometries) -> Geometries:
    """Each cell's centroid, or a point on its surface where the centroid falls outside a concave cell."""
    centres: Geometries = shapely.centroid(cells)
    outside = ~shapely.contains(cells, centres)
    centres[outside] = shapely.point_on_surface(cells[outside])
    return centres


def _in_naming_order(cells: Geometries, county: BaseGeometry) -> Geometries:
    """Cells reordered to match TOWNSHIP_NAMES: the subdistricts are the cells nearest the county's centre
    (the county town), the towns follow clockwise from north."""
    offsets = shapely.get_coordinates(shapely.centroid(cells)) - shapely.get_coordinates(county.centroid)
    by_distance = np.argsort(np.hypot(offsets[:, 0], offsets[:, 1]), kind="stable")
    towns = by_distance[SUBDISTRICTS:]
    bearing = np.arctan2(offsets[towns, 0], offsets[towns, 1]) % (2 * np.pi)
    ordered: Geometries = cells[np.concatenate([by_distance[:SUBDISTRICTS], towns[np.argsort(bearing, kind="stable")]])]
    return ordered


def _frame(
    names: list[str], codes: list[str], parent_codes: Sequence[str | None], polygons: Geometries
) -> gpd.GeoDataFrame:
    """A frame of polygons in EPSG:4326 and their centroids (computed in the metric CRS), rounded."""
    geometry = gpd.GeoSeries(polygons, crs=GEOGRAPHIC_CRS)
    centroids = geometry.to_crs(METRIC_CRS).centroid.to_crs(GEOGRAPHIC_CRS)
    columns: dict[str, Any] = {
        "name": names,
        "code": codes,
        "parent_code": list(parent_codes),
        "lon": centroids.x.round(DECIMALS).to_numpy(),
        "lat": centroids.y.round(DECIMALS).to_numpy(),
    }
    return gpd.GeoDataFrame(columns, geometry=geometry.to_numpy(), crs=GEOGRAPHIC_CRS)


def sample_points(
    polygons: Sequence[BaseGeometry] | Geometries,
    counts: npt.ArrayLike,
    rng: np.random.Generator,
    *,
    decimals: int | None = None,
) -> Points:
    """counts[i] uniform random points inside polygons[i], as an (n, 2) array grouped by polygon in order.

    Rejection sampling in the bounding boxes of all polygons at once, a few vectorised rounds until every
    polygon has its points, instead of a Python loop per point. With decimals, candidates are rounded before
    the test, so the rounded point is the one known to be inside. Prepares the polygons (shapely.prepare)."""
    shapes = np.asarray(polygons, dtype=object)
    missing = np.asarray(counts, dtype=np.int64).copy()
    shapely.prepare(shapes)
    bounds = shapely.bounds(shapes)
    hit_rate = shapely.area(shapes) / ((bounds[:, 2] - bounds[:, 0]) * (bounds[:, 3] - bounds[:, 1]))
    found: list[tuple[npt.NDArray[np.int64], Points]] = [(np.empty(0, dtype=np.int64), np.empty((0, 2)))]
    while missing.any():
        owner = np.repeat(
            np.arange(len(shapes)), np.ceil(missing * 1.2 / hit_rate).astype(np.int64) + 4 * (missing > 0)
        )
        xy = rng.uniform(bounds[owner, :2], bounds[owner, 2:])
        if decimals is not None:
            xy = np.round(xy, decimals)
        inside = shapely.contains_xy(shapes[owner], xy[:, 0], xy[:, 1])
        owner, xy = owner[inside], xy[inside]
        rank = np.arange(len(owner)) - np.searchsorted(owner, owner)
        wanted = rank < missing[owner]
        found.append((owner[wanted], xy[wanted]))
        missing -= np.bincount(owner[wanted], minlength=len(shapes))
    owners = np.concatenate([owner for owner, _ in found])
    points: Points = np.concatenate([xy for _, xy in found])[np.argsort(owners, kind="stable")]
    return points


def scatter_inside(
    points: Points,
    polygons: Geometries,
    spread: float,
    rng: np.random.Generator,
    *,
    decimals: int | None = None,
) -> Points:
    """Every point moved by a small random offset (normal, spread in CRS units) where the moved point is still
    inside its polygon (polygons[i] for points[i]), left where it was otherwise."""
    moved = points + rng.normal(0.0, spread, points.shape)
    if decimals is not None:
        moved = np.round(moved, decimals)
    inside = shapely.contains_xy(polygons, moved[:, 0], moved[:, 1])
    scattered: Points = np.where(inside[:, None], moved, points)
    return scattered
