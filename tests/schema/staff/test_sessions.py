"""Sessions: signing out one token, signing someone out everywhere, tokens refused at once when an account is
switched off or its roles or scope change, and the password a reset forces to be changed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from models import AuditLog, RevokedToken, Staff
from tests.factories import PASSWORD, Api, World, gid

VIEWER = "{ viewer { staff { username } mustChangePassword } }"
LOGOUT = "mutation { logout { __typename ... on SignedOut { staff { username } } } }"
REVOKE = (
    "mutation($id: ID!) { revokeStaffSessions(id: $id) { __typename ... on Staff { username } "
    "... on StaffError { code field } } }"
)
CHANGE = (
    "mutation($old: String!, $new: String!) { changePassword(oldPassword: $old, newPassword: $new) { __typename "
    "... on LoginSuccess { token mustChangePassword staff { username } } ... on AuthError { code field } } }"
)
TEMPORARY = "temporary-pass-2026"


async def status(client: httpx.AsyncClient, token: str, query: str = VIEWER) -> int:
    response = await client.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"})
    return response.status_code


async def test_logout_revokes_only_the_token_it_is_called_with(
    api: Api, world: World, client: httpx.AsyncClient
) -> None:
    phone = await api.token("manager1a")
    api.tokens.clear()
    desk = await api.token("manager1a")

    body = await api.raw(LOGOUT, token=phone)

    assert body == {"data": {"logout": {"__typename": "SignedOut", "staff": {"username": "manager1a"}}}}
    assert await status(client, phone) == 401
    assert await status(client, desk) == 200
    assert await RevokedToken.filter(staff_id=world.staff["manager1a"].id).count() == 1
    assert await AuditLog.filter(action="logout", actor_username="manager1a").count() == 1


async def test_logout_needs_a_token(world: World, api: Api) -> None:
    body = await api.raw(LOGOUT)

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await RevokedToken.all().count() == 0


@pytest.mark.parametrize(
    ("user", "target", "outcome"),
    [
        ("manager1a", "manager1a", "Staff"),  # oneself
        ("admin", "manager1a", "Staff"),  # the administrator, anyone
        ("president1", "manager1a", "FORBIDDEN"),  # a colleague they see, but not theirs to sign out
        ("head", "manager1a", "FORBIDDEN"),
        ("manager1b", "manager1a", "NOT_FOUND"),  # a colleague they do not see
        ("manager2a", "manager1a", "NOT_FOUND"),
        ("investigator", "manager1a", "FORBIDDEN"),
    ],
)
async def test_signing_someone_out_everywhere_per_role(
    api: Api, world: World, client: httpx.AsyncClient, user: str, target: str, outcome: str
) -> None:
    targets_token = await api.token(target)
    staff = world.staff[target]

    body = await api.as_(user, REVOKE, {"id": gid("Staff", staff.id)})

    result = body["data"]["revokeStaffSessions"]
    version = (await Staff.get(id=staff.id)).token_version
    if outcome == "Staff":
        assert result == {"__typename": "Staff", "username": target}
        assert version == 1
        assert await status(client, targets_token) == 401
        assert await AuditLog.filter(action="staff.sessions_revoked", target_id=str(staff.id)).count() == 1
    else:
        assert result == {
            "__typename": "StaffError",
            "code": outcome,
            "field": None if outcome == "FORBIDDEN" else "id",
        }
        assert version == 0
        assert await status(client, targets_token) == 200
        assert await AuditLog.filter(action="staff.sessions_revoked").count() == 0


@pytest.mark.parametrize(
    ("mutation", "variables"),
    [
        ("mutation($id: ID!) { deactivateStaff(id: $id) { __typename } }", {}),
        ("mutation($id: ID!) { updateStaff(input: {id: $id, roles: [BRANCH_PRESIDENT]}) { __typename } }", {}),
        ("mutation($id: ID!, $s: [ID!]) { updateStaff(input: {id: $id, scopeIds: $s}) { __typename } }", {"s": []}),
        (
            "mutation($id: ID!, $p: String!) { resetStaffPassword(id: $id, temporaryPassword: $p) { __typename } }",
            {"p": TEMPORARY},
        ),
    ],
)
async def test_tokens_are_refused_at_once_when_the_account_changes(
    api: Api, world: World, client: httpx.AsyncClient, mutation: str, variables: dict[str, Any]
) -> None:
    token = await api.token("manager1a")
    assert await status(client, token) == 200

    body = await api.as_("admin", mutation, {"id": gid("Staff", world.staff["manager1a"].id), **variables})

    assert next(iter(body["data"].values())) == {"__typename": "Staff"}
    assert await status(client, token) == 401


async def test_a_reset_password_must_be_changed_before_anything_else(
    api: Api, world: World, client: httpx.AsyncClient
) -> None:
    staff = world.staff["manager1a"]
    await api.as_(
        "admin",
        "mutation($id: ID!, $p: String!) { resetStaffPassword(id: $id, temporaryPassword: $p) { __typename } }",
        {"id": gid("Staff", staff.id), "p": TEMPORARY},
    )
    login = await api.raw(
        'mutation($p: String!) { login(username: "manager1a", password: $p) { ... on LoginSuccess { token '
        "mustChangePassword } } }",
        {"p": TEMPORARY},
    )
    token = login["data"]["login"]["token"]
    assert login["data"]["login"]["mustChangePassword"] is True
    before = await Staff.get(id=staff.id)

    viewer = await api.raw(VIEWER, token=token)
    refused = [
        await api.raw("{ gridRoots { name } }", token=token),
        await api.raw("{ viewer { staff { username } } gridRoots { name } }", token=token),
        await api.raw("{ ...F } fragment F on Query { colleagues { totalCount } }", token=token),
        await api.raw(LOGOUT, token=token),
        await api.raw(REVOKE, {"id": gid("Staff", staff.id)}, token=token),
    ]

    assert viewer == {"data": {"viewer": {"staff": {"username": "manager1a"}, "mustChangePassword": True}}}
    for body in refused:
        assert body == {
            "data": None,
            "errors": [
                {
                    "message": "请先修改密码 / change your password first",
                    "extensions": {"code": "PASSWORD_CHANGE_REQUIRED"},
                }
            ],
        }
    after = await Staff.get(id=staff.id)
    assert (after.token_version, await RevokedToken.all().count()) == (before.token_version, 0)

    too_short = await api.raw(CHANGE, {"old": TEMPORARY, "new": "short"}, token=token)
    wrong_old = await api.raw(CHANGE, {"old": "not it at all", "new": "a brand new passphrase"}, token=token)
    changed = await api.raw(CHANGE, {"old": TEMPORARY, "new": "a brand new passphrase"}, token=token)

    assert too_short["data"]["changePassword"] == {
        "__typename": "AuthError",
        "code": "WEAK_PASSWORD",
        "field": "newPassword",
    }
    assert wrong_old["data"]["changePassword"] == {
        "__typename": "AuthError",
        "code": "INVALID_CREDENTIALS",
        "field": "oldPassword",
    }
    result = changed["data"]["changePassword"]
    assert (result["__typename"], result["mustChangePassword"], result["staff"]) == (
        "LoginSuccess",
        False,
        {"username": "manager1a"},
    )
    assert await status(client, token) == 401  # the temporary token went with the temporary password
    assert await api.raw("{ gridRoots { name } }", token=result["token"]) == {
        "data": {"gridRoots": [{"name": "睢宁县"}]}
    }
    assert await AuditLog.filter(action="staff.password_changed", target_id=str(staff.id)).count() == 1


async def test_changing_ones_own_password_revokes_the_other_tokens(
    api: Api, world: World, client: httpx.AsyncClient
) -> None:
    old_token = await api.token("manager1b")

    changed = await api.as_("manager1b", CHANGE, {"old": PASSWORD, "new": "another long passphrase"})

    assert changed["data"]["changePassword"]["__typename"] == "LoginSuccess"
    assert await status(client, old_token) == 401
    assert await status(client, changed["data"]["changePassword"]["token"]) == 200


async def test_a_new_scope_is_seen_at_the_first_request_after_signing_in_again(api: Api, world: World) -> None:
    villages = "{ gridRoots { children { children { name } } } }"

    def names(body: Any) -> list[str]:
        return [v["name"] for t in body["data"]["gridRoots"][0]["children"] for v in t["children"]]

    assert names(await api.as_("manager1a", villages)) == ["张庄村"]  # the scope is now cached for this process
    moved = await api.as_(
        "admin",
        "mutation($id: ID!, $s: [ID!]) { updateStaff(input: {id: $id, scopeIds: $s}) { __typename } }",
        {"id": gid("Staff", world.staff["manager1a"].id), "s": [gid("GridNode", world.village1b.id)]},
    )
    assert moved["data"]["updateStaff"]["__typename"] == "Staff"
    api.tokens.pop("manager1a")  # the old token is refused; sign in again
    assert names(await api.as_("manager1a", villages)) == ["李庄村"]
