"""GraphQL API throughput against hand-written Starlette endpoints doing the same SQL, and a load run.

Four screens on the demo county, each as its user signs in:
  drilldown           head office: county → townships → villages, each with its customer count
  page                head office: 100 customers under the county with their village and managing officer
  village_page        a customer manager: one of their villages, breadcrumb, count, 50 customers by deposits
  township_dashboard  a branch president: their township's KPIs, villages with counts, ranked by coverage

Both paths run in this process through their ASGI apps (httpx's ASGI transport, one request at a time), behind
the same token middleware, on the same database (a fresh SQLite demo county, or --database-url), in turns of
one tenth of the requests each so that noise on a shared machine falls on both. Prints
requests per second and p50/p99 for each, the ratio ours ÷ baseline (target ≥ 0.5), and with --load a run of
C concurrent clients (default 200) against `palmcredit serve --workers 2` on the PostgreSQL database given
(targets: p99 under 500 ms, no errors). Ends with one JSON line.

    python benchmarks/graphql_api.py                          # scale 1.0: ~400 villages, ~50,000 customers
    python benchmarks/graphql_api.py --small                  # scale 0.1, fewer requests
    python benchmarks/graphql_api.py --database-url postgres://…/db --load --profile
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import json
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from tortoise import Tortoise

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app
from benchmarks.api.baseline import baseline_app
from benchmarks.api.load import Call, free_port, run_load, run_wrk, server, wrk_available
from demo import generate_demo
from demo.staff import DEMO_PASSWORD
from models import GridKpi, GridLevel, GridNode, Staff
from resolvers.grid.kpis import roll_up_kpis
from resolvers.platform.gc_tuning import tune_gc
from resolvers.platform.migrate import run_migrations
from settings import SETTINGS, tortoise_config

CSRF = {"X-Palmcredit-Request": "1"}

DRILLDOWN = """
query { gridRoots { id name customerCount
  children { id name customerCount children { id name customerCount } } } }
"""
PAGE = """
query($n: ID!) { customers(nodeId: $n, first: 100) { totalCount
  edges { node { id name idNumber phone depositBalance loanBalance masked
    village { id name } manager { id displayName } } } } }
"""
VILLAGE_PAGE = """
query($code: String!) { gridNode(code: $code) { name ancestors { name } customerCount
  customers(first: 50, orderBy: {field: DEPOSIT_BALANCE, descending: true}) { totalCount
    edges { node { id name idNumber phone depositBalance loanBalance masked
      village { id name } manager { id displayName } } } } } }
"""
TOWNSHIP_DASHBOARD = """
query($code: String!) { gridNode(code: $code) { name customerCount
  kpi { period customers households depositBalance loanBalance creditCoverage }
  children { name code customerCount }
  childRanking(metric: CREDIT_COVERAGE) { rank value node { name } } } }
"""
FLOOR = "query { __typename }"
FLOOR_NAME = "floor"


@dataclass(frozen=True)
class Operation:
    name: str
    who: str  # the demo login
    query: str
    variables: dict[str, Any]
    baseline: str  # the hand-written endpoint's path and query string


# --- measuring -----------------------------------------------------------------------------------------------


ROUNDS = 10


async def measure(
    call: Callable[[], Awaitable[httpx.Response]], against: Callable[[], Awaitable[httpx.Response]], requests: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Both paths, `requests` each, one request at a time, taken in turns of requests ÷ 10 (ours, then the
    baseline, ten times over): a burst of noise on this shared machine then falls on both, not on one side's
    whole run."""
    for fn in (call, against):
        for _ in range(max(3, requests // 20)):  # warm caches
            (await fn()).raise_for_status()
    turn = max(1, requests // ROUNDS)
    latencies: tuple[list[float], list[float]] = ([], [])
    elapsed = [0.0, 0.0]
    done = 0
    while done < requests:
        size = min(turn, requests - done)
        for side, fn in enumerate((call, against)):
            started = time.perf_counter()
            for _ in range(size):
                t0 = time.perf_counter()
                response = await fn()
                latencies[side].append(time.perf_counter() - t0)
                response.raise_for_status()
            elapsed[side] += time.perf_counter() - started
        done += size
    figures = []
    for side in (0, 1):
        quantiles = statistics.quantiles(latencies[side], n=100)
        figures.append(
            {"rps": requests / elapsed[side], "p50_ms": quantiles[49] * 1000, "p99_ms": quantiles[98] * 1000}
        )
    return figures[0], figures[1]


async def operations(scale_codes: dict[str, str]) -> list[Operation]:
    return [
        Operation("drilldown", "head", DRILLDOWN, {}, "/drilldown"),
        Operation("page", "head", PAGE, {"n": scale_codes["county_id"]}, "/page"),
        Operation("village_page", scale_codes["manager"], VILLAGE_PAGE, {"code": scale_codes["village"]},
                  f"/village_page?code={scale_codes['village']}"),
        Operation("township_dashboard", scale_codes["president"], TOWNSHIP_DASHBOARD,
                  {"code": scale_codes["township"]}, f"/township_dashboard?code={scale_codes['township']}"),
    ]  # fmt: skip


async def demo_people() -> dict[str, str]:
    """A customer manager with a village of their own and the branch president of that village's township."""
    manager = await Staff.filter(roles__contains=["CUSTOMER_MANAGER"]).order_by("username").first()
    assert manager is not None, "the demo county has customer managers"
    village = await GridNode.filter(scoped_staff__id=manager.id, level=GridLevel.VILLAGE).order_by("code").first()
    assert village is not None, "a demo customer manager looks after villages"
    assert village.parent_id is not None  # type: ignore[attr-defined]
    township = await GridNode.get(id=village.parent_id)  # type: ignore[attr-defined]
    president = await Staff.filter(scope__id=township.id, roles__contains=["BRANCH_PRESIDENT"]).first()
    assert president is not None, "every demo township has a branch president"
    county = await GridNode.get(parent_id=None)
    return {
        "manager": manager.username, "village": village.code, "president": president.username,
        "township": township.code, "county_id": relay_id("GridNode", county.id),
    }  # fmt: skip


def relay_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


async def prepare(scale: float, database_url: str | None, tmp: str) -> str:
    """The database to measure on: a fresh SQLite demo county unless one is given; KPIs rolled up."""
    url = database_url or f"sqlite://{Path(tmp) / 'bench.sqlite3'}"
    if database_url is None:
        await run_migrations(url)
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
    if database_url is None:
        t0 = time.perf_counter()
        summary = await generate_demo(seed=20261128, scale=scale, progress=lambda _m: None)
        print(f"demo county generated in {time.perf_counter() - t0:.1f} s: {summary.describe()}")
    if await GridKpi.all().count() == 0:
        await roll_up_kpis()
    return url


async def sign_in(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    login = await client.post(
        "/graphql",
        json={"query": f'mutation {{ login(username: "{username}", password: "{DEMO_PASSWORD}") '
                       "{ ... on LoginSuccess { token } } }"},
        headers=CSRF,
    )  # fmt: skip
    return {"Authorization": f"Bearer {login.json()['data']['login']['token']}", **CSRF}


async def compare(ops: list[Operation], requests: int, profile: bool) -> dict[str, Any]:
    """Each operation through our ASGI app and through the hand-written one, one request at a time."""
    ours = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(SETTINGS, manage_orm=False)), base_url="http://bench"
    )
    base = httpx.AsyncClient(transport=httpx.ASGITransport(app=baseline_app()), base_url="http://bench")
    results: dict[str, Any] = {}
    async with ours, base:
        tokens = {who: await sign_in(ours, who) for who in {op.who for op in ops}}
        for op in ops:
            headers = tokens[op.who]
            body = {"query": op.query, "variables": op.variables}
            check = (await ours.post("/graphql", json=body, headers=headers)).json()
            assert "errors" not in check, f"{op.name}: {check['errors']}"

            def graphql(op_body: dict[str, Any] = body, h: dict[str, str] = headers) -> Awaitable[httpx.Response]:
                return ours.post("/graphql", json=op_body, headers=h)

            def hand_written(path: str = op.baseline, h: dict[str, str] = headers) -> Awaitable[httpx.Response]:
                return base.get(path, headers=h)

            results[op.name] = await measure(graphql, hand_written, requests)
            if profile:
                await print_profile(op.name, graphql, max(20, requests // 5))
        # the floor: `{ __typename }` against an endpoint that only checks the token, both signed in
        head = tokens[ops[0].who]
        typename = {"query": FLOOR}
        results[FLOOR_NAME] = await measure(
            lambda: ours.post("/graphql", json=typename, headers=head),
            lambda: base.get("/floor", headers=head),
            requests,
        )
    return results


async def print_profile(name: str, call: Callable[[], Awaitable[httpx.Response]], requests: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        await call()
    profiler.disable()
    print(f"\n--- profile of {name}: {requests} requests, top entries by own time ---")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="scale 0.1, 30 requests per path, a 10 s load run")
    parser.add_argument("--scale", type=float, default=None, help="demo county scale (default 1.0)")
    parser.add_argument("--requests", type=int, default=None, help="requests per path (default 200)")
    parser.add_argument("--database-url", default=None, help="an existing database with the demo county loaded")
    parser.add_argument("--profile", action="store_true", help="print each operation's profile (top entries)")
    parser.add_argument("--no-gc-tuning", action="store_true", help="measure without the service's GC tuning")
    parser.add_argument("--load", action="store_true", help="also the load run against the real server")
    parser.add_argument("--clients", type=int, default=200, help="concurrent clients in the load run")
    parser.add_argument("--seconds", type=float, default=None, help="length of the load run (default 60)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes in the load run")
    parser.add_argument("--load-client", choices=("auto", "wrk", "asyncio"), default="auto",
                        help="the load generator: wrk when installed (auto), or the asyncio client")  # fmt: skip
    args = parser.parse_args()
    scale = args.scale or (0.1 if args.small else 1.0)
    requests = args.requests or (30 if args.small else 200)
    seconds = args.seconds or (10.0 if args.small else 60.0)
    figures: dict[str, Any] = {"benchmark": "graphql_api", "scale": scale, "requests": requests,
                               "gc_tuning": not args.no_gc_tuning}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        url, results, ops = asyncio.run(_in_process(args, scale, requests, tmp))
        report(results, figures)
        if args.load:
            if not url.startswith("postgres"):
                raise SystemExit("the load run needs --database-url postgres://… (the real server on PostgreSQL)")
            figures.update(load_run(url, ops, args.clients, seconds, args.workers, args.load_client))
    print(json.dumps(figures))


async def _in_process(args: argparse.Namespace, scale: float, requests: int, tmp: str) -> Any:
    url = await prepare(scale, args.database_url, tmp)
    try:
        ops = await operations(await demo_people())
        if not args.no_gc_tuning:
            tune_gc()  # as the service does once started (app.create_app's lifespan)
        return url, await compare(ops, requests, args.profile), ops
    finally:
        await Tortoise.close_connections()


def report(results: dict[str, Any], figures: dict[str, Any]) -> None:
    print(f"{'operation':<19} {'path':<9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    floor_ours, floor_base = results.pop(FLOOR_NAME, (None, None))
    for name, (ours, base) in results.items():
        for label, fig in (("graphql", ours), ("baseline", base)):
            print(f"{name:<19} {label:<9} {fig['rps']:>8.1f} {fig['p50_ms']:>8.2f} {fig['p99_ms']:>8.2f}")
        ratio = ours["rps"] / base["rps"]
        print(f"{name:<19} ratio graphql/baseline throughput = {ratio:.2f} (target >= 0.5)")
        figures.update(
            {
                f"{name}_rps": round(ours["rps"], 1),
                f"{name}_baseline_rps": round(base["rps"], 1),
                f"{name}_ratio": round(ratio, 3),
                f"{name}_p50_ms": round(ours["p50_ms"], 2),
                f"{name}_p99_ms": round(ours["p99_ms"], 2),
                f"{name}_baseline_p50_ms": round(base["p50_ms"], 2),
            }
        )
    if floor_ours is not None and floor_base is not None:
        # a request that does nothing: parsing, validating and executing `{ __typename }` against checking the
        # token alone. Twice the baseline's time, less this difference, is what a ratio of 0.5 leaves for an
        # operation's own statements and fields
        print(
            f"{'floor (__typename)':<19} graphql {floor_ours['p50_ms']:>8.2f} ms p50, "
            f"hand-written {floor_base['p50_ms']:.2f} ms p50: {floor_ours['p50_ms'] - floor_base['p50_ms']:.2f} ms "
            "more for every GraphQL request before any work"
        )
        figures.update({"floor_p50_ms": round(floor_ours["p50_ms"], 2),
                        "floor_baseline_p50_ms": round(floor_base["p50_ms"], 2)})  # fmt: skip


def load_run(
    url: str, ops: list[Operation], clients: int, seconds: float, workers: int, generator: str
) -> dict[str, Any]:
    """The same mix of the four screens, by the same signed-in users, against the real server and then against
    the hand-written endpoints served the same way (same token check, same database): the baseline shows what
    this machine allows at all."""

    async def signed_in(base_url: str) -> dict[str, dict[str, str]]:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            return {who: await sign_in(client, who) for who in {op.who for op in ops}}

    if generator == "auto":
        generator = "wrk" if wrk_available() else "asyncio"
    print(f"load clients: {generator}" + ("" if generator == "wrk" else " (apt-get install wrk for a generator "
          "that leaves the cores to the server; these figures are lower bounds)"))  # fmt: skip

    def drive(base_url: str, calls: list[Call]) -> dict[str, Any]:
        if generator == "wrk":
            return run_wrk(base_url, calls, clients, seconds)
        return asyncio.run(run_load(base_url, calls, clients, seconds))

    with server(url, workers, free_port()) as service:
        tokens = asyncio.run(signed_in(service))
        ours = drive(
            service, [Call(op.name, {"query": op.query, "variables": op.variables}, tokens[op.who]) for op in ops]
        )
    with server(url, workers, free_port(), baseline=True) as hand_written:
        base = drive(hand_written, [Call(op.name, None, tokens[op.who], op.baseline) for op in ops])

    figures: dict[str, Any] = {"load_clients": clients, "load_workers": workers, "load_generator": generator}
    for label, load in (("load", ours), ("load_baseline", base)):
        print(
            f"{label}: {clients} clients for {load['seconds']} s on {workers} server workers: {load['rps']} req/s, "
            f"p50 {load['p50_ms']} ms, p99 {load['p99_ms']} ms, {load['errors']} errors"
        )
        for name, fig in load["by_operation"].items():
            detail = "" if fig["p50_ms"] is None else f", p50 {fig['p50_ms']} ms, {fig['errors']} errors"
            print(f"  {name:<19} {fig['requests']:>6} requests{detail}")
        figures.update({f"{label}_seconds": load["seconds"], f"{label}_rps": load["rps"],
                        f"{label}_p50_ms": load["p50_ms"], f"{label}_p99_ms": load["p99_ms"],
                        f"{label}_errors": load["errors"]})  # fmt: skip
    figures["load_ratio"] = round(ours["rps"] / base["rps"], 3) if base["rps"] else None
    # Little's law for clients that send again as soon as answered: latency ≈ clients ÷ throughput, so a p99
    # under 500 ms with 200 such clients needs well over 400 req/s from the machine
    figures["load_rps_needed"] = round(clients / 0.5, 1)
    print(f"load ratio graphql/baseline throughput = {figures['load_ratio']} (targets: p99 < 500 ms, 0 errors; "
          f"{clients} clients that never pause need > {figures['load_rps_needed']} req/s for it)")  # fmt: skip
    return figures


if __name__ == "__main__":
    main()
