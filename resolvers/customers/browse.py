"""Customers: who may see which, listing them under a grid node, and one customer's 360 detail.

A customer outside the actor's scope is NOT_FOUND. Reading the full detail is audited.
"""

from dataclasses import dataclass
from enum import StrEnum
from functools import reduce
from operator import or_

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from domain.access import (
    Actor,
    Role,
    can_see_customer,
    sees_personal_data,
)
from domain.customers.validation import MAX_TAGS
from domain.errors import DomainError, ErrorCode, not_found
from models import Customer, GridNode
from resolvers.grid import browse as grid
from resolvers.platform.audit import record
from resolvers.platform.pagination import Page, paginate


class CustomerOrder(StrEnum):
    NAME = "name"
    CREATED_AT = "created_at"
    DEPOSIT_BALANCE = "deposit_balance"
    LOAN_BALANCE = "loan_balance"


@dataclass(frozen=True)
class CustomerFilter:
    name: str | None = None
    id_number: str | None = None
    phone: str | None = None
    manager_id: int | None = None
    tags: tuple[str, ...] = ()
    has_ebanking: bool | None = None
    has_third_party_payment: bool | None = None
    has_social_security_card: bool | None = None
    has_loan: bool | None = None


def visible_customers(actor: Actor) -> QuerySet[Customer]:
    scope = actor.customer_scope()
    if scope is None:
        return Customer.all()
    alternatives = [Q(village__path__startswith=p) for p in scope]
    if actor.has(Role.CUSTOMER_MANAGER):
        alternatives.append(Q(manager_id=actor.staff_id))
    if not alternatives:
        return Customer.filter(id=-1)
    return Customer.filter(reduce(or_, alternatives))


def _apply_filter(qs: QuerySet[Customer], f: CustomerFilter) -> QuerySet[Customer]:
    if len(f.tags) > MAX_TAGS:
        raise DomainError(
            ErrorCode.INVALID_VALUE,
            f"标签条件最多{MAX_TAGS}个",
            f"filter by at most {MAX_TAGS} tags",
            "filter.tags",
        )
    if f.name:
        qs = qs.filter(name__contains=f.name.strip())
    if f.id_number:
        qs = qs.filter(id_number=f.id_number.strip().upper())
    if f.phone:
        qs = qs.filter(phone=f.phone.strip())
    if f.manager_id is not None:
        qs = qs.filter(manager_id=f.manager_id)
    for tag in f.tags:
        qs = qs.filter(tags__contains=f",{tag},")
    for flag in ("has_ebanking", "has_third_party_payment", "has_social_security_card"):
        value = getattr(f, flag)
        if value is not None:
            qs = qs.filter(**{flag: value})
    if f.has_loan is True:
        qs = qs.filter(loan_balance__gt=0)
    elif f.has_loan is False:
        qs = qs.filter(loan_balance=0)
    return qs


async def list_under(
    actor: Actor,
    node_id: int,
    filters: CustomerFilter,
    order: CustomerOrder = CustomerOrder.NAME,
    descending: bool = False,
    first: int | None = None,
    after: str | None = None,
) -> Page[Customer]:
    """Customers at any depth under a grid node that the actor may list."""
    node = await grid.get_node(actor, node_id, field="nodeId")
    qs = _apply_filter(visible_customers(actor), filters).filter(village__path__startswith=node.path)
    return await paginate(qs, ((order.value, descending), ("id", False)), first, after)


async def get_customer(actor: Actor, customer_id: int, *, audit_read: bool = True) -> Customer:
    """A customer the actor may see. Reading the detail with personal data unmasked is audited."""
    customer = await Customer.get_or_none(id=customer_id).select_related("village")
    if customer is None or not can_see_customer(actor, _village_path(customer), customer.manager_id):  # type: ignore[attr-defined]
        raise not_found("客户", "customer", "id")
    if audit_read:
        unmasked = sees_personal_data(actor, customer.manager_id)  # type: ignore[attr-defined]
        await record(actor, "customer.read", "Customer", customer.id, {"unmasked": unmasked})
    return customer


async def customers_by_ids(actor: Actor, ids: list[int]) -> list[Customer | None]:
    found = {c.id: c for c in await visible_customers(actor).filter(id__in=ids)}
    return [found.get(i) for i in ids]


def _village_path(customer: Customer) -> str | None:
    village = customer.village
    return village.path if isinstance(village, GridNode) else None
