"""The Relay entry point: any object by its global id."""

from __future__ import annotations

import strawberry
from strawberry import relay

from schema.platform.context import Info


@strawberry.type
class Query:
    @strawberry.field(
        description="Any object by its global id; null when it does not exist or is outside your scope",
    )
    async def node(self, info: Info, id: strawberry.ID) -> relay.Node | None:
        info.context.require_actor()
        try:
            global_id = relay.GlobalID.from_id(id)
            return await global_id.resolve_node(info, required=False)
        except (ValueError, KeyError):  # malformed, or names a type that is not a Node
            return None
