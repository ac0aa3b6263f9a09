"""Who may see and do what: roles (DESIGN.md's table) and grid scope.

A scope is a set of materialized grid paths. A node is *inside* a scope when its path starts with one of the
scope's paths; a node is on the *breadcrumb* of a scope when it is an ancestor of a scope path (so a customer
manager can see the county and township names above their villages, but not their siblings' contents).
Anything outside is reported as NOT_FOUND, never as forbidden, so that nothing hints it exists.
"""

from __future__ import annotations

from collections.abc import Iterable
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

# Roles that browse the whole grid structure (names, codes, polygons): head office for dashboards, the
# administrator for grid import. Neither list gives customer data by itself.
WHOLE_GRID_ROLES = frozenset({Role.HEAD_OFFICE, Role.ADMIN})
# Roles that list customers inside their grid scope.
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

    def has(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def is_head_office(self) -> bool:
        return Role.HEAD_OFFICE in self.roles

    @property
    def sees_whole_grid(self) -> bool:
        return bool(self.roles & WHOLE_GRID_ROLES)

    @property
    def lists_customers(self) -> bool:
        return bool(self.roles & CUSTOMER_LIST_ROLES)

    def customer_scope(self) -> tuple[str, ...] | None:
        """Grid paths whose customers this actor may list; None means the whole bank, () means none."""
        if self.is_head_office:
            return None
        if self.has(Role.BRANCH_PRESIDENT, Role.CUSTOMER_MANAGER):
            return self.scope_paths
        return ()


def inside(path: str, scope_paths: Iterable[str]) -> bool:
    return any(path.startswith(p) for p in scope_paths)


def on_breadcrumb(path: str, scope_paths: Iterable[str]) -> bool:
    return any(p.startswith(path) for p in scope_paths)


def can_see_node(actor: Actor, path: str) -> bool:
    if actor.sees_whole_grid:
        return True
    return inside(path, actor.scope_paths) or on_breadcrumb(path, actor.scope_paths)


def can_see_customer(actor: Actor, village_path: str | None, manager_id: int | None) -> bool:
    if actor.is_head_office:
        return True
    if manager_id is not None and manager_id == actor.staff_id and actor.has(Role.CUSTOMER_MANAGER):
        return True
    scope = actor.customer_scope()
    return bool(scope) and village_path is not None and inside(village_path, scope or ())


def sees_personal_data(actor: Actor, manager_id: int | None) -> bool:
    """Full ID number, phone and address: head office, and the customer manager who manages the customer."""
    return actor.is_head_office or (manager_id is not None and manager_id == actor.staff_id)


def can_edit_customer(actor: Actor, village_path: str | None, manager_id: int | None) -> bool:
    """Head office anywhere; the managing customer manager; a branch president inside their branch."""
    if actor.is_head_office:
        return True
    if actor.has(Role.CUSTOMER_MANAGER) and manager_id == actor.staff_id:
        return True
    return actor.has(Role.BRANCH_PRESIDENT) and village_path is not None and inside(village_path, actor.scope_paths)


# Fields only someone who sees the personal data may change.
PERSONAL_FIELDS = frozenset({"name", "phone", "address"})
