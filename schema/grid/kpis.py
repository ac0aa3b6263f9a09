"""Grid KPIs in the graph: a node's figures with period-over-period change, rankings of its children, and
maps (GeoJSON and a PNG choropleth)."""

from __future__ import annotations

import base64
import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON

from domain.grid.kpi import KpiMetric as KpiMetricModel
from domain.grid.kpi import metric_value, previous_period, rank
from geo.maps import feature_collection
from models import GridKpi as GridKpiModel
from models import GridNode as GridNodeModel
from resolvers.grid import kpis as kpi_cases
from schema.platform.context import Info

if TYPE_CHECKING:
    from schema.grid.types import GridNode

KpiMetric = strawberry.enum(KpiMetricModel, name="KpiMetric", description="A grid KPI (网格指标)")


@strawberry.type(description="How a metric moved since the previous period")
class KpiChange:
    metric: KpiMetricModel
    current: float
    previous: float | None = strawberry.field(description="Null when the previous period was not computed")
    delta: float | None
    delta_ratio: float | None = strawberry.field(description="delta ÷ previous; null when previous is 0")


@strawberry.type(name="GridKpi", description="A grid node's business at a glance, for one period (YYYY-MM)")
class GridKpi:
    period: str
    computed_at: datetime.datetime
    customers: int
    households: int
    households_with_credit: int = strawberry.field(description="Households with a credit line (授信户数)")
    deposit_balance: Decimal
    loan_balance: Decimal
    credit_line_total: Decimal = strawberry.field(description="Outstanding credit lines (授信总额)")
    credit_coverage: float = strawberry.field(description="Households with a credit line ÷ households")
    ebanking_penetration: float
    third_party_payment_penetration: float
    social_security_card_penetration: float
    npl_ratio_by_count: float = strawberry.field(description="Non-performing borrowers ÷ borrowers")
    npl_ratio_by_balance: float = strawberry.field(description="Non-performing balance ÷ loan balance")
    node_pk: strawberry.Private[int]
    node_path: strawberry.Private[str]
    row: strawberry.Private[GridKpiModel]

    @classmethod
    def from_model(cls, row: GridKpiModel, path: str) -> GridKpi:
        figures = kpi_cases.figures(row)
        return cls(
            period=row.period,
            computed_at=row.computed_at,
            customers=row.customers,
            households=row.households,
            households_with_credit=row.households_with_credit,
            deposit_balance=row.deposit_balance,
            loan_balance=row.loan_balance,
            credit_line_total=row.credit_line_total,
            credit_coverage=metric_value(figures, KpiMetricModel.CREDIT_COVERAGE),
            ebanking_penetration=metric_value(figures, KpiMetricModel.EBANKING_PENETRATION),
            third_party_payment_penetration=metric_value(figures, KpiMetricModel.THIRD_PARTY_PAYMENT_PENETRATION),
            social_security_card_penetration=metric_value(figures, KpiMetricModel.SOCIAL_SECURITY_CARD_PENETRATION),
            npl_ratio_by_count=metric_value(figures, KpiMetricModel.NPL_RATIO_BY_COUNT),
            npl_ratio_by_balance=metric_value(figures, KpiMetricModel.NPL_RATIO_BY_BALANCE),
            node_pk=row.node_id,
            node_path=path,
            row=row,
        )

    @strawberry.field(description="Every metric against the previous period (环比)")
    async def changes(self, info: Info) -> list[KpiChange]:
        earlier = await kpi_loader(info).load((self.node_pk, self.node_path, previous_period(self.period)))
        now_figures = kpi_cases.figures(self.row)
        before = kpi_cases.figures(earlier) if earlier else None
        changes = []
        for metric in KpiMetricModel:
            current = metric_value(now_figures, metric)
            previous = metric_value(before, metric) if before else None
            delta = current - previous if previous is not None else None
            ratio = delta / previous if delta is not None and previous else None
            changes.append(KpiChange(metric=metric, current=current, previous=previous, delta=delta, delta_ratio=ratio))
        return changes


@strawberry.type(description="A child node's place in a ranking")
class RankedNode:
    rank: int
    value: float
    node_pk: strawberry.Private[int]

    @strawberry.field(description="The ranked node")
    async def node(self, info: Info) -> Annotated[GridNode, strawberry.lazy("schema.grid.types")]:
        from schema.grid.types import GridNode

        found = await info.context.loaders.grid_node_by_id.load(self.node_pk)
        assert found is not None  # ranked nodes were loaded through the same scope
        return GridNode.from_model(found)


def kpi_loader(info: Info) -> DataLoader[tuple[int, str, str], GridKpiModel | None]:
    return info.context.loaders.kpi_by_node_period


async def resolve_period(period: str | None) -> str | None:
    return period or await kpi_cases.latest_period()


async def node_kpi(info: Info, node_pk: int, path: str, period: str | None) -> GridKpi | None:
    chosen = await resolve_period(period)
    if chosen is None:
        return None
    row = await kpi_loader(info).load((node_pk, path, chosen))
    return GridKpi.from_model(row, path) if row else None


async def _children_with_kpis(
    info: Info, node_pk: int, period: str | None
) -> tuple[list[GridNodeModel], list[GridKpiModel | None]]:
    chosen = await resolve_period(period)
    children = await info.context.loaders.children_by_parent.load(node_pk)
    if chosen is None:
        return children, [None] * len(children)
    rows = await kpi_loader(info).load_many([(c.id, c.path, chosen) for c in children])
    return children, list(rows)


async def child_ranking(
    info: Info, node_pk: int, metric: KpiMetricModel, descending: bool, period: str | None
) -> list[RankedNode]:
    children, rows = await _children_with_kpis(info, node_pk, period)
    values = [(c.id, metric_value(kpi_cases.figures(r), metric)) for c, r in zip(children, rows, strict=True) if r]
    return [
        RankedNode(rank=position, value=value, node_pk=node_id)
        for node_id, value, position in rank(values, descending=descending)
    ]


async def children_geojson(info: Info, node_pk: int, metric: KpiMetricModel, period: str | None) -> JSON:
    children, rows = await _children_with_kpis(info, node_pk, period)
    properties = []
    for child, row in zip(children, rows, strict=True):
        props: dict[str, object] = {
            "id": child.id,
            "code": child.code,
            "name": child.name,
            "level": child.level.value,
        }
        if row is not None:
            figures = kpi_cases.figures(row)
            props["value"] = metric_value(figures, metric)
            props.update({m.value: metric_value(figures, m) for m in KpiMetricModel})
        properties.append(props)
    shapes = await info.context.loaders.polygon_by_node.load_many([c.id for c in children])
    return feature_collection(list(shapes), properties)  # type: ignore[return-value]


async def children_choropleth(info: Info, node: GridNodeModel, metric: KpiMetricModel, period: str | None) -> str:
    chosen = await resolve_period(period)
    children, rows = await _children_with_kpis(info, node.id, chosen)
    shapes = await info.context.loaders.polygon_by_node.load_many([c.id for c in children])
    png = kpi_cases.children_map_png(node, children, rows, shapes, metric, chosen or "")
    return "data:image/png;base64," + base64.b64encode(png).decode()


__all__ = [
    "GridKpi",
    "KpiChange",
    "KpiMetric",
    "RankedNode",
    "child_ranking",
    "children_choropleth",
    "children_geojson",
    "node_kpi",
]
