"""The credit application's state machine (授信申请流程), on one screen: its states, the actions that move it,
and for each action the states it may start from, the states it may lead to and the named guards that must all
hold — who acts, in which state, under which separation-of-duties rule (三岗分离: the marketer, the
investigator and the approvers are different people on one application).

    intake ─ admit ─▶ AWAITING_ASSIGNMENT ─ assign ─▶ INVESTIGATING ─ submit_investigation ─▶ AWAITING_APPROVAL
    intake ─ admit ─▶ AWAITING_APPROVAL (a product without investigation: a pledge loan, a whole-village line)
    intake ─ refuse_admission ─▶ ADMISSION_REFUSED          (reassign: to INVESTIGATING, by the branch president)
    AWAITING_APPROVAL ─ approve ─▶ AWAITING_APPROVAL (the next tier) or APPROVED (the last tier: the line is granted)
    AWAITING_APPROVAL ─ reject ─▶ REJECTED;  ─ return_for_investigation ─▶ INVESTIGATING
    an open application before approval ─ withdraw (the marketer) ─▶ WITHDRAWN

The use cases (resolvers/credit/) call `check` with the facts of the application and the actor before they write,
and write the change with the state and version they read, so that two people acting at once cannot both win.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from domain.access import Actor, Role
from domain.credit.errors import CreditErrorCode
from domain.errors import DomainError
from domain.grid.paths import inside
from domain.workflow import Guard as BaseGuard
from domain.workflow import all_hold, check_guards


class ApplicationState(StrEnum):
    ADMISSION_REFUSED = "ADMISSION_REFUSED"  # 准入未通过 (terminal)
    AWAITING_ASSIGNMENT = "AWAITING_ASSIGNMENT"  # 待分配授信经理
    INVESTIGATING = "INVESTIGATING"  # 授信调查中
    AWAITING_APPROVAL = "AWAITING_APPROVAL"  # 待审批 (at `approval_tier`)
    APPROVED = "APPROVED"  # 已批准,授信额度生效 (terminal for this process; drawdowns follow on the line)
    REJECTED = "REJECTED"  # 审批否决 (terminal)
    WITHDRAWN = "WITHDRAWN"  # 客户撤回 (terminal)


STATE_NAMES_ZH: Mapping[ApplicationState, str] = {
    ApplicationState.ADMISSION_REFUSED: "准入未通过",
    ApplicationState.AWAITING_ASSIGNMENT: "待分配",
    ApplicationState.INVESTIGATING: "调查中",
    ApplicationState.AWAITING_APPROVAL: "待审批",
    ApplicationState.APPROVED: "已批准",
    ApplicationState.REJECTED: "已否决",
    ApplicationState.WITHDRAWN: "已撤回",
}

TERMINAL = frozenset(
    {
        ApplicationState.ADMISSION_REFUSED,
        ApplicationState.APPROVED,
        ApplicationState.REJECTED,
        ApplicationState.WITHDRAWN,
    }
)
OPEN = frozenset(ApplicationState) - TERMINAL


class Action(StrEnum):
    ADMIT = "admit"
    REFUSE_ADMISSION = "refuse_admission"
    ASSIGN = "assign"
    REASSIGN = "reassign"
    SUBMIT_INVESTIGATION = "submit_investigation"
    APPROVE = "approve"
    REJECT = "reject"
    RETURN_FOR_INVESTIGATION = "return_for_investigation"
    WITHDRAW = "withdraw"
    GRANT_BY_CAMPAIGN = "grant_by_campaign"


ACTION_NAMES: Mapping[Action, tuple[str, str]] = {
    Action.ADMIT: ("准入通过", "admit"),
    Action.REFUSE_ADMISSION: ("准入拒绝", "refuse at admission"),
    Action.ASSIGN: ("分配授信经理", "assign an investigator"),
    Action.REASSIGN: ("改派授信经理", "reassign the investigator"),
    Action.SUBMIT_INVESTIGATION: ("提交调查报告", "submit the investigation"),
    Action.APPROVE: ("审批同意", "approve"),
    Action.REJECT: ("审批否决", "reject"),
    Action.RETURN_FOR_INVESTIGATION: ("退回补充调查", "return for more investigation"),
    Action.WITHDRAW: ("撤回申请", "withdraw"),
    Action.GRANT_BY_CAMPAIGN: ("整村授信签约生效", "granted by a whole-village campaign"),
}


@dataclass(frozen=True)
class ApplicationFacts:
    """What the guards read off one application."""

    state: ApplicationState
    marketer_id: int
    investigator_id: int | None
    village_path: str | None
    tier_authority: Role | None  # the authority of the tier it waits at (AWAITING_APPROVAL)
    approver_ids: frozenset[int] = field(default_factory=frozenset)  # who approved its earlier tiers
    reviewer_ids: frozenset[int] = field(default_factory=frozenset)  # who decided on it (approve/reject/return)


Guard = BaseGuard[ApplicationFacts]


def _in_scope(actor: Actor, facts: ApplicationFacts) -> bool:
    return facts.village_path is not None and inside(facts.village_path, actor.scope_paths)


SYSTEM = Guard(
    "system",
    lambda actor, _f: actor is None,
    CreditErrorCode.WRONG_ROLE,
    "此步骤由系统执行",
    "the system performs this step",
)
MARKETER = Guard(
    "the_marketer",
    lambda actor, f: actor is not None and actor.staff_id == f.marketer_id and actor.has(Role.CUSTOMER_MANAGER),
    CreditErrorCode.WRONG_ROLE,
    "只有受理该申请的客户经理可以执行",
    "only the customer manager who took the application may do this",
)
BRANCH_PRESIDENT_OF_APPLICATION = Guard(
    "branch_president_of_its_grid",
    lambda actor, f: actor is not None and actor.has(Role.BRANCH_PRESIDENT) and _in_scope(actor, f),
    CreditErrorCode.WRONG_ROLE,
    "只有该申请所在支行的行长可以改派",
    "only the branch president of the application's branch may reassign it",
)
ASSIGNED_INVESTIGATOR = Guard(
    "the_assigned_investigator",
    lambda actor, f: actor is not None and actor.has(Role.CREDIT_INVESTIGATOR) and actor.staff_id == f.investigator_id,
    CreditErrorCode.WRONG_ROLE,
    "只有分配到该申请的授信经理可以执行",
    "only the credit investigator assigned to the application may do this",
)
HOLDS_TIER_AUTHORITY = Guard(
    "holds_the_tier_authority",
    lambda actor, f: (
        actor is not None
        and f.tier_authority is not None
        and actor.has(f.tier_authority)
        and (f.tier_authority != Role.BRANCH_PRESIDENT or _in_scope(actor, f))
    ),
    CreditErrorCode.WRONG_ROLE,
    "当前审批层级不属于您的审批权限",
    "the application's current approval tier is not within your authority",
)
NOT_THE_MARKETER = Guard(
    "not_the_marketer",
    lambda actor, f: actor is not None and actor.staff_id != f.marketer_id,
    CreditErrorCode.SEPARATION_OF_DUTIES,
    "三岗分离:受理该申请的客户经理不能调查或审批它",
    "separation of duties: the customer manager who took the application may not investigate or approve it",
)
NOT_THE_INVESTIGATOR = Guard(
    "not_the_investigator",
    lambda actor, f: actor is not None and actor.staff_id != f.investigator_id,
    CreditErrorCode.SEPARATION_OF_DUTIES,
    "三岗分离:调查该申请的授信经理不能审批它",
    "separation of duties: the investigator of the application may not approve it",
)
NOT_AN_EARLIER_APPROVER = Guard(
    "not_an_earlier_approver",
    lambda actor, f: actor is not None and actor.staff_id not in f.approver_ids,
    CreditErrorCode.SEPARATION_OF_DUTIES,
    "同一申请的每一审批层级须由不同的人审批",
    "each approval tier of an application is decided by a different person",
)


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[ApplicationState]
    targets: frozenset[ApplicationState]
    guards: tuple[Guard, ...]


def _t(action: Action, sources: set[ApplicationState], targets: set[ApplicationState], *guards: Guard) -> Transition:
    return Transition(action, frozenset(sources), frozenset(targets), guards)


S = ApplicationState
APPROVING = (HOLDS_TIER_AUTHORITY, NOT_THE_MARKETER, NOT_THE_INVESTIGATOR, NOT_AN_EARLIER_APPROVER)

TRANSITIONS: Mapping[Action, Transition] = {
    t.action: t
    for t in (
        _t(Action.ADMIT, set(), {S.AWAITING_ASSIGNMENT, S.AWAITING_APPROVAL}, SYSTEM),
        _t(Action.REFUSE_ADMISSION, set(), {S.ADMISSION_REFUSED}, SYSTEM),
        _t(Action.ASSIGN, {S.AWAITING_ASSIGNMENT}, {S.INVESTIGATING}, SYSTEM),
        _t(Action.REASSIGN, {S.AWAITING_ASSIGNMENT, S.INVESTIGATING}, {S.INVESTIGATING},
           BRANCH_PRESIDENT_OF_APPLICATION),
        _t(Action.SUBMIT_INVESTIGATION, {S.INVESTIGATING}, {S.AWAITING_APPROVAL}, ASSIGNED_INVESTIGATOR,
           NOT_THE_MARKETER),
        _t(Action.APPROVE, {S.AWAITING_APPROVAL}, {S.AWAITING_APPROVAL, S.APPROVED}, *APPROVING),
        _t(Action.REJECT, {S.AWAITING_APPROVAL}, {S.REJECTED}, *APPROVING),
        _t(Action.RETURN_FOR_INVESTIGATION, {S.AWAITING_APPROVAL}, {S.INVESTIGATING}, *APPROVING),
        _t(Action.WITHDRAW, {S.AWAITING_ASSIGNMENT, S.INVESTIGATING, S.AWAITING_APPROVAL}, {S.WITHDRAWN}, MARKETER),
        # 整村授信: the household's survey was its investigation and the campaign's reviews and branch approval its
        # approval; signing (resolvers/village_credit/signing.py, under the household's own state machine)
        # records the application as approved and grants its line
        _t(Action.GRANT_BY_CAMPAIGN, set(), {S.APPROVED}, SYSTEM),
    )
}  # fmt: skip
# An application is created by intake and admitted or refused in the same step, or by a whole-village campaign's
# signing already approved: those start from nothing.
ENTRY_ACTIONS = frozenset({Action.ADMIT, Action.REFUSE_ADMISSION, Action.GRANT_BY_CAMPAIGN})


def check(action: Action, actor: Actor | None, facts: ApplicationFacts | None, target: ApplicationState) -> None:
    """Refuse with a typed error unless `actor` (None: the system) may take `action` on the application in its
    state, to `target`. Nothing is written by this function."""
    transition = TRANSITIONS[action]
    zh, en = ACTION_NAMES[action]
    if target not in transition.targets:
        raise ValueError(f"{action} does not lead to {target}")  # a programming error, not the user's
    if facts is None:
        if action not in ENTRY_ACTIONS:
            raise ValueError(f"{action} needs an existing application")
        facts_for_guards = ApplicationFacts(target, 0, None, None, None)
    else:
        if facts.state not in transition.sources:
            raise DomainError(
                CreditErrorCode.WRONG_STATE,
                f"申请当前为{STATE_NAMES_ZH[facts.state]}状态,不能{zh}",
                f"the application is {facts.state.value.lower().replace('_', ' ')}; it cannot {en}",
                "state",
            )
        facts_for_guards = facts
    check_guards(transition.guards, actor, facts_for_guards)


def allowed_actions(actor: Actor, facts: ApplicationFacts) -> tuple[Action, ...]:
    """What this person may do with the application now, in table order (what the app offers as buttons)."""
    return tuple(
        t.action
        for t in TRANSITIONS.values()
        if t.action not in ENTRY_ACTIONS and facts.state in t.sources and all_hold(t.guards, actor, facts)
    )
