"""Staff in the graph: the viewer, the colleagues they may see, and the officers customers are managed by.

Every Staff object comes through the staff directory (resolvers/staff/directory.py), which applies the staff
policy: a colleague the viewer may not see resolves to null. Login names are shown only to the administrator
and to the person themselves.
"""

from __future__ import annotations

from collections.abc import Iterable

import strawberry
from strawberry import relay

from domain.access import ROLE_NAMES_ZH, Actor
from domain.access import Role as RoleModel
from domain.errors import DomainError
from domain.grid.paths import path_ids
from models import Staff as StaffModel
from resolvers.grid import browse as grid_cases
from resolvers.staff import directory, policy
from schema.grid.types import GridNode
from schema.platform.context import Info
from schema.platform.errors import query_error
from schema.platform.pagination import CountedConnection

Role = strawberry.enum(RoleModel, name="Role", description="Staff roles (岗位)")


@strawberry.type(name="Staff", description="A member of bank staff (员工)")
class Staff(relay.Node):
    pk: relay.NodeID[int]
    username: str | None = strawberry.field(
        description="Login name; shown only to the administrator and to the person themselves, else null"
    )
    display_name: str
    roles: list[RoleModel]
    is_active: bool

    @classmethod
    def from_model(cls, staff: StaffModel, actor: Actor | None = None) -> Staff:
        """The colleague as `actor` sees them (without an actor, the login name is masked)."""
        shown = actor is not None and policy.shows_login_name(actor, staff.id)
        return cls(
            pk=staff.id,
            username=staff.username if shown else None,
            display_name=staff.display_name,
            roles=[RoleModel(r) for r in staff.roles],
            is_active=staff.is_active,
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Staff | None]:
        actor = info.context.require_actor()
        found = await info.context.loaders.staff_by_id.load_many([int(i) for i in node_ids])
        return [cls.from_model(s, actor) if s else None for s in found]

    @strawberry.field(description="Role names in Chinese")
    def role_names(self) -> list[str]:
        return [ROLE_NAMES_ZH[r] for r in self.roles]


@strawberry.type(description="The signed-in member of staff and where they work")
class Viewer:
    staff: Staff
    must_change_password: bool = strawberry.field(
        description="True after a password reset: until changePassword, nothing but viewer and changePassword answers"
    )
    scope_paths: strawberry.Private[tuple[str, ...]]
    sees_whole_grid: strawberry.Private[bool]

    @strawberry.field(description="The grid nodes this person works in (empty for the whole bank)")
    async def scope(self, info: Info) -> list[GridNode]:
        ids = [path_ids(p)[-1] for p in self.scope_paths]
        nodes = await info.context.loaders.grid_node_by_id.load_many(ids)
        return [GridNode.from_model(n) for n in nodes if n]

    @strawberry.field(description="Where to start browsing: the grid roots you can see")
    async def home(self, info: Info) -> list[GridNode]:
        return [GridNode.from_model(n) for n in await grid_cases.roots(info.context.require_actor())]


async def viewer(info: Info) -> Viewer:
    actor = info.context.require_actor()
    staff = await info.context.loaders.staff_by_id.load(actor.staff_id)
    assert staff is not None  # the token was just checked against this row, and everyone sees themselves
    return Viewer(
        staff=Staff.from_model(staff, actor),
        must_change_password=actor.must_change_password,
        scope_paths=actor.scope_paths,
        sees_whole_grid=actor.sees_whole_grid,
    )


async def colleagues(info: Info, first: int | None = 20, after: str | None = None) -> CountedConnection[Staff]:
    actor = info.context.require_actor()
    try:
        page = await directory.list_staff(actor, first, after)
    except DomainError as error:
        raise query_error(error) from None
    return CountedConnection[Staff].from_page(page, lambda s: Staff.from_model(s, actor))


@strawberry.type
class Query:
    viewer: Viewer = strawberry.field(resolver=viewer, description="The signed-in member of staff")
    colleagues: CountedConnection[Staff] = strawberry.field(
        resolver=colleagues,
        description="The colleagues your work involves (everyone, for head office and the administrator), by "
        "login name",
    )
