"""The reviews of a campaign's pre-approved limits (初审, 复核, 支行审批), maker-checker: a reviewer proposes a
household's new limit with a reason, the next step's person confirms or rejects it, and the limit changes only
when confirmed.

    FIRST_REVIEW     the named first reviewer proposes         → checked by the second reviewer, in SECOND_REVIEW
    SECOND_REVIEW    the second reviewer (an approver) proposes → checked by the branch president, in BRANCH_APPROVAL

A proposal is made and checked by the person the campaign's step belongs to (the campaign's transition table
names them), never by the same person. One proposal per household waits at a time; a campaign cannot leave a
step while proposals wait for that step's checker, and the branch's publication approves every PROPOSED
household in the same unit of work. Each proposal names the household's version it was made on, so a stale or
twice-sent one is refused; a decision on a proposal already decided is refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from tortoise.expressions import F

from domain.access import Actor
from domain.errors import DomainError, ErrorCode, not_found
from domain.text import checked_text
from domain.village_credit import campaign_workflow, household_workflow
from domain.village_credit.campaign_workflow import CampaignAction, CampaignFacts, CampaignState
from domain.village_credit.errors import VillageCreditErrorCode as Code
from domain.village_credit.household_workflow import HouseholdAction, HouseholdState
from models import HouseholdScreening, LimitAdjustment
from resolvers.platform.unit_of_work import unit_of_work
from resolvers.village_credit import campaigns
from resolvers.village_credit import screening as screening_cases

MAX_REASON_LENGTH = 500
PROPOSED, CONFIRMED, REJECTED = "PROPOSED", "CONFIRMED", "REJECTED"

# the step a proposal is made in → the campaign action whose person makes it there
MAKERS = {
    CampaignState.FIRST_REVIEW: CampaignAction.COMPLETE_FIRST_REVIEW,
    CampaignState.SECOND_REVIEW: CampaignAction.COMPLETE_SECOND_REVIEW,
}
# the step a proposal is made in → the step it is checked in, and the action whose person checks it
CHECKERS = {
    CampaignState.FIRST_REVIEW: (CampaignState.SECOND_REVIEW, CampaignAction.COMPLETE_SECOND_REVIEW),
    CampaignState.SECOND_REVIEW: (CampaignState.BRANCH_APPROVAL, CampaignAction.APPROVE_AND_PUBLISH),
}


@dataclass(frozen=True)
class AdjustmentView:
    adjustment: LimitAdjustment
    household_version: int


def _relabel(error: DomainError, field: str) -> DomainError:
    return DomainError(error.code, error.message_zh, error.message_en, field)


def _the_steps_person(actor: Actor, facts: CampaignFacts, action: CampaignAction, field: str) -> None:
    try:
        campaign_workflow.check(action, actor, facts)
    except DomainError as error:
        raise _relabel(error, field) from None


def stale() -> DomainError:
    return DomainError(
        ErrorCode.STALE_VERSION,
        "该户刚被他人处理,请刷新后再试",
        "someone has just acted on this household; reload it and try again",
        "expectedVersion",
    )


async def propose_limit_change(
    actor: Actor, household_id: int, new_limit: Decimal, reason: str, expected_version: int
) -> AdjustmentView:
    """The step's reviewer proposes a white household's new limit, with a reason (audited): within the
    product's range, in whole yuan, one waiting proposal per household."""
    screening, _campaign, facts = await campaigns.find_household(actor, household_id)
    maker = MAKERS.get(facts.state)
    if maker is None:
        raise DomainError(
            Code.WRONG_STATE,
            "只有初审和复核阶段可以调整额度",
            "limits are adjusted only at the first or second review",
            "householdId",
        )
    _the_steps_person(actor, facts, maker, "householdId")
    if screening.state != HouseholdState.PROPOSED or screening.limit is None:
        raise DomainError(
            Code.NOT_A_WHITE_HOUSEHOLD,
            "只有白名单拟授信农户可以调整额度",
            "only a white-listed household with a proposed limit can have it adjusted",
            "householdId",
        )
    reason = checked_text(
        reason, field="reason", what_zh="调整原因", what_en="reason", max_length=MAX_REASON_LENGTH, required=True
    )
    bounds = screening_cases.bounds()
    if not (new_limit.is_finite() and new_limit == new_limit.to_integral_value()) or not (
        bounds.minimum <= new_limit <= bounds.maximum
    ):
        raise DomainError(
            Code.LIMIT_OUT_OF_RANGE,
            f"额度须为{bounds.minimum:,}至{bounds.maximum:,}元之间的整数元",
            f"the limit must be whole yuan from ¥{bounds.minimum:,} to ¥{bounds.maximum:,}",
            "newLimit",
        )
    if expected_version != screening.version:
        raise stale()
    if await LimitAdjustment.filter(screening_id=screening.id, status=PROPOSED).exists():
        raise DomainError(
            Code.ADJUSTMENT_PENDING,
            "该户已有待确认的额度调整",
            "this household already has a limit change waiting to be checked",
            "householdId",
        )
    at = datetime.now(UTC)
    async with unit_of_work() as uow:
        written = await HouseholdScreening.filter(
            id=screening.id, version=screening.version, state=HouseholdState.PROPOSED
        ).update(version=screening.version + 1, updated_at=at)
        if written != 1:
            raise stale()
        adjustment = await LimitAdjustment.create(
            screening_id=screening.id,
            campaign_id=screening.campaign_id,  # type: ignore[attr-defined]
            stage=facts.state.value,
            from_limit=screening.limit,
            to_limit=new_limit,
            reason=reason,
            status=PROPOSED,
            made_by_id=actor.staff_id,
            made_at=at,
        )
        await uow.audit(
            actor,
            "village_limit.propose",
            "HouseholdScreening",
            screening.id,
            {"from": str(screening.limit), "to": str(new_limit), "reason": reason, "stage": facts.state.value},
        )
    return AdjustmentView(adjustment, screening.version + 1)


async def decide_limit_change(actor: Actor, adjustment_id: int, confirm: bool, note: str = "") -> AdjustmentView:
    """The checking step's person confirms (the household's limit becomes the proposed one) or rejects a
    proposal, never their own. A proposal already decided is refused."""
    adjustment = await LimitAdjustment.get_or_none(id=adjustment_id)
    if adjustment is None:
        raise not_found("额度调整", "limit change", "adjustmentId")
    _campaign, facts = await campaigns.find_campaign(actor, adjustment.campaign_id, "adjustmentId")  # type: ignore[attr-defined]
    note = checked_text(note, field="note", what_zh="意见", what_en="note", max_length=MAX_REASON_LENGTH)
    if adjustment.status != PROPOSED:
        raise DomainError(
            Code.ADJUSTMENT_DECIDED, "该额度调整已处理", "this limit change has already been decided", "adjustmentId"
        )
    if adjustment.made_by_id == actor.staff_id:  # type: ignore[attr-defined]
        raise DomainError(
            Code.OWN_ADJUSTMENT,
            "审查分离:不能确认自己提出的额度调整",
            "maker-checker: nobody checks their own limit change",
            "adjustmentId",
        )
    checking_state, checker = CHECKERS[CampaignState(adjustment.stage)]
    if facts.state != checking_state:
        raise DomainError(
            Code.WRONG_STATE,
            "该额度调整须在下一审查环节确认",
            "this limit change is checked at the next review step",
            "adjustmentId",
        )
    _the_steps_person(actor, facts, checker, "adjustmentId")
    at = datetime.now(UTC)
    status = CONFIRMED if confirm else REJECTED
    async with unit_of_work() as uow:
        decided = await LimitAdjustment.filter(id=adjustment.id, status=PROPOSED).update(
            status=status, checked_by_id=actor.staff_id, checked_at=at, check_note=note
        )
        if decided != 1:
            raise DomainError(
                Code.ADJUSTMENT_DECIDED,
                "该额度调整已处理",
                "this limit change has already been decided",
                "adjustmentId",
            )
        screening = await HouseholdScreening.get(id=adjustment.screening_id)  # type: ignore[attr-defined]
        values: dict[str, object] = {"version": screening.version + 1, "updated_at": at}
        if confirm:
            values["limit"] = adjustment.to_limit
        written = await HouseholdScreening.filter(
            id=screening.id, version=screening.version, state=HouseholdState.PROPOSED
        ).update(**values)
        if written != 1:
            raise stale()
        await uow.audit(
            actor,
            f"village_limit.{'confirm' if confirm else 'reject'}",
            "HouseholdScreening",
            screening.id,
            {"adjustment": adjustment.id, "to": str(adjustment.to_limit), **({"note": note} if note else {})},
        )
    adjustment.status, adjustment.checked_by_id, adjustment.checked_at = status, actor.staff_id, at
    adjustment.check_note = note
    return AdjustmentView(adjustment, screening.version + 1)


async def on_campaign_move(
    actor: Actor, campaign_id: int, facts: CampaignFacts, action: CampaignAction, at: datetime
) -> None:
    """Inside the campaign step's unit of work: refuse a step the households are not ready for, and approve the
    white list with the branch's publication."""
    if action == CampaignAction.SUBMIT_FOR_REVIEW and await screening_cases.unscreened_count(campaign_id):
        raise DomainError(
            Code.NOT_SCREENED,
            "尚有农户未筛查,请先完成筛查",
            "some surveyed households are not screened yet; screen the campaign first",
            "action",
        )
    waiting_stage = {
        CampaignAction.COMPLETE_SECOND_REVIEW: CampaignState.FIRST_REVIEW,
        CampaignAction.APPROVE_AND_PUBLISH: CampaignState.SECOND_REVIEW,
    }.get(action)
    if waiting_stage is not None:
        waiting = await LimitAdjustment.filter(
            campaign_id=campaign_id, stage=waiting_stage.value, status=PROPOSED
        ).count()
        if waiting:
            raise DomainError(
                Code.ADJUSTMENTS_WAITING,
                f"尚有{waiting}项额度调整待确认",
                f"{waiting} limit change{'s' if waiting > 1 else ''} still wait to be checked",
                "action",
            )
    if action == CampaignAction.APPROVE_AND_PUBLISH:
        household_workflow.check(
            HouseholdAction.APPROVE,
            actor,
            household_workflow.HouseholdFacts(HouseholdState.PROPOSED, facts.state, facts.collector_ids),
            "action",
        )
        await HouseholdScreening.filter(campaign_id=campaign_id, state=HouseholdState.PROPOSED).update(
            state=HouseholdState.APPROVED, version=F("version") + 1, updated_at=at
        )


async def adjustments_of(household_ids: list[int]) -> dict[int, list[LimitAdjustment]]:
    found: dict[int, list[LimitAdjustment]] = {}
    for row in await LimitAdjustment.filter(screening_id__in=household_ids).order_by("id"):
        found.setdefault(row.screening_id, []).append(row)  # type: ignore[attr-defined]
    return found
