"""A campaign's screened households as its readers see them: the list and reasons, the proposed and reviewed
limit with its explanation factor by factor, the limit changes, and counts per list and state — the head's ID
number masked unless the campaign's policy shows it in clear — and the published list (张榜公示), always masked,
as a sheet and a printable page, once the branch has published it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from domain.access import Actor
from domain.customers.masking import mask_id_number
from domain.errors import DomainError
from domain.village_credit import published_list as posting
from domain.village_credit.campaign_workflow import CampaignState
from domain.village_credit.errors import VillageCreditErrorCode as Code
from domain.village_credit.household_workflow import HouseholdState, ListColour
from domain.village_credit.screening import Factor, explain_limit
from models import CreditLine, HouseholdScreening, HouseholdSurvey, LimitAdjustment, VillageDecisionRecord
from resolvers.platform.pagination import Page, paginate
from resolvers.village_credit import campaigns, policy, reviews

ORDERING = (("id", False),)
PUBLISHED_STATES = (CampaignState.PUBLISHED, CampaignState.ACCEPTED, CampaignState.CLOSED)
ON_THE_LIST = (HouseholdState.APPROVED, HouseholdState.CONFIRMED, HouseholdState.DECLINED, HouseholdState.SIGNED)


@dataclass(frozen=True)
class HouseholdView:
    screening: HouseholdScreening
    survey_id: int
    head_name: str
    head_id_number: str  # masked unless sees_personal_data
    sees_personal_data: bool
    explanation: tuple[Factor, ...]
    adjustments: tuple[LimitAdjustment, ...]
    line_id: int | None = None  # the credit line signing granted


async def _views(screenings: Sequence[HouseholdScreening], in_clear: bool) -> list[HouseholdView]:
    """The page's households in three statements, whatever its size."""
    ids = [s.id for s in screenings]
    survey_ids = [s.survey_id for s in screenings]  # type: ignore[attr-defined]
    heads = {
        row["id"]: row
        for row in await HouseholdSurvey.filter(id__in=survey_ids).values("id", "head_name", "head_id_number")
    }
    limits = {  # the limit decision's answer (whichever the campaign's template names) is the one with a limit
        screening_id: outputs
        for screening_id, outputs in await VillageDecisionRecord.filter(screening_id__in=ids).values_list(
            "screening_id", "outputs"
        )
        if isinstance(outputs, dict) and "pre_approved_limit" in outputs
    }
    adjustments = await reviews.adjustments_of(ids)
    granted = [s.application_id for s in screenings if s.application_id]  # type: ignore[attr-defined]
    lines = (
        dict(await CreditLine.filter(application_id__in=granted).values_list("application_id", "id")) if granted else {}
    )
    views = []
    for s in screenings:
        head = heads[s.survey_id]  # type: ignore[attr-defined]
        outputs = limits.get(s.id)
        views.append(
            HouseholdView(
                screening=s,
                survey_id=s.survey_id,  # type: ignore[attr-defined]
                head_name=head["head_name"],
                head_id_number=head["head_id_number"] if in_clear else mask_id_number(head["head_id_number"]),
                sees_personal_data=in_clear,
                explanation=tuple(explain_limit(outputs)) if isinstance(outputs, dict) else (),
                adjustments=tuple(adjustments.get(s.id, ())),
                line_id=lines.get(s.application_id),  # type: ignore[attr-defined]
            )
        )
    return views


async def list_households(
    actor: Actor,
    campaign_id: int,
    *,
    colours: Sequence[ListColour] = (),
    states: Sequence[HouseholdState] = (),
    first: int | None = None,
    after: str | None = None,
) -> Page[HouseholdView]:
    """The campaign's screened households, in the order they were surveyed, filtered by list and state."""
    _campaign, facts = await campaigns.find_campaign(actor, campaign_id, "id")
    query = HouseholdScreening.filter(campaign_id=campaign_id)
    if colours:
        query = query.filter(colour__in=[c.value for c in colours])
    if states:
        query = query.filter(state__in=[s.value for s in states])
    page = await paginate(query, ORDERING, first, after)
    return page.with_items(await _views(page.items, policy.sees_personal_data(actor, facts)))


async def get_household(actor: Actor, household_id: int) -> HouseholdView:
    """One screened household, if the actor may see its campaign; NOT_FOUND otherwise."""
    screening, _campaign, facts = await campaigns.find_household(actor, household_id, "id")
    return (await _views([screening], policy.sees_personal_data(actor, facts)))[0]


@dataclass(frozen=True)
class SummaryRow:
    colour: ListColour
    state: HouseholdState
    households: int


async def screening_summary(actor: Actor, campaign_id: int) -> tuple[int, list[SummaryRow]]:
    """How many households were surveyed, and how many are on each list in each state."""
    await campaigns.find_campaign(actor, campaign_id, "id")
    surveyed = await HouseholdSurvey.filter(campaign_id=campaign_id).count()
    counts = Counter(
        (c, s) for c, s in await HouseholdScreening.filter(campaign_id=campaign_id).values_list("colour", "state")
    )
    rows = [SummaryRow(ListColour(c), HouseholdState(s), n) for (c, s), n in sorted(counts.items())]
    return surveyed, rows


async def published_list(actor: Actor, campaign_id: int) -> posting.PublishedList:
    """The list the branch published for posting in the village: each approved household's head, masked ID
    number and limit. Refused before the branch has published it."""
    campaign, facts = await campaigns.find_campaign(actor, campaign_id, "id")
    if facts.state not in PUBLISHED_STATES:
        raise DomainError(
            Code.NOT_PUBLISHED, "支行审批公示后才有公示名单", "the list exists once the branch has published it", "id"
        )
    screenings = await HouseholdScreening.filter(
        campaign_id=campaign_id, state__in=[s.value for s in ON_THE_LIST]
    ).order_by("survey_id")
    heads = {
        row[0]: (row[1], row[2])
        for row in await HouseholdSurvey.filter(campaign_id=campaign_id).values_list(
            "id", "head_name", "head_id_number"
        )
    }
    rows = [
        posting.Row(
            village=campaign.village.name,
            head_name=heads[s.survey_id][0],  # type: ignore[attr-defined]
            head_id_number=mask_id_number(heads[s.survey_id][1]),  # type: ignore[attr-defined]
            limit=s.limit or 0,  # type: ignore[arg-type]
        )
        for s in screenings
    ]
    return posting.PublishedList(
        title_zh=f"{campaign.village.name}阳光信贷预授信额度公示", campaign_name=campaign.name,
        published_on=campaign.state_since.date(), rows=tuple(rows),
    )  # fmt: skip
