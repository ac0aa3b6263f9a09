"""Customer lists under a grid node: the filter and order inputs and the page of customers, shared by the
`customers(nodeId:)` query and the `customers` field of a grid node. Imports no GraphQL object type: the
customers come back as the use case's views, which the Customer type shows as they are."""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from typing import Any

import strawberry

from domain.customers.validation import MAX_NAME_LENGTH, MAX_TAG_LENGTH
from domain.errors import DomainError
from resolvers.customers import browse
from schema.platform.context import Info
from schema.platform.errors import query_error
from schema.platform.ids import decode_pk
from schema.platform.input_limits import max_length
from schema.platform.lookahead import current_field, fields_named, selects
from schema.platform.pagination import CountedConnection

# As typed, before normalising: an 18-character ID number or an 11-digit phone with spaces, dashes or +86.
ID_NUMBER_INPUT_LENGTH = 32
PHONE_INPUT_LENGTH = 32


@strawberry.input(description="Narrow a customer list; every given condition must hold")
class CustomerFilterInput:
    name: str | None = strawberry.field(
        default=None, description="Part of the name", directives=max_length(MAX_NAME_LENGTH)
    )
    id_number: str | None = strawberry.field(
        default=None, description="The full ID number", directives=max_length(ID_NUMBER_INPUT_LENGTH)
    )
    phone: str | None = strawberry.field(default=None, directives=max_length(PHONE_INPUT_LENGTH))
    manager_id: strawberry.ID | None = strawberry.field(default=None, description="Global id of a Staff")
    tags: list[str] | None = strawberry.field(
        default=None, description="Customers carrying all of these tags", directives=max_length(MAX_TAG_LENGTH)
    )
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


def _selects_timestamps(info: Info) -> bool:
    """Does the client ask for any customer's createdAt or updatedAt on this page (through any fragment)?"""
    page = current_field(info).selections
    nodes = [
        *fields_named(page, "nodes"),
        *(n for e in fields_named(page, "edges") for n in fields_named(e.selections, "node")),
    ]
    return any(selects(n.selections, "createdAt") or selects(n.selections, "updatedAt") for n in nodes)


async def customer_page(
    info: Info,
    node_pk: int,
    filter: CustomerFilterInput | None,
    order_by: CustomerOrderInput | None,
    first: int | None,
    after: str | None,
    node_path: str | None = None,
) -> CountedConnection[Any]:
    """A page of the customers under a node the signed-in actor may see, newest cursor last. Unfiltered under a
    node whose path is given (a grid node's own page), the total is that node's customer count, read with the
    request's other counts in one statement (a village page asking customerCount and totalCount counts once)."""
    order = order_by or CustomerOrderInput()
    filters = _filters(filter)
    try:
        page = await browse.list_under(
            info.context.require_actor(),
            node_pk,
            filters,
            browse.CustomerOrder(order.field.value),
            order.descending,
            first,
            after,
            timestamps=_selects_timestamps(info),
        )
    except DomainError as error:
        raise query_error(error) from None
    if node_path is not None and filters == browse.CustomerFilter():
        path = node_path
        page = replace(page, count_total=lambda: info.context.loaders.customer_count_by_path.load(path))
    return CountedConnection[Any].from_page(page, lambda view: view)
