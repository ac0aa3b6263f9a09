"""One surveyed household's way through whole-village credit (整村授信 / 阳光信贷), on one screen: screened onto
the black, grey or white list, its pre-approved limit (预授信额度) reviewed, approved when the branch publishes
the list, confirmed by a phone call-back (电话回访), and signed — a household that signs gets a credit line in the
credit factory, ready for drawdown.

    (survey) ─ screen ─▶ PROPOSED        (a collector, while the campaign screens; white list: a limit)
    (survey) ─ screen ─▶ EXCLUDED        (black or grey list: no limit, the reasons kept)
    PROPOSED / EXCLUDED ─ screen ─▶ PROPOSED / EXCLUDED          (screened again while the campaign screens)
    PROPOSED ─ approve ─▶ APPROVED       (the branch president publishes the campaign's list)
    APPROVED ─ confirm_call_back ─▶ CONFIRMED                     (a collector of the campaign, 电话回访)
    APPROVED ─ decline ─▶ DECLINED       (the household does not want the line, or cannot be reached)
    CONFIRMED ─ sign ─▶ SIGNED           (a collector of the campaign: the line is granted)

Limits change only while the household is PROPOSED, in the campaign's review steps (maker-checker, see
resolvers/village_credit/reviews.py). Separation of duties: the signer is not the campaign's approver.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from domain.access import Actor, Role
from domain.errors import DomainError
from domain.village_credit.campaign_workflow import CampaignState
from domain.village_credit.errors import VillageCreditErrorCode as Code
from domain.workflow import Guard as BaseGuard
from domain.workflow import all_hold, check_guards


class HouseholdState(StrEnum):
    PROPOSED = "PROPOSED"  # 白名单,拟授信
    EXCLUDED = "EXCLUDED"  # 黑名单或灰名单,不授信
    APPROVED = "APPROVED"  # 已审批公示
    CONFIRMED = "CONFIRMED"  # 已电话回访确认
    DECLINED = "DECLINED"  # 农户放弃或无法联系
    SIGNED = "SIGNED"  # 已签约,额度生效


class ListColour(StrEnum):
    BLACK = "BLACK"  # 黑名单:不予授信
    GREY = "GREY"  # 灰名单:暂缓授信,待核实
    WHITE = "WHITE"  # 白名单:预授信


STATE_NAMES_ZH: Mapping[HouseholdState, str] = {
    HouseholdState.PROPOSED: "拟授信",
    HouseholdState.EXCLUDED: "不授信",
    HouseholdState.APPROVED: "已审批",
    HouseholdState.CONFIRMED: "已回访确认",
    HouseholdState.DECLINED: "已放弃",
    HouseholdState.SIGNED: "已签约",
}


class HouseholdAction(StrEnum):
    SCREEN = "screen"
    APPROVE = "approve"
    CONFIRM_CALL_BACK = "confirm_call_back"
    DECLINE = "decline"
    SIGN = "sign"


ACTION_NAMES: Mapping[HouseholdAction, tuple[str, str]] = {
    HouseholdAction.SCREEN: ("筛查", "screen"),
    HouseholdAction.APPROVE: ("审批", "approve"),
    HouseholdAction.CONFIRM_CALL_BACK: ("回访确认", "confirm by call-back"),
    HouseholdAction.DECLINE: ("登记放弃", "record as declined"),
    HouseholdAction.SIGN: ("签约", "sign"),
}


@dataclass(frozen=True)
class HouseholdFacts:
    """What the guards read: the household's state and its campaign's."""

    state: HouseholdState | None  # None: surveyed, not yet screened
    campaign_state: CampaignState
    collector_ids: frozenset[int]
    approver_id: int | None = None


Guard = BaseGuard[HouseholdFacts]

CAMPAIGN_SCREENING = Guard(
    "campaign_screening",
    lambda _a, f: f.campaign_state == CampaignState.SCREENING,
    Code.WRONG_STATE,
    "只有在筛查阶段才能筛查",
    "households are screened only while the campaign screens",
)
CAMPAIGN_PUBLISHING = Guard(
    "campaign_at_branch_approval",
    lambda _a, f: f.campaign_state == CampaignState.BRANCH_APPROVAL,
    Code.WRONG_STATE,
    "只有支行审批时才能审批农户额度",
    "household limits are approved only at the branch approval",
)
CAMPAIGN_PUBLISHED = Guard(
    "campaign_published",
    lambda _a, f: f.campaign_state in (CampaignState.PUBLISHED, CampaignState.ACCEPTED),
    Code.WRONG_STATE,
    "额度公示后才能回访和签约",
    "call-backs and signing come after the list is published",
)
A_COLLECTOR = Guard(
    "a_collector",
    lambda a, f: a.has(Role.CUSTOMER_MANAGER) and a.staff_id in f.collector_ids,
    Code.WRONG_ROLE,
    "只有该活动的采集客户经理可以办理",
    "only a collecting customer manager of the campaign may do this",
)
NOT_THE_APPROVER = Guard(
    "not_the_approver",
    lambda a, f: a.staff_id != f.approver_id,
    Code.SEPARATION_OF_DUTIES,
    "三岗分离:审批人不能为农户签约",
    "separation of duties: the approver may not sign for a household",
)
A_SYSTEM_STEP = Guard(
    "the_branch_publishes",
    lambda a, _f: a.has(Role.BRANCH_PRESIDENT, Role.HEAD_OFFICE),
    Code.WRONG_ROLE,
    "农户额度随支行审批公示一并审批",
    "household limits are approved with the branch's publication",
)


@dataclass(frozen=True)
class Transition:
    action: HouseholdAction
    sources: tuple[HouseholdState | None, ...]
    guards: tuple[Guard, ...]
    target: HouseholdState | None = None  # None: SCREEN, whose target the decision gives


H, A = HouseholdState, HouseholdAction
TRANSITIONS: Mapping[HouseholdAction, Transition] = {
    t.action: t
    for t in (
        Transition(A.SCREEN, (None, H.PROPOSED, H.EXCLUDED), (CAMPAIGN_SCREENING, A_COLLECTOR)),
        Transition(A.APPROVE, (H.PROPOSED,), (CAMPAIGN_PUBLISHING, A_SYSTEM_STEP), H.APPROVED),
        Transition(A.CONFIRM_CALL_BACK, (H.APPROVED,), (CAMPAIGN_PUBLISHED, A_COLLECTOR), H.CONFIRMED),
        Transition(A.DECLINE, (H.APPROVED, H.CONFIRMED), (CAMPAIGN_PUBLISHED, A_COLLECTOR), H.DECLINED),
        Transition(A.SIGN, (H.CONFIRMED,), (CAMPAIGN_PUBLISHED, A_COLLECTOR, NOT_THE_APPROVER), H.SIGNED),
    )
}  # fmt: skip


def check(action: HouseholdAction, actor: Actor, facts: HouseholdFacts, field: str = "householdId") -> None:
    """Raises a typed refusal when the household is not in a state the step starts from, its campaign is not at
    the step, or the actor may not take it. Nothing is written by this function."""
    transition = TRANSITIONS[action]
    zh, en = ACTION_NAMES[action]
    if facts.state not in transition.sources:
        where_zh = STATE_NAMES_ZH[facts.state] if facts.state else "未筛查"
        where_en = facts.state.value.lower() if facts.state else "not screened"
        raise DomainError(
            Code.WRONG_STATE, f"该户当前为{where_zh},不能{zh}", f"the household is {where_en}; it cannot {en}", field
        )
    check_guards(transition.guards, actor, facts, field)


def allowed_actions(actor: Actor, facts: HouseholdFacts) -> tuple[HouseholdAction, ...]:
    return tuple(
        t.action for t in TRANSITIONS.values() if facts.state in t.sources and all_hold(t.guards, actor, facts)
    )
