"""The benchmark's county and customers: the demo grid's villages as grid_node rows, and customers drawn by
the demo's population generator (demo.people) at points this module chooses, of which about
  97 %  lie inside the county,            1 %  lie just outside it (20–300 m: NEAREST),
   1 %  are unplaceable (2–30 km away, coordinates at (0, 0) or with lon and lat swapped),
   1 %  have no coordinates but an address naming their township and village (ADDRESS),
plus a few hundred exactly on vertices shared by several villages (border ties). Customers inside a village
live three to a household there; the others each head a household of their own, in the village their
address names. Everything follows the seed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pyproj
import shapely
from faker import Faker
from shapely.geometry.base import BaseGeometry

from demo.people import Members, People, draw_people
from geo.demo_grid import GEOGRAPHIC_CRS, METRIC_CRS, DemoGrid, apportion, sample_points

# Customer kinds, recorded per customer in the bench_truth table for the cross-checks.
INSIDE, BORDER, NEAR, FAR, ADDRESS = "inside", "border", "near", "far", "address"
KINDS = (INSIDE, BORDER, NEAR, FAR, ADDRESS)
NEAR_M = (20.0, 300.0)  # outside the outline by this much: within AssignOptions.max_distance_m
FAR_M = (2_000.0, 30_000.0)
HOUSEHOLD_SIZE = 3  # of the customers inside a village

Strings = npt.NDArray[Any]
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

CUSTOMER_COPY_COLUMNS = (
    "id", "id_number", "name", "birth_date", "sex", "phone", "address", "lon", "lat", "household_id",
    "is_household_head", "deposit_balance", "loan_balance", "credit_line", "loan_class", "placement",
    "needs_placement", "has_ebanking", "has_third_party_payment", "has_social_security_card", "tags",
    "source", "version", "created_at", "updated_at",
)  # fmt: skip


@dataclass(frozen=True)
class GridRows:
    """Grid node ids for the demo grid: county 1, townships 2…, villages after them."""

    township_ids: Ints
    village_ids: Ints
    village_township: Ints  # position of each village's township
    village_shapes: npt.NDArray[np.object_]


def grid_rows(grid: DemoGrid) -> tuple[GridRows, list[tuple[Any, ...]]]:
    now = datetime.now(UTC)
    townships, villages = grid.townships, grid.villages
    township_ids = np.arange(2, 2 + len(townships), dtype=np.int64)
    village_ids = np.arange(2 + len(townships), 2 + len(townships) + len(villages), dtype=np.int64)
    township_at = {code: i for i, code in enumerate(townships["code"])}
    village_township = np.array([township_at[code] for code in villages["parent_code"]], dtype=np.int64)

    def row(node_id: int, level: str, frame: Any, i: int, path: str, depth: int, parent: int | None) -> tuple[Any, ...]:
        return (
            node_id, level, frame["name"].iloc[i], frame["code"].iloc[i], path, depth,
            shapely.to_geojson(frame.geometry.iloc[i]),
            float(frame["lon"].iloc[i]), float(frame["lat"].iloc[i]),
            now, now, parent,
        )  # fmt: skip

    rows = [row(1, "COUNTY", grid.county, 0, "/1/", 0, None)]
    rows += [row(int(t), "TOWNSHIP", townships, i, f"/1/{t}/", 1, 1) for i, t in enumerate(township_ids)]
    rows += [
        row(int(v), "VILLAGE", villages, i, f"/1/{township_ids[village_township[i]]}/{v}/", 2,
            int(township_ids[village_township[i]]))
        for i, v in enumerate(village_ids)
    ]  # fmt: skip
    shapes = np.asarray(villages.geometry.array, dtype=object)
    return GridRows(township_ids, village_ids, village_township, shapes), rows


@dataclass(frozen=True)
class Population:
    """The people in household order, with what the benchmark knows about each: the kind of point they were
    drawn at, the village it was drawn in (-1 when none) and the village their address names; and the
    village of every household."""

    people: People
    kind: Strings
    home: Ints
    address_village: Ints
    household_village: Ints
    counts: dict[str, int]

    def __len__(self) -> int:
        return len(self.people)


def draw_population(outline: BaseGeometry, grid: GridRows, customers: int, seed: int) -> Population:
    rng = np.random.default_rng(seed)
    faker = Faker("zh_CN")
    faker.seed_instance(seed)
    shapes = grid.village_shapes
    n_near = n_far = n_address = max(1, round(customers * 0.01))
    n_border = min(300, customers // 100)
    n_inside = customers - n_near - n_far - n_address - n_border

    per_village = apportion(shapely.area(shapes), n_inside)
    inside = sample_points(shapes, per_village, rng, decimals=6)
    n_inside = len(inside)  # at least one per village, even when asked for fewer customers than villages
    inside_home = np.repeat(np.arange(len(shapes)), per_village)
    rank = np.arange(n_inside) - np.searchsorted(inside_home, inside_home)  # position within its village
    _, inside_sizes = np.unique(inside_home * (customers + 1) + rank // HOUSEHOLD_SIZE, return_counts=True)

    border = _shared_vertices(shapes, n_border, rng)
    near = _around_outline(outline, n_near, NEAR_M, rng)
    far = _far_points(outline, inside, n_far, rng)
    points = np.concatenate([inside, border, near, far, np.full((n_address, 2), np.nan)])
    sizes = {INSIDE: n_inside, BORDER: len(border), NEAR: len(near), FAR: len(far), ADDRESS: n_address}
    alone = len(points) - n_inside

    def at_the_drawn_points(members: Members) -> Floats:
        return points

    people = draw_people(
        np.concatenate([inside_sizes, np.ones(alone, dtype=np.int64)]), at_the_drawn_points, faker, rng
    )
    kind = np.repeat(np.array(KINDS, dtype=object), [sizes[k] for k in KINDS])
    none = np.full(alone - n_address, -1)
    home = np.concatenate([inside_home, none, rng.integers(0, len(shapes), n_address)])
    address_village = np.where(home >= 0, home, rng.integers(0, len(shapes), len(home)))
    return Population(
        people=people,
        kind=kind,
        home=home,
        address_village=address_village,
        household_village=address_village[people.members.head],
        counts=sizes,
    )


def _shared_vertices(shapes: npt.NDArray[np.object_], count: int, rng: np.random.Generator) -> Floats:
    """count polygon vertices (exact coordinates) that belong to two villages or more."""
    coords, owner = shapely.get_coordinates(shapes, return_index=True)
    unique, first, inverse = np.unique(coords, axis=0, return_index=True, return_inverse=True)
    pairs = np.unique(np.column_stack([inverse.ravel(), owner]), axis=0)
    villages_at = np.bincount(pairs[:, 0], minlength=len(unique))
    shared = first[villages_at >= 2]
    picked: Floats = coords[rng.choice(shared, size=min(count, len(shared)), replace=False)]
    return picked


def _metric() -> tuple[pyproj.Transformer, pyproj.Transformer]:
    to_metric = pyproj.Transformer.from_crs(GEOGRAPHIC_CRS, METRIC_CRS, always_xy=True)
    to_geographic = pyproj.Transformer.from_crs(METRIC_CRS, GEOGRAPHIC_CRS, always_xy=True)
    return to_metric, to_geographic


def _to_geographic(xy: Floats, to_geographic: pyproj.Transformer) -> Floats:
    lon, lat = to_geographic.transform(xy[:, 0], xy[:, 1])
    return np.round(np.column_stack([lon, lat]), 6)


def _around_outline(outline: BaseGeometry, count: int, metres: tuple[float, float], rng: np.random.Generator) -> Floats:
    """count points outside the county at between metres[0] and metres[1] from its outline (at most)."""
    to_metric, to_geographic = _metric()
    county = shapely.transform(outline, lambda c: np.column_stack(to_metric.transform(c[:, 0], c[:, 1])))
    ring = max(shapely.get_parts(county), key=shapely.area).exterior
    shapely.prepare(county)
    found: list[Floats] = []
    while sum(len(f) for f in found) < count:
        n = 3 * count + 16
        base = shapely.get_coordinates(shapely.line_interpolate_point(ring, rng.uniform(0, 1, n), normalized=True))
        angle, distance = rng.uniform(0, 2 * np.pi, n), rng.uniform(*metres, n)
        xy = base + distance[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
        found.append(xy[~shapely.dwithin(county, shapely.points(xy), metres[0] / 2)])
    return _to_geographic(np.concatenate(found)[:count], to_geographic)


def _far_points(outline: BaseGeometry, inside: Floats, count: int, rng: np.random.Generator) -> Floats:
    """Unplaceable coordinates: a fifth at (0, 0) give or take, a fifth swapped, the rest 2–30 km away."""
    to_metric, to_geographic = _metric()
    county = shapely.transform(outline, lambda c: np.column_stack(to_metric.transform(c[:, 0], c[:, 1])))
    shapely.prepare(county)
    n_zero = n_swapped = count // 5
    n_away = count - n_zero - n_swapped
    west, south, east, north = shapely.bounds(county)
    found: list[Floats] = []
    while sum(len(f) for f in found) < n_away:
        n = 2 * n_away + 16
        xy = rng.uniform((west - FAR_M[1], south - FAR_M[1]), (east + FAR_M[1], north + FAR_M[1]), (n, 2))
        found.append(xy[~shapely.dwithin(county, shapely.points(xy), FAR_M[0])])
    away = _to_geographic(np.concatenate(found)[:n_away], to_geographic)
    zero = np.round(rng.uniform(0, 0.01, (n_zero, 2)), 6)
    swapped = inside[rng.integers(0, len(inside), n_swapped)][:, ::-1]
    return np.concatenate([away, zero, swapped])


def as_strings(values: Any) -> Strings:
    return np.asarray(values, dtype=np.dtypes.StringDType())


def _yuan_text(amounts: Floats) -> Strings:
    """Decimal text ("1234.05") for amounts in yuan: asyncpg copies numeric from text, no Decimal needed."""
    cents = np.round(amounts * 100).astype(np.int64)
    whole = as_strings((cents // 100).astype(str))
    return np.strings.add(np.strings.add(whole, "."), np.strings.zfill(as_strings((cents % 100).astype(str)), 2))


def customer_columns(
    population: Population, grid: GridRows, names: tuple[Strings, Strings], seed: int
) -> tuple[dict[str, Any], Ints]:
    """Every copied column. Ids are given in no spatial order, as customers arrive: customer id i + 1 is the
    person at position order[i] of the population; returns the columns and that order."""
    people, n = population.people, len(population)
    township_names, village_names = names
    village = population.address_village
    rng = np.random.default_rng(seed + 2)
    place = np.strings.add(township_names[grid.village_township[village]], village_names[village])
    house = np.strings.add(as_strings(rng.integers(1, 200, n).astype(str)), "号")
    located = ~np.isnan(people.location[:, 0])
    now = datetime.now(UTC)
    columns = {
        "id_number": people.id_number,
        "name": people.name,
        "birth_date": people.birth_date,
        "sex": np.where(people.male, "MALE", "FEMALE").astype(object),
        "phone": people.phone,
        "address": np.strings.add(np.strings.add(as_strings("江苏省徐州市睢宁县"), place), house),
        "lon": np.where(located, people.location[:, 0], None),
        "lat": np.where(located, people.location[:, 1], None),
        "household_id": people.members.household + 1,
        "is_household_head": people.members.head,
        "deposit_balance": _yuan_text(people.deposit_balance),
        "loan_balance": _yuan_text(people.loan_balance),
        "credit_line": _yuan_text(people.credit_line),
        "loan_class": people.loan_class,
        "source": np.where(people.in_core_banking, "CORE_BANKING", "SURVEY").astype(object),
        **people.flags,
        "tags": people.tags,
    }
    order = rng.permutation(n)
    copied = {
        "id": np.arange(1, n + 1, dtype=np.int64),
        **{name: values[order] for name, values in columns.items()},
        "placement": np.full(n, "MANUAL", dtype=object),
        "needs_placement": np.zeros(n, dtype=bool),
        "version": np.ones(n, dtype=np.int64),
        "created_at": np.full(n, now, dtype=object),
        "updated_at": np.full(n, now, dtype=object),
    }
    return copied, order
