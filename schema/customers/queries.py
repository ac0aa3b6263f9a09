"""Customer queries: lists under a grid node (filtered, ordered, keyset-paged) and one customer's 360 view."""

from __future__ import annotations

from enum import Enum

import strawberry

from domain.errors import DomainError, ErrorCode
from resolvers.customers import browse
from schema.customers.types import Customer
from schema.platform.context import Info
from schema.platform.errors import query_error
from schema.platform.ids import decode_pk
from schema.platform.pagination import CountedConnection
from schema.platform.permissions import IsAuthenticated


@strawberry.input(description="Narrow a customer list; every given condition must hold")
class CustomerFilterInput:
    name: str | None = strawberry.field(default=None, description="Part of the name")
    id_number: str | None = strawberry.field(default=None, description="The full ID number")
    phone: str | None = None
    manager_id: strawberry.ID | None = strawberry.field(default=None, description="Global id of a Staff")
    tags: list[str] | None = strawberry.field(default=None, description="Customers carrying all of these tags")
    has_ebanking: bool | None = None
    has_third_party_payment: bool | None = None
    has_social_security_card: bool | None = None
    has_loan: bool | None = None


@strawberry.enum(description="What to order customers by")
class CustomerOrderField(Enum):
    NAME = "name"
    CREATED_AT = "created_at"
    DEPOSIT_BALANCE = "deposit_balance"
    LOAN_BALANCE = "loan_balance"


@strawberry.input
class CustomerOrderInput:
    field: CustomerOrderField = CustomerOrderField.NAME
    descending: bool = False


def _filters(f: CustomerFilterInput | None) -> browse.CustomerFilter:
    if f is None:
        return browse.CustomerFilter()
    return browse.CustomerFilter(
        name=f.name,
        id_number=f.id_number,
        phone=f.phone,
        manager_id=decode_pk(f.manager_id, "Staff", "managerId") if f.manager_id else None,
        tags=tuple(f.tags or ()),
        has_ebanking=f.has_ebanking,
        has_third_party_payment=f.has_third_party_payment,
        has_social_security_card=f.has_social_security_card,
        has_loan=f.has_loan,
    )


async def customer_page(
    info: Info,
    node_pk: int,
    filter: CustomerFilterInput | None,
    order_by: CustomerOrderInput | None,
    first: int | None,
    after: str | None,
) -> CountedConnection[Customer]:
    order = order_by or CustomerOrderInput()
    try:
        page = await browse.list_under(
            info.context.require_actor(),
            node_pk,
            _filters(filter),
            browse.CustomerOrder(order.field.value),
            order.descending,
            first,
            after,
        )
    except DomainError as error:
        raise query_error(error) from None
    nodes = iter(await Customer.many(page.items, info))
    return CountedConnection[Customer].from_page(page, lambda _c: next(nodes))


async def customers_under(
    info: Info,
    node_id: strawberry.ID,
    filter: CustomerFilterInput | None = None,
    order_by: CustomerOrderInput | None = None,
    first: int | None = 20,
    after: str | None = None,
) -> CountedConnection[Customer]:
    try:
        pk = decode_pk(node_id, "GridNode", "nodeId", ErrorCode.UNKNOWN_GRID_NODE)
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
    return await Customer.one(found, info)


@strawberry.type
class Query:
    customer: Customer | None = strawberry.field(
        resolver=customer_detail,
        description="One customer's 360 view (reading it is audited)",
        permission_classes=[IsAuthenticated],
    )
    customers: CountedConnection[Customer] = strawberry.field(
        resolver=customers_under,
        description="Customers at any depth under a grid node, filtered and ordered",
        permission_classes=[IsAuthenticated],
    )
