"""Who is asking: staff roles (DESIGN.md's table), the role sets the rules speak of, each named once, and the
signed-in actor with their grid scope.

A scope is a set of materialized grid paths: the subtrees a member of staff works in (empty for head office,
who work bank-wide). What each role may see and do with each resource is decided by that resource's policy
module (resolvers/<capability>/policy.py): predicate, query filter and masking side by side. Anything outside
an actor's reach is reported as NOT_FOUND, never as forbidden, so that nothing hints it exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    HEAD_OFFICE = "HEAD_OFFICE"
    BRANCH_PRESIDENT = "BRANCH_PRESIDENT"
    CUSTOMER_MANAGER = "CUSTOMER_MANAGER"
    CREDIT_INVESTIGATOR = "CREDIT_INVESTIGATOR"
    APPROVER = "APPROVER"
    BACK_OFFICE = "BACK_OFFICE"
    ADMIN = "ADMIN"


ROLE_NAMES_ZH = {
    Role.HEAD_OFFICE: "总行领导/机关部室",
    Role.BRANCH_PRESIDENT: "支行行长",
    Role.CUSTOMER_MANAGER: "客户经理",
    Role.CREDIT_INVESTIGATOR: "授信经理",
    Role.APPROVER: "审批人",
    Role.BACK_OFFICE: "信贷中台",
    Role.ADMIN: "系统管理员",
}

# Head office (dashboards, configuration) and the administrator (grid import): they browse the whole grid
# structure and run and follow the bank-wide batch work (assignment runs, KPI roll-ups, grid imports).
# Neither gives customer data by itself.
WHOLE_GRID_ROLES = frozenset({Role.HEAD_OFFICE, Role.ADMIN})
# Roles that list the customers inside their grid scope (head office: everywhere).
CUSTOMER_LIST_ROLES = frozenset({Role.HEAD_OFFICE, Role.BRANCH_PRESIDENT, Role.CUSTOMER_MANAGER})
# Roles that take on new customers (客户认领/建档).
CUSTOMER_CREATE_ROLES = frozenset({Role.HEAD_OFFICE, Role.CUSTOMER_MANAGER})


@dataclass(frozen=True)
class Actor:
    """The signed-in member of staff, as the use cases need them."""

    staff_id: int
    username: str
    roles: frozenset[Role]
    scope_paths: tuple[str, ...] = ()
    outlet_id: int | None = None
    display_name: str = field(default="", compare=False)
    must_change_password: bool = False  # a reset password: the token only allows changing it

    def has(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)

    def has_any(self, roles: frozenset[Role]) -> bool:
        return bool(self.roles & roles)

    @property
    def is_head_office(self) -> bool:
        return Role.HEAD_OFFICE in self.roles

    @property
    def sees_whole_grid(self) -> bool:
        return self.has_any(WHOLE_GRID_ROLES)
