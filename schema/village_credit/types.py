"""Whole-village credit campaigns and household surveys in the graph (整村授信), as their reader may see them:
surveyed people's ID numbers and phones in clear only for the campaign's collectors and head office, each read
in clear noted for the audit."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated, TypeVar

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from domain.errors import DomainError
from domain.village_credit.campaign_workflow import ACTION_NAMES, STATE_NAMES_ZH
from domain.village_credit.campaign_workflow import CampaignAction as CampaignActionModel
from domain.village_credit.campaign_workflow import CampaignState as CampaignStateModel
from domain.village_credit.surveys import Relation as RelationModel
from models import VillageCampaignEvent
from resolvers.village_credit import campaigns
from resolvers.village_credit.campaigns import CampaignView
from resolvers.village_credit.surveys import SurveyStatus as SurveyStatusModel
from resolvers.village_credit.surveys import SurveyView
from schema.platform.context import Info
from schema.platform.input_limits import max_items, max_length
from schema.platform.pagination import CountedConnection, Cursor
from schema.village_credit import duplicates
from schema.village_credit import households as village_households
from schema.village_credit.duplicates import CoreFileLinks, DuplicateCandidate, DuplicateStatus, LinkStatus

CampaignState = strawberry.enum(CampaignStateModel, name="VillageCampaignState", description="整村授信活动阶段")
CampaignAction = strawberry.enum(CampaignActionModel, name="VillageCampaignAction", description="整村授信活动的操作")
Relation = strawberry.enum(RelationModel, name="HouseholdRelation", description="与户主关系")
SurveyStatus = strawberry.enum(
    SurveyStatusModel,
    name="SurveyStatus",
    description="SAVED / UPDATED (a newer edit) / DUPLICATE (nothing changed) / ERROR",
)
T = TypeVar("T")


@strawberry.type(description="One step of a campaign: what was done, by whom, when and why")
class VillageCampaignStep:
    action: str
    action_zh: str
    from_state: CampaignState | None  # type: ignore[valid-type]
    to_state: CampaignState  # type: ignore[valid-type]
    actor_id: int
    at: datetime.datetime
    reason: str

    @classmethod
    def of(cls, event: VillageCampaignEvent) -> VillageCampaignStep:
        names = ACTION_NAMES.get(CampaignActionModel(event.action)) if event.action != "plan" else ("计划", "plan")
        return cls(
            action=event.action,
            action_zh=names[0] if names else event.action,
            from_state=CampaignStateModel(event.from_state) if event.from_state else None,
            to_state=CampaignStateModel(event.to_state),
            actor_id=event.actor_id,  # type: ignore[attr-defined]
            at=event.at,
            reason=event.reason,
        )


@strawberry.type(name="VillageCampaign", description="A whole-village credit campaign (整村授信活动) for one village")
class VillageCampaign(relay.Node):
    pk: relay.NodeID[int]
    name: str
    village_name: str
    state: CampaignState  # type: ignore[valid-type]
    state_zh: str
    collector_ids: list[int] = strawberry.field(description="The collecting customer managers (采集客户经理)")
    reviewer_id: int = strawberry.field(description="The named first reviewer (初审授信经理)")
    second_reviewer_id: int | None = strawberry.field(description="Who did the second review (复核)")
    approver_id: int | None = strawberry.field(description="The branch president who approved it (支行审批)")
    version: int = strawberry.field(description="Pass back as expectedVersion")
    created_at: datetime.datetime
    state_since: datetime.datetime
    available_actions: list[CampaignAction] = strawberry.field(  # type: ignore[valid-type]
        description="What you may do with it now"
    )
    personal_data_in_clear: bool = strawberry.field(description="Whether you see its surveys' personal data in clear")

    @classmethod
    def of(cls, view: CampaignView) -> VillageCampaign:
        c = view.campaign
        return cls(
            pk=c.id,
            name=c.name,
            village_name=view.village_name,
            state=CampaignStateModel(c.state),
            state_zh=STATE_NAMES_ZH[CampaignStateModel(c.state)],
            collector_ids=sorted(view.facts.collector_ids),
            reviewer_id=view.facts.reviewer_id,
            second_reviewer_id=view.facts.second_reviewer_id,
            approver_id=view.facts.approver_id,
            version=c.version,
            created_at=c.created_at,
            state_since=c.state_since,
            available_actions=list(view.allowed_actions),
            personal_data_in_clear=view.sees_personal_data,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[VillageCampaign | None]:
        actor = info.context.require_actor()
        found: list[VillageCampaign | None] = []
        for node_id in node_ids:
            try:
                found.append(cls.of(await campaigns.get_campaign(actor, int(node_id))))
            except DomainError:
                found.append(None)
        return found

    @strawberry.field(description="Every step so far, oldest first")
    async def history(self) -> list[VillageCampaignStep]:
        return [VillageCampaignStep.of(e) for e in await campaigns.history_of(self.pk)]

    @strawberry.field(description="The screened households (筛查结果), in survey order, by list and state")
    async def households(
        self,
        info: Info,
        colours: Annotated[
            list[village_households.ListColour] | None,  # type: ignore[valid-type]
            strawberry.argument(directives=max_items(3)),
        ] = None,
        states: Annotated[
            list[village_households.HouseholdState] | None,  # type: ignore[valid-type]
            strawberry.argument(directives=max_items(6)),
        ] = None,
        first: int | None = 50,
        after: Cursor = None,
    ) -> CountedConnection[village_households.VillageHousehold]:
        page = await village_households.households_of(info, self.pk, colours, states, first, after)
        return CountedConnection.from_page(page, village_households.VillageHousehold.of)

    @strawberry.field(description="How many households were surveyed and are on each list in each state")
    async def screening_summary(self, info: Info) -> village_households.ScreeningSummary:
        return await village_households.summary_of(info, self.pk)

    @strawberry.field(
        description="The published list (张榜公示) as an XLSX data: URL, ID numbers masked; once published"
    )
    async def published_list_xlsx(self, info: Info) -> str:
        return await village_households.published_list_url(info, self.pk, pdf=False)

    @strawberry.field(
        description="The published list as a printable A4 PDF data: URL, ID numbers masked; once published"
    )
    async def published_list_pdf(self, info: Info) -> str:
        return await village_households.published_list_url(info, self.pk, pdf=True)

    @strawberry.field(
        description="The queue of probable duplicates (查重), the surest first: the campaign's collectors, its first "
        "reviewer and head office"
    )
    async def duplicate_candidates(
        self,
        info: Info,
        status: Annotated[DuplicateStatus | None, strawberry.argument(description="Only these")] = None,  # type: ignore[valid-type]
        first: int | None = 20,
        after: Cursor = None,
    ) -> CountedConnection[DuplicateCandidate]:
        return await duplicates.duplicate_candidates(info, self.pk, status, first, after)

    @strawberry.field(description="Its surveyed people against the core-banking customer file, by ID number")
    async def core_file_links(
        self,
        info: Info,
        status: Annotated[LinkStatus | None, strawberry.argument(description="Only these")] = None,  # type: ignore[valid-type]
        first: int = 50,
        after: Annotated[
            str | None,
            strawberry.argument(description="The last ID number of the page before", directives=max_length(32)),
        ] = None,
    ) -> CoreFileLinks:
        return await duplicates.core_file_links(info, self.pk, status, first, after)


def _disclosed(info: Info, survey: SurveyView, field_name: str, value: T) -> T:
    """The value as the view holds it; noted as disclosed when it is personal data shown in clear."""
    if not survey.masked and value is not None:
        info.context.disclose("HouseholdSurvey", survey.survey.id, field_name)
    return value


@strawberry.type(description="A member of a surveyed household; ID number and phone masked unless you collect")
class SurveyMember:
    view: strawberry.Private[SurveyView]
    index: strawberry.Private[int]
    name: str
    relation: Relation  # type: ignore[valid-type]
    age_band: str = strawberry.field(description="An age band of ten years (the birth date only in clear)")

    @strawberry.field(description="Resident ID number")
    def id_number(self, info: Info) -> str:
        return _disclosed(info, self.view, f"members[{self.index}].idNumber", self.view.members[self.index].id_number)

    @strawberry.field(description="Mobile number")
    def phone(self, info: Info) -> str | None:
        return _disclosed(info, self.view, f"members[{self.index}].phone", self.view.members[self.index].phone)

    @strawberry.field(description="Birth date, from the ID number; null when masked")
    def birth_date(self, info: Info) -> datetime.date | None:
        value = self.view.members[self.index].birth_date
        return _disclosed(info, self.view, f"members[{self.index}].birthDate", value)


@strawberry.type(name="HouseholdSurvey", description="One household's survey (入户调查表) as the server holds it")
class HouseholdSurvey:
    view: strawberry.Private[SurveyView]
    id: strawberry.ID
    client_id: str
    client_version: int
    collector_id: int
    head_name: str
    surveyed_at: datetime.datetime
    updated_at: datetime.datetime = strawberry.field(description="When the server last changed it")
    land_contracted_mu: Decimal
    land_rented_mu: Decimal
    annual_income: Decimal
    annual_expenses: Decimal
    house_value: Decimal
    vehicle_value: Decimal
    machinery_value: Decimal
    operations: str
    masked: bool
    details: JSON = strawberry.field(description="Crops, livestock, debts elsewhere, soft information, photos")

    @classmethod
    def of(cls, view: SurveyView) -> HouseholdSurvey:
        s = view.survey
        details = {k: v for k, v in s.details.items() if k != "members"}
        return cls(
            view=view,
            id=strawberry.ID(str(s.id)),
            client_id=s.client_id,
            client_version=s.client_version,
            collector_id=s.collector_id,  # type: ignore[attr-defined]
            head_name=s.head_name,
            surveyed_at=s.surveyed_at,
            updated_at=s.updated_at,
            land_contracted_mu=Decimal(s.land_contracted_mu),
            land_rented_mu=Decimal(s.land_rented_mu),
            annual_income=Decimal(s.annual_income),
            annual_expenses=Decimal(s.annual_expenses),
            house_value=Decimal(s.house_value),
            vehicle_value=Decimal(s.vehicle_value),
            machinery_value=Decimal(s.machinery_value),
            operations=s.operations,
            masked=view.masked,
            details=details,  # type: ignore[arg-type]
        )

    @strawberry.field(description="The household's members, the head among them")
    def members(self) -> list[SurveyMember]:
        return [
            SurveyMember(view=self.view, index=i, name=m.name, relation=m.relation, age_band=m.age_band)
            for i, m in enumerate(self.view.members)
        ]

    @strawberry.field(description="The household's phone")
    def phone(self, info: Info) -> str | None:
        return _disclosed(info, self.view, "phone", self.view.phone)

    @strawberry.field(description="Address (masked to the township unless you collect)")
    def address(self, info: Info) -> str:
        return _disclosed(info, self.view, "address", self.view.address)

    @strawberry.field(description="Longitude; null when masked")
    def lon(self, info: Info) -> float | None:
        return _disclosed(info, self.view, "lon", self.view.lon)

    @strawberry.field(description="Latitude; null when masked")
    def lat(self, info: Info) -> float | None:
        return _disclosed(info, self.view, "lat", self.view.lat)
