"""Staff administration (员工账户管理), for the administrator only: creating accounts, switching them off and on,
changing roles, outlet and grid scope, resetting passwords, and signing someone out everywhere.

Every change is audited in the transaction that makes it. Every change that alters what a token may do —
deactivation, roles, outlet, scope, a password reset — bumps the account's token version, so the tokens issued
before are refused from the next request on. Separation of duties: ADMIN is never held with a business role
(domain.staff.accounts.check_roles), and an administrator changes neither their own roles nor their own
activity, so they can neither grant themselves a business role nor lock the bank out of its accounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from domain.access import Actor, Role
from domain.errors import DomainError, ErrorCode, forbidden, not_found
from domain.grid.errors import GridErrorCode
from domain.staff.accounts import check_display_name, check_login_name, check_password, check_roles
from domain.staff.errors import StaffErrorCode
from models import GridNode, Outlet, Staff
from resolvers.platform.auth import hash_password
from resolvers.platform.unit_of_work import unit_of_work
from resolvers.staff import policy


@dataclass(frozen=True)
class NewStaff:
    username: str
    display_name: str
    roles: tuple[Role, ...]
    temporary_password: str
    outlet_id: int | None = None
    scope_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class StaffChanges:
    """Only the keys present are changed: display_name, roles, outlet_id (None: no outlet), scope_ids."""

    values: dict[str, Any] = field(default_factory=dict)


CHANGEABLE = frozenset({"display_name", "roles", "outlet_id", "scope_ids"})
# changes after which the tokens issued before must not go on working
REVOKING = frozenset({"roles", "outlet_id", "scope_ids"})


def _require_admin(actor: Actor) -> None:
    if not actor.has(Role.ADMIN):
        raise forbidden("管理员工账户", "administer staff accounts")


async def _target(staff_id: int) -> Staff:
    staff = await Staff.get_or_none(id=staff_id).prefetch_related("scope")
    if staff is None:
        raise not_found("员工", "member of staff", "id")
    return staff


def _not_yourself(actor: Actor, staff: Staff, what_zh: str, what_en: str) -> None:
    if staff.id == actor.staff_id:
        raise DomainError(
            ErrorCode.FORBIDDEN, f"不能{what_zh}自己的账户", f"you cannot {what_en} your own account", "id"
        )


async def _outlet(outlet_id: int | None) -> int | None:
    if outlet_id is not None and not await Outlet.exists(id=outlet_id):
        raise DomainError(StaffErrorCode.UNKNOWN_OUTLET, "网点不存在", "unknown outlet", "outletId")
    return outlet_id


async def _scope(scope_ids: Sequence[int]) -> list[GridNode]:
    wanted = sorted(set(scope_ids))
    nodes = await GridNode.filter(id__in=wanted).order_by("path") if wanted else []
    if len(nodes) != len(wanted):
        raise DomainError(GridErrorCode.UNKNOWN_GRID_NODE, "网格节点不存在", "unknown grid node", "scopeIds")
    return list(nodes)


def _duplicate() -> DomainError:
    return DomainError(StaffErrorCode.DUPLICATE_USERNAME, "该登录名已被使用", "that login name is taken", "username")


async def create_staff(actor: Actor, new: NewStaff) -> Staff:
    """A new account with a temporary password, which its owner must change at first sign-in."""
    _require_admin(actor)
    username = check_login_name(new.username)
    display_name = check_display_name(new.display_name)
    roles = check_roles(new.roles)
    check_password(new.temporary_password, "temporaryPassword")
    outlet_id = await _outlet(new.outlet_id)
    scope = await _scope(new.scope_ids)
    if await Staff.exists(username=username):
        raise _duplicate()
    try:
        async with unit_of_work() as uow:
            staff = await Staff.create(
                username=username,
                display_name=display_name,
                roles=[r.value for r in roles],
                outlet_id=outlet_id,
                password_hash=hash_password(new.temporary_password),
                must_change_password=True,
            )
            if scope:
                await staff.scope.add(*scope)
            await uow.audit(
                actor,
                "staff.create",
                "Staff",
                staff.id,
                {"roles": [r.value for r in roles], "outletId": outlet_id, "scopeIds": [n.id for n in scope]},
            )
    except IntegrityError:
        raise _duplicate() from None
    return await _target(staff.id)


async def update_staff(actor: Actor, staff_id: int, changes: StaffChanges) -> Staff:
    """Change a colleague's display name, roles, outlet or grid scope. Roles, outlet and scope changes revoke
    their tokens."""
    _require_admin(actor)
    unknown = set(changes.values) - CHANGEABLE
    if unknown:
        raise DomainError(ErrorCode.INVALID_VALUE, "不可修改的字段", "field cannot be changed", sorted(unknown)[0])
    staff = await _target(staff_id)
    if "roles" in changes.values:
        _not_yourself(actor, staff, "修改", "change the roles of")
    new: dict[str, Any] = {}
    if "display_name" in changes.values:
        new["display_name"] = check_display_name(changes.values["display_name"] or "")
    if "roles" in changes.values:
        new["roles"] = [r.value for r in check_roles(changes.values["roles"] or ())]
    if "outlet_id" in changes.values:
        new["outlet_id"] = await _outlet(changes.values["outlet_id"])
    scope = await _scope(changes.values["scope_ids"] or ()) if "scope_ids" in changes.values else None
    before: dict[str, Any] = {
        "display_name": staff.display_name,
        "roles": list(staff.roles),
        "outlet_id": staff.outlet_id,  # type: ignore[attr-defined]
    }
    diff = {k: {"from": before[k], "to": v} for k, v in new.items() if before[k] != v}
    old_scope = sorted(n.id for n in staff.scope)
    if scope is not None and sorted(n.id for n in scope) != old_scope:
        diff["scope_ids"] = {"from": old_scope, "to": [n.id for n in scope]}
    if not diff:
        return staff
    async with unit_of_work() as uow:
        values = {k: v for k, v in new.items() if k in diff}
        if REVOKING & set(diff):
            values["token_version"] = F("token_version") + 1
        if values:
            await Staff.filter(id=staff.id).update(**values)
        if "scope_ids" in diff and scope is not None:
            await staff.scope.clear()
            if scope:
                await staff.scope.add(*scope)
        await uow.audit(actor, "staff.update", "Staff", staff.id, diff)
    return await _target(staff.id)


async def set_active(actor: Actor, staff_id: int, active: bool) -> Staff:
    """Switch an account off (its tokens are refused at once) or on again (it signs in afresh)."""
    _require_admin(actor)
    staff = await _target(staff_id)
    _not_yourself(actor, staff, "停用" if not active else "启用", "deactivate" if not active else "reactivate")
    if staff.is_active == active:
        return staff
    async with unit_of_work() as uow:
        await Staff.filter(id=staff.id).update(is_active=active, token_version=F("token_version") + 1)
        await uow.audit(actor, "staff.reactivate" if active else "staff.deactivate", "Staff", staff.id)
    return await _target(staff.id)


async def reset_password(actor: Actor, staff_id: int, temporary_password: str) -> Staff:
    """Give an account a temporary password: its tokens are revoked, and until its owner changes the password
    a token of theirs allows nothing but changing it."""
    _require_admin(actor)
    staff = await _target(staff_id)
    check_password(temporary_password, "temporaryPassword")
    async with unit_of_work() as uow:
        await Staff.filter(id=staff.id).update(
            password_hash=hash_password(temporary_password),
            must_change_password=True,
            token_version=F("token_version") + 1,
        )
        await uow.audit(actor, "staff.password_reset", "Staff", staff.id)
    return await _target(staff.id)


async def revoke_sessions(actor: Actor, staff_id: int) -> Staff:
    """Sign someone out everywhere: every token issued to them so far is refused. Anyone for themselves; the
    administrator for anyone. Someone else's account is FORBIDDEN when the actor may see them, else
    NOT_FOUND."""
    staff = await _target(staff_id)
    if staff.id != actor.staff_id and not actor.has(Role.ADMIN):
        if policy.may_see(actor, policy.facts_of(staff)):
            raise forbidden("注销他人的登录", "sign someone else out")
        raise not_found("员工", "member of staff", "id")
    async with unit_of_work() as uow:
        await Staff.filter(id=staff.id).update(token_version=F("token_version") + 1)
        await uow.audit(actor, "staff.sessions_revoked", "Staff", staff.id)
    return await _target(staff.id)
