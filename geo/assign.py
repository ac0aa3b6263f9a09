"""Assigning customers to villages by location, with an address fallback: the whole population in one pass.

Rules, applied to every customer on its own (see `assign_customers`):

1. No coordinates (lon or lat NaN): flag NO_COORDINATES, place by address (placement ADDRESS) or not at all.
2. Coordinates outside China's range (lon 73–135.5, lat 3.5–53.6, bounds included): flag SWAPPED when
   swapping lon and lat would put them inside the range, OUT_OF_RANGE otherwise. Such customers are UNPLACED
   and their address is not used either: the coordinates are wrong and a person has to look.
3. A point covered by a village polygon (boundary included) is INSIDE that village, distance 0. A point
   covered by several villages (a shared border or corner, an overlap) goes to the one with the smallest id.
4. A point outside every village goes to the nearest village within `AssignOptions.max_distance_m` metres
   (placement NEAREST, with the distance); equally near villages go to the smallest id. Farther: UNPLACED.

Point-in-polygon tests are exact: GEOS's robust predicates on the EPSG:4326 coordinates, the same answer as
`polygon.covers(point)`. Candidate villages come from a uniform grid over the villages' bounding boxes, so no
shapely Point is built for the customers inside villages. Distances are measured in a transverse Mercator
projection centred on the villages (scale error below 0.4 % within 5° of longitude of the centre).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

import geopandas
import numpy as np
import numpy.typing as npt
import pandas
import pyproj
import shapely

from domain.geo import in_china

PLACEMENTS = ("INSIDE", "NEAREST", "ADDRESS", "UNPLACED")
FLAGS = (None, "NO_COORDINATES", "OUT_OF_RANGE", "SWAPPED")
_INSIDE, _NEAREST, _ADDRESS, _UNPLACED = range(4)
_NO_FLAG, _NO_COORDINATES, _OUT_OF_RANGE, _SWAPPED = range(4)

# Grid cells per typical village box side; the grid is coarsened until the cell and entry budgets hold.
_CELLS_PER_BOX = 3
_MAX_CELLS = 4_000_000
_MAX_ENTRIES = 16_000_000
# Candidate (customer, village) pairs examined at a time: bounds memory when customers crowd into few cells.
_PAIRS_PER_CHUNK = 4_000_000

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Objects = npt.NDArray[np.object_]


@dataclass(frozen=True)
class AssignOptions:
    max_distance_m: float = 500.0  # a point outside every village goes to the nearest village this close

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_distance_m) and self.max_distance_m >= 0):
            raise ValueError(f"max_distance_m must be finite and not negative, got {self.max_distance_m}")


def assign_customers(
    customers: pandas.DataFrame, villages: geopandas.GeoDataFrame, options: AssignOptions = AssignOptions()
) -> pandas.DataFrame:
    """Assign every customer to at most one village; the rules are in the module docstring.

    `customers`: columns id (int64), lon, lat (float64, NaN when unknown), address (str, may be empty).
    `villages`: columns id (int64), name, township (str), geometry (Polygon/MultiPolygon in EPSG:4326; a
    frame in another CRS is reprojected, one without a CRS is taken as EPSG:4326). Villages without a
    geometry take part in the address fallback only.

    Returns one row per customer, in input order and with the input index: id (int64), village_id (Int64,
    <NA> when unplaced), placement (str: INSIDE, NEAREST, ADDRESS, UNPLACED), distance_m (float64: 0 for
    INSIDE, the distance for NEAREST, NaN otherwise), flag (object: NO_COORDINATES, OUT_OF_RANGE, SWAPPED or
    None).
    """
    lon = customers["lon"].to_numpy(dtype=np.float64, na_value=np.nan)
    lat = customers["lat"].to_numpy(dtype=np.float64, na_value=np.nan)
    flag = _coordinate_flags(lon, lat)
    table = _VillageTable.from_frame(villages)

    village = np.full(len(customers), -1, dtype=np.int64)  # position in `table`, -1 = none
    placement = np.full(len(customers), _UNPLACED, dtype=np.int8)
    distance = np.full(len(customers), np.nan)

    located = np.flatnonzero(flag == _NO_FLAG)
    if table.has_shapes and len(located):
        inside = _covering_village(lon[located], lat[located], table)
        hit = inside >= 0
        village[located[hit]] = inside[hit]
        placement[located[hit]] = _INSIDE
        distance[located[hit]] = 0.0
        outside = located[~hit]
        if options.max_distance_m > 0 and len(outside):
            nearest, metres = _nearest_village(lon[outside], lat[outside], table, options.max_distance_m)
            found = nearest >= 0
            village[outside[found]] = nearest[found]
            placement[outside[found]] = _NEAREST
            distance[outside[found]] = metres[found]

    unlocated = np.flatnonzero(flag == _NO_COORDINATES)
    if len(unlocated) and len(table.ids):
        addresses = customers["address"].iloc[unlocated].to_numpy(dtype=object)
        by_address = village_by_address(addresses, table.names, table.townships)
        found = by_address >= 0
        village[unlocated[found]] = by_address[found]
        placement[unlocated[found]] = _ADDRESS

    placed = village >= 0
    village_id = np.zeros(len(customers), dtype=np.int64)
    village_id[placed] = table.ids[village[placed]]
    return pandas.DataFrame(
        {
            "id": customers["id"].to_numpy(dtype=np.int64),
            "village_id": pandas.arrays.IntegerArray(village_id, ~placed),
            "placement": pandas.array(np.array(PLACEMENTS, dtype=object)[placement], dtype="str"),
            "distance_m": distance,
            # object, not str: pandas' str dtype would turn None into NaN
            "flag": pandas.Series(np.array(FLAGS, dtype=object)[flag], dtype=object, index=customers.index),
        },
        index=customers.index,
    )


def affected_customers(
    customers: pandas.DataFrame,
    old_geometry: shapely.Geometry | None,
    new_geometry: shapely.Geometry | None,
    max_distance_m: float,
) -> Ints:
    """Ids of the customers whose village may change when one village's polygon changes from old to new.

    A customer's village can only change if the customer lies within `max_distance_m` of the old or the new
    polygon, so this returns, in input order, the customers with usable coordinates inside either polygon's
    bounding box grown by that distance: a cheap superset meant for incremental reassignment (run
    `assign_customers` on them against the updated villages). None, or an empty geometry, stands for a
    village that is new (old) or removed (new). Customers without usable coordinates are never returned:
    their placement does not depend on polygons.
    """
    lon = customers["lon"].to_numpy(dtype=np.float64, na_value=np.nan)
    lat = customers["lat"].to_numpy(dtype=np.float64, na_value=np.nan)
    near = np.zeros(len(customers), dtype=bool)
    for geometry in (old_geometry, new_geometry):
        if geometry is None or shapely.is_empty(geometry):
            continue
        west, south, east, north = _grown_bounds(shapely.bounds(geometry), max_distance_m)
        near |= (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
    near &= _coordinate_flags(lon, lat) == _NO_FLAG
    ids: Ints = customers["id"].to_numpy(dtype=np.int64)[near]
    return ids


def village_by_address(addresses: Objects, names: Objects, townships: Objects) -> Ints:
    """For each address, the position (in `names`) of the one village it names, or -1.

    A village is named when its name (two characters or more) occurs in the address, whitespace removed; an
    occurrence inside a longer name's occurrence does not count ("新村" inside "新村社区", "庄村" inside
    "张庄村"). When the names found point at several villages (a name shared across townships, or two
    names), only those whose township name also occurs in the address are kept; if exactly one remains it
    is the answer, otherwise -1.

    Linear in the addresses, whatever the number of villages: one regex pass over the reversed addresses
    finds every place where a village name could end, and the text before each is looked up, for every
    name length at once, in a hash index of the names.
    """
    result = np.full(len(addresses), -1, dtype=np.int64)
    index = _NameIndex.build(names)
    if index is None or not len(addresses):
        return result
    text = ["".join(address.split()) if isinstance(address, str) else "" for address in addresses]
    spans = _name_spans(text, index)
    pairs = spans.merge(index.villages, on="name")[["row", "village"]].drop_duplicates()
    count = pairs.groupby("row")["village"].transform("size")
    unique = pairs[count == 1]
    result[unique["row"].to_numpy()] = unique["village"].to_numpy()

    shared = pairs[count > 1]
    if not shared.empty:
        towns = np.array(["".join(t.split()) if isinstance(t, str) else "" for t in townships], dtype=object)
        town = np.asarray(towns[shared["village"].to_numpy()], dtype=np.dtypes.StringDType())
        where = np.asarray(np.array(text, dtype=object)[shared["row"].to_numpy()], dtype=np.dtypes.StringDType())
        mentioned = (np.strings.str_len(town) > 0) & (np.strings.find(where, town) >= 0)
        kept = shared[mentioned]
        kept = kept[kept.groupby("row")["village"].transform("size") == 1]
        result[kept["row"].to_numpy()] = kept["village"].to_numpy()
    return result


@dataclass(frozen=True)
class _VillageTable:
    """The villages sorted by id, so that 'smallest position' means 'smallest id'."""

    ids: Ints
    names: Objects
    townships: Objects
    shapes: Objects  # per village, a private copy of its geometry (safe to prepare) or None
    shaped: Ints  # positions of the villages that have a geometry

    @property
    def has_shapes(self) -> bool:
        return len(self.shaped) > 0

    @classmethod
    def from_frame(cls, villages: geopandas.GeoDataFrame) -> _VillageTable:
        if villages.crs is not None and not villages.crs.equals("EPSG:4326"):
            villages = villages.to_crs("EPSG:4326")
        ids = villages["id"].to_numpy(dtype=np.int64)
        order = np.argsort(ids, kind="stable")
        geoms = np.asarray(villages.geometry.array, dtype=object)[order]
        missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        geoms[missing] = None
        # Copies: preparing them must not touch the caller's geometries.
        shapes = shapely.transform(geoms, lambda coords: coords)
        shapely.prepare(shapes)
        return cls(
            ids=ids[order],
            names=villages["name"].to_numpy(dtype=object)[order],
            townships=villages["township"].to_numpy(dtype=object)[order],
            shapes=shapes,
            shaped=np.flatnonzero(~missing),
        )


def _coordinate_flags(lon: Floats, lat: Floats) -> npt.NDArray[np.int8]:
    """Per point, an index into FLAGS: usable (None), NO_COORDINATES, OUT_OF_RANGE or SWAPPED."""
    flag = np.full(len(lon), _OUT_OF_RANGE, dtype=np.int8)
    inside = in_china(lon, lat)
    flag[inside] = _NO_FLAG
    flag[~inside & in_china(lat, lon)] = _SWAPPED
    flag[np.isnan(lon) | np.isnan(lat)] = _NO_COORDINATES
    return flag


def _covering_village(lon: Floats, lat: Floats, table: _VillageTable) -> Ints:
    """Position of the smallest-id village covering each point (boundary included), -1 when none does."""
    shapes = table.shapes[table.shaped]
    grid = _BoxGrid.build(shapely.bounds(shapes))
    best = np.full(len(lon), len(shapes), dtype=np.int64)
    for point, x, y, candidate in grid.candidate_pairs(lon, lat):
        covered = shapely.intersects_xy(shapes[candidate], x, y)  # for a point, intersects = covered by
        np.minimum.at(best, point[covered], candidate[covered])
    found = best < len(shapes)
    result: Ints = np.where(found, table.shaped[np.minimum(best, len(shapes) - 1)], -1)
    return result


def _nearest_village(lon: Floats, lat: Floats, table: _VillageTable, max_distance_m: float) -> tuple[Ints, Floats]:
    """The nearest village within max_distance_m (smallest id among equally near ones) and its distance."""
    shapes = table.shapes[table.shaped]
    west, _, east, _ = shapely.total_bounds(shapes)
    metric = pyproj.CRS.from_dict({"proj": "tmerc", "lon_0": (west + east) / 2, "k": 1, "ellps": "WGS84"})
    to_metric = pyproj.Transformer.from_crs("EPSG:4326", metric, always_xy=True)

    def project(coords: Floats) -> Floats:
        return np.column_stack(to_metric.transform(coords[:, 0], coords[:, 1]))

    metric_shapes = shapely.transform(shapes, project)
    points = shapely.points(*to_metric.transform(lon, lat))
    # The villages within the distance, then exact distances: several times faster than query_nearest.
    tree = shapely.STRtree(metric_shapes)
    point, candidate = tree.query(points, predicate="dwithin", distance=max_distance_m)
    order = np.argsort(candidate, kind="stable")  # village order keeps each polygon hot in cache
    point, candidate = point[order], candidate[order]
    metres = shapely.distance(metric_shapes[candidate], points[point])
    within = metres <= max_distance_m
    point, candidate, metres = point[within], candidate[within], metres[within]
    distance = np.full(len(lon), np.inf)
    np.minimum.at(distance, point, metres)
    nearest = metres == distance[point]  # all the equally near villages, then the smallest id
    best = np.full(len(lon), len(shapes), dtype=np.int64)
    np.minimum.at(best, point[nearest], candidate[nearest])
    found = best < len(shapes)
    result: Ints = np.where(found, table.shaped[np.minimum(best, len(shapes) - 1)], -1)
    return result, np.where(found, distance, np.nan)


@dataclass(frozen=True)
class _BoxGrid:
    """A uniform grid over the villages' bounding boxes: for each cell, the villages whose box meets it.

    Boxes and points get their cells from one monotonic formula, so a point inside a box always falls in one
    of the box's cells: no village is ever missed.
    """

    west: float
    south: float
    width: float  # of a cell, in degrees
    height: float
    columns: int
    rows: int
    boxes: Floats  # (4, n): west, south, east and north edge of each village's box
    starts: Ints  # the villages of cell c are members[starts[c]:starts[c + 1]]
    members: Ints

    @classmethod
    def build(cls, bounds: Floats) -> _BoxGrid:
        west, south = bounds[:, 0].min(), bounds[:, 1].min()
        span_x = max(bounds[:, 2].max() - west, 1e-9)
        span_y = max(bounds[:, 3].max() - south, 1e-9)
        width = max(float(np.median(bounds[:, 2] - bounds[:, 0])) / _CELLS_PER_BOX, span_x / 4096, 1e-9)
        height = max(float(np.median(bounds[:, 3] - bounds[:, 1])) / _CELLS_PER_BOX, span_y / 4096, 1e-9)
        while True:
            columns, rows = math.ceil(span_x / width), math.ceil(span_y / height)
            first_x, last_x = (cls._cell(bounds[:, i], west, width, columns) for i in (0, 2))
            first_y, last_y = (cls._cell(bounds[:, i], south, height, rows) for i in (1, 3))
            across = last_x - first_x + 1
            spans = across * (last_y - first_y + 1)
            if columns * rows <= _MAX_CELLS and spans.sum() <= _MAX_ENTRIES:
                break
            width, height = width * 2, height * 2
        village = np.repeat(np.arange(len(bounds), dtype=np.int64), spans)
        step = np.arange(len(village), dtype=np.int64) - np.repeat(np.cumsum(spans) - spans, spans)
        row, column = np.divmod(step, across[village])
        cell = (first_y[village] + row) * columns + first_x[village] + column
        starts = np.zeros(columns * rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(cell, minlength=columns * rows), out=starts[1:])
        members = village[np.argsort(cell, kind="stable")]
        return cls(west, south, width, height, columns, rows, np.ascontiguousarray(bounds.T), starts, members)

    @staticmethod
    def _cell(values: Floats, origin: float, size: float, count: int) -> Ints:
        cells: Ints = np.clip(np.floor((values - origin) / size), 0, count - 1).astype(np.int64)
        return cells

    def candidate_pairs(self, lon: Floats, lat: Floats) -> Iterator[tuple[Ints, Floats, Floats, Ints]]:
        """(point position, lon, lat, village position) for each point inside a village's box, in chunks.

        Pairs come in cell order: consecutive pairs share a handful of villages, which stay hot in cache
        (the point-in-polygon tests then run an order of magnitude faster than in input order).
        """
        west, south = self.boxes[0].min(), self.boxes[1].min()
        east, north = self.boxes[2].max(), self.boxes[3].max()
        within = np.flatnonzero((lon >= west) & (lon <= east) & (lat >= south) & (lat <= north))
        cell = self._cell(lat[within], self.south, self.height, self.rows) * self.columns
        cell += self._cell(lon[within], self.west, self.width, self.columns)
        order = np.argsort(cell)
        within, cell = within[order], cell[order]
        x, y = lon[within], lat[within]
        counts = self.starts[cell + 1] - self.starts[cell]
        total = np.cumsum(counts)
        limits = np.arange(_PAIRS_PER_CHUNK, total[-1] if len(total) else 0, _PAIRS_PER_CHUNK)
        cuts = [0, *np.searchsorted(total, limits, side="right").tolist(), len(within)]
        for begin, end in itertools.pairwise(cuts):
            if begin == end:
                continue
            n = counts[begin:end]
            # members[starts[cell] + k] for k in 0..n-1, for every point of the chunk
            first = np.repeat(self.starts[cell[begin:end]] - (np.cumsum(n) - n), n)
            village = self.members[first + np.arange(len(first))]
            pair_x, pair_y = np.repeat(x[begin:end], n), np.repeat(y[begin:end], n)
            keep = (pair_x >= self.boxes[0][village]) & (pair_x <= self.boxes[2][village])
            keep &= (pair_y >= self.boxes[1][village]) & (pair_y <= self.boxes[3][village])
            yield np.repeat(within[begin:end], n)[keep], pair_x[keep], pair_y[keep], village[keep]


@dataclass(frozen=True)
class _NameIndex:
    """The distinct village names, reversed, as code points and hashes, and the villages bearing each."""

    longest: int
    codes: npt.NDArray[np.uint32]  # (names, longest): reversed names' code points, zero-padded
    lengths: Ints
    hashes: npt.NDArray[np.uint64]  # of each whole reversed name
    last_chars: str  # every character a name ends with
    villages: pandas.DataFrame  # name (position in codes), village (position in the caller's names)

    @classmethod
    def build(cls, names: Objects) -> _NameIndex | None:
        usable = [
            (position, name.strip())
            for position, name in enumerate(names)
            if isinstance(name, str) and len(name.strip()) >= 2
        ]
        if not usable:
            return None
        frame = pandas.DataFrame(usable, columns=["village", "text"])
        distinct, frame["name"] = np.unique(frame["text"].to_numpy(dtype=str), return_inverse=True)
        longest = max(len(name) for name in distinct)
        codes = _code_points([name[::-1] for name in distinct], longest)
        lengths = np.array([len(name) for name in distinct], dtype=np.int64)
        hashes = _prefix_hashes(codes)[np.arange(len(distinct)), lengths - 1]
        last_chars = "".join(sorted({name[-1] for name in distinct}))
        return cls(longest, codes, lengths, hashes, last_chars, frame[["name", "village"]])


def _name_spans(text: list[str], index: _NameIndex) -> pandas.DataFrame:
    """The maximal occurrences of village names in each text: row (position in `text`), name (in index)."""
    # In each reversed text: from every character that ends some name, all the text before it.
    pattern = re.compile(rf"(?s)(?=([{re.escape(index.last_chars)}].*))")
    found = [pattern.findall(t[::-1]) for t in text]
    heads = list(itertools.chain.from_iterable(found))
    row = np.repeat(np.arange(len(text)), np.fromiter(map(len, found), np.int64, len(found)))
    end = np.fromiter(map(len, heads), np.int64, len(heads)) - 1  # where that character is in the text
    codes = _code_points(heads, index.longest)
    hashes = _prefix_hashes(codes)
    spans = []
    for length in np.unique(index.lengths).tolist():
        names = np.flatnonzero(index.lengths == length)
        names = names[np.argsort(index.hashes[names])]
        at = np.minimum(np.searchsorted(index.hashes[names], hashes[:, length - 1]), len(names) - 1)
        hit = np.flatnonzero((end + 1 >= length) & (index.hashes[names[at]] == hashes[:, length - 1]))
        # hashes only propose; the code points decide
        hit = hit[(codes[hit, :length] == index.codes[names[at[hit]], :length]).all(axis=1)]
        spans.append(
            pandas.DataFrame({"row": row[hit], "end": end[hit], "start": end[hit] - length + 1, "name": names[at[hit]]})
        )
    found_spans = pandas.concat(spans, ignore_index=True)
    # Sorted by end descending, then start ascending, a span lies inside another exactly when an earlier
    # span of the same text starts at or before it.
    found_spans = found_spans.sort_values(["row", "end", "start"], ascending=[True, False, True], ignore_index=True)
    earliest = found_spans.groupby("row")["start"].cummin().groupby(found_spans["row"]).shift(1)
    return found_spans.loc[~(earliest <= found_spans["start"]), ["row", "name"]]


def _code_points(strings: list[str], width: int) -> npt.NDArray[np.uint32]:
    """The first `width` code points of each string, zero-padded: shape (len(strings), width)."""
    fixed = np.array(strings, dtype=f"<U{width}")  # numpy truncates longer strings
    return fixed.view(np.uint32).reshape(len(strings), width)


def _prefix_hashes(codes: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint64]:
    """hashes[i, k - 1]: a polynomial hash of the first k code points of row i (arithmetic modulo 2**64)."""
    hashes = np.empty(codes.shape, dtype=np.uint64)
    running = np.zeros(len(codes), dtype=np.uint64)
    for column in range(codes.shape[1]):
        running = running * np.uint64(1_000_003) + codes[:, column].astype(np.uint64) + np.uint64(1)
        hashes[:, column] = running
    return hashes


def _grown_bounds(bounds: Floats, metres: float) -> tuple[float, float, float, float]:
    """A lon/lat box grown by at least `metres` on every side (degree lengths rounded down)."""
    west, south, east, north = (float(v) for v in bounds)
    grow_lat = metres / 110_000.0 + 1e-9  # a degree of latitude is at least 110.57 km
    widest = min(max(abs(south), abs(north)) + grow_lat, 89.0)
    grow_lon = metres / (111_000.0 * math.cos(math.radians(widest))) + 1e-9  # at least 111.32 km × cos(lat)
    return west - grow_lon, south - grow_lat, east + grow_lon, north + grow_lat
