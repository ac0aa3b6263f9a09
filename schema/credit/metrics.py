"""The credit factory's process metrics in the graph (流程指标): turnaround, stage times and time-limit breaches,
the backlog and who holds it, approval rates by product, and the period's headline counts per grid node. Who gets
which figures is the use case's rule (resolvers/credit/metrics.py)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from domain.access import Role as RoleModel
from domain.credit.metrics import APPLICATION_STAGES, DRAWDOWN_STAGES, Durations, StageFigures, rate
from domain.credit.process import STAGE_NAMES_ZH
from domain.credit.process import StageName as StageNameModel
from domain.errors import DomainError
from resolvers.credit import metrics
from schema.credit.enums import ApplicationState, DrawdownState, ProcessStage
from schema.grid.types import GRID_CODE_LENGTH, GridNode
from schema.platform.context import Info
from schema.platform.errors import query_error
from schema.platform.input_limits import max_length
from schema.staff.types import Role, Staff

STATE_OF_STAGE = {stage: state for state, stage in APPLICATION_STAGES.items()}
DRAWDOWN_STATE_OF_STAGE = {stage: state for state, stage in DRAWDOWN_STAGES.items()}


@strawberry.type(description="How long cases took, in minutes: nearest-rank percentiles, null without cases")
class ProcessDurations:
    cases: int
    p50_minutes: float | None
    p90_minutes: float | None

    @classmethod
    def of(cls, durations: Durations) -> ProcessDurations:
        return cls(cases=durations.cases, p50_minutes=durations.p50_minutes, p90_minutes=durations.p90_minutes)


@strawberry.type(description="Cases over their stage's time limit (超时), the product's sla_minutes")
class SlaBreaches:
    finished: int = strawberry.field(description="Cases that left the stage in the period after their time limit")
    open: int = strawberry.field(
        description="Cases in the stage now (entered by the period's end) past their time limit"
    )
    total: int


@strawberry.type(description="One stage of the process: how long it took, what is in it, what ran over")
class StageMetrics:
    stage: ProcessStage  # type: ignore[valid-type]
    name_zh: str
    application_state: ApplicationState | None = strawberry.field(  # type: ignore[valid-type]
        description="The application state a case waits in during the stage; null for a drawdown's stage"
    )
    drawdown_state: DrawdownState | None = strawberry.field(  # type: ignore[valid-type]
        description="The drawdown state a case waits in during the stage; null for an application's stage"
    )
    finished: ProcessDurations = strawberry.field(
        description="The cases that left the stage in the period: from the step that entered it to the next"
    )
    open: int = strawberry.field(description="The cases in the stage now that entered it by the period's end")
    sla_breaches: SlaBreaches

    @classmethod
    def of(cls, figures: StageFigures) -> StageMetrics:
        stage = StageNameModel(figures.stage)
        return cls(
            stage=stage,
            name_zh=STAGE_NAMES_ZH[stage],
            application_state=STATE_OF_STAGE.get(stage),
            drawdown_state=DRAWDOWN_STATE_OF_STAGE.get(stage),
            finished=ProcessDurations.of(figures.finished),
            open=figures.still_open,
            sla_breaches=SlaBreaches(
                finished=figures.breached_finished, open=figures.breached_open, total=figures.breaches
            ),
        )


@strawberry.type(description="Open applications in one state")
class ApplicationStateCount:
    state: ApplicationState  # type: ignore[valid-type]
    count: int


@strawberry.type(description="Open drawdowns in one state")
class DrawdownStateCount:
    state: DrawdownState  # type: ignore[valid-type]
    count: int


@strawberry.type(description="The applications one credit investigator is investigating now")
class InvestigatorBacklog:
    investigator_pk: strawberry.Private[int]
    count: int

    @strawberry.field(description="The investigator, as the staff directory shows them to you")
    async def investigator(self, info: Info) -> Staff | None:
        found = await info.context.loaders.staff_by_id.load(self.investigator_pk)
        return Staff.from_model(found, info.context.require_actor()) if found else None


@strawberry.type(description="The applications waiting at an approval tier decided by one authority")
class TierAuthorityBacklog:
    authority: Role  # type: ignore[valid-type]
    count: int


@strawberry.type(description="What is open now, whatever the period (待办)")
class ProcessBacklog:
    applications: list[ApplicationStateCount] = strawberry.field(description="Every open state, zeros included")
    by_investigator: list[InvestigatorBacklog] = strawberry.field(
        description="INVESTIGATING, per investigator, the busiest first"
    )
    by_tier_authority: list[TierAuthorityBacklog] = strawberry.field(
        description="AWAITING_APPROVAL, per authority of the tier they wait at"
    )
    drawdowns: list[DrawdownStateCount] = strawberry.field(description="Every open drawdown state, zeros included")

    @classmethod
    def of(cls, backlog: metrics.Backlog) -> ProcessBacklog:
        return cls(
            applications=[ApplicationStateCount(state=s, count=n) for s, n in backlog.applications.items()],
            by_investigator=[InvestigatorBacklog(investigator_pk=i, count=n) for i, n in backlog.by_investigator],
            by_tier_authority=[
                TierAuthorityBacklog(authority=RoleModel(r), count=n) for r, n in backlog.by_tier_authority
            ],
            drawdowns=[DrawdownStateCount(state=s, count=n) for s, n in backlog.drawdowns.items()],
        )


@strawberry.type(description="How one product's applications were decided in the period")
class ProductRates:
    product_code: str
    name_zh: str
    name_en: str
    submitted: int = strawberry.field(description="Applications submitted in the period")
    admission_refused: int = strawberry.field(description="Of those, refused at admission (准入拒绝)")
    approved: int = strawberry.field(description="Applications finally approved in the period")
    rejected: int = strawberry.field(description="Applications rejected in the period")
    decided: int = strawberry.field(description="approved + rejected")
    approval_rate: float | None = strawberry.field(description="approved ÷ decided; null when none was decided")
    rejection_rate: float | None = strawberry.field(description="rejected ÷ decided; null when none was decided")
    admission_refusal_rate: float | None = strawberry.field(
        description="admissionRefused ÷ submitted; null when none was submitted"
    )

    @classmethod
    def of(cls, rates: metrics.ProductRates) -> ProductRates:
        name_zh, name_en = metrics.product_names(rates.product_code)
        return cls(
            product_code=rates.product_code,
            name_zh=name_zh,
            name_en=name_en,
            submitted=rates.submitted,
            admission_refused=rates.admission_refused,
            approved=rates.approved,
            rejected=rates.rejected,
            decided=rates.decided,
            approval_rate=rate(rates.approved, rates.decided),
            rejection_rate=rate(rates.rejected, rates.decided),
            admission_refusal_rate=rate(rates.admission_refused, rates.submitted),
        )


@strawberry.type(description="The period's headline counts (业务概览)")
class HeadlineCounts:
    applications: int = strawberry.field(description="Applications submitted")
    investigations: int = strawberry.field(description="Investigation reports submitted")
    lines_granted: int = strawberry.field(description="Credit lines granted (新增授信)")
    line_amount: Decimal = strawberry.field(description="Their amount, yuan")
    drawdowns_disbursed: int = strawberry.field(description="Drawdowns disbursed (放款)")
    disbursed_amount: Decimal = strawberry.field(description="Their amount, yuan")

    @classmethod
    def of(cls, headline: metrics.Headline) -> HeadlineCounts:
        return cls(
            applications=headline.applications,
            investigations=headline.investigations,
            lines_granted=headline.lines_granted,
            line_amount=headline.line_amount,
            drawdowns_disbursed=headline.drawdowns_disbursed,
            disbursed_amount=headline.disbursed_amount,
        )


@strawberry.type(description="One grid node's headline counts")
class NodeHeadlineCounts:
    node: GridNode
    counts: HeadlineCounts


@strawberry.type(description="The credit factory's process metrics (流程指标) over the applications in your reach")
class CreditProcessMetrics:
    first_day: datetime.date = strawberry.field(name="from", description="The period's first day (UTC), included")
    last_day: datetime.date = strawberry.field(name="to", description="The period's last day (UTC), included")
    grid_node: GridNode | None = strawberry.field(description="The node asked about; null for your whole reach")
    product_code: str | None
    computed_at: datetime.datetime = strawberry.field(description="Now: what open cases and the backlog are as of")
    headline: HeadlineCounts
    by_child: list[NodeHeadlineCounts] = strawberry.field(
        description="The headline counts of each child of the node you may see (without a node: each township)"
    )
    turnaround: ProcessDurations = strawberry.field(
        description="From submission to the first disbursement on the line, for those first disbursed in the period"
    )
    stages: list[StageMetrics]
    backlog: ProcessBacklog
    products: list[ProductRates] = strawberry.field(description="By product, those with applications or decisions")

    @classmethod
    def of(cls, found: metrics.ProcessMetrics) -> CreditProcessMetrics:
        return cls(
            first_day=found.period.first_day,
            last_day=found.period.last_day,
            grid_node=GridNode.from_model(found.node) if found.node else None,
            product_code=found.product_code,
            computed_at=found.computed_at,
            headline=HeadlineCounts.of(found.headline),
            by_child=[
                NodeHeadlineCounts(node=GridNode.from_model(c.node), counts=HeadlineCounts.of(c.headline))
                for c in found.by_child
            ],
            turnaround=ProcessDurations.of(found.turnaround),
            stages=[StageMetrics.of(s) for s in found.stages],
            backlog=ProcessBacklog.of(found.backlog),
            products=[ProductRates.of(p) for p in found.products],
        )


@strawberry.type
class Query:
    @strawberry.field(
        description="The credit factory's process metrics for a period of at most 400 days: over the applications "
        "you may see (your own work as an investigator or customer manager), under a grid node when given "
        "(NOT_FOUND outside your sight), of one product when given"
    )
    async def credit_process_metrics(
        self,
        info: Info,
        *,
        grid_node_code: Annotated[str | None, strawberry.argument(directives=max_length(GRID_CODE_LENGTH))] = None,
        from_: Annotated[datetime.date, strawberry.argument(name="from", description="The first day (UTC)")],
        to: Annotated[datetime.date, strawberry.argument(description="The last day (UTC), included")],
        product_code: Annotated[str | None, strawberry.argument(directives=max_length(32))] = None,
    ) -> CreditProcessMetrics | None:
        actor = info.context.require_actor()
        try:
            found = await metrics.process_metrics(
                actor, from_, to, grid_code=grid_node_code, product_code=product_code or None
            )
        except DomainError as error:
            raise query_error(error) from None
        return CreditProcessMetrics.of(found)


__all__ = ["CreditProcessMetrics", "Query"]
