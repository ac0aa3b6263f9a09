"""Whole-village credit mutations: planning a campaign, moving it a step, and the collectors' survey batches.
Every one answers the campaign (or the per-survey results) or a typed VillageCreditError; a refused call
changes nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from domain.errors import DomainError
from domain.village_credit import surveys as rules
from resolvers.village_credit import campaigns
from resolvers.village_credit import surveys as survey_cases
from resolvers.village_credit.surveys import SurveyOutcome
from schema.platform.context import Info
from schema.platform.errors import VillageCreditError
from schema.platform.ids import decode_pk
from schema.platform.input_limits import max_items, max_length
from schema.village_credit.types import CampaignAction, HouseholdSurvey, Relation, SurveyStatus, VillageCampaign

VillageCampaignResult = Annotated[VillageCampaign | VillageCreditError, strawberry.union("VillageCampaignResult")]
NOTE = max_length(rules.MAX_NOTE_LENGTH)


@strawberry.input(description="A new campaign for a village (整村授信计划)")
class CreateVillageCampaignInput:
    village_id: strawberry.ID
    name: str = strawberry.field(directives=max_length(100))
    collector_ids: list[strawberry.ID] = strawberry.field(
        description="The customer managers who collect", directives=max_items(campaigns.MAX_COLLECTORS, 64)
    )
    reviewer_id: strawberry.ID = strawberry.field(description="The credit investigator who does the first review")


@strawberry.input(description="A member of the household (家庭成员); exactly one is the head (户主)")
class SurveyMemberInput:
    name: str = strawberry.field(directives=max_length(64))
    id_number: str = strawberry.field(description="Full-width digits are accepted", directives=max_length(32))
    relation: Relation  # type: ignore[valid-type]
    age: int | None = strawberry.field(default=None, description="As told; must match the ID number when given")
    phone: str | None = strawberry.field(default=None, directives=max_length(20))


@strawberry.input(description="A crop grown (种植)")
class CropInput:
    name: str = strawberry.field(directives=max_length(100))
    mu: Decimal


@strawberry.input(description="Livestock kept (养殖)")
class LivestockInput:
    kind: str = strawberry.field(directives=max_length(100))
    head: int


@strawberry.input(description="A debt at another lender (他行负债)")
class DebtInput:
    lender: str = strawberry.field(directives=max_length(100))
    amount: Decimal


@strawberry.input(description="A photo's metadata; the file itself is uploaded separately")
class PhotoInput:
    sha256: str = strawberry.field(directives=max_length(64))
    size_bytes: int
    taken_at: datetime.datetime


@strawberry.input(description="One household's survey (入户调查表), as the app holds it")
class SurveyInput:
    client_id: str = strawberry.field(
        description="The app's id for this survey (a UUID), unique in the campaign", directives=max_length(64)
    )
    client_version: int = strawberry.field(description="Raised by the app on each edit")
    surveyed_at: datetime.datetime
    members: list[SurveyMemberInput] = strawberry.field(directives=max_items(rules.MAX_MEMBERS))
    phone: str | None = strawberry.field(default=None, directives=max_length(20))
    address: str = ""
    lon: float | None = None
    lat: float | None = None
    land_contracted_mu: Decimal = strawberry.field(default=Decimal(0), description="承包地,亩")
    land_rented_mu: Decimal = strawberry.field(default=Decimal(0), description="流转地,亩")
    crops: list[CropInput] = strawberry.field(default_factory=list, directives=max_items(rules.MAX_ITEMS))
    livestock: list[LivestockInput] = strawberry.field(default_factory=list, directives=max_items(rules.MAX_ITEMS))
    operations: str = strawberry.field(default="", description="经营项目", directives=NOTE)
    annual_income: Decimal = Decimal(0)
    annual_expenses: Decimal = Decimal(0)
    house_value: Decimal = Decimal(0)
    vehicle_value: Decimal = Decimal(0)
    machinery_value: Decimal = Decimal(0)
    debts: list[DebtInput] = strawberry.field(default_factory=list, directives=max_items(rules.MAX_ITEMS))
    character: str = strawberry.field(default="", description="人品 (soft information)", directives=NOTE)
    reputation: str = strawberry.field(default="", description="口碑 (soft information)", directives=NOTE)
    notes: str = strawberry.field(default="", directives=NOTE)
    photos: list[PhotoInput] = strawberry.field(default_factory=list, directives=max_items(rules.MAX_ITEMS))
    collector_rating: str | None = strawberry.field(
        default=None, description="采集人评级: A, B, C or D (soft information)", directives=max_length(1)
    )
    risk_flags: list[str] = strawberry.field(
        default_factory=list,
        description="Conduct the collector noted: GAMBLING (赌博), DRUGS (吸毒)",
        directives=max_items(len(rules.RISK_FLAGS), 16),
    )

    def draft(self) -> rules.Survey:
        return rules.Survey(
            client_id=self.client_id,
            client_version=self.client_version,
            surveyed_at=self.surveyed_at,
            members=tuple(rules.Member(m.name, m.id_number, m.relation, m.age, m.phone) for m in self.members),
            phone=self.phone,
            address=self.address,
            lon=self.lon,
            lat=self.lat,
            land_contracted_mu=self.land_contracted_mu,
            land_rented_mu=self.land_rented_mu,
            crops=tuple(rules.Crop(c.name, c.mu) for c in self.crops),
            livestock=tuple(rules.Livestock(a.kind, a.head) for a in self.livestock),
            operations=self.operations,
            annual_income=self.annual_income,
            annual_expenses=self.annual_expenses,
            house_value=self.house_value,
            vehicle_value=self.vehicle_value,
            machinery_value=self.machinery_value,
            debts=tuple(rules.Debt(d.lender, d.amount) for d in self.debts),
            character=self.character,
            reputation=self.reputation,
            notes=self.notes,
            photos=tuple(rules.Photo(p.sha256, p.size_bytes, p.taken_at) for p in self.photos),
            collector_rating=self.collector_rating,
            risk_flags=tuple(self.risk_flags),
        )


@strawberry.type(description="What became of one survey of the batch")
class SurveyResult:
    index: int = strawberry.field(description="Its place in the batch, from 0")
    client_id: str
    status: SurveyStatus  # type: ignore[valid-type]
    survey: HouseholdSurvey | None = strawberry.field(description="As the server now holds it (not for ERROR)")
    error: VillageCreditError | None = strawberry.field(description="The first field at fault (ERROR only)")

    @classmethod
    def of(cls, outcome: SurveyOutcome) -> SurveyResult:
        return cls(
            index=outcome.index,
            client_id=outcome.client_id,
            status=outcome.status,
            survey=HouseholdSurvey.of(outcome.survey) if outcome.survey else None,
            error=VillageCreditError.from_domain(outcome.error) if outcome.error else None,
        )


@strawberry.type(description="The batch's results, one per survey in the order sent")
class SurveyBatch:
    results: list[SurveyResult]


SubmitSurveysResult = Annotated[SurveyBatch | VillageCreditError, strawberry.union("SubmitSurveysResult")]


async def create_village_campaign(info: Info, input: CreateVillageCampaignInput) -> VillageCampaignResult:
    actor = info.context.require_actor()
    try:
        view = await campaigns.create_campaign(
            actor,
            decode_pk(input.village_id, "GridNode", "villageId"),
            input.name,
            [decode_pk(c, "Staff", f"collectorIds[{i}]") for i, c in enumerate(input.collector_ids)],
            decode_pk(input.reviewer_id, "Staff", "reviewerId"),
        )
    except DomainError as error:
        return VillageCreditError.from_domain(error)  # type: ignore[no-any-return]
    return VillageCampaign.of(view)


async def move_village_campaign(
    info: Info,
    id: strawberry.ID,
    action: CampaignAction,  # type: ignore[valid-type]
    reason: Annotated[str, strawberry.argument(directives=max_length(campaigns.MAX_REASON_LENGTH))] = "",
    expected_version: int | None = None,
) -> VillageCampaignResult:
    actor = info.context.require_actor()
    try:
        view = await campaigns.move_campaign(
            actor, decode_pk(id, "VillageCampaign", "id"), action, reason, expected_version
        )
    except DomainError as error:
        return VillageCreditError.from_domain(error)  # type: ignore[no-any-return]
    return VillageCampaign.of(view)


async def submit_surveys(
    info: Info,
    campaign_id: strawberry.ID,
    surveys: Annotated[list[SurveyInput], strawberry.argument(directives=max_items(rules.MAX_BATCH))],
) -> SubmitSurveysResult:
    actor = info.context.require_actor()
    try:
        outcomes = await survey_cases.submit_surveys(
            actor, decode_pk(campaign_id, "VillageCampaign", "campaignId"), [s.draft() for s in surveys]
        )
    except DomainError as error:
        return VillageCreditError.from_domain(error)  # type: ignore[no-any-return]
    return SurveyBatch(results=[SurveyResult.of(o) for o in outcomes])


@strawberry.type
class Mutation:
    create_village_campaign: VillageCampaignResult = strawberry.mutation(
        resolver=create_village_campaign,
        description="Plan a whole-village credit campaign (head office, or the branch president of the village)",
    )
    move_village_campaign: VillageCampaignResult = strawberry.mutation(
        resolver=move_village_campaign,
        description="Move a campaign one step, as the person that step belongs to; nothing changes when refused",
    )
    submit_surveys: SubmitSurveysResult = strawberry.mutation(
        resolver=submit_surveys,
        description="A collector's household surveys, one or an offline batch of up to 500: a result per survey "
        "(SAVED, UPDATED, DUPLICATE or ERROR); sending a batch again creates nothing twice",
    )
