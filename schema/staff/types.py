"""Staff in the graph: the viewer and the officers customers are managed by."""

from __future__ import annotations

from collections.abc import Iterable

import strawberry
from strawberry import relay

from domain.access import ROLE_NAMES_ZH
from domain.access import Role as RoleModel
from domain.grid.paths import path_ids
from models import Staff as StaffModel
from resolvers.grid import browse as grid_cases
from schema.grid.types import GridNode
from schema.platform.context import Info

Role = strawberry.enum(RoleModel, name="Role", description="Staff roles (岗位)")


@strawberry.type(name="Staff", description="A member of bank staff (员工)")
class Staff(relay.Node):
    pk: relay.NodeID[int]
    username: str
    display_name: str
    roles: list[RoleModel]
    is_active: bool

    @classmethod
    def from_model(cls, staff: StaffModel) -> Staff:
        return cls(
            pk=staff.id,
            username=staff.username,
            display_name=staff.display_name,
            roles=[RoleModel(r) for r in staff.roles],
            is_active=staff.is_active,
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Staff | None]:
        info.context.require_actor()
        loader = info.context.loaders.staff_by_id
        found = await loader.load_many([int(i) for i in node_ids])
        return [cls.from_model(s) if s else None for s in found]

    @strawberry.field(description="Role names in Chinese")
    def role_names(self) -> list[str]:
        return [ROLE_NAMES_ZH[r] for r in self.roles]


@strawberry.type(description="The signed-in member of staff and where they work")
class Viewer:
    staff: Staff
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
    assert staff is not None  # the token was just checked against this row
    return Viewer(staff=Staff.from_model(staff), scope_paths=actor.scope_paths, sees_whole_grid=actor.sees_whole_grid)


@strawberry.type
class Query:
    viewer: Viewer = strawberry.field(resolver=viewer, description="The signed-in member of staff")
