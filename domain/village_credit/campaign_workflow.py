"""The whole-village credit campaign's state machine (整村授信 / 阳光信贷), on one screen: a campaign per village
goes through every step in order, each step by its own person, none skipped.

    PLANNED ─ start_collecting ─▶ COLLECTING ─ finish_collecting ─▶ SCREENING      (a collector: 客户经理入户采集)
    SCREENING ─ submit_for_review ─▶ FIRST_REVIEW                                     (a collector: 筛查后提交初审)
    FIRST_REVIEW ─ complete_first_review ─▶ SECOND_REVIEW     (初审: the named reviewer, a 授信经理, no collector)
    SECOND_REVIEW ─ complete_second_review ─▶ BRANCH_APPROVAL (复核: an approver of the village, not the reviewer)
    BRANCH_APPROVAL ─ approve_and_publish ─▶ PUBLISHED        (支行审批: the branch president of the village's
                                                               township, who has the limits posted 张榜公示)
    PUBLISHED ─ accept ─▶ ACCEPTED ─ close ─▶ CLOSED          (head office: 总行验收, then closes the campaign)

Separation of duties (三岗分离): the collectors, the first reviewer, the second reviewer, the approving president
and the accepting head office are different people, whatever mix of roles one person holds.
The use cases (resolvers/village_credit/) call `check` before they write and write with the version they read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from domain.access import Actor, Role
from domain.errors import DomainError
from domain.grid.paths import inside
from domain.village_credit.errors import VillageCreditErrorCode as Code
from domain.workflow import Guard as BaseGuard
from domain.workflow import all_hold, check_guards


class CampaignState(StrEnum):
    PLANNED = "PLANNED"  # 计划
    COLLECTING = "COLLECTING"  # 入户采集
    SCREENING = "SCREENING"  # 筛查(黑灰白名单)
    FIRST_REVIEW = "FIRST_REVIEW"  # 初审
    SECOND_REVIEW = "SECOND_REVIEW"  # 复核
    BRANCH_APPROVAL = "BRANCH_APPROVAL"  # 支行审批
    PUBLISHED = "PUBLISHED"  # 已公示
    ACCEPTED = "ACCEPTED"  # 已验收
    CLOSED = "CLOSED"  # 已结束


STATE_NAMES_ZH: Mapping[CampaignState, str] = {
    CampaignState.PLANNED: "计划",
    CampaignState.COLLECTING: "入户采集",
    CampaignState.SCREENING: "筛查",
    CampaignState.FIRST_REVIEW: "初审",
    CampaignState.SECOND_REVIEW: "复核",
    CampaignState.BRANCH_APPROVAL: "支行审批",
    CampaignState.PUBLISHED: "已公示",
    CampaignState.ACCEPTED: "已验收",
    CampaignState.CLOSED: "已结束",
}


class CampaignAction(StrEnum):
    START_COLLECTING = "start_collecting"
    FINISH_COLLECTING = "finish_collecting"
    SUBMIT_FOR_REVIEW = "submit_for_review"
    COMPLETE_FIRST_REVIEW = "complete_first_review"
    COMPLETE_SECOND_REVIEW = "complete_second_review"
    APPROVE_AND_PUBLISH = "approve_and_publish"
    ACCEPT = "accept"
    CLOSE = "close"


ACTION_NAMES: Mapping[CampaignAction, tuple[str, str]] = {
    CampaignAction.START_COLLECTING: ("开始入户采集", "start collecting"),
    CampaignAction.FINISH_COLLECTING: ("结束采集,转入筛查", "finish collecting"),
    CampaignAction.SUBMIT_FOR_REVIEW: ("提交初审", "submit for the first review"),
    CampaignAction.COMPLETE_FIRST_REVIEW: ("初审通过", "pass the first review"),
    CampaignAction.COMPLETE_SECOND_REVIEW: ("复核通过", "pass the second review"),
    CampaignAction.APPROVE_AND_PUBLISH: ("支行审批通过并公示", "approve and publish"),
    CampaignAction.ACCEPT: ("总行验收", "accept"),
    CampaignAction.CLOSE: ("结束活动", "close"),
}


@dataclass(frozen=True)
class CampaignFacts:
    """What the guards read off one campaign: where, and who has done what on it."""

    state: CampaignState
    village_path: str
    collector_ids: frozenset[int]
    reviewer_id: int
    second_reviewer_id: int | None = None
    approver_id: int | None = None


Guard = BaseGuard[CampaignFacts]


def _in_village(actor: Actor, facts: CampaignFacts) -> bool:
    return inside(facts.village_path, actor.scope_paths)


A_COLLECTOR = Guard(
    "a_collector",
    lambda a, f: a.has(Role.CUSTOMER_MANAGER) and a.staff_id in f.collector_ids,
    Code.WRONG_ROLE,
    "只有该活动的采集客户经理可以执行",
    "only a collecting customer manager of the campaign may do this",
)
THE_REVIEWER = Guard(
    "the_first_reviewer",
    lambda a, f: a.has(Role.CREDIT_INVESTIGATOR) and a.staff_id == f.reviewer_id,
    Code.WRONG_ROLE,
    "只有该活动指定的初审授信经理可以初审",
    "only the campaign's named first reviewer may do this",
)
AN_APPROVER_OF_THE_VILLAGE = Guard(
    "an_approver_of_the_village",
    lambda a, f: a.has(Role.APPROVER) and (not a.scope_paths or _in_village(a, f)),
    Code.WRONG_ROLE,
    "只有该村所属范围的审批人可以复核",
    "only an approver covering the village may do the second review",
)
PRESIDENT_OF_THE_TOWNSHIP = Guard(
    "branch_president_of_the_township",
    lambda a, f: a.has(Role.BRANCH_PRESIDENT) and _in_village(a, f),
    Code.WRONG_ROLE,
    "只有该村所属支行的行长可以审批",
    "only the branch president of the village's township may do this",
)
HEAD_OFFICE = Guard(
    "head_office",
    lambda a, _f: a.has(Role.HEAD_OFFICE),
    Code.WRONG_ROLE,
    "只有总行可以验收和结束活动",
    "only head office may accept or close the campaign",
)
NOT_A_COLLECTOR = Guard(
    "not_a_collector",
    lambda a, f: a.staff_id not in f.collector_ids,
    Code.SEPARATION_OF_DUTIES,
    "三岗分离:采集人不能审查自己采集的活动",
    "separation of duties: a collector may not review it",
)
NOT_THE_REVIEWER = Guard(
    "not_the_first_reviewer",
    lambda a, f: a.staff_id != f.reviewer_id,
    Code.SEPARATION_OF_DUTIES,
    "三岗分离:初审人不能复核或审批",
    "separation of duties: the first reviewer may not do this",
)
NOT_THE_SECOND_REVIEWER = Guard(
    "not_the_second_reviewer",
    lambda a, f: a.staff_id != f.second_reviewer_id,
    Code.SEPARATION_OF_DUTIES,
    "三岗分离:复核人不能审批或验收",
    "separation of duties: the second reviewer may not do this",
)
NOT_THE_APPROVER = Guard(
    "not_the_approver",
    lambda a, f: a.staff_id != f.approver_id,
    Code.SEPARATION_OF_DUTIES,
    "三岗分离:审批人不能验收自己审批的活动",
    "separation of duties: the approver may not accept it",
)


@dataclass(frozen=True)
class Transition:
    action: CampaignAction
    source: CampaignState
    target: CampaignState
    guards: tuple[Guard, ...]


S, A = CampaignState, CampaignAction
TRANSITIONS: Mapping[CampaignAction, Transition] = {
    t.action: t
    for t in (
        Transition(A.START_COLLECTING, S.PLANNED, S.COLLECTING, (A_COLLECTOR,)),
        Transition(A.FINISH_COLLECTING, S.COLLECTING, S.SCREENING, (A_COLLECTOR,)),
        Transition(A.SUBMIT_FOR_REVIEW, S.SCREENING, S.FIRST_REVIEW, (A_COLLECTOR,)),
        Transition(A.COMPLETE_FIRST_REVIEW, S.FIRST_REVIEW, S.SECOND_REVIEW, (THE_REVIEWER, NOT_A_COLLECTOR)),
        Transition(A.COMPLETE_SECOND_REVIEW, S.SECOND_REVIEW, S.BRANCH_APPROVAL,
                   (AN_APPROVER_OF_THE_VILLAGE, NOT_A_COLLECTOR, NOT_THE_REVIEWER)),
        Transition(A.APPROVE_AND_PUBLISH, S.BRANCH_APPROVAL, S.PUBLISHED,
                   (PRESIDENT_OF_THE_TOWNSHIP, NOT_A_COLLECTOR, NOT_THE_REVIEWER, NOT_THE_SECOND_REVIEWER)),
        Transition(A.ACCEPT, S.PUBLISHED, S.ACCEPTED,
                   (HEAD_OFFICE, NOT_A_COLLECTOR, NOT_THE_REVIEWER, NOT_THE_SECOND_REVIEWER, NOT_THE_APPROVER)),
        Transition(A.CLOSE, S.ACCEPTED, S.CLOSED, (HEAD_OFFICE,)),
    )
}  # fmt: skip


def check(action: CampaignAction, actor: Actor, facts: CampaignFacts) -> CampaignState:
    """The state `action` leads to, or a typed refusal when the campaign is not in the state the step starts
    from or the actor may not take it. Nothing is written by this function."""
    transition = TRANSITIONS[action]
    zh, en = ACTION_NAMES[action]
    if facts.state != transition.source:
        raise DomainError(
            Code.WRONG_STATE,
            f"活动当前为{STATE_NAMES_ZH[facts.state]}阶段,不能{zh}",
            f"the campaign is at {facts.state.value.lower().replace('_', ' ')}; it cannot {en}",
            "action",
        )
    check_guards(transition.guards, actor, facts, "action")
    return transition.target


def allowed_actions(actor: Actor, facts: CampaignFacts) -> tuple[CampaignAction, ...]:
    """What this person may do with the campaign now (the buttons an app shows)."""
    return tuple(t.action for t in TRANSITIONS.values() if t.source == facts.state and all_hold(t.guards, actor, facts))
