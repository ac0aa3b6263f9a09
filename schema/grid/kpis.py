"""Grid KPIs in the graph: a node's figures with period-over-period change, rankings of its children, and
maps (GeoJSON and a PNG choropleth)."""

from __future__ import annotations

import base64
import datetime
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from domain.errors import DomainError
from domain.grid.kpi import KpiMetric as KpiMetricModel
from domain.grid.kpi import changes, metric_value, previous_period
from resolvers.grid import kpis as kpi_cases
from schema.platform.context import Info
from schema.platform.errors import query_error
from schema.platform.input_limits import max_length

Period = Annotated[
    str | None,
    strawberry.argument(description="A month, YYYY-MM, from 2000-01 to next month", directives=max_length(7)),
]

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
    row: strawberry.Private[kpi_cases.KpiRow]

    @classmethod
    def from_model(cls, row: kpi_cases.KpiRow, path: str) -> GridKpi:
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
        loader = info.context.loaders.kpi_by_node_period
        earlier = await loader.load((self.node_pk, self.node_path, previous_period(self.period)))
        before = kpi_cases.figures(earlier) if earlier else None
        return [KpiChange(**vars(change)) for change in changes(kpi_cases.figures(self.row), before)]


async def chosen_period(info: Info, period: str | None) -> str | None:
    """The period asked for (checked), or the latest rolled up — looked up once per request."""
    try:
        if period is None:
            return await info.context.loaders.latest_kpi_period.load(LATEST)
        return await kpi_cases.period_or_latest(period)
    except DomainError as error:
        raise query_error(error) from None


LATEST = "latest"


async def node_kpi(info: Info, node_pk: int, path: str, period: str | None) -> GridKpi | None:
    chosen = await chosen_period(info, period)
    if chosen is None:
        return None
    row = await info.context.loaders.kpi_by_node_period.load((node_pk, path, chosen))
    return GridKpi.from_model(row, path) if row else None


async def children_geojson(info: Info, node_pk: int, metric: KpiMetricModel, period: str | None) -> JSON:
    try:
        return await kpi_cases.children_geojson(info.context.require_actor(), node_pk, metric, period)  # type: ignore[return-value]
    except DomainError as error:
        raise query_error(error) from None


async def children_choropleth(info: Info, node_pk: int, metric: KpiMetricModel, period: str | None) -> str:
    try:
        png = await kpi_cases.children_map(info.context.require_actor(), node_pk, metric, period)
    except DomainError as error:
        raise query_error(error) from None
    return "data:image/png;base64," + base64.b64encode(png).decode()
