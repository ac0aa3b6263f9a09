"""The credit factory's process (信贷工厂): every stage an application can pass through, in the one order they
come in, the stage each one needs before it, and the roles that may perform it.

A product's file picks its stages from these; the checks in product_checks.py hold every product to this page,
so that each product's process is one the bank can run and keeps the three posts apart (三岗分离: marketing,
investigation, lending back office).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from domain.access import Role


class StageName(StrEnum):
    """In process order: a product lists the stages it uses in this order."""

    INTAKE = "intake"
    ADMISSION = "admission"
    ASSIGNMENT = "assignment"
    INVESTIGATION = "investigation"
    APPROVAL = "approval"
    LINE = "line"
    DRAWDOWN = "drawdown"
    PRICING = "pricing"
    CONTRACT = "contract"
    BACK_OFFICE_CHECK = "back_office_check"
    DISBURSEMENT = "disbursement"


STAGE_NAMES_ZH: Mapping[StageName, str] = {
    StageName.INTAKE: "受理申请",
    StageName.ADMISSION: "客户准入",
    StageName.ASSIGNMENT: "分配调查",
    StageName.INVESTIGATION: "授信调查",
    StageName.APPROVAL: "授信审批",
    StageName.LINE: "授信额度",
    StageName.DRAWDOWN: "用信申请",
    StageName.PRICING: "利率定价",
    StageName.CONTRACT: "合同签约",
    StageName.BACK_OFFICE_CHECK: "放款审核",
    StageName.DISBURSEMENT: "放款",
}

PROCESS_ORDER: tuple[StageName, ...] = tuple(StageName)
FIRST_STAGE = StageName.INTAKE  # where every application enters
LAST_STAGE = StageName.DISBURSEMENT  # where every process ends: the money reaches the customer

# The stage each stage cannot run without, earlier in the same process. A stage whose prerequisite the product
# leaves out can never be reached: nobody investigates an application that was never assigned, and nothing is
# drawn on a line that was never set up. Every credit decision follows the admission screen (客户准入有拦截).
NEEDS: Mapping[StageName, StageName] = {
    StageName.ADMISSION: StageName.INTAKE,
    StageName.ASSIGNMENT: StageName.INTAKE,
    StageName.INVESTIGATION: StageName.ASSIGNMENT,
    StageName.APPROVAL: StageName.ADMISSION,
    StageName.LINE: StageName.APPROVAL,
    StageName.DRAWDOWN: StageName.LINE,
    StageName.PRICING: StageName.DRAWDOWN,
    StageName.CONTRACT: StageName.DRAWDOWN,
    StageName.BACK_OFFICE_CHECK: StageName.CONTRACT,
    StageName.DISBURSEMENT: StageName.CONTRACT,
}

# Who may perform each stage. The customer manager markets and takes applications but never investigates,
# approves or pays out; investigation belongs to the credit investigators; the money moves only through the
# lending back office. The system administrator works on no application.
ROLES_FOR_STAGE: Mapping[StageName, frozenset[Role]] = {
    StageName.INTAKE: frozenset({Role.CUSTOMER_MANAGER}),
    StageName.ADMISSION: frozenset({Role.CUSTOMER_MANAGER, Role.CREDIT_INVESTIGATOR}),
    StageName.ASSIGNMENT: frozenset({Role.BRANCH_PRESIDENT, Role.HEAD_OFFICE}),
    StageName.INVESTIGATION: frozenset({Role.CREDIT_INVESTIGATOR}),
    StageName.APPROVAL: frozenset({Role.APPROVER, Role.BRANCH_PRESIDENT, Role.HEAD_OFFICE}),
    StageName.LINE: frozenset({Role.APPROVER, Role.BACK_OFFICE}),
    StageName.DRAWDOWN: frozenset({Role.CUSTOMER_MANAGER, Role.BACK_OFFICE}),
    StageName.PRICING: frozenset({Role.APPROVER, Role.BACK_OFFICE}),
    StageName.CONTRACT: frozenset({Role.CUSTOMER_MANAGER, Role.BACK_OFFICE}),
    StageName.BACK_OFFICE_CHECK: frozenset({Role.BACK_OFFICE}),
    StageName.DISBURSEMENT: frozenset({Role.BACK_OFFICE}),
}

# Who may hold an approval authority (审批权限) in a product's approval tiers.
APPROVAL_ROLES = ROLES_FOR_STAGE[StageName.APPROVAL]


def roles_text(roles: frozenset[Role]) -> str:
    """The roles in the Role enum's order, for messages: "APPROVER, BRANCH_PRESIDENT"."""
    return ", ".join(role.value for role in Role if role in roles)
