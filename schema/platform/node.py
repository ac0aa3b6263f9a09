"""The Relay entry point: any object by its global id."""

from __future__ import annotations

import strawberry
from strawberry import relay

from schema.platform.context import Info
from schema.platform.ids import key_of


@strawberry.type
class Query:
    @strawberry.field(
        description="Any object by its global id; null when it does not exist or is outside your scope",
    )
    async def node(self, info: Info, id: strawberry.ID) -> relay.Node | None:
        info.context.require_actor()
        try:
            global_id = relay.GlobalID.from_id(id)
        except ValueError:  # not a global id at all
            return None
        if key_of(global_id.type_name, global_id.node_id) is None:  # no row can have that id
            return None
        try:
            return await global_id.resolve_node(info, required=False)
        except KeyError:  # names a type that is not a Node
            return None
