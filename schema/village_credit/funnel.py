"""The whole-village credit funnel in the graph: per campaign, or per village, township or county — each step's
households and conversion, each collecting manager's progress, coverage by village, and the same as an XLSX
workbook, a funnel chart and a coverage map (data URLs, drawn only when selected)."""

from __future__ import annotations

import base64

import strawberry

from domain.errors import DomainError, ErrorCode
from domain.village_credit.funnel import FunnelStep as FunnelStepModel
from resolvers.village_credit import funnel as cases
from schema.platform.context import Info
from schema.platform.errors import query_error
from schema.platform.ids import decode_pk

FunnelStep = strawberry.enum(FunnelStepModel, name="VillageFunnelStep", description="整村授信漏斗环节")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@strawberry.type(description="One step of the funnel")
class VillageFunnelFigure:
    step: FunnelStep  # type: ignore[valid-type]
    name_zh: str
    name_en: str
    households: int
    conversion: float | None = strawberry.field(description="Of the step before (0.5 = 50 %); none for the first")


@strawberry.type(description="A collecting customer manager's progress")
class VillageManagerProgress:
    staff_id: strawberry.ID
    name: str
    surveyed: int
    white: int
    approved: int
    signed: int
    drew: int


@strawberry.type(description="A village's households and how many were surveyed")
class VillageCoverage:
    village_id: strawberry.ID
    code: str
    name: str
    households: int
    surveyed: int
    coverage: float | None


@strawberry.type(description="The whole-village credit funnel of a campaign or a grid node (整村授信漏斗)")
class VillageCreditFunnel:
    title: str
    campaigns: int = strawberry.field(description="The campaigns counted: those you may see")
    steps: list[VillageFunnelFigure]
    black: int = strawberry.field(description="Surveyed households on the black list")
    grey: int = strawberry.field(description="Surveyed households on the grey list")
    managers: list[VillageManagerProgress]
    villages: list[VillageCoverage] = strawberry.field(description="Coverage by village (a grid node's funnel)")
    _result: strawberry.Private[cases.Funnel]
    _node_pk: strawberry.Private[int | None]

    @classmethod
    def of(cls, result: cases.Funnel, node_pk: int | None) -> VillageCreditFunnel:
        return cls(
            title=f"{result.title_zh} / {result.title_en}",
            campaigns=result.campaigns,
            steps=[
                VillageFunnelFigure(
                    step=f.step, name_zh=f.name_zh, name_en=f.name_en, households=f.count, conversion=f.conversion
                )
                for f in result.steps
            ],
            black=result.black,
            grey=result.grey,
            managers=[
                VillageManagerProgress(
                    staff_id=strawberry.ID(strawberry.relay.to_base64("Staff", m.staff_id)),
                    name=m.name,
                    surveyed=m.surveyed,
                    white=m.white,
                    approved=m.approved,
                    signed=m.signed,
                    drew=m.drew,
                )
                for m in result.managers
            ],
            villages=[
                VillageCoverage(
                    village_id=strawberry.ID(strawberry.relay.to_base64("GridNode", v.village_id)),
                    code=v.code,
                    name=v.name,
                    households=v.households,
                    surveyed=v.surveyed,
                    coverage=v.coverage,
                )
                for v in result.villages
            ],
            _result=result,
            _node_pk=node_pk,
        )

    @strawberry.field(description="The funnel as an XLSX workbook (a data URL): steps, managers, coverage")
    def xlsx(self) -> str:
        return f"data:{XLSX};base64," + base64.b64encode(cases.workbook(self._result)).decode()

    @strawberry.field(description="The funnel drawn as a PNG chart (a data URL)")
    def chart_png(self) -> str:
        return "data:image/png;base64," + base64.b64encode(cases.chart_png(self._result)).decode()

    @strawberry.field(description="A grid node's villages shaded by coverage, as a PNG map (a data URL)")
    async def coverage_map_png(self, info: Info) -> str | None:
        if self._node_pk is None:
            return None
        try:
            png = await cases.coverage_map_png(info.context.require_actor(), self._node_pk)
        except DomainError as error:
            raise query_error(error) from None
        return "data:image/png;base64," + base64.b64encode(png).decode()


@strawberry.type
class Query:
    @strawberry.field(
        description="The whole-village credit funnel of one campaign (campaignId) or of every campaign you may see "
        "under a village, township or county (nodeId): give exactly one"
    )
    async def village_credit_funnel(
        self, info: Info, campaign_id: strawberry.ID | None = None, node_id: strawberry.ID | None = None
    ) -> VillageCreditFunnel:
        actor = info.context.require_actor()
        try:
            if (campaign_id is None) == (node_id is None):
                raise DomainError(
                    ErrorCode.INVALID_VALUE,
                    "请指定活动或网格节点之一",
                    "give either campaignId or nodeId",
                    "campaignId",
                )
            if campaign_id is not None:
                pk = decode_pk(campaign_id, "VillageCampaign", "campaignId", ErrorCode.NOT_FOUND)
                return VillageCreditFunnel.of(await cases.funnel(actor, campaign_id=pk), None)
            node_pk = decode_pk(node_id or "", "GridNode", "nodeId", ErrorCode.NOT_FOUND)
            return VillageCreditFunnel.of(await cases.funnel(actor, node_id=node_pk), node_pk)
        except DomainError as error:
            raise query_error(error) from None
