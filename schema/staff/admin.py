"""Staff administration for the administrator: accounts, roles, outlet and scope, passwords, sessions."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from domain.access import Actor
from domain.access import Role as RoleModel
from domain.errors import DomainError, ErrorCode
from domain.grid.errors import GridErrorCode
from domain.staff.errors import StaffErrorCode
from models import Staff as StaffModel
from resolvers.staff import administration as cases
from schema.platform.context import Info
from schema.platform.errors import StaffError
from schema.platform.ids import decode_pk
from schema.platform.input_limits import max_length
from schema.staff.auth import DISPLAY_NAME_LENGTH, LOGIN_NAME_LENGTH, PASSWORD_LENGTH
from schema.staff.types import Staff

StaffResult = Annotated[Staff | StaffError, strawberry.union("StaffResult")]


@strawberry.input(description="A new staff account; its owner must change the temporary password at first sign-in")
class CreateStaffInput:
    username: str = strawberry.field(description="Login name (no spaces)", directives=max_length(LOGIN_NAME_LENGTH))
    display_name: str = strawberry.field(directives=max_length(DISPLAY_NAME_LENGTH))
    roles: list[RoleModel] = strawberry.field(description="ADMIN is never combined with a business role")
    temporary_password: str = strawberry.field(
        description="At least 12 characters; to be changed at first sign-in", directives=max_length(PASSWORD_LENGTH)
    )
    outlet_id: strawberry.ID | None = strawberry.field(default=None, description="Global id of the outlet (网点)")
    scope_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Global ids of the grid nodes whose subtrees they work in"
    )


@strawberry.input(description="Changes to a staff account; omitted fields stay as they are")
class UpdateStaffInput:
    id: strawberry.ID
    display_name: str | None = strawberry.field(default=strawberry.UNSET, directives=max_length(DISPLAY_NAME_LENGTH))
    roles: list[RoleModel] | None = strawberry.UNSET
    outlet_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description="null: no outlet")
    scope_ids: list[strawberry.ID] | None = strawberry.field(default=strawberry.UNSET, description="null: none")


def _staff_pk(gid: str, field: str = "id") -> int:
    return decode_pk(gid, "Staff", field, ErrorCode.NOT_FOUND)


def _node_pks(gids: list[strawberry.ID] | None) -> tuple[int, ...]:
    return tuple(decode_pk(g, "GridNode", "scopeIds", GridErrorCode.UNKNOWN_GRID_NODE) for g in gids or ())


def _outlet_pk(gid: str | None) -> int | None:
    return decode_pk(gid, "Outlet", "outletId", StaffErrorCode.UNKNOWN_OUTLET) if gid else None


def _shown(staff: StaffModel, actor: Actor) -> Staff:
    return Staff.from_model(staff, actor)


async def create_staff(info: Info, input: CreateStaffInput) -> StaffResult:
    actor = info.context.require_actor()
    try:
        created = await cases.create_staff(
            actor,
            cases.NewStaff(
                username=input.username,
                display_name=input.display_name,
                roles=tuple(RoleModel(r.value) for r in input.roles),
                temporary_password=input.temporary_password,
                outlet_id=_outlet_pk(input.outlet_id),
                scope_ids=_node_pks(input.scope_ids),
            ),
        )
    except DomainError as error:
        return StaffError.from_domain(error)  # type: ignore[no-any-return]
    return _shown(created, actor)


async def update_staff(info: Info, input: UpdateStaffInput) -> StaffResult:
    actor = info.context.require_actor()
    try:
        values: dict[str, Any] = {}
        if input.display_name is not strawberry.UNSET:
            values["display_name"] = input.display_name
        if input.roles is not strawberry.UNSET:
            values["roles"] = tuple(RoleModel(r.value) for r in input.roles or ())
        if input.outlet_id is not strawberry.UNSET:
            values["outlet_id"] = _outlet_pk(input.outlet_id)
        if input.scope_ids is not strawberry.UNSET:
            values["scope_ids"] = _node_pks(input.scope_ids)
        updated = await cases.update_staff(actor, _staff_pk(input.id), cases.StaffChanges(values))
    except DomainError as error:
        return StaffError.from_domain(error)  # type: ignore[no-any-return]
    return _shown(updated, actor)


async def deactivate_staff(info: Info, id: strawberry.ID) -> StaffResult:
    return await _set_active(info, id, active=False)


async def reactivate_staff(info: Info, id: strawberry.ID) -> StaffResult:
    return await _set_active(info, id, active=True)


async def _set_active(info: Info, id: strawberry.ID, *, active: bool) -> StaffResult:
    actor = info.context.require_actor()
    try:
        changed = await cases.set_active(actor, _staff_pk(id), active)
    except DomainError as error:
        return StaffError.from_domain(error)  # type: ignore[no-any-return]
    return _shown(changed, actor)


async def reset_staff_password(
    info: Info,
    id: strawberry.ID,
    temporary_password: Annotated[str, strawberry.argument(directives=max_length(PASSWORD_LENGTH))],
) -> StaffResult:
    actor = info.context.require_actor()
    try:
        changed = await cases.reset_password(actor, _staff_pk(id), temporary_password)
    except DomainError as error:
        return StaffError.from_domain(error)  # type: ignore[no-any-return]
    return _shown(changed, actor)


async def revoke_staff_sessions(info: Info, id: strawberry.ID) -> StaffResult:
    actor = info.context.require_actor()
    try:
        changed = await cases.revoke_sessions(actor, _staff_pk(id))
    except DomainError as error:
        return StaffError.from_domain(error)  # type: ignore[no-any-return]
    return _shown(changed, actor)


@strawberry.type
class Mutation:
    create_staff: StaffResult = strawberry.mutation(
        resolver=create_staff, description="Administrator: open a staff account"
    )
    update_staff: StaffResult = strawberry.mutation(
        resolver=update_staff,
        description="Administrator: change a colleague's name, roles, outlet or grid scope (roles, outlet and "
        "scope changes sign them out)",
    )
    deactivate_staff: StaffResult = strawberry.mutation(
        resolver=deactivate_staff, description="Administrator: switch an account off; its tokens are refused at once"
    )
    reactivate_staff: StaffResult = strawberry.mutation(
        resolver=reactivate_staff, description="Administrator: switch an account on again"
    )
    reset_staff_password: StaffResult = strawberry.mutation(
        resolver=reset_staff_password,
        description="Administrator: give an account a temporary password, to be changed at next sign-in",
    )
    revoke_staff_sessions: StaffResult = strawberry.mutation(
        resolver=revoke_staff_sessions,
        description="Sign someone out everywhere: yourself, or anyone for the administrator",
    )
