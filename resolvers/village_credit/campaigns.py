"""Whole-village credit campaigns (整村授信活动): planning one for a village, finding the ones an actor may see,
and moving one a step of its state machine — checked against the transition table, written with the state and
version it was read in (of two people acting at once exactly one wins), its history row and audit row in the
same unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain.access import Actor, Role
from domain.customers.errors import CustomerErrorCode
from domain.errors import DomainError, ErrorCode, forbidden, not_found
from domain.grid.paths import inside
from domain.text import checked_text
from domain.village_credit import campaign_workflow as workflow
from domain.village_credit.campaign_workflow import CampaignAction, CampaignFacts, CampaignState
from domain.village_credit.errors import VillageCreditErrorCode as Code
from models import GridLevel, GridNode, HouseholdScreening, Staff, VillageCampaign, VillageCampaignEvent
from resolvers.platform.pagination import Page, paginate
from resolvers.platform.unit_of_work import unit_of_work
from resolvers.village_credit import policy, reviews

MAX_COLLECTORS = 20
MAX_REASON_LENGTH = 500
ORDERING = (("created_at", True), ("id", True))  # the newest first


@dataclass(frozen=True)
class CampaignView:
    """A campaign as its reader sees it, with what they may do with it now."""

    campaign: VillageCampaign
    facts: CampaignFacts
    village_name: str
    allowed_actions: tuple[CampaignAction, ...]
    sees_personal_data: bool


def now() -> datetime:
    return datetime.now(UTC)


def facts_with_path(campaign: VillageCampaign, village_path: str) -> CampaignFacts:
    return CampaignFacts(
        state=CampaignState(campaign.state),
        village_path=village_path,
        collector_ids=frozenset(campaign.collector_ids or ()),
        reviewer_id=campaign.reviewer_id,  # type: ignore[attr-defined]
        second_reviewer_id=campaign.second_reviewer_id,  # type: ignore[attr-defined]
        approver_id=campaign.approver_id,  # type: ignore[attr-defined]
    )


async def find_campaign(actor: Actor, campaign_id: int, field: str = "id") -> tuple[VillageCampaign, CampaignFacts]:
    """The campaign and its facts, if the actor may see it; NOT_FOUND otherwise (also when absent)."""
    campaign = await VillageCampaign.get_or_none(id=campaign_id).select_related("village")
    if campaign is None:
        raise not_found("整村授信活动", "village credit campaign", field)
    facts = facts_with_path(campaign, campaign.village.path)
    if not policy.may_see(actor, facts):
        raise not_found("整村授信活动", "village credit campaign", field)
    return campaign, facts


async def find_household(
    actor: Actor, household_id: int, field: str = "householdId"
) -> tuple[HouseholdScreening, VillageCampaign, CampaignFacts]:
    """The screened household and its campaign, if the actor may see the campaign; NOT_FOUND for the household
    otherwise, the same answer as for an id that does not exist (so that ids out of reach cannot be told from
    ids never given). Every use case on one household starts here."""
    screening = await HouseholdScreening.get_or_none(id=household_id)
    if screening is None:
        raise not_found("农户", "household", field)
    try:
        campaign, facts = await find_campaign(actor, screening.campaign_id, field)  # type: ignore[attr-defined]
    except DomainError:
        raise not_found("农户", "household", field) from None
    return screening, campaign, facts


def view_of(actor: Actor, campaign: VillageCampaign, facts: CampaignFacts) -> CampaignView:
    return CampaignView(
        campaign=campaign,
        facts=facts,
        village_name=campaign.village.name,
        allowed_actions=workflow.allowed_actions(actor, facts),
        sees_personal_data=policy.sees_personal_data(actor, facts),
    )


async def get_campaign(actor: Actor, campaign_id: int) -> CampaignView:
    campaign, facts = await find_campaign(actor, campaign_id)
    return view_of(actor, campaign, facts)


async def list_campaigns(
    actor: Actor, *, states: Sequence[CampaignState] = (), first: int | None = None, after: str | None = None
) -> Page[CampaignView]:
    """The actor's work list: the campaigns they may see, newest first, filtered by state."""
    query = VillageCampaign.filter(policy.visible(actor)).select_related("village")
    if states:
        query = query.filter(state__in=[s.value for s in states])
    page = await paginate(query, ORDERING, first, after)
    return page.with_items([view_of(actor, c, facts_with_path(c, c.village.path)) for c in page.items])


async def _scope_paths(staff: Staff) -> list[str]:
    return [node.path for node in await staff.scope.all()]


async def _eligible(staff_id: int, role: Role, village_path: str) -> bool:
    staff = await Staff.get_or_none(id=staff_id, is_active=True)
    if staff is None or role.value not in (staff.roles or ()):
        return False
    paths = await _scope_paths(staff)
    return (not paths and role != Role.CUSTOMER_MANAGER) or inside(village_path, paths)


async def create_campaign(
    actor: Actor, village_id: int, name: str, collector_ids: Sequence[int], reviewer_id: int
) -> CampaignView:
    """Plan a campaign for a village (PLANNED): its collectors are customer managers of the village, its first
    reviewer a credit investigator covering it who collects nothing (三岗分离)."""
    village = await GridNode.get_or_none(id=village_id)
    if village is None or not (actor.is_head_office or inside(village.path, actor.scope_paths)):
        raise not_found("村", "village", "villageId")
    if not policy.may_plan(actor, village.path):
        raise forbidden("发起整村授信", "plan a village credit campaign")
    if village.level != GridLevel.VILLAGE:
        raise DomainError(
            CustomerErrorCode.NOT_A_VILLAGE, "整村授信须针对一个村", "a campaign is for one village", "villageId"
        )
    name = checked_text(name, field="name", what_zh="活动名称", what_en="name", max_length=100, required=True)
    collectors = sorted(set(collector_ids))
    if not 1 <= len(collectors) <= MAX_COLLECTORS:
        raise DomainError(
            Code.COLLECTOR_NOT_ELIGIBLE,
            f"须指定1到{MAX_COLLECTORS}名采集客户经理",
            f"name 1 to {MAX_COLLECTORS} collecting customer managers",
            "collectorIds",
        )
    for index, collector_id in enumerate(collector_ids):
        if not await _eligible(collector_id, Role.CUSTOMER_MANAGER, village.path):
            raise DomainError(
                Code.COLLECTOR_NOT_ELIGIBLE,
                "采集人须为负责该村的客户经理",
                "a collector must be a customer manager of the village",
                f"collectorIds[{index}]",
            )
    if reviewer_id in collectors or not await _eligible(reviewer_id, Role.CREDIT_INVESTIGATOR, village.path):
        raise DomainError(
            Code.REVIEWER_NOT_ELIGIBLE,
            "初审人须为覆盖该村的授信经理,且不是采集人",
            "the first reviewer must be a credit investigator covering the village who collects nothing",
            "reviewerId",
        )
    at = now()
    async with unit_of_work() as uow:
        campaign = await VillageCampaign.create(
            village=village,
            name=name,
            collector_ids=collectors,
            reviewer_id=reviewer_id,
            created_by_id=actor.staff_id,
            state=CampaignState.PLANNED,
            created_at=at,
            state_since=at,
        )
        await VillageCampaignEvent.create(
            campaign=campaign,
            action="plan",
            from_state=None,
            to_state=CampaignState.PLANNED.value,
            actor_id=actor.staff_id,
            at=at,
        )
        await uow.audit(
            actor,
            "village_campaign.plan",
            "VillageCampaign",
            campaign.id,
            {"village": village.code, "collectors": collectors, "reviewer": reviewer_id},
        )
    campaign.village = village
    return view_of(actor, campaign, facts_with_path(campaign, village.path))


def stale() -> DomainError:
    return DomainError(
        ErrorCode.STALE_VERSION,
        "该活动刚被他人处理,请刷新后再试",
        "someone has just acted on this campaign; reload it and try again",
        "expectedVersion",
    )


async def move_campaign(
    actor: Actor, campaign_id: int, action: CampaignAction, reason: str = "", expected_version: int | None = None
) -> CampaignView:
    """One step of the campaign's state machine by the person the table names: refused (typed, nothing written)
    out of order or by anyone else; STALE_VERSION when someone moved it first or the app's version is old."""
    campaign, facts = await find_campaign(actor, campaign_id)
    reason = checked_text(reason, field="reason", what_zh="说明", what_en="reason", max_length=MAX_REASON_LENGTH)
    target = workflow.check(action, actor, facts)
    if expected_version is not None and expected_version != campaign.version:
        raise stale()
    at = now()
    values: dict[str, Any] = {"state": target, "version": campaign.version + 1, "state_since": at}
    if action == CampaignAction.COMPLETE_SECOND_REVIEW:
        values["second_reviewer_id"] = actor.staff_id
    elif action == CampaignAction.APPROVE_AND_PUBLISH:
        values["approver_id"] = actor.staff_id
    async with unit_of_work() as uow:
        written = await VillageCampaign.filter(id=campaign.id, version=campaign.version, state=facts.state).update(
            **values
        )
        if written != 1:
            raise stale()
        await reviews.on_campaign_move(actor, campaign.id, facts, action, at)  # screening and limit reviews
        await VillageCampaignEvent.create(
            campaign_id=campaign.id,
            action=action.value,
            from_state=facts.state.value,
            to_state=target.value,
            actor_id=actor.staff_id,
            at=at,
            reason=reason,
        )
        await uow.audit(
            actor,
            f"village_campaign.{action.value}",
            "VillageCampaign",
            campaign.id,
            {"from": facts.state.value, "to": target.value, **({"reason": reason} if reason else {})},
        )
    for name, value in values.items():
        setattr(campaign, name, value)
    return view_of(actor, campaign, facts_with_path(campaign, facts.village_path))


async def history_of(campaign_id: int) -> list[VillageCampaignEvent]:
    return list(await VillageCampaignEvent.filter(campaign_id=campaign_id).order_by("id"))
