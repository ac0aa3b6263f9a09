"""A campaign's screened households in the graph (筛查、预授信额度、初审复核审批、张榜公示): the list and reasons,
the limits with their explanation, the maker-checker limit changes, and the published list's downloads."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry import relay

from domain.errors import DomainError
from domain.village_credit import published_list as posting
from domain.village_credit.household_workflow import HouseholdState as HouseholdStateModel
from domain.village_credit.household_workflow import ListColour as ListColourModel
from models import LimitAdjustment as LimitAdjustmentModel
from resolvers.platform.pagination import Page
from resolvers.village_credit import households as household_cases
from resolvers.village_credit import reviews
from resolvers.village_credit import screening as screening_cases
from resolvers.village_credit.households import HouseholdView
from schema.platform.context import Info
from schema.platform.errors import VillageCreditError, query_error
from schema.platform.ids import decode_pk
from schema.platform.input_limits import max_length
from schema.platform.jobs import Job

HouseholdState = strawberry.enum(HouseholdStateModel, name="VillageHouseholdState", description="农户授信状态")
ListColour = strawberry.enum(ListColourModel, name="ListColour", description="黑/灰/白名单")
CENTS = Decimal("0.01")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@strawberry.type(description="Why a household is on the black or grey list")
class HouseholdReason:
    code: str
    zh: str
    en: str


@strawberry.type(description="One factor of a pre-approved limit, in the order it was worked out")
class LimitFactor:
    code: str
    zh: str
    en: str
    amount: Decimal = strawberry.field(description="Yuan, or the multiplier for RATING_MULTIPLIER")


@strawberry.type(
    name="HouseholdLimitAdjustment", description="A reviewer's change of a limit (maker) and its check (checker)"
)
class LimitAdjustment:
    pk: strawberry.Private[int]
    id: strawberry.ID
    stage: str = strawberry.field(description="The review step it was proposed in")
    from_limit: Decimal
    to_limit: Decimal
    reason: str
    status: str = strawberry.field(description="PROPOSED, CONFIRMED or REJECTED")
    made_by_id: int
    made_at: datetime.datetime
    checked_by_id: int | None
    checked_at: datetime.datetime | None
    check_note: str

    @classmethod
    def of(cls, row: LimitAdjustmentModel) -> LimitAdjustment:
        return cls(
            pk=row.id,
            id=strawberry.ID(str(row.id)),
            stage=row.stage,
            from_limit=Decimal(row.from_limit).quantize(CENTS),
            to_limit=Decimal(row.to_limit).quantize(CENTS),
            reason=row.reason,
            status=row.status,
            made_by_id=row.made_by_id,  # type: ignore[attr-defined]
            made_at=row.made_at,
            checked_by_id=row.checked_by_id,  # type: ignore[attr-defined]
            checked_at=row.checked_at,
            check_note=row.check_note,
        )


@strawberry.type(name="VillageHousehold", description="A surveyed household after screening")
class VillageHousehold(relay.Node):
    view: strawberry.Private[HouseholdView]
    pk: relay.NodeID[int]
    survey_id: int
    head_name: str
    colour: ListColour  # type: ignore[valid-type]
    state: HouseholdState  # type: ignore[valid-type]
    reasons: list[HouseholdReason]
    rating: str | None = strawberry.field(description="The collector's rating (A–D)")
    proposed_limit: Decimal | None = strawberry.field(description="As the decision proposed it")
    limit: Decimal | None = strawberry.field(description="As reviewed: changes only when a change is confirmed")
    version: int = strawberry.field(description="Pass back as expectedVersion")
    explanation: list[LimitFactor] = strawberry.field(description="The limit, factor by factor")
    adjustments: list[LimitAdjustment]
    called_back_at: datetime.datetime | None = strawberry.field(description="When the call-back (电话回访) was made")
    signed_at: datetime.datetime | None = strawberry.field(description="When the household signed (签约)")
    credit_line_id: strawberry.ID | None = strawberry.field(
        description="The credit line signing granted (a CreditLine node, shown to whoever may see it)"
    )

    @classmethod
    def of(cls, view: HouseholdView) -> VillageHousehold:
        s = view.screening
        return cls(
            view=view,
            pk=s.id,
            survey_id=view.survey_id,
            head_name=view.head_name,
            colour=ListColourModel(s.colour),
            state=HouseholdStateModel(s.state),
            reasons=[HouseholdReason(code=r["code"], zh=r["zh"], en=r["en"]) for r in s.reasons],
            rating=s.rating,
            proposed_limit=Decimal(s.proposed_limit) if s.proposed_limit is not None else None,
            limit=Decimal(s.limit) if s.limit is not None else None,
            version=s.version,
            explanation=[LimitFactor(code=f.code, zh=f.zh, en=f.en, amount=f.amount) for f in view.explanation],
            adjustments=[LimitAdjustment.of(a) for a in view.adjustments],
            called_back_at=s.called_back_at,
            signed_at=s.signed_at,
            credit_line_id=strawberry.ID(relay.to_base64("CreditLine", view.line_id)) if view.line_id else None,
        )

    @strawberry.field(description="The head's resident ID number, masked unless you collect for the campaign")
    def head_id_number(self, info: Info) -> str:
        if self.view.sees_personal_data:
            info.context.disclose("HouseholdSurvey", self.view.survey_id, "headIdNumber")
        return self.view.head_id_number

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[VillageHousehold | None]:
        actor = info.context.require_actor()
        found: list[VillageHousehold | None] = []
        for node_id in node_ids:
            try:
                found.append(cls.of(await household_cases.get_household(actor, int(node_id))))
            except DomainError:
                found.append(None)
        return found


@strawberry.type(description="Households on one list in one state")
class ScreeningCount:
    colour: ListColour  # type: ignore[valid-type]
    state: HouseholdState  # type: ignore[valid-type]
    households: int


@strawberry.type(description="The campaign's screening in figures")
class ScreeningSummary:
    surveyed: int
    screened: int
    counts: list[ScreeningCount]


async def households_of(
    info: Info,
    campaign_pk: int,
    colours: list[ListColourModel] | None,
    states: list[HouseholdStateModel] | None,
    first: int | None,
    after: str | None,
) -> Page[HouseholdView]:
    try:
        return await household_cases.list_households(
            info.context.require_actor(), campaign_pk, colours=colours or (), states=states or (), first=first,
            after=after,
        )  # fmt: skip
    except DomainError as error:
        raise query_error(error) from None


async def summary_of(info: Info, campaign_pk: int) -> ScreeningSummary:
    try:
        surveyed, rows = await household_cases.screening_summary(info.context.require_actor(), campaign_pk)
    except DomainError as error:
        raise query_error(error) from None
    return ScreeningSummary(
        surveyed=surveyed,
        screened=sum(r.households for r in rows),
        counts=[ScreeningCount(colour=r.colour, state=r.state, households=r.households) for r in rows],
    )


async def published_list_url(info: Info, campaign_pk: int, pdf: bool) -> str:
    try:
        published = await household_cases.published_list(info.context.require_actor(), campaign_pk)
    except DomainError as error:
        raise query_error(error) from None
    if pdf:
        return "data:application/pdf;base64," + base64.b64encode(posting.to_pdf(published)).decode()
    return f"data:{XLSX};base64," + base64.b64encode(posting.to_xlsx(published)).decode()


ScreenCampaignResult = Annotated[Job | VillageCreditError, strawberry.union("ScreenCampaignResult")]
LimitAdjustmentResult = Annotated[
    LimitAdjustment | VillageCreditError, strawberry.union("HouseholdLimitAdjustmentResult")
]
REASON = max_length(reviews.MAX_REASON_LENGTH)


async def screen_campaign(info: Info, campaign_id: strawberry.ID) -> ScreenCampaignResult:
    actor = info.context.require_actor()
    try:
        job = await screening_cases.screen_campaign(actor, decode_pk(campaign_id, "VillageCampaign", "campaignId"))
    except DomainError as error:
        return VillageCreditError.from_domain(error)  # type: ignore[no-any-return]
    return Job.from_model(job)


async def propose_limit_change(
    info: Info,
    household_id: strawberry.ID,
    new_limit: Decimal,
    reason: Annotated[str, strawberry.argument(directives=REASON)],
    expected_version: int,
) -> LimitAdjustmentResult:
    actor = info.context.require_actor()
    try:
        view = await reviews.propose_limit_change(
            actor, decode_pk(household_id, "VillageHousehold", "householdId"), new_limit, reason, expected_version
        )
    except DomainError as error:
        return VillageCreditError.from_domain(error)  # type: ignore[no-any-return]
    return LimitAdjustment.of(view.adjustment)


async def decide_limit_change(
    info: Info,
    adjustment_id: strawberry.ID,
    confirm: bool,
    note: Annotated[str, strawberry.argument(directives=REASON)] = "",
) -> LimitAdjustmentResult:
    actor = info.context.require_actor()
    try:
        pk = int(adjustment_id) if str(adjustment_id).isdigit() else -1
        view = await reviews.decide_limit_change(actor, pk, confirm, note)
    except DomainError as error:
        return VillageCreditError.from_domain(error)  # type: ignore[no-any-return]
    return LimitAdjustment.of(view.adjustment)


@strawberry.type
class Mutation:
    screen_campaign: ScreenCampaignResult = strawberry.mutation(
        resolver=screen_campaign,
        description="Screen the campaign's surveyed households onto the black, grey or white list with their "
        "pre-approved limits (a collector, while the campaign screens): starts or joins the screening job",
    )
    propose_household_limit_change: LimitAdjustmentResult = strawberry.mutation(
        resolver=propose_limit_change,
        description="The review step's reviewer proposes a household's new limit with a reason (maker)",
    )
    decide_household_limit_change: LimitAdjustmentResult = strawberry.mutation(
        resolver=decide_limit_change,
        description="The next step's person confirms or rejects a limit change, never their own (checker)",
    )
