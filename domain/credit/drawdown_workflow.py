"""The drawdown's state machine (用信流程), on one screen: from the customer manager's request on an approved
credit line, through pricing and the e-contract, the customer's signature with the identity check and the
audio-video recording (双录), the back office's check, to disbursement — with the back-office posts apart from
the marketer, and the person who disburses apart from the person who checked (maker-checker).

    request ─▶ PRICED (the pricing decision ran; the e-contract is issued with its SHA-256)
    PRICED ─ sign (the marketer, with the customer: signer, method, identity check, recording) ─▶ SIGNED
    SIGNED ─ check (back office, not the marketer) ─▶ CHECKED;  ─ refuse (back office) ─▶ REFUSED
    CHECKED ─ disburse (back office, not the marketer, not the checker) ─▶ DISBURSED: the loan account opens
    PRICED or SIGNED ─ cancel (the marketer) ─▶ CANCELLED
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from domain.access import Actor, Role
from domain.credit.errors import CreditErrorCode
from domain.errors import DomainError
from domain.workflow import Guard as BaseGuard
from domain.workflow import all_hold, check_guards


class DrawdownState(StrEnum):
    PRICED = "PRICED"  # 已定价,合同待签
    SIGNED = "SIGNED"  # 已签约
    CHECKED = "CHECKED"  # 放款审核通过
    DISBURSED = "DISBURSED"  # 已放款 (terminal)
    REFUSED = "REFUSED"  # 放款审核未通过 (terminal)
    CANCELLED = "CANCELLED"  # 已撤销 (terminal)


DRAWDOWN_STATE_NAMES_ZH: Mapping[DrawdownState, str] = {
    DrawdownState.PRICED: "待签约",
    DrawdownState.SIGNED: "已签约",
    DrawdownState.CHECKED: "审核通过",
    DrawdownState.DISBURSED: "已放款",
    DrawdownState.REFUSED: "审核未通过",
    DrawdownState.CANCELLED: "已撤销",
}
OPEN_DRAWDOWN = frozenset({DrawdownState.PRICED, DrawdownState.SIGNED, DrawdownState.CHECKED})


class DrawdownAction(StrEnum):
    REQUEST = "request"
    SIGN = "sign"
    CHECK = "check"
    REFUSE = "refuse"
    DISBURSE = "disburse"
    CANCEL = "cancel"


DRAWDOWN_ACTION_NAMES: Mapping[DrawdownAction, tuple[str, str]] = {
    DrawdownAction.REQUEST: ("申请用信", "request a drawdown"),
    DrawdownAction.SIGN: ("签订合同", "sign the contract"),
    DrawdownAction.CHECK: ("放款审核", "check before disbursement"),
    DrawdownAction.REFUSE: ("审核退回", "refuse at the check"),
    DrawdownAction.DISBURSE: ("放款", "disburse"),
    DrawdownAction.CANCEL: ("撤销用信", "cancel the drawdown"),
}


@dataclass(frozen=True)
class DrawdownFacts:
    state: DrawdownState | None  # None: not requested yet
    marketer_id: int  # who took the application the line came from, and requests the drawdown
    checker_id: int | None = None


DrawdownGuard = BaseGuard[DrawdownFacts]

THE_MARKETER = DrawdownGuard(
    "the_marketer",
    lambda a, f: a.has(Role.CUSTOMER_MANAGER) and a.staff_id == f.marketer_id,
    CreditErrorCode.WRONG_ROLE,
    "只有管户客户经理可以办理",
    "only the customer manager of this customer's line may do this",
)
BACK_OFFICE = DrawdownGuard(
    "back_office",
    lambda a, _f: a.has(Role.BACK_OFFICE),
    CreditErrorCode.WRONG_ROLE,
    "只有信贷中台可以办理",
    "only the lending back office may do this",
)
NOT_THE_MARKETER = DrawdownGuard(
    "not_the_marketer",
    lambda a, f: a.staff_id != f.marketer_id,
    CreditErrorCode.SEPARATION_OF_DUTIES,
    "三岗分离:营销的客户经理不能审核或放款",
    "separation of duties: the marketing customer manager may not check or disburse",
)
NOT_THE_CHECKER = DrawdownGuard(
    "not_the_checker",
    lambda a, f: a.staff_id != f.checker_id,
    CreditErrorCode.SEPARATION_OF_DUTIES,
    "审核与放款须由不同的人办理",
    "the person who checked may not also disburse",
)


@dataclass(frozen=True)
class DrawdownTransition:
    action: DrawdownAction
    sources: frozenset[DrawdownState | None]
    target: DrawdownState
    guards: tuple[DrawdownGuard, ...]


D = DrawdownState
DRAWDOWN_TRANSITIONS: Mapping[DrawdownAction, DrawdownTransition] = {
    t.action: t
    for t in (
        DrawdownTransition(DrawdownAction.REQUEST, frozenset({None}), D.PRICED, (THE_MARKETER,)),
        DrawdownTransition(DrawdownAction.SIGN, frozenset({D.PRICED}), D.SIGNED, (THE_MARKETER,)),
        DrawdownTransition(DrawdownAction.CHECK, frozenset({D.SIGNED}), D.CHECKED, (BACK_OFFICE, NOT_THE_MARKETER)),
        DrawdownTransition(DrawdownAction.REFUSE, frozenset({D.SIGNED, D.CHECKED}), D.REFUSED,
                           (BACK_OFFICE, NOT_THE_MARKETER)),
        DrawdownTransition(DrawdownAction.DISBURSE, frozenset({D.CHECKED}), D.DISBURSED,
                           (BACK_OFFICE, NOT_THE_MARKETER, NOT_THE_CHECKER)),
        DrawdownTransition(DrawdownAction.CANCEL, frozenset({D.PRICED, D.SIGNED}), D.CANCELLED, (THE_MARKETER,)),
    )
}  # fmt: skip


def check_drawdown(action: DrawdownAction, actor: Actor, facts: DrawdownFacts) -> DrawdownState:
    """The state the action leads to, or a typed refusal (nothing written)."""
    transition = DRAWDOWN_TRANSITIONS[action]
    if facts.state not in transition.sources:
        zh, en = DRAWDOWN_ACTION_NAMES[action]
        shown_zh = DRAWDOWN_STATE_NAMES_ZH[facts.state] if facts.state else "未申请"
        shown_en = facts.state.value.lower() if facts.state else "not requested"
        raise DomainError(
            CreditErrorCode.WRONG_STATE,
            f"用信当前为{shown_zh},不能{zh}",
            f"the drawdown is {shown_en}; cannot {en}",
            "state",
        )
    check_guards(transition.guards, actor, facts)
    return transition.target


def allowed_drawdown_actions(actor: Actor, facts: DrawdownFacts) -> tuple[DrawdownAction, ...]:
    return tuple(
        t.action
        for t in DRAWDOWN_TRANSITIONS.values()
        if t.action != DrawdownAction.REQUEST and facts.state in t.sources and all_hold(t.guards, actor, facts)
    )
