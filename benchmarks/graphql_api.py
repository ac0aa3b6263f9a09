"""GraphQL API throughput against a hand-written Starlette endpoint doing the same SQL.

Two operations on the demo county, signed in as head office:
  drilldown — county → townships → villages, each with its customer count
  page      — 100 customers under the county with their village and managing officer

Both paths run in this process through their ASGI apps (httpx's ASGI transport, one request at a time), behind
the same token middleware, on the same SQLite file (or DATABASE_URL when --database-url is given). Prints
requests per second and p50/p99 latency for each, the ratio ours ÷ baseline, and ends with one JSON line.
Target: the GraphQL path at least half the hand-written one's throughput.

    python benchmarks/graphql_api.py            # scale 1.0: ~400 villages, ~50,000 customers
    python benchmarks/graphql_api.py --small    # scale 0.1, fewer requests
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tortoise import Tortoise

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import RequestContextMiddleware, create_app
from demo import generate_demo
from domain.grid.paths import covering_paths
from resolvers.platform.db import connection, placeholders
from resolvers.platform.migrate import run_migrations
from settings import SETTINGS, tortoise_config

DRILLDOWN = """
query { gridRoots { id name customerCount
  children { id name customerCount children { id name customerCount } } } }
"""
PAGE = """
query($n: ID!) { customers(nodeId: $n, first: 100) { totalCount
  edges { node { id name idNumber phone depositBalance loanBalance
    village { id name } manager { id displayName } } } } }
"""


# --- the hand-written baseline: the same SQL, JSON out, no GraphQL --------------------------------------------


async def _children(parent_ids: list[int]) -> list[dict[str, Any]]:
    conn = connection()
    marks = ", ".join(placeholders(conn, 0, len(parent_ids)))
    sql = f"SELECT id, name, path, parent_id FROM grid_node WHERE parent_id IN ({marks}) ORDER BY code"
    return list(await conn.execute_query_dict(sql, parent_ids))


async def _counts(paths: list[str]) -> dict[str, int]:
    """The same statement as resolvers.grid.customer_counts for head office, and the same roll-up by path."""
    conn = connection()
    roots = covering_paths(paths)
    marks = placeholders(conn, 0, len(roots))
    sql = (
        "SELECT v.path AS village_path, COUNT(*) AS customers FROM customer c "
        "JOIN grid_node v ON v.id = c.village_id "
        f"WHERE ({' OR '.join(f'v.path LIKE {m}' for m in marks)}) GROUP BY v.path"
    )
    totals: dict[str, int] = {}
    for row in await conn.execute_query_dict(sql, [f"{root}%" for root in roots]):
        ids = [p for p in row["village_path"].split("/") if p]
        for depth in range(1, len(ids) + 1):
            prefix = "/" + "/".join(ids[:depth]) + "/"
            totals[prefix] = totals.get(prefix, 0) + int(row["customers"])
    return totals


async def baseline_drilldown(request: Request) -> JSONResponse:
    conn = connection()
    roots = list(
        await conn.execute_query_dict("SELECT id, name, path FROM grid_node WHERE parent_id IS NULL ORDER BY code")
    )
    townships = await _children([r["id"] for r in roots])
    villages = await _children([t["id"] for t in townships])
    counts = await _counts([n["path"] for n in roots + townships + villages])

    def shape(node: dict[str, Any], kids: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": node["id"],
            "name": node["name"],
            "customerCount": counts.get(node["path"], 0),
            "children": kids,
        }

    by_parent: dict[int, list[dict[str, Any]]] = {}
    for v in villages:
        by_parent.setdefault(v["parent_id"], []).append(shape(v, []))
    tree = [
        shape(r, [shape(t, by_parent.get(t["id"], [])) for t in townships if t["parent_id"] == r["id"]]) for r in roots
    ]
    return JSONResponse({"data": {"gridRoots": tree}})


async def baseline_page(request: Request) -> JSONResponse:
    conn = connection()
    root = (await conn.execute_query_dict("SELECT id, path FROM grid_node WHERE parent_id IS NULL"))[0]
    mark = placeholders(conn, 0, 1)[0]
    rows = await conn.execute_query_dict(
        "SELECT c.id, c.name, c.id_number, c.phone, c.deposit_balance, c.loan_balance, c.village_id, c.manager_id "
        f"FROM customer c JOIN grid_node v ON v.id = c.village_id WHERE v.path LIKE {mark} "
        "ORDER BY c.name, c.id LIMIT 101",
        [root["path"] + "%"],
    )
    total = (
        await conn.execute_query_dict(
            f"SELECT COUNT(*) AS n FROM customer c JOIN grid_node v ON v.id = c.village_id WHERE v.path LIKE {mark}",
            [root["path"] + "%"],
        )
    )[0]["n"]
    rows = rows[:100]
    village_ids = sorted({r["village_id"] for r in rows})
    manager_ids = sorted({r["manager_id"] for r in rows if r["manager_id"]})
    villages = {
        v["id"]: v["name"]
        for v in await conn.execute_query_dict(
            f"SELECT id, name FROM grid_node WHERE id IN ({', '.join(placeholders(conn, 0, len(village_ids)))})",
            village_ids,
        )
    }
    managers = {
        m["id"]: m["display_name"]
        for m in await conn.execute_query_dict(
            f"SELECT id, display_name FROM staff WHERE id IN ({', '.join(placeholders(conn, 0, len(manager_ids)))})",
            manager_ids,
        )
    }
    edges = [
        {
            "node": {
                "id": r["id"], "name": r["name"], "idNumber": r["id_number"], "phone": r["phone"],
                "depositBalance": str(r["deposit_balance"]), "loanBalance": str(r["loan_balance"]),
                "village": {"id": r["village_id"], "name": villages.get(r["village_id"])},
                "manager": {"id": r["manager_id"], "displayName": managers.get(r["manager_id"])},
            }
        }
        for r in rows
    ]  # fmt: skip
    return JSONResponse({"data": {"customers": {"totalCount": total, "edges": edges}}})


def baseline_app() -> Starlette:
    app = Starlette(routes=[Route("/drilldown", baseline_drilldown), Route("/page", baseline_page)])
    app.add_middleware(RequestContextMiddleware)
    return app


# --- measuring -----------------------------------------------------------------------------------------------


async def measure(call: Callable[[], Awaitable[httpx.Response]], requests: int) -> dict[str, float]:
    for _ in range(max(3, requests // 20)):  # warm caches
        (await call()).raise_for_status()
    latencies = []
    started = time.perf_counter()
    for _ in range(requests):
        t0 = time.perf_counter()
        response = await call()
        latencies.append(time.perf_counter() - t0)
        response.raise_for_status()
    elapsed = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies, n=100)
    return {"rps": requests / elapsed, "p50_ms": quantiles[49] * 1000, "p99_ms": quantiles[98] * 1000}


async def run(scale: float, requests: int, database_url: str | None) -> dict[str, Any]:
    owned = database_url is None
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite://{Path(tmp) / 'bench.sqlite3'}"
        if owned:
            await run_migrations(url)
        await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
        try:
            if owned:
                t0 = time.perf_counter()
                summary = await generate_demo(seed=20261128, scale=scale, progress=lambda _m: None)
                print(f"demo county generated in {time.perf_counter() - t0:.1f} s: {summary.describe()}")
            return await _compare(requests)
        finally:
            await Tortoise.close_connections()


async def _compare(requests: int) -> dict[str, Any]:
    ours = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(SETTINGS, manage_orm=False)), base_url="http://bench"
    )
    base = httpx.AsyncClient(transport=httpx.ASGITransport(app=baseline_app()), base_url="http://bench")
    async with ours, base:
        login = await ours.post(
            "/graphql",
            json={
                "query": 'mutation { login(username: "head", password: "palm-demo-2026") '
                "{ ... on LoginSuccess { token } } }"
            },
        )
        headers = {"Authorization": f"Bearer {login.json()['data']['login']['token']}"}
        roots = await ours.post("/graphql", json={"query": "{ gridRoots { id } }"}, headers=headers)
        county_id = roots.json()["data"]["gridRoots"][0]["id"]
        ours_drill = await measure(lambda: ours.post("/graphql", json={"query": DRILLDOWN}, headers=headers), requests)
        base_drill = await measure(lambda: base.get("/drilldown", headers=headers), requests)
        page_vars = {"query": PAGE, "variables": {"n": county_id}}
        ours_page = await measure(lambda: ours.post("/graphql", json=page_vars, headers=headers), requests)
        base_page = await measure(lambda: base.get("/page", headers=headers), requests)
    return {"drilldown": (ours_drill, base_drill), "page": (ours_page, base_page)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="scale 0.1 and 30 requests per path")
    parser.add_argument("--scale", type=float, default=None, help="demo county scale (default 1.0)")
    parser.add_argument("--requests", type=int, default=None, help="requests per path (default 200)")
    parser.add_argument("--database-url", default=None, help="an existing database with the demo county loaded")
    args = parser.parse_args()
    scale = args.scale or (0.1 if args.small else 1.0)
    requests = args.requests or (30 if args.small else 200)
    results = asyncio.run(run(scale, requests, args.database_url))
    figures: dict[str, Any] = {"benchmark": "graphql_api", "scale": scale, "requests": requests}
    print(f"{'operation':<10} {'path':<9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for name, (ours, base) in results.items():
        for label, fig in (("graphql", ours), ("baseline", base)):
            print(f"{name:<10} {label:<9} {fig['rps']:>8.1f} {fig['p50_ms']:>8.2f} {fig['p99_ms']:>8.2f}")
        ratio = ours["rps"] / base["rps"]
        print(f"{name:<10} ratio graphql/baseline throughput = {ratio:.2f} (target >= 0.5)")
        figures.update(
            {
                f"{name}_rps": round(ours["rps"], 1),
                f"{name}_baseline_rps": round(base["rps"], 1),
                f"{name}_ratio": round(ratio, 3),
                f"{name}_p50_ms": round(ours["p50_ms"], 2),
                f"{name}_p99_ms": round(ours["p99_ms"], 2),
                f"{name}_baseline_p50_ms": round(base["p50_ms"], 2),
                f"{name}_baseline_p99_ms": round(base["p99_ms"], 2),
            }
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
