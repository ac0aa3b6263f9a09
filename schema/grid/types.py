"""Grid nodes in the graph: county → township → village → group, each with its breadcrumb, children and the
customers under it."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from domain.errors import DomainError
from domain.grid.kpi import KpiMetric as KpiMetricModel
from models import GridLevel as GridLevelModel
from models import GridNode as GridNodeModel
from resolvers.grid import browse as grid_cases
from resolvers.grid import kpis as kpi_cases
from schema.customers.lists import CustomerFilterInput, CustomerOrderInput, customer_page
from schema.grid.kpis import (
    GridKpi,
    Period,
    children_choropleth,
    children_geojson,
    chosen_period,
    node_kpi,
)
from schema.platform.context import Info
from schema.platform.errors import query_error
from schema.platform.input_limits import max_length
from schema.platform.lookahead import current_field, nesting, selects_anywhere
from schema.platform.pagination import CountedConnection, Cursor
from schema.platform.plain_fields import plain

if TYPE_CHECKING:
    from schema.customers.types import Customer


GRID_CODE_LENGTH = 32
GridLevel = strawberry.enum(GridLevelModel, name="GridLevel", description="县 / 乡镇 / 村 / 村民小组")


@strawberry.type(name="GridNode", description="A node of the grid (网格节点)")
class GridNode(relay.Node):
    pk: relay.NodeID[int]
    level: GridLevelModel
    name: str
    code: str = strawberry.field(description="Administrative or bank code, unique")
    depth: int = strawberry.field(description="0 for the county")
    centroid_lon: float | None
    centroid_lat: float | None
    parent_pk: strawberry.Private[int | None]
    path: strawberry.Private[str]
    # set when the parent built this node's part of a drill-down: then children and customerCount are plain
    # values, resolved synchronously, instead of a batch each
    kids: strawberry.Private[list[GridNode] | None] = None
    count: strawberry.Private[int | None] = None

    @classmethod
    def from_model(cls, node: GridNodeModel | grid_cases.NodeRow) -> GridNode:
        return cls(
            pk=node.id,
            level=node.level,
            name=node.name,
            code=node.code,
            depth=node.depth,
            centroid_lon=node.centroid_lon,
            centroid_lat=node.centroid_lat,
            parent_pk=node.parent_id,  # type: ignore[union-attr]
            path=node.path,
        )

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> GridNode:
        """A node from a plain row of resolvers.grid.browse.NODE_FIELDS."""
        return cls(
            pk=row["id"],
            level=row["level"],
            name=row["name"],
            code=row["code"],
            depth=row["depth"],
            centroid_lon=row["centroid_lon"],
            centroid_lat=row["centroid_lat"],
            parent_pk=row["parent_id"],
            path=row["path"],
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[GridNode | None]:
        actor = info.context.require_actor()
        ids = [int(i) for i in node_ids]
        return [cls.from_model(n) if n else None for n in await grid_cases.nodes_by_ids(actor, ids)]

    @strawberry.field(description="The boundary as a GeoJSON geometry (villages and above)")
    async def polygon(self, info: Info) -> JSON | None:
        return await info.context.loaders.polygon_by_node.load(self.pk)  # type: ignore[no-any-return]

    @strawberry.field(description="The parent node, if visible")
    async def parent(self, info: Info) -> GridNode | None:
        if self.parent_pk is None:
            return None
        node = await info.context.loaders.grid_node_by_id.load(self.parent_pk)
        return GridNode.from_model(node) if node else None

    @strawberry.field(description="The visible child nodes, ordered by code", graphql_type=list["GridNode"])
    @plain
    def children(self, info: Info) -> list[GridNode] | Awaitable[list[GridNode]]:
        if self.kids is not None:
            return self.kids
        return self._load_children(info)

    async def _load_children(self, info: Info) -> list[GridNode]:
        found = await info.context.loaders.children_by_parent.load(self.pk)
        return [GridNode.from_model(n) for n in found]

    @strawberry.field(description="The breadcrumb: root first, down to the parent (面包屑)")
    async def ancestors(self, info: Info) -> list[GridNode]:
        info.context.require_actor()
        return [GridNode.from_model(n) for n in await grid_cases.ancestors_of(self.path)]

    @strawberry.field(description="Customers under this node at any depth that you may see", graphql_type=int)
    @plain
    def customer_count(self, info: Info) -> int | Awaitable[int]:
        if self.count is not None:
            return self.count
        return info.context.loaders.customer_count_by_path.load(self.path)

    @strawberry.field(description="Customers under this node at any depth, filtered and ordered")
    async def customers(
        self,
        info: Info,
        filter: CustomerFilterInput | None = None,
        order_by: CustomerOrderInput | None = None,
        first: int | None = 20,
        after: Cursor = None,
    ) -> CountedConnection[Annotated[Customer, strawberry.lazy("schema.customers.types")]]:
        return await customer_page(info, self.pk, filter, order_by, first, after, node_path=self.path)

    @strawberry.field(description="This node's KPIs for a period (YYYY-MM; default the latest computed)")
    async def kpi(self, info: Info, period: Period = None) -> GridKpi | None:
        return await node_kpi(info, self.pk, self.path, period)

    @strawberry.field(description="The children ranked by a KPI, e.g. where to market next (营销排名)")
    async def child_ranking(
        self,
        info: Info,
        metric: KpiMetricModel,
        descending: bool = True,
        period: Period = None,
    ) -> list[RankedNode]:
        return await child_ranking(info, self, metric, descending, period)

    @strawberry.field(description="The children as a GeoJSON FeatureCollection with their KPIs (for maps)")
    async def children_geojson(
        self,
        info: Info,
        metric: KpiMetricModel = KpiMetricModel.CUSTOMERS,
        period: Period = None,
    ) -> JSON:
        return await children_geojson(info, self.pk, metric, period)

    @strawberry.field(description="A PNG choropleth of a KPI over the children, as a data: URL")
    async def choropleth(
        self,
        info: Info,
        metric: KpiMetricModel = KpiMetricModel.CUSTOMERS,
        period: Period = None,
    ) -> str:
        return await children_choropleth(info, self.pk, metric, period)


@strawberry.type(description="A child node's place in a ranking")
class RankedNode:
    rank: int
    value: float
    node: GridNode = strawberry.field(description="The ranked node")


async def child_ranking(
    info: Info, node: GridNode, metric: KpiMetricModel, descending: bool, period: str | None
) -> list[RankedNode]:
    """The children the drill-down already built (or the visible ones, loaded), with their KPI rows read by
    the same batch as the node's own `kpi`: no statement of its own."""
    chosen = await chosen_period(info, period)
    if chosen is None:
        return []
    kids = node.kids if node.kids is not None else await node._load_children(info)
    rows = await info.context.loaders.kpi_by_node_period.load_many([(k.pk, k.path, chosen) for k in kids])
    ranked = kpi_cases.ranked_by(zip(kids, rows, strict=True), metric, descending=descending)
    return [RankedNode(rank=place, value=value, node=kid) for kid, value, place in ranked]


async def with_trees(info: Info, nodes: list[GridNode]) -> list[GridNode]:
    """The nodes with as much of their drill-down as the client selected below them (children within children,
    customer counts at any level) built here at once: one statement for the nodes, one for the counts, and
    every field below resolved from plain values."""
    selections = current_field(info).selections
    levels = nesting(selections, "children")
    tree: list[GridNode] = list(nodes)
    if levels:
        by_parent = await grid_cases.subtrees(info.context.require_actor(), [(n.path, n.depth) for n in nodes], levels)
        layer = nodes
        for _ in range(levels):
            below: list[GridNode] = []
            for node in layer:
                node.kids = [GridNode.from_row(child) for child in by_parent.get(node.pk, ())]
                below.extend(node.kids)
            tree.extend(below)
            layer = below
    if tree and selects_anywhere(selections, "customerCount", "children"):
        counts = await info.context.loaders.customer_counts.under([n.path for n in tree])
        for node, count in zip(tree, counts, strict=True):
            node.count = count
    return nodes


async def grid_roots(info: Info) -> list[GridNode]:
    roots = [GridNode.from_model(n) for n in await grid_cases.roots(info.context.require_actor())]
    return await with_trees(info, roots)


async def grid_node_by_code(
    info: Info, code: Annotated[str, strawberry.argument(directives=max_length(GRID_CODE_LENGTH))]
) -> GridNode | None:
    try:
        node = await grid_cases.get_node_by_code(info.context.require_actor(), code)
    except DomainError as error:
        raise query_error(error) from None
    return (await with_trees(info, [GridNode.from_model(node)]))[0]


__all__ = ["GridLevel", "GridNode", "grid_node_by_code", "grid_roots"]


@strawberry.type
class Query:
    grid_roots: list[GridNode] = strawberry.field(resolver=grid_roots, description="The top of the grid you can see")
    grid_node: GridNode | None = strawberry.field(resolver=grid_node_by_code, description="A grid node by its code")
