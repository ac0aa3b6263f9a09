"""Grid browsing: roots, a node, its children and breadcrumb — all within the actor's reach (resolvers.grid.policy)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from tortoise.expressions import Q

from domain.access import Actor
from domain.errors import not_found
from domain.grid.paths import path_ids
from models import GridLevel, GridNode
from resolvers.grid import policy
from resolvers.platform.db import any_of, connection, fetch, placeholders, row_reader, statement

# Everything but the polygon: lists and breadcrumbs never need it, and decoding it dominated their cost.
NODE_FIELDS = ("id", "level", "name", "code", "parent_id", "path", "depth", "centroid_lon", "centroid_lat")


async def roots(actor: Actor) -> list[GridNode]:
    return await GridNode.filter(policy.visible(actor), parent_id=None).order_by("code").only(*NODE_FIELDS)


@dataclass(frozen=True, slots=True)
class NodeRow:
    """A grid node as one request reads it: NODE_FIELDS as plain values."""

    id: int
    level: GridLevel
    name: str
    code: str
    parent_id: int | None
    path: str
    depth: int
    centroid_lon: float | None
    centroid_lat: float | None


async def get_node(actor: Actor, node_id: int, field: str = "id") -> NodeRow:
    return await _one_node(actor, "id", node_id, field)


async def get_node_by_code(actor: Actor, code: str) -> NodeRow:
    return await _one_node(actor, "code", code, "code")


async def _one_node(actor: Actor, column: str, value: object, field: str) -> NodeRow:
    """One node by a unique column, read as a plain row (a statement of fixed text, no ORM query or model to
    build: a third of the time on SQLite) and refused as not found unless the actor may see it."""
    conn = connection()
    (mark,) = placeholders(conn, 0, 1)
    rows = await fetch(f"SELECT {', '.join(NODE_FIELDS)} FROM grid_node WHERE {column} = {mark}", [value], conn)
    if not rows or not policy.may_see(actor, rows[0]["path"]):
        raise not_found("网格节点", "grid node", field)
    return NodeRow(**row_reader(GridNode, NODE_FIELDS)(rows[0]))


async def nodes_by_ids(actor: Actor, ids: Sequence[int]) -> list[GridNode | None]:
    """Batch loader body: nodes in key order, None where absent or invisible."""
    found = {n.id: n for n in await GridNode.filter(id__in=list(ids)).only(*NODE_FIELDS)}
    return [n if n is not None and policy.may_see(actor, n.path) else None for n in (found.get(i) for i in ids)]


async def node_rows(node_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Plain rows (NODE_FIELDS) of the nodes with these ids, whoever may see them: the caller applies
    policy.may_see to each (a customer's village shown on their record)."""
    if not node_ids:
        return []
    conn = connection()
    among, params = any_of(conn, "id", node_ids)
    read = row_reader(GridNode, NODE_FIELDS)
    return [
        read(row) for row in await fetch(f"SELECT {', '.join(NODE_FIELDS)} FROM grid_node WHERE {among}", params, conn)
    ]


async def children_of(actor: Actor, parent_ids: Sequence[int]) -> list[list[GridNode]]:
    """Batch loader body: each parent's visible children, ordered by code."""
    rows = (
        await GridNode.filter(policy.visible(actor), parent_id__in=list(parent_ids)).order_by("code").only(*NODE_FIELDS)
    )
    by_parent: dict[int, list[GridNode]] = defaultdict(list)
    for node in rows:
        by_parent[node.parent_id].append(node)  # type: ignore[attr-defined]
    return [by_parent.get(pid, []) for pid in parent_ids]


async def subtrees(actor: Actor, tops: Sequence[tuple[str, int]], levels: int) -> dict[int, list[dict[str, Any]]]:
    """The visible nodes down to `levels` levels below each top (given by its path and depth), read in one
    statement as plain rows (NODE_FIELDS), as each node's children ordered by code, keyed by parent id: a
    drill-down's tree at once."""
    if levels < 1 or not tops:
        return {}
    if levels == 1:  # the children alone: found by the parent's index, not by a scan of every node's path
        below = Q(parent_id__in=[path_ids(path)[-1] for path, _ in tops])
    else:
        below = reduce(
            or_, [Q(path__startswith=path, depth__gt=depth, depth__lte=depth + levels) for path, depth in tops]
        )
    sql, params = statement(GridNode.filter(policy.visible(actor)).filter(below).order_by("code").values(*NODE_FIELDS))
    read = row_reader(GridNode, NODE_FIELDS)  # hundreds of rows: read plainly, not converted by the ORM
    rows = [read(row) for row in await fetch(sql, params)]
    by_parent: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_parent[row["parent_id"]].append(row)
    return by_parent


async def ancestors_of(path: str) -> list[NodeRow]:
    """The breadcrumb from the root down to the parent of the node at this path, as plain rows. Ancestors of
    a visible node are visible."""
    ids = path_ids(path)[:-1]
    if not ids:
        return []
    conn = connection()
    among, params = any_of(conn, "id", ids)
    read = row_reader(GridNode, NODE_FIELDS)
    rows = await fetch(f"SELECT {', '.join(NODE_FIELDS)} FROM grid_node WHERE {among} ORDER BY depth", params, conn)
    return [NodeRow(**read(row)) for row in rows]


async def polygons(actor: Actor, node_ids: Sequence[int]) -> list[Any]:
    """Batch body: each visible node's GeoJSON polygon (or None), loaded only when a client asks for it."""
    found = {row["id"]: row for row in await GridNode.filter(id__in=list(node_ids)).values("id", "path", "polygon")}
    return [found[i]["polygon"] if i in found and policy.may_see(actor, found[i]["path"]) else None for i in node_ids]
