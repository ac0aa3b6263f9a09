"""Assigning customers to villages: small hand-made villages for each rule, then randomised checks against a
slow reference (shapely `covers` per point, brute-force distances in another metric CRS)."""

from __future__ import annotations

import math
from typing import Any

import geopandas
import numpy as np
import pandas
import pyproj
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box

from geo import assign
from geo.assign import AssignOptions, affected_customers, assign_customers, village_by_address

GEOD = pyproj.Geod(ellps="WGS84")
MAX = 500.0


def square(west: float, south: float, size: float = 0.01) -> Polygon:
    return box(west, south, west + size, south + size)


def make_villages() -> geopandas.GeoDataFrame:
    """Ids deliberately out of order, so that 'smallest id' is never 'first row'.

    Layout (0.01° squares, about 925 m × 1110 m, near 睢宁):
        lat 33.91-33.92:  [3 张庄村 官山镇][4 新村 官山镇]        ...
        lat 33.90-33.91:  [2 张庄村 王集镇][1 李庄村 王集镇]   [6 ] [5 ] overlapping squares
    """
    rows = [
        (2, "张庄村", "王集镇", square(117.90, 33.90)),
        (1, "李庄村", "王集镇", square(117.91, 33.90)),
        (3, "张庄村", "官山镇", square(117.90, 33.91)),
        (4, "新村", "官山镇", square(117.91, 33.91)),
        (6, "东湖村", "官山镇", box(117.93, 33.90, 117.95, 33.92)),
        (5, "西湖村", "官山镇", box(117.94, 33.90, 117.96, 33.92)),
        # two triangles meeting at (117.98, 33.90), their lowest point, along a shared vertical edge
        (9, "南岗村", "邱集镇", Polygon([(117.98, 33.90), (117.99, 33.91), (117.98, 33.91)])),
        (8, "北岗村", "邱集镇", Polygon([(117.98, 33.90), (117.98, 33.91), (117.97, 33.91)])),
        (7, "新村社区", "邱集镇", MultiPolygon([square(118.00, 33.90, 0.005), square(118.01, 33.90, 0.005)])),
        (10, "庄村", "邱集镇", square(118.05, 33.95)),
    ]
    return geopandas.GeoDataFrame(
        {
            "id": np.array([r[0] for r in rows], dtype=np.int64),
            "name": [r[1] for r in rows],
            "township": [r[2] for r in rows],
        },
        geometry=[r[3] for r in rows],
        crs="EPSG:4326",
    )


def make_customers(points: list[tuple[float, float]], addresses: list[str] | None = None) -> pandas.DataFrame:
    return pandas.DataFrame(
        {
            "id": np.arange(100, 100 + len(points), dtype=np.int64),
            "lon": np.array([p[0] for p in points], dtype=np.float64),
            "lat": np.array([p[1] for p in points], dtype=np.float64),
            "address": addresses if addresses is not None else [""] * len(points),
        }
    )


def assign_one(lon: float, lat: float, address: str = "", **options: float) -> dict[str, Any]:
    out = assign_customers(make_customers([(lon, lat)], [address]), make_villages(), AssignOptions(**options))
    return {column: out[column].iloc[0] for column in out.columns}


def metres_east(lon: float, lat: float, metres: float) -> float:
    east_lon, _, _ = GEOD.fwd(lon, lat, 90.0, metres)
    return float(east_lon)


def test_point_inside_a_village() -> None:
    row = assign_one(117.905, 33.905)
    assert (row["village_id"], row["placement"], row["distance_m"], row["flag"]) == (2, "INSIDE", 0.0, None)


def test_point_on_a_shared_border_goes_to_the_smaller_id() -> None:
    assert assign_one(117.91, 33.905)["village_id"] == 1  # border of 2 (west) and 1 (east)
    assert assign_one(117.905, 33.91)["village_id"] == 2  # border of 2 (south) and 3 (north)
    assert assign_one(117.90, 33.905)["placement"] == "INSIDE"  # outer boundary counts as inside


def test_point_at_a_shared_corner_goes_to_the_smallest_id() -> None:
    row = assign_one(117.91, 33.91)  # corner of 1, 2, 3 and 4
    assert (row["village_id"], row["placement"]) == (1, "INSIDE")


def test_point_in_an_overlap_goes_to_the_smaller_id() -> None:
    assert assign_one(117.945, 33.91)["village_id"] == 5
    assert assign_one(117.935, 33.91)["village_id"] == 6
    assert assign_one(118.0125, 33.9025)["village_id"] == 7  # second part of a MultiPolygon


def test_point_near_a_village_goes_to_the_nearest_with_its_distance() -> None:
    lon = metres_east(117.96, 33.905, 200.0)  # 200 m east of village 5
    row = assign_one(lon, 33.905)
    assert (row["village_id"], row["placement"], row["flag"]) == (5, "NEAREST", None)
    assert row["distance_m"] == pytest.approx(200.0, rel=0.01)


def test_point_beyond_the_distance_is_unplaced_unless_the_distance_grows() -> None:
    _, lat, _ = GEOD.fwd(117.955, 33.90, 180.0, 700.0)  # 700 m south of village 5
    row = assign_one(117.955, lat)
    assert row["village_id"] is pandas.NA
    assert row["placement"] == "UNPLACED"
    assert math.isnan(row["distance_m"])
    wider = assign_one(117.955, lat, max_distance_m=1000.0)
    assert (wider["village_id"], wider["placement"]) == (5, "NEAREST")
    assert wider["distance_m"] == pytest.approx(700.0, rel=0.01)
    assert assign_one(metres_east(117.96, 33.905, 1.0), 33.905, max_distance_m=0.0)["placement"] == "UNPLACED"


def test_equally_near_villages_go_to_the_smaller_id() -> None:
    _, lat, _ = GEOD.fwd(117.98, 33.90, 180.0, 100.0)  # 100 m due south of the triangles' shared lowest point
    row = assign_one(117.98, lat)
    assert (row["village_id"], row["placement"]) == (8, "NEAREST")
    assert row["distance_m"] == pytest.approx(100.0, rel=0.01)


@pytest.mark.parametrize(
    ("address", "village_id"),
    [
        ("睢宁县王集镇李庄村三组18号", 1),  # unique name
        ("睢宁县王集镇张庄村三组18号", 2),  # 张庄村 exists in two townships: 王集镇 decides
        ("睢宁县官山镇张庄村5号", 3),
        ("睢宁县 官山镇 张 庄村 5号", 3),  # whitespace ignored
        ("邱集镇新村社区8号", 7),  # 新村 inside 新村社区 does not count
        ("官山镇新村2组", 4),
        ("睢宁县邱集镇庄村1号", 10),
        ("睢宁县张庄村三组18号", None),  # ambiguous, no township
        ("睢宁县邱集镇张庄村三组18号", None),  # ambiguous, township matches neither
        ("李庄村东湖村", None),  # two villages named
        ("王集镇李庄村东湖村", 1),  # ... of which one in the township named
        ("王集镇李庄村张庄村", None),  # ... both in the township named
        ("南京市鼓楼区中山路1号", None),  # nothing matches
        ("", None),
    ],
)
def test_missing_coordinates_fall_back_to_the_address(address: str, village_id: int | None) -> None:
    row = assign_one(math.nan, math.nan, address)
    assert row["flag"] == "NO_COORDINATES"
    assert math.isnan(row["distance_m"])
    if village_id is None:
        assert (row["village_id"], row["placement"]) == (pandas.NA, "UNPLACED")
    else:
        assert (row["village_id"], row["placement"]) == (village_id, "ADDRESS")


def test_one_missing_coordinate_counts_as_none() -> None:
    row = assign_one(117.905, math.nan, "王集镇李庄村")
    assert (row["village_id"], row["placement"], row["flag"]) == (1, "ADDRESS", "NO_COORDINATES")


@pytest.mark.parametrize(
    ("lon", "lat", "flag"),
    [
        (33.905, 117.905, "SWAPPED"),
        (0.0, 0.0, "OUT_OF_RANGE"),
        (-117.905, 33.905, "OUT_OF_RANGE"),
        (117.905, 60.0, "OUT_OF_RANGE"),
        (math.inf, 33.9, "OUT_OF_RANGE"),
    ],
)
def test_coordinates_outside_china_are_flagged_and_not_placed(lon: float, lat: float, flag: str) -> None:
    row = assign_one(lon, lat, "睢宁县王集镇李庄村三组18号")  # the address is not used either
    assert (row["village_id"], row["placement"], row["flag"]) == (pandas.NA, "UNPLACED", flag)


def test_output_keeps_order_index_and_dtypes() -> None:
    customers = make_customers(
        [
            (117.915, 33.905),
            (math.nan, math.nan),
            (0.0, 0.0),
            (117.905, 33.905),
            (metres_east(117.96, 33.905, 50), 33.905),
        ],
        ["", "王集镇李庄村", "", "", ""],
    )
    customers.index = pandas.Index([40, 10, 30, 20, 50])
    out = assign_customers(customers, make_villages())
    assert list(out.columns) == ["id", "village_id", "placement", "distance_m", "flag"]
    assert out.index.tolist() == [40, 10, 30, 20, 50]
    assert out["id"].tolist() == customers["id"].tolist()
    assert out["village_id"].tolist() == [1, 1, pandas.NA, 2, 5]
    assert out["placement"].tolist() == ["INSIDE", "ADDRESS", "UNPLACED", "INSIDE", "NEAREST"]
    assert out["flag"].tolist() == [None, "NO_COORDINATES", "OUT_OF_RANGE", None, None]
    assert out.dtypes.to_dict() == {
        "id": np.dtype("int64"),
        "village_id": pandas.Int64Dtype(),
        "placement": pandas.StringDtype(na_value=np.nan),
        "distance_m": np.dtype("float64"),
        "flag": np.dtype("object"),
    }


def test_empty_inputs() -> None:
    out = assign_customers(make_customers([]), make_villages())
    assert len(out) == 0
    assert out["village_id"].dtype == pandas.Int64Dtype()
    no_villages = make_villages().iloc[:0]
    out = assign_customers(make_customers([(117.905, 33.905), (math.nan, math.nan)], ["", "李庄村"]), no_villages)
    assert out["placement"].tolist() == ["UNPLACED", "UNPLACED"]


def test_villages_in_a_projected_crs_and_the_callers_geometries_untouched() -> None:
    villages = make_villages()
    points = [(117.905, 33.905), (117.91, 33.905), (metres_east(117.96, 33.905, 200.0), 33.905)]
    expected = assign_customers(make_customers(points), villages)
    projected = villages.to_crs("EPSG:32650")
    out = assign_customers(make_customers(points), projected)
    assert out["village_id"].tolist()[:2] == expected["village_id"].tolist()[:2]
    assert out["distance_m"].to_numpy() == pytest.approx(expected["distance_m"].to_numpy(), rel=1e-6)
    assert not shapely.is_prepared(villages.geometry.to_numpy()).any()


def test_options_reject_a_bad_distance() -> None:
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="max_distance_m"):
            AssignOptions(max_distance_m=bad)


def voronoi_villages(seed: int, count: int) -> geopandas.GeoDataFrame:
    rng = np.random.default_rng(seed)
    frame = box(117.85, 33.85, 117.95, 33.95)
    seeds = shapely.multipoints(np.column_stack([rng.uniform(117.85, 117.95, count), rng.uniform(33.85, 33.95, count)]))
    cells = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=frame)), frame)
    # a few overlapping extra villages, so that points covered twice are common
    extra = shapely.buffer(shapely.points(rng.uniform(117.86, 117.94, 10), rng.uniform(33.86, 33.94, 10)), 0.004)
    geoms = np.concatenate([cells, extra])
    return geopandas.GeoDataFrame(
        {
            "id": rng.permutation(len(geoms)).astype(np.int64) + 1,
            "name": [f"第{i}村" for i in range(len(geoms))],
            "township": "王集镇",
        },
        geometry=geoms,
        crs="EPSG:4326",
    )


def random_customers(villages: geopandas.GeoDataFrame, seed: int, count: int) -> pandas.DataFrame:
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(117.84, 117.96, count), rng.uniform(33.84, 33.96, count)
    # exactly on boundaries: the villages' own vertices (shared corners and edges of the Voronoi cells)
    vertices = shapely.get_coordinates(villages.geometry.to_numpy())
    chosen = vertices[rng.choice(len(vertices), count // 10, replace=False)]
    lon, lat = np.concatenate([lon, chosen[:, 0]]), np.concatenate([lat, chosen[:, 1]])
    return make_customers(list(zip(lon.tolist(), lat.tolist(), strict=True)))


def test_random_points_agree_with_a_slow_reference() -> None:
    villages = voronoi_villages(seed=3, count=300)
    customers = random_customers(villages, seed=4, count=20_000)
    out = assign_customers(customers, villages)

    ids = villages["id"].to_numpy()
    geoms = villages.geometry.to_numpy()
    reference = []
    for lon, lat in zip(customers["lon"], customers["lat"], strict=True):
        point = Point(lon, lat)
        covering = [int(i) for i, g in zip(ids, geoms, strict=True) if g.covers(point)]
        reference.append(min(covering) if covering else None)
    inside = out["placement"] == "INSIDE"
    assert inside.to_numpy().tolist() == [r is not None for r in reference]
    assert out.loc[inside, "village_id"].tolist() == [r for r in reference if r is not None]
    assert (out.loc[inside, "distance_m"] == 0).all()

    # Outside: nearest by brute force in UTM zone 50, a different metric CRS from the one used inside.
    outside = ~inside.to_numpy()
    utm_points = geopandas.GeoSeries(shapely.points(customers.loc[outside, ["lon", "lat"]].to_numpy()), crs=4326)
    utm_points = utm_points.to_crs(32650).to_numpy()
    utm_villages = villages.geometry.to_crs(32650).to_numpy()
    distances = shapely.distance(utm_points[:, None], utm_villages[None, :])
    nearest = distances.min(axis=1)
    got = out[outside]
    placed = (got["placement"] == "NEAREST").to_numpy()
    assert placed.sum() > 100
    assert (nearest[~placed] > MAX * 0.99).all()
    assert got.loc[placed, "distance_m"].to_numpy() == pytest.approx(nearest[placed], rel=0.01)
    chosen = np.searchsorted(np.sort(ids), got.loc[placed, "village_id"].to_numpy(dtype=np.int64))
    by_id = distances[:, np.argsort(ids)]
    assert by_id[placed, chosen] == pytest.approx(nearest[placed], rel=0.01)


def test_small_chunks_and_a_coarse_grid_give_the_same_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    villages = voronoi_villages(seed=5, count=200)
    customers = random_customers(villages, seed=6, count=5_000)
    expected = assign_customers(customers, villages)
    monkeypatch.setattr(assign, "_PAIRS_PER_CHUNK", 777)
    monkeypatch.setattr(assign, "_MAX_CELLS", 9)
    pandas.testing.assert_frame_equal(assign_customers(customers, villages), expected)


def test_village_by_address_on_many_addresses() -> None:
    villages = make_villages()
    addresses = np.array(["睢宁县王集镇张庄村三组18号", "官山镇新村2组", None, "无"] * 25_000, dtype=object)
    found = village_by_address(addresses, villages["name"].to_numpy(), villages["township"].to_numpy())
    assert villages["id"].to_numpy()[found[:2]].tolist() == [2, 4]
    assert found[2:4].tolist() == [-1, -1]
    assert (found.reshape(-1, 4) == found[:4]).all()


def test_affected_customers_are_those_near_the_old_or_new_polygon() -> None:
    old, new = square(117.90, 33.90), square(117.92, 33.90)
    customers = make_customers(
        [
            (117.905, 33.905),  # inside old
            (117.925, 33.905),  # inside new
            (metres_east(117.93, 33.905, 300.0), 33.905),  # 300 m east of new
            (metres_east(117.93, 33.905, 2000.0), 33.905),  # far
            (math.nan, math.nan),
            (33.905, 117.905),  # swapped: never placed by location
        ]
    )
    assert affected_customers(customers, old, new, MAX).tolist() == [100, 101, 102]
    assert affected_customers(customers, None, new, MAX).tolist() == [101, 102]
    assert affected_customers(customers, old, None, MAX).tolist() == [100]
    assert affected_customers(customers, None, None, MAX).dtype == np.int64
    assert affected_customers(customers, None, Polygon(), MAX).tolist() == []


def test_reassignment_after_a_polygon_change_touches_only_affected_customers() -> None:
    villages = voronoi_villages(seed=7, count=150)
    customers = random_customers(villages, seed=8, count=10_000)
    before = assign_customers(customers, villages)
    changed = villages.copy()
    old = changed.geometry.iloc[17]
    new = shapely.affinity.translate(shapely.affinity.scale(old, 1.3, 1.3), 0.002, -0.001)
    changed.loc[changed.index[17], "geometry"] = new
    after = assign_customers(customers, changed)
    moved = before["id"][
        before["village_id"].ne(after["village_id"]).fillna(True)
        & ~(before["village_id"].isna() & after["village_id"].isna())
    ]
    affected = set(affected_customers(customers, old, new, MAX).tolist())
    assert len(moved) > 0
    assert set(moved.tolist()) <= affected
