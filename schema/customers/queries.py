"""Customer queries: lists under a grid node (filtered, ordered, keyset-paged) and one customer's 360 view."""

from __future__ import annotations

import strawberry

from domain.errors import DomainError, ErrorCode
from domain.grid.errors import GridErrorCode
from resolvers.customers import browse
from schema.customers.lists import CustomerFilterInput, CustomerOrderInput, customer_page
from schema.customers.types import Customer, shown
from schema.platform.context import Info
from schema.platform.errors import query_error
from schema.platform.ids import decode_pk
from schema.platform.pagination import CountedConnection, Cursor


async def customers_under(
    info: Info,
    node_id: strawberry.ID,
    filter: CustomerFilterInput | None = None,
    order_by: CustomerOrderInput | None = None,
    first: int | None = 20,
    after: Cursor = None,
) -> CountedConnection[Customer]:
    info.context.require_actor()
    try:
        pk = decode_pk(node_id, "GridNode", "nodeId", GridErrorCode.UNKNOWN_GRID_NODE)
    except DomainError as error:
        raise query_error(error) from None
    return await customer_page(info, pk, filter, order_by, first, after)


async def customer_detail(info: Info, id: strawberry.ID) -> Customer | None:
    """The 360 view of one customer; reading it is audited."""
    actor = info.context.require_actor()
    try:
        found = await browse.get_customer(actor, decode_pk(id, "Customer", "id", ErrorCode.NOT_FOUND))
    except DomainError as error:
        raise query_error(error) from None
    return shown(found)


@strawberry.type
class Query:
    customer: Customer | None = strawberry.field(
        resolver=customer_detail,
        description="One customer's 360 view (reading it is audited)",
    )
    customers: CountedConnection[Customer] = strawberry.field(
        resolver=customers_under,
        description="Customers at any depth under a grid node, filtered and ordered",
    )
