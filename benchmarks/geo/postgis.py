"""The named baseline: one PostGIS UPDATE … ST_Covers over GiST indexes, and the queries that compare its
assignment with ours (disagreements, border ties, placement by kind of customer)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import asyncpg


async def timed_sql(conn: asyncpg.Connection, sql: str) -> tuple[float, str]:
    t0 = time.perf_counter()
    status = await conn.execute(sql)
    return time.perf_counter() - t0, status


async def settle(conn: asyncpg.Connection) -> float:
    """Dead tuples vacuumed, statistics fresh, dirty pages flushed: the next run starts from a clean table."""
    t0 = time.perf_counter()
    await conn.execute("VACUUM ANALYZE customer")
    await conn.execute("CHECKPOINT")
    return time.perf_counter() - t0


POSTGIS_UPDATE = "UPDATE customer c SET village_id = v.id FROM village_geo v WHERE ST_Covers(v.geom, c.geom)"

COMPARISON = """
    SELECT
      count(*) FILTER (WHERE o.placement = 'INSIDE' AND o.village_id IS DISTINCT FROM c.village_id
                       AND t.id IS NULL) AS inside_differs,
      count(*) FILTER (WHERE c.village_id IS NOT NULL AND o.placement <> 'INSIDE') AS postgis_only,
      count(*) FILTER (WHERE t.id IS NOT NULL) AS border_ties,
      count(*) FILTER (WHERE t.id IS NOT NULL AND o.village_id = t.smallest) AS ties_to_smallest_id,
      count(*) FILTER (WHERE c.village_id IS NOT NULL) AS postgis_placed,
      count(*) FILTER (WHERE o.placement = 'INSIDE') AS ours_inside
    FROM {postgis} c JOIN {ours} o USING (id) LEFT JOIN {ties} t USING (id)
"""

DISAGREEMENT_SAMPLE = """
    SELECT c.id, k.lon, k.lat, o.placement, o.village_id AS ours, c.village_id AS postgis
    FROM {postgis} c JOIN {ours} o USING (id) JOIN customer k USING (id) LEFT JOIN {ties} t USING (id)
    WHERE (o.placement = 'INSIDE' AND o.village_id IS DISTINCT FROM c.village_id AND t.id IS NULL)
       OR (c.village_id IS NOT NULL AND o.placement <> 'INSIDE')
    ORDER BY c.id LIMIT 5
"""

BY_KIND = """
    SELECT b.kind, o.placement, count(*) AS customers,
           count(*) FILTER (WHERE b.village_id IS NOT NULL AND o.village_id = b.village_id)
             AS in_drawn_village
    FROM bench_truth b JOIN ours o USING (id) GROUP BY b.kind, o.placement ORDER BY b.kind, o.placement
"""


async def compare(conn: asyncpg.Connection, **tables: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Counts for the report and the first disagreements, between a PostGIS assignment (table postgis: id,
    village_id), ours (ours: id, village_id, placement) and the points covered twice (ties)."""
    comparison = dict(await conn.fetchrow(COMPARISON.format(**tables)))
    sample = [dict(r) for r in await conn.fetch(DISAGREEMENT_SAMPLE.format(**tables))]
    return comparison, sample


async def run_postgis(conn: asyncpg.Connection, log: Callable[[str], None]) -> dict[str, Any]:
    """Save our result, build the PostGIS side, time its UPDATE, then compare the two assignments."""
    t0 = time.perf_counter()
    await conn.execute("CREATE TABLE ours AS SELECT id, village_id, placement FROM customer")
    await conn.execute("ALTER TABLE ours ADD PRIMARY KEY (id)")
    # Filling the points and clearing our villages as one table rewrite (ALTER … TYPE … USING), not as a
    # million-row UPDATE: same result, indexes rebuilt once, no dead tuples, minutes faster at full size.
    await conn.execute("ALTER TABLE customer ADD COLUMN geom geometry(Point, 4326)")
    await conn.execute(
        "ALTER TABLE customer "
        "ALTER COLUMN geom TYPE geometry(Point, 4326) USING ST_SetSRID(ST_MakePoint(lon, lat), 4326), "
        "ALTER COLUMN village_id TYPE integer USING NULL"
    )
    await conn.execute("CREATE INDEX customer_geom_gist ON customer USING gist (geom)")
    await conn.execute(
        "CREATE TABLE village_geo AS SELECT id, "
        "ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(polygon::text), 4326))::geometry(MultiPolygon, 4326) AS geom "
        "FROM grid_node WHERE level = 'VILLAGE' AND polygon IS NOT NULL"
    )
    await conn.execute("ALTER TABLE village_geo ADD PRIMARY KEY (id)")
    await conn.execute("CREATE INDEX village_geo_gist ON village_geo USING gist (geom)")
    await conn.execute("VACUUM ANALYZE village_geo")
    setup_s = time.perf_counter() - t0
    settle_s = await settle(conn)
    log(f"PostGIS setup (not timed): ours saved, geom column + GiST, village_geo + GiST: {setup_s:.1f} s; "
        f"VACUUM ANALYZE + CHECKPOINT before the run: {settle_s:.1f} s")  # fmt: skip
    plan = [r[0] for r in await conn.fetch("EXPLAIN " + POSTGIS_UPDATE)]
    log("PostGIS plan: " + " | ".join(line.strip() for line in plan))

    postgis_s, status = await timed_sql(conn, POSTGIS_UPDATE)
    log(f"PostGIS UPDATE: {postgis_s:.2f} s ({status})")

    # The same join without writing customers: what PostGIS spends placing, to set beside our read + assign,
    # on a table vacuumed again after the UPDATE.
    await settle(conn)
    t0 = time.perf_counter()
    await conn.execute(
        "CREATE TABLE covered_twice AS SELECT c.id, count(*) AS villages, min(v.id) AS smallest "
        "FROM customer c JOIN village_geo v ON ST_Covers(v.geom, c.geom) GROUP BY c.id HAVING count(*) > 1"
    )
    join_s = time.perf_counter() - t0
    log(f"PostGIS join alone (border ties: ST_Covers join + GROUP BY, no customer writes): {join_s:.2f} s")
    t0 = time.perf_counter()
    await conn.execute("ALTER TABLE covered_twice ADD PRIMARY KEY (id)")
    comparison, sample = await compare(conn, postgis="customer", ours="ours", ties="covered_twice")
    by_kind = [dict(r) for r in await conn.fetch(BY_KIND)]
    log(f"comparison queries: {time.perf_counter() - t0:.1f} s")
    return {
        "postgis_s": postgis_s,
        "postgis_join_s": join_s,
        "comparison": comparison,
        "sample": sample,
        "by_kind": by_kind,
    }
