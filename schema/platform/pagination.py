"""Relay cursor connections with a total count."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Generic, TypeVar

import strawberry
from strawberry import relay

from resolvers.platform.pagination import Page
from schema.platform.input_limits import max_length

# A cursor holds its row's sort key: after a 64-character Chinese name it is about 570 characters long.
MAX_CURSOR_LENGTH = 1024
Cursor = Annotated[
    str | None,
    strawberry.argument(description="The endCursor of the page before", directives=max_length(MAX_CURSOR_LENGTH)),
]

NodeType = TypeVar("NodeType", bound=relay.Node)
ItemType = TypeVar("ItemType")


@strawberry.type(description="A page of results with cursors (first/after) and the total count")
class CountedConnection(relay.Connection[NodeType], Generic[NodeType]):
    count_total: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many results there are in all (counted only when you ask for it)")
    async def total_count(self) -> int:
        return await self.count_total()

    @classmethod
    def from_page(cls, page: Page[ItemType], convert: Callable[[ItemType], NodeType]) -> "CountedConnection[NodeType]":  # noqa: UP037
        edges = [
            relay.Edge(node=convert(item), cursor=cursor) for item, cursor in zip(page.items, page.cursors, strict=True)
        ]
        return cls(
            edges=edges,
            page_info=relay.PageInfo(
                has_next_page=page.has_next,
                has_previous_page=page.has_previous,
                start_cursor=page.cursors[0] if page.cursors else None,
                end_cursor=page.cursors[-1] if page.cursors else None,
            ),
            count_total=page.count_total,
        )
