"""The hand-written baseline: Starlette endpoints running the SQL a careful engineer would write by hand for
each of the four screens, JSON out, no GraphQL — behind the same token middleware, on the same database.

Each answers what its GraphQL operation answers, for the same signed-in user, with the same access rules
written out in SQL (head office sees everything; a customer manager their villages and their own customers;
a branch president their township), and writes the same audit rows for personal data shown in clear: a
bank's hand-written endpoint would have to as well.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app import RequestContextMiddleware
from domain.access import Actor
from domain.customers.masking import mask_id_number, mask_phone
from resolvers.platform.db import connection, placeholders


def _marks(count: int, start: int = 0) -> list[str]:
    return placeholders(connection(), start, count)


async def _rows(sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    return list(await connection().execute_query_dict(sql, params or []))


def _actor(request: Request) -> Actor:
    actor = request.scope["state"]["actor"]
    assert actor is not None, "the baseline needs a token"
    return actor  # type: ignore[no-any-return]


async def _counts_under(roots: list[str], actor: Actor) -> dict[str, int]:
    """Customers under each node below the roots, by hand: one GROUP BY per village, rolled up by path."""
    (mark,) = _marks(1)
    scope_sql, scope_params = _customer_scope(actor, start=1, under=roots[:1])
    rows = await _rows(
        "SELECT v.path AS village_path, COUNT(*) AS customers FROM customer c "
        f"JOIN grid_node v ON v.id = c.village_id WHERE v.path LIKE {mark}{scope_sql} GROUP BY v.path",
        [roots[0] + "%", *scope_params],
    )
    totals: dict[str, int] = {}
    for row in rows:
        ids = [p for p in row["village_path"].split("/") if p]
        for depth in range(1, len(ids) + 1):
            prefix = "/" + "/".join(ids[:depth]) + "/"
            totals[prefix] = totals.get(prefix, 0) + int(row["customers"])
    return totals


def _customer_scope(actor: Actor, start: int, under: list[str]) -> tuple[str, list[Any]]:
    """The customer policy written out by hand, as an AND clause on `c` joined to its village `v`: none when
    the statement reads only under nodes inside the actor's own subtrees (everything there is theirs to see)."""
    if actor.is_head_office or all(any(p.startswith(s) for s in actor.scope_paths) for p in under):
        return "", []
    marks = _marks(len(actor.scope_paths) + 1, start)
    alternatives = [f"v.path LIKE {m}" for m in marks[:-1]]
    params: list[Any] = [p + "%" for p in actor.scope_paths]
    if "CUSTOMER_MANAGER" in actor.roles:
        alternatives.append(f"c.manager_id = {marks[-1]}")
        params.append(actor.staff_id)
    return f" AND ({' OR '.join(alternatives) or '1 = 0'})", params


async def _audit(actor: Actor, request: Request, customers: list[dict[str, Any]], fields: list[str]) -> None:
    """One personal-data read row per customer shown in clear, in one statement, as our service writes them."""
    if not customers:
        return
    now = datetime.now(UTC)
    stamp: Any = now.isoformat() if connection().capabilities.dialect == "sqlite" else now
    request_id = request.scope["state"].get("request_id", "")
    values: list[str] = []
    params: list[Any] = []
    for c in customers:
        marks = _marks(8, len(params))
        values.append(f"({', '.join(marks)})")
        changes = json.dumps({"fields": fields})
        params += [actor.staff_id, actor.username, "personal_data.read", "Customer", str(c["id"]), changes,
                   request_id, stamp]  # fmt: skip
    await connection().execute_query(
        "INSERT INTO audit_log (actor_id, actor_username, action, target_type, target_id, changes, request_id, "
        f"created_at) VALUES {', '.join(values)}",
        params,
    )


async def _names(table: str, column: str, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await _rows(f"SELECT id, {column} AS label FROM {table} WHERE id IN ({', '.join(_marks(len(ids)))})", ids)
    return {r["id"]: r["label"] for r in rows}


def _masked(actor: Actor, c: dict[str, Any]) -> bool:
    return not (actor.is_head_office or c["manager_id"] == actor.staff_id)


def _edge(actor: Actor, c: dict[str, Any], villages: dict[int, str], managers: dict[int, str]) -> dict[str, Any]:
    masked = _masked(actor, c)
    return {
        "node": {
            "id": c["id"], "name": c["name"],
            "idNumber": mask_id_number(c["id_number"]) if masked else c["id_number"],
            "phone": mask_phone(c["phone"]) if masked else c["phone"],
            "depositBalance": str(c["deposit_balance"]), "loanBalance": str(c["loan_balance"]), "masked": masked,
            "village": {"id": c["village_id"], "name": villages.get(c["village_id"])},
            "manager": {"id": c["manager_id"], "displayName": managers.get(c["manager_id"])},
        }
    }  # fmt: skip


async def _customer_page(
    request: Request, node: dict[str, Any], order: str, size: int, total: int | None = None
) -> dict[str, Any]:
    """The page, and its total counted unless the caller has it already (a node's own customer count)."""
    actor = _actor(request)
    (mark,) = _marks(1)
    scope_sql, scope_params = _customer_scope(actor, start=1, under=[node["path"]])
    where = f"FROM customer c JOIN grid_node v ON v.id = c.village_id WHERE v.path LIKE {mark}{scope_sql}"
    params = [node["path"] + "%", *scope_params]
    rows = await _rows(
        "SELECT c.id, c.name, c.id_number, c.phone, c.deposit_balance, c.loan_balance, c.village_id, c.manager_id "
        f"{where} ORDER BY {order} LIMIT {size + 1}",
        params,
    )
    if total is None:
        total = (await _rows(f"SELECT COUNT(*) AS n {where}", params))[0]["n"]
    rows = rows[:size]
    villages = await _names("grid_node", "name", sorted({r["village_id"] for r in rows}))
    managers = await _names("staff", "display_name", sorted({r["manager_id"] for r in rows if r["manager_id"]}))
    await _audit(actor, request, [r for r in rows if not _masked(actor, r)], ["idNumber", "phone"])
    return {"totalCount": total, "edges": [_edge(actor, r, villages, managers) for r in rows]}


async def drilldown(request: Request) -> JSONResponse:
    """County → townships → villages with their customer counts (head office)."""
    roots = await _rows("SELECT id, name, path FROM grid_node WHERE parent_id IS NULL ORDER BY code")
    below = await _rows(
        f"SELECT id, name, path, parent_id, depth FROM grid_node WHERE path LIKE {_marks(1)[0]} "
        "AND depth BETWEEN 1 AND 2 ORDER BY code",
        [roots[0]["path"] + "%"],
    )
    counts = await _counts_under([roots[0]["path"]], _actor(request))
    kids: dict[int, list[dict[str, Any]]] = {}
    for node in below:
        kids.setdefault(node["parent_id"], []).append(node)

    def shape(node: dict[str, Any], depth: int) -> dict[str, Any]:
        shaped = {"id": node["id"], "name": node["name"], "customerCount": counts.get(node["path"], 0)}
        if depth < 2:
            shaped["children"] = [shape(k, depth + 1) for k in kids.get(node["id"], [])]
        return shaped

    return JSONResponse({"data": {"gridRoots": [shape(r, 0) for r in roots]}})


async def page(request: Request) -> JSONResponse:
    """100 customers under the county by name, with village and managing officer (head office)."""
    root = (await _rows("SELECT id, path FROM grid_node WHERE parent_id IS NULL"))[0]
    answer = await _customer_page(request, root, "c.name, c.id", 100)
    return JSONResponse({"data": {"customers": answer}})


async def village_page(request: Request) -> JSONResponse:
    """A customer manager's village: breadcrumb, count and 50 customers by deposit balance."""
    code = request.query_params["code"]
    node = (await _rows(f"SELECT id, name, path FROM grid_node WHERE code = {_marks(1)[0]}", [code]))[0]
    ids = [int(p) for p in node["path"].split("/") if p][:-1]
    crumbs = await _rows(f"SELECT name FROM grid_node WHERE id IN ({', '.join(_marks(len(ids)))}) ORDER BY depth", ids)
    counts = await _counts_under([node["path"]], _actor(request))  # the count, and the page's total with it
    answer = await _customer_page(request, node, "c.deposit_balance DESC, c.id", 50, counts.get(node["path"], 0))
    body = {"name": node["name"], "ancestors": crumbs, "customerCount": counts.get(node["path"], 0),
            "customers": answer}  # fmt: skip
    return JSONResponse({"data": {"gridNode": body}})


async def township_dashboard(request: Request) -> JSONResponse:
    """A branch president's township: its KPIs, its villages with counts, ranked by credit coverage."""
    code = request.query_params["code"]
    (mark,) = _marks(1)
    node = (await _rows(f"SELECT id, name, path FROM grid_node WHERE code = {mark}", [code]))[0]
    period = (await _rows("SELECT MAX(period) AS p FROM grid_kpi"))[0]["p"]
    children = await _rows(
        f"SELECT id, name, code, path FROM grid_node WHERE parent_id = {mark} ORDER BY code", [node["id"]]
    )
    ids = [node["id"], *(c["id"] for c in children)]
    kpis = {
        k["node_id"]: k
        for k in await _rows(
            f"SELECT * FROM grid_kpi WHERE period = {mark} AND node_id IN ({', '.join(_marks(len(ids), 1))})",
            [period, *ids],
        )
    }
    counts = await _counts_under([node["path"]], _actor(request))

    def coverage(k: dict[str, Any]) -> float:
        return int(k["households_with_credit"]) / int(k["households"]) if int(k["households"]) else 0.0

    own = kpis.get(node["id"])
    ranked = sorted((c for c in children if c["id"] in kpis), key=lambda c: coverage(kpis[c["id"]]), reverse=True)
    body = {
        "name": node["name"], "customerCount": counts.get(node["path"], 0),
        "kpi": {"period": period, "customers": own["customers"], "households": own["households"],
                "depositBalance": str(own["deposit_balance"]), "loanBalance": str(own["loan_balance"]),
                "creditCoverage": coverage(own)} if own else None,
        "children": [{"name": c["name"], "code": c["code"], "customerCount": counts.get(c["path"], 0)}
                     for c in children],
        "childRanking": [{"rank": i + 1, "value": coverage(kpis[c["id"]]), "node": {"name": c["name"]}}
                         for i, c in enumerate(ranked)],
    }  # fmt: skip
    return JSONResponse({"data": {"gridNode": body}})


async def floor(request: Request) -> JSONResponse:
    """Nothing but the signed-in request itself: what every endpoint pays before its own work."""
    _actor(request)
    return JSONResponse({"data": {"__typename": "Query"}})


ROUTES = [
    Route("/floor", floor),
    Route("/drilldown", drilldown),
    Route("/page", page),
    Route("/village_page", village_page),
    Route("/township_dashboard", township_dashboard),
]


def baseline_app() -> Starlette:
    """In process, on the ORM connection the caller opened."""
    app = Starlette(routes=ROUTES)
    app.add_middleware(RequestContextMiddleware)
    return app


def served_app() -> Starlette:
    """As a server of its own (`uvicorn --factory benchmarks.api.baseline:served_app`), for the load run: the
    same start-up as the service (the database on DATABASE_URL, the same GC tuning) and the same /readyz."""
    from tortoise import Tortoise

    from app import readyz
    from resolvers.platform.gc_tuning import tune_gc
    from settings import SETTINGS, tortoise_config

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await Tortoise.init(config=tortoise_config(SETTINGS.database_url), _enable_global_fallback=True)
        tune_gc()
        try:
            yield
        finally:
            await Tortoise.close_connections()

    app = Starlette(routes=[*ROUTES, Route("/readyz", readyz)], lifespan=lifespan)
    app.state.settings = SETTINGS
    app.add_middleware(RequestContextMiddleware)
    return app
