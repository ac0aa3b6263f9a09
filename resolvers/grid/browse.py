"""Grid browsing: roots, a node, its children and breadcrumb, customer counts — all within the actor's scope."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from functools import reduce
from operator import or_
from typing import Any

from tortoise.expressions import Q

from domain.access import Actor, can_see_node
from domain.errors import not_found
from models import GridNode
from resolvers.platform.db import connection, fetch, placeholders

# Everything but the polygon: lists and breadcrumbs never need it, and decoding it dominated their cost.
NODE_FIELDS = ("id", "level", "name", "code", "parent_id", "path", "depth", "centroid_lon", "centroid_lat")


def ancestor_paths(path: str) -> list[str]:
    """/1/7/42/ → ['/1/', '/1/7/']."""
    ids = [p for p in path.split("/") if p]
    return ["/" + "/".join(ids[:i]) + "/" for i in range(1, len(ids))]


def path_ids(path: str) -> list[int]:
    return [int(p) for p in path.split("/") if p]


def visible_nodes(actor: Actor) -> Q:
    """The grid nodes an actor may see: the whole grid, or their subtrees plus the breadcrumb above them."""
    if actor.sees_whole_grid:
        return Q()
    if not actor.scope_paths:
        return Q(id=-1)
    breadcrumb = {a for p in actor.scope_paths for a in ancestor_paths(p)}
    subtrees = [Q(path__startswith=p) for p in actor.scope_paths]
    return reduce(or_, subtrees, Q(path__in=sorted(breadcrumb)))


async def roots(actor: Actor) -> list[GridNode]:
    return await GridNode.filter(visible_nodes(actor), parent_id=None).order_by("code").only(*NODE_FIELDS)


async def get_node(actor: Actor, node_id: int, field: str = "id") -> GridNode:
    node = await GridNode.get_or_none(id=node_id)
    if node is None or not can_see_node(actor, node.path):
        raise not_found("网格节点", "grid node", field)
    return node


async def get_node_by_code(actor: Actor, code: str) -> GridNode:
    node = await GridNode.get_or_none(code=code)
    if node is None or not can_see_node(actor, node.path):
        raise not_found("网格节点", "grid node", "code")
    return node


async def nodes_by_ids(actor: Actor, ids: Sequence[int]) -> list[GridNode | None]:
    """Batch loader body: nodes in key order, None where absent or invisible."""
    found = {n.id: n for n in await GridNode.filter(id__in=list(ids)).only(*NODE_FIELDS)}
    return [n if n is not None and can_see_node(actor, n.path) else None for n in (found.get(i) for i in ids)]


async def children_of(actor: Actor, parent_ids: Sequence[int]) -> list[list[GridNode]]:
    """Batch loader body: each parent's visible children, ordered by code."""
    rows = (
        await GridNode.filter(visible_nodes(actor), parent_id__in=list(parent_ids)).order_by("code").only(*NODE_FIELDS)
    )
    by_parent: dict[int, list[GridNode]] = defaultdict(list)
    for node in rows:
        by_parent[node.parent_id].append(node)  # type: ignore[attr-defined]
    return [by_parent.get(pid, []) for pid in parent_ids]


async def ancestors_of(node: GridNode) -> list[GridNode]:
    """The breadcrumb from the root down to the node's parent. Ancestors of a visible node are visible."""
    ids = path_ids(node.path)[:-1]
    if not ids:
        return []
    return await GridNode.filter(id__in=ids).order_by("depth").only(*NODE_FIELDS)


async def polygons(node_ids: Sequence[int]) -> list[Any]:
    """Batch body: each node's GeoJSON polygon (or None), loaded only when a client asks for it."""
    found = dict(await GridNode.filter(id__in=list(node_ids)).values_list("id", "polygon"))
    return [found.get(i) for i in node_ids]


def covering_paths(paths: Sequence[str]) -> list[str]:
    """The fewest paths whose subtrees hold all the given ones: ['/1/', '/1/7/', '/2/'] → ['/1/', '/2/']."""
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not kept or not path.startswith(kept[-1]):
            kept.append(path)
    return kept


async def customer_counts(actor: Actor, node_paths: Sequence[str]) -> list[int]:
    """Batch loader body: for each node, the customers under it (any depth) that the actor may list
    (the same rule as resolvers.customers.visible_customers).

    One GROUP BY per village under the requested nodes, then each village's count is added to every node on
    its path: the customer table is read once however many nodes (a whole drill-down) are asked for.
    """
    scope = actor.customer_scope()
    if scope == ():
        return [0 for _ in node_paths]
    conn = connection()
    roots = covering_paths(node_paths)
    marks = placeholders(conn, 0, len(roots))
    sql = [
        "SELECT v.path AS village_path, COUNT(*) AS customers",
        "FROM customer c JOIN grid_node v ON v.id = c.village_id",
        "WHERE (" + " OR ".join(f"v.path LIKE {m}" for m in marks) + ")",
    ]
    params: list[object] = [f"{root}%" for root in roots]
    if scope is not None:
        scope_marks = placeholders(conn, len(params), len(scope) + 1)
        alternatives = [f"v.path LIKE {m}" for m in scope_marks[:-1]]
        alternatives.append(f"c.manager_id = {scope_marks[-1]}")
        sql.append("AND (" + " OR ".join(alternatives) + ")")
        params.extend([*(f"{p}%" for p in scope), actor.staff_id])
    sql.append("GROUP BY v.path")
    totals: dict[str, int] = defaultdict(int)
    for row in await fetch("\n".join(sql), params, conn):
        village_path, count = row["village_path"], int(row["customers"])
        for ancestor in [*ancestor_paths(village_path), village_path]:
            totals[ancestor] += count
    return [totals.get(p, 0) for p in node_paths]
