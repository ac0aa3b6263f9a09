"""The daily case: about 5 % of the village polygons redrawn, then every customer placed again, PostGIS's
way (plain and changed rows only) and ours, each from its own first assignment."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import asyncpg
import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from benchmarks.geo.postgis import POSTGIS_UPDATE, compare, settle, timed_sql
from benchmarks.geo.workers import Workers, run_ours

RESHAPED_SHARE = 0.05  # share of villages whose polygon is redrawn
Ints = npt.NDArray[np.int64]


def redrawn_villages(
    ids: Ints, township: Ints, shapes: npt.NDArray[np.object_], share: float, rng: np.random.Generator
) -> dict[int, BaseGeometry]:
    """New polygons for about share of the villages: neighbourhoods (a village and the villages of its
    township it touches) redrawn as Voronoi cells around seeds moved by up to half a village's width, clipped
    to the neighbourhood. Not snapped to the coordinate grid: snap-rounding bends the outline by a hair and
    opens slivers; unsnapped, the outline is kept exactly, so the villages still tile the county and only
    customers inside a neighbourhood can change village."""
    tree = shapely.STRtree(shapes)
    taken = np.zeros(len(shapes), dtype=bool)
    redrawn: dict[int, BaseGeometry] = {}
    for seed in rng.permutation(len(shapes)):
        if len(redrawn) >= share * len(shapes):
            break
        near = tree.query(shapes[seed], predicate="touches")
        group = np.unique(np.append(near[township[near] == township[seed]], seed))
        if len(group) < 2 or taken[group].any():
            continue
        region = shapely.union_all(shapes[group])
        centres = shapely.get_coordinates(shapely.point_on_surface(shapes[group]))
        reach = 0.5 * np.sqrt(shapely.area(shapes[group]))
        angle = rng.uniform(0, 2 * np.pi, len(group))
        moved = centres + reach[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
        outside = ~shapely.contains_xy(region, moved[:, 0], moved[:, 1])
        moved[outside] = centres[outside]
        diagram = shapely.voronoi_polygons(shapely.multipoints(moved), extend_to=region, ordered=True)
        cells = shapely.intersection(shapely.get_parts(diagram), region)
        # a clipped cell can come back as a collection holding a point or line of contact: keep its polygons
        parts = [shapely.get_parts(cell) for cell in cells]
        polygons = [part[shapely.get_type_id(part) == shapely.GeometryType.POLYGON] for part in parts]
        if any(len(p) == 0 for p in polygons):
            continue
        taken[group] = True
        redrawn.update({int(ids[i]): shapely.multipolygons(p) for i, p in zip(group, polygons, strict=True)})
    return redrawn


async def redraw_villages(conn: asyncpg.Connection, seed: int) -> list[int]:
    """Redraw about RESHAPED_SHARE of the villages (see redrawn_villages) in grid_node, through SQL."""
    rows = await conn.fetch(
        "SELECT id, parent_id, polygon::text AS polygon FROM grid_node WHERE level = 'VILLAGE' ORDER BY id"
    )
    ids = np.array([r["id"] for r in rows], dtype=np.int64)
    township = np.array([r["parent_id"] for r in rows], dtype=np.int64)
    shapes = np.asarray(shapely.from_geojson([r["polygon"] for r in rows]), dtype=object)
    redrawn = redrawn_villages(ids, township, shapes, RESHAPED_SHARE, np.random.default_rng(seed + 1))
    await conn.executemany(
        "UPDATE grid_node SET polygon = $2::jsonb, updated_at = now() WHERE id = $1",
        [(village, shapely.to_geojson(shape)) for village, shape in redrawn.items()],
    )
    return sorted(redrawn)


async def restore_villages(conn: asyncpg.Connection, table: str) -> str:
    """customer.village_id as saved in table (id, village_id), rewriting only the rows that differ."""
    status: str = await conn.execute(
        f"UPDATE customer c SET village_id = s.village_id FROM {table} s "
        "WHERE c.id = s.id AND c.village_id IS DISTINCT FROM s.village_id"
    )
    return status


POSTGIS_CHANGED_ONLY = POSTGIS_UPDATE + " AND c.village_id IS DISTINCT FROM v.id"


async def run_reassign(
    conn: asyncpg.Connection, workers: Workers, seed: int, log: Callable[[str], None]
) -> dict[str, Any]:
    """After both first assignments: redraw some villages, then place everyone again, PostGIS's way (plain
    and changed rows only, each from PostGIS's first assignment) and ours (from our first assignment)."""
    t0 = time.perf_counter()
    changed = await redraw_villages(conn, seed)
    redraw_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    await conn.execute(
        "UPDATE village_geo v SET geom = ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(g.polygon::text), 4326)) "
        "FROM grid_node g WHERE g.id = v.id AND g.id = ANY($1::int[])",
        changed,
    )
    await conn.execute("VACUUM ANALYZE village_geo")
    village_geo_s = time.perf_counter() - t0
    log(f"reassign: {len(changed):,} villages redrawn in grid_node ({redraw_s:.1f} s, not timed); "
        f"village_geo updated from them + VACUUM ANALYZE: {village_geo_s:.2f} s (not in PostGIS's time)")  # fmt: skip

    await conn.execute("CREATE TABLE postgis_first AS SELECT id, village_id FROM customer")
    await settle(conn)
    postgis_s, status = await timed_sql(conn, POSTGIS_UPDATE)
    log(f"reassign PostGIS UPDATE: {postgis_s:.2f} s ({status})")
    await conn.execute("CREATE TABLE postgis_again AS SELECT id, village_id FROM customer")
    await conn.execute("ALTER TABLE postgis_again ADD PRIMARY KEY (id)")
    status = await restore_villages(conn, "postgis_first")
    await settle(conn)
    log(f"reassign: back to PostGIS's first assignment ({status})")
    changed_only_s, changed_status = await timed_sql(conn, POSTGIS_CHANGED_ONLY)
    log(f"reassign PostGIS UPDATE, changed rows only: {changed_only_s:.2f} s ({changed_status})")
    await conn.execute(
        "CREATE TABLE covered_twice_again AS SELECT c.id, count(*) AS villages, min(v.id) AS smallest "
        "FROM customer c JOIN village_geo v ON ST_Covers(v.geom, c.geom) GROUP BY c.id HAVING count(*) > 1"
    )
    await conn.execute("ALTER TABLE covered_twice_again ADD PRIMARY KEY (id)")
    differs = await conn.fetchval(
        "SELECT count(*) FROM customer c JOIN postgis_again a USING (id) LEFT JOIN covered_twice_again t "
        "USING (id) WHERE c.village_id IS DISTINCT FROM a.village_id AND t.id IS NULL"
    )

    # Ours runs on the table as migrated, from our first assignment (placements were never touched since).
    status = await restore_villages(conn, "ours")
    await conn.execute("ALTER TABLE customer DROP COLUMN geom")
    await settle(conn)
    log(f"reassign: back to our first assignment ({status}), geom column and its GiST index dropped")
    breakdown, counts, chunks = await run_ours(workers)
    log(f"reassign ours: {breakdown.total_s:.2f} s over {chunks} chunks (write {breakdown.write_s:.2f} s)")
    await conn.execute("CREATE TABLE ours_again AS SELECT id, village_id, placement FROM customer")
    await conn.execute("ALTER TABLE ours_again ADD PRIMARY KEY (id)")
    comparison, sample = await compare(conn, postgis="postgis_again", ours="ours_again", ties="covered_twice_again")
    return {
        "villages_redrawn": len(changed),
        "village_geo_s": village_geo_s,
        "postgis_s": postgis_s,
        "postgis_changed_only_s": changed_only_s,
        "postgis_changed_rows": int(changed_status.split()[-1]),
        "postgis_variants_differ": int(differs),
        "breakdown": breakdown,
        "counts": counts,
        "comparison": comparison,
        "sample": sample,
    }
