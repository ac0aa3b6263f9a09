"""Staff administration: every mutation across every role — the administrator's call changes the account and
is audited; anyone else's is FORBIDDEN and changes nothing — and the rules the administrator is held to."""

from __future__ import annotations

from typing import Any

import pytest

from models import AuditLog, Outlet, Staff
from tests.factories import ROLES, Api, World, gid, make_staff

RESULT = "{ __typename ... on Staff { username displayName roles isActive } ... on StaffError { code field } }"
CREATE = f"mutation($input: CreateStaffInput!) {{ createStaff(input: $input) {RESULT} }}"
UPDATE = f"mutation($input: UpdateStaffInput!) {{ updateStaff(input: $input) {RESULT} }}"
DEACTIVATE = f"mutation($id: ID!) {{ deactivateStaff(id: $id) {RESULT} }}"
REACTIVATE = f"mutation($id: ID!) {{ reactivateStaff(id: $id) {RESULT} }}"
RESET = f"mutation($id: ID!, $p: String!) {{ resetStaffPassword(id: $id, temporaryPassword: $p) {RESULT} }}"
TEMPORARY = "temporary-pass-2026"


async def snapshot() -> list[Any]:
    rows = await Staff.all().order_by("id").prefetch_related("scope")
    return [
        (s.id, s.username, s.display_name, s.roles, s.is_active, s.outlet_id, s.password_hash,  # type: ignore[attr-defined]
         s.must_change_password, s.token_version, sorted(n.id for n in s.scope))
        for s in rows
    ]  # fmt: skip


def calls(world: World) -> dict[str, tuple[str, dict[str, Any], str]]:
    """Each mutation, its variables and its audit action, aimed at manager1a (or creating someone new)."""
    target = gid("Staff", world.staff["manager1a"].id)
    return {
        "createStaff": (
            CREATE,
            {
                "input": {
                    "username": "manager1c",
                    "displayName": "孙六",
                    "roles": ["CUSTOMER_MANAGER"],
                    "temporaryPassword": TEMPORARY,
                    "scopeIds": [gid("GridNode", world.village1b.id)],
                }
            },
            "staff.create",
        ),
        "updateStaff": (
            UPDATE,
            {"input": {"id": target, "roles": ["BRANCH_PRESIDENT"], "scopeIds": [gid("GridNode", world.township1.id)]}},
            "staff.update",
        ),
        "deactivateStaff": (DEACTIVATE, {"id": target}, "staff.deactivate"),
        "resetStaffPassword": (RESET, {"id": target, "p": TEMPORARY}, "staff.password_reset"),
    }


EXPECTED = {
    "createStaff": {
        "__typename": "Staff", "username": "manager1c", "displayName": "孙六", "roles": ["CUSTOMER_MANAGER"],
        "isActive": True,
    },
    "updateStaff": {
        "__typename": "Staff", "username": "manager1a", "displayName": "Manager1A", "roles": ["BRANCH_PRESIDENT"],
        "isActive": True,
    },
    "deactivateStaff": {
        "__typename": "Staff", "username": "manager1a", "displayName": "Manager1A", "roles": ["CUSTOMER_MANAGER"],
        "isActive": False,
    },
    "resetStaffPassword": {
        "__typename": "Staff", "username": "manager1a", "displayName": "Manager1A", "roles": ["CUSTOMER_MANAGER"],
        "isActive": True,
    },
}  # fmt: skip


@pytest.mark.parametrize("mutation", list(EXPECTED))
@pytest.mark.parametrize("user", ROLES)
async def test_only_the_administrator_administers_staff(api: Api, world: World, user: str, mutation: str) -> None:
    query, variables, action = calls(world)[mutation]
    await api.token(user)
    before = await snapshot()

    body = await api.as_(user, query, variables)

    result = body["data"][mutation]
    if user == "admin":
        assert result == EXPECTED[mutation]
        assert await snapshot() != before
        audit = await AuditLog.get(action=action)
        assert audit.actor_username == "admin"
    else:
        assert result == {"__typename": "StaffError", "code": "FORBIDDEN", "field": None}
        assert await snapshot() == before
        assert await AuditLog.filter(action__startswith="staff.").count() == 0


@pytest.mark.parametrize("user", ROLES)
async def test_only_the_administrator_reactivates(api: Api, world: World, user: str) -> None:
    staff = await make_staff("retired", ["CUSTOMER_MANAGER"], [world.village1b], is_active=False)
    await api.token(user)
    before = await snapshot()

    body = await api.as_(user, REACTIVATE, {"id": gid("Staff", staff.id)})

    if user == "admin":
        assert body["data"]["reactivateStaff"]["isActive"] is True
        assert (await Staff.get(id=staff.id)).is_active is True
        assert await AuditLog.filter(action="staff.reactivate", target_id=str(staff.id)).count() == 1
    else:
        assert body["data"]["reactivateStaff"] == {"__typename": "StaffError", "code": "FORBIDDEN", "field": None}
        assert await snapshot() == before


async def test_a_new_account_signs_in_with_its_temporary_password_and_must_change_it(api: Api, world: World) -> None:
    query, variables, _ = calls(world)["createStaff"]
    await api.as_("admin", query, variables)

    created = await Staff.get(username="manager1c").prefetch_related("scope")
    login = await api.raw(
        'mutation($p: String!) { login(username: "manager1c", password: $p) '
        "{ ... on LoginSuccess { mustChangePassword } } }",
        {"p": TEMPORARY},
    )

    assert (created.must_change_password, [n.id for n in created.scope]) == (True, [world.village1b.id])
    assert login == {"data": {"login": {"mustChangePassword": True}}}
    audit = await AuditLog.get(action="staff.create")
    assert audit.changes == {"roles": ["CUSTOMER_MANAGER"], "outletId": None, "scopeIds": [world.village1b.id]}


@pytest.mark.parametrize(
    ("roles", "code"),
    [
        (["ADMIN", "APPROVER"], "CONFLICTING_ROLES"),
        (["ADMIN", "HEAD_OFFICE"], "CONFLICTING_ROLES"),
        ([], "INVALID_VALUE"),
    ],
)
async def test_the_administrator_role_is_held_alone(api: Api, world: World, roles: list[str], code: str) -> None:
    query, variables, _ = calls(world)["createStaff"]
    variables["input"]["roles"] = roles
    before = await snapshot()

    created = await api.as_("admin", query, variables)
    updated = await api.as_(
        "admin", UPDATE, {"input": {"id": gid("Staff", world.staff["approver"].id), "roles": roles}}
    )

    assert created["data"]["createStaff"] == {"__typename": "StaffError", "code": code, "field": "roles"}
    assert updated["data"]["updateStaff"] == {"__typename": "StaffError", "code": code, "field": "roles"}
    assert await snapshot() == before


async def test_the_administrator_cannot_change_their_own_roles_nor_switch_themselves_off(
    api: Api, world: World
) -> None:
    me = gid("Staff", world.staff["admin"].id)
    await api.token("admin")
    before = await snapshot()

    grant = await api.as_("admin", UPDATE, {"input": {"id": me, "roles": ["APPROVER"]}})
    off = await api.as_("admin", DEACTIVATE, {"id": me})

    assert grant["data"]["updateStaff"] == {"__typename": "StaffError", "code": "FORBIDDEN", "field": "id"}
    assert off["data"]["deactivateStaff"] == {"__typename": "StaffError", "code": "FORBIDDEN", "field": "id"}
    assert await snapshot() == before


async def test_administration_input_errors_change_nothing(api: Api, world: World) -> None:
    query, variables, _ = calls(world)["createStaff"]
    target = gid("Staff", world.staff["manager1a"].id)
    await api.token("admin")
    before = await snapshot()

    taken = await api.as_("admin", query, {"input": {**variables["input"], "username": "manager1b"}})
    weak = await api.as_("admin", query, {"input": {**variables["input"], "temporaryPassword": "short"}})
    no_outlet = await api.as_("admin", UPDATE, {"input": {"id": target, "outletId": gid("Outlet", 999)}})
    no_node = await api.as_("admin", UPDATE, {"input": {"id": target, "scopeIds": [gid("GridNode", 999)]}})
    nobody = await api.as_("admin", DEACTIVATE, {"id": gid("Staff", 999)})
    weak_reset = await api.as_("admin", RESET, {"id": target, "p": "short"})

    assert [
        r["data"][k]
        for r, k in [
            (taken, "createStaff"), (weak, "createStaff"), (no_outlet, "updateStaff"), (no_node, "updateStaff"),
            (nobody, "deactivateStaff"), (weak_reset, "resetStaffPassword"),
        ]
    ] == [
        {"__typename": "StaffError", "code": "DUPLICATE_USERNAME", "field": "username"},
        {"__typename": "StaffError", "code": "WEAK_PASSWORD", "field": "temporaryPassword"},
        {"__typename": "StaffError", "code": "UNKNOWN_OUTLET", "field": "outletId"},
        {"__typename": "StaffError", "code": "UNKNOWN_GRID_NODE", "field": "scopeIds"},
        {"__typename": "StaffError", "code": "NOT_FOUND", "field": "id"},
        {"__typename": "StaffError", "code": "WEAK_PASSWORD", "field": "temporaryPassword"},
    ]  # fmt: skip
    assert await snapshot() == before
    assert await AuditLog.filter(action__startswith="staff.").count() == 0


async def test_outlet_and_display_name_changes_are_audited_with_their_difference(api: Api, world: World) -> None:
    outlet = await Outlet.create(code="O1", name="王集网点")
    staff = world.staff["manager1a"]

    body = await api.as_(
        "admin",
        UPDATE,
        {"input": {"id": gid("Staff", staff.id), "outletId": gid("Outlet", outlet.id), "displayName": "张经理"}},
    )

    assert body["data"]["updateStaff"]["displayName"] == "张经理"
    stored = await Staff.get(id=staff.id)
    assert (stored.outlet_id, stored.display_name, stored.token_version) == (outlet.id, "张经理", 1)  # type: ignore[attr-defined]
    audit = await AuditLog.get(action="staff.update")
    assert audit.changes == {
        "display_name": {"from": "Manager1A", "to": "张经理"},
        "outlet_id": {"from": None, "to": outlet.id},
    }
