"""Customer lists under a grid node: the filter and order inputs and the page of customers, shared by the
`customers(nodeId:)` query and the `customers` field of a grid node. Imports no GraphQL object type: the
customers come back as the use case's views, which the Customer type shows as they are."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

from domain.errors import DomainError
from resolvers.customers import browse
from schema.platform.context import Info
from schema.platform.errors import query_error
from schema.platform.ids import decode_pk
from schema.platform.pagination import CountedConnection


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
) -> CountedConnection[Any]:
    """A page of the customers under a node the signed-in actor may see, newest cursor last."""
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
    return CountedConnection[Any].from_page(page, lambda view: view)
