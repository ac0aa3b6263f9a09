"""Grid browsing: roots, a node, its children and breadcrumb — all within the actor's reach (resolvers.grid.policy)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from functools import reduce
from operator import or_
from typing import Any

from tortoise.expressions import Q

from domain.access import Actor
from domain.errors import not_found
from domain.grid.paths import path_ids
from models import GridNode
from resolvers.grid import policy

# Everything but the polygon: lists and breadcrumbs never need it, and decoding it dominated their cost.
NODE_FIELDS = ("id", "level", "name", "code", "parent_id", "path", "depth", "centroid_lon", "centroid_lat")


async def roots(actor: Actor) -> list[GridNode]:
    return await GridNode.filter(policy.visible(actor), parent_id=None).order_by("code").only(*NODE_FIELDS)


async def get_node(actor: Actor, node_id: int, field: str = "id") -> GridNode:
    node = await GridNode.get_or_none(id=node_id).only(*NODE_FIELDS)
    if node is None or not policy.may_see(actor, node.path):
        raise not_found("网格节点", "grid node", field)
    return node


async def get_node_by_code(actor: Actor, code: str) -> GridNode:
    node = await GridNode.get_or_none(code=code).only(*NODE_FIELDS)
    if node is None or not policy.may_see(actor, node.path):
        raise not_found("网格节点", "grid node", "code")
    return node


async def nodes_by_ids(actor: Actor, ids: Sequence[int]) -> list[GridNode | None]:
    """Batch loader body: nodes in key order, None where absent or invisible."""
    found = {n.id: n for n in await GridNode.filter(id__in=list(ids)).only(*NODE_FIELDS)}
    return [n if n is not None and policy.may_see(actor, n.path) else None for n in (found.get(i) for i in ids)]


async def node_rows(node_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Plain rows (NODE_FIELDS) of the nodes with these ids, whoever may see them: the caller applies
    policy.may_see to each (a customer's village shown on their record)."""
    if not node_ids:
        return []
    return await GridNode.filter(id__in=list(node_ids)).values(*NODE_FIELDS)


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
    below = reduce(or_, [Q(path__startswith=path, depth__gt=depth, depth__lte=depth + levels) for path, depth in tops])
    rows = await GridNode.filter(policy.visible(actor)).filter(below).order_by("code").values(*NODE_FIELDS)
    by_parent: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_parent[row["parent_id"]].append(row)
    return by_parent


async def ancestors_of(node: GridNode) -> list[GridNode]:
    """The breadcrumb from the root down to the node's parent. Ancestors of a visible node are visible."""
    ids = path_ids(node.path)[:-1]
    if not ids:
        return []
    return await GridNode.filter(id__in=ids).order_by("depth").only(*NODE_FIELDS)


async def polygons(actor: Actor, node_ids: Sequence[int]) -> list[Any]:
    """Batch body: each visible node's GeoJSON polygon (or None), loaded only when a client asks for it."""
    found = {row["id"]: row for row in await GridNode.filter(id__in=list(node_ids)).values("id", "path", "polygon")}
    return [found[i]["polygon"] if i in found and policy.may_see(actor, found[i]["path"]) else None for i in node_ids]
