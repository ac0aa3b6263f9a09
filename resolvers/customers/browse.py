"""Browsing customers: listing them under a grid node, counting them down a drill-down, one customer's 360 detail,
batches by id for the DataLoaders — all through the customer policy (resolvers.customers.policy), and handing
back views with the policy's masking applied. A customer outside the actor's reach is NOT_FOUND. Reading a
customer's detail is audited.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import reduce
from operator import or_

from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from domain.access import Actor
from domain.customers.idcard import shaped_id_number
from domain.customers.phone import normalize_phone
from domain.customers.validation import MAX_TAGS
from domain.errors import DomainError, ErrorCode, forbidden, not_found
from domain.grid.paths import ancestor_paths, covering_paths
from models import Customer, GridNode, Household, Staff
from resolvers.customers import policy
from resolvers.customers.views import CustomerView, HouseholdView, customer_view, household_view
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


def facts(customer: Customer, village_path: str | None) -> policy.CustomerFacts:
    return policy.CustomerFacts(village_path=village_path, manager_id=customer.manager_id)  # type: ignore[attr-defined]


def visible_customers(actor: Actor) -> QuerySet[Customer]:
    return Customer.filter(policy.visible(actor))


def _apply_filter(actor: Actor, qs: QuerySet[Customer], f: CustomerFilter) -> QuerySet[Customer]:
    if len(f.tags) > MAX_TAGS:
        raise DomainError(
            ErrorCode.INVALID_VALUE,
            f"标签条件最多{MAX_TAGS}个",
            f"filter by at most {MAX_TAGS} tags",
            "filter.tags",
        )
    if f.id_number or f.phone:
        if not policy.may_search_by_personal_data(actor):
            raise forbidden("按身份证号码或手机号码查找客户", "search customers by ID number or phone")
        qs = qs.filter(policy.personal_data_visible(actor))
    if f.name:
        qs = qs.filter(name__contains=f.name.strip())
    if f.id_number:
        qs = qs.filter(id_number=shaped_id_number(f.id_number, field="filter.idNumber"))
    if f.phone:
        qs = qs.filter(phone=normalize_phone(f.phone, field="filter.phone"))
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
) -> Page[CustomerView]:
    """Customers at any depth under a grid node that the actor may list, as views."""
    node = await grid.get_node(actor, node_id, field="nodeId")
    qs = _apply_filter(actor, visible_customers(actor), filters).filter(village__path__startswith=node.path)
    page = await paginate(qs, ((order.value, descending), ("id", False)), first, after)
    return page.with_items(await views_of(actor, page.items))


async def views_of(actor: Actor, customers: Sequence[Customer]) -> list[CustomerView]:
    """Views of customers the actor may see, with their villages (as far as the actor may see them) and their
    managing officers attached in one batch each."""
    village_ids = sorted({c.village_id for c in customers if c.village_id})  # type: ignore[attr-defined]
    villages = {v.id: v for v in await grid.nodes_by_ids(actor, village_ids) if v is not None}
    paths = dict(await GridNode.filter(id__in=village_ids).values_list("id", "path")) if village_ids else {}
    manager_ids = sorted({c.manager_id for c in customers if c.manager_id})  # type: ignore[attr-defined]
    # the managing officer of a customer you may see is part of that customer's record
    managers = {s.id: s for s in await Staff.filter(id__in=manager_ids)} if manager_ids else {}
    today = datetime.now(UTC).date()
    views = []
    for customer in customers:
        village_id = customer.village_id  # type: ignore[attr-defined]
        view = customer_view(
            customer, clear=policy.sees_personal_data(actor, facts(customer, paths.get(village_id))), today=today
        )
        view.village_node = villages.get(village_id)
        view.manager_staff = managers.get(view.manager_pk) if view.manager_pk else None
        views.append(view)
    return views


async def find_customer(actor: Actor, customer_id: int) -> Customer:
    """The customer model, if the actor may see them; NOT_FOUND otherwise (also when absent)."""
    customer = await Customer.get_or_none(id=customer_id).select_related("village")
    village = customer.village if customer is not None else None
    path = village.path if isinstance(village, GridNode) else None
    if customer is None or not policy.may_see(actor, facts(customer, path)):
        raise not_found("客户", "customer", "id")
    return customer


async def get_customer(actor: Actor, customer_id: int) -> CustomerView:
    """One customer's 360 view. Reading it is audited, noting whether personal data was shown in clear."""
    customer = await find_customer(actor, customer_id)
    (view,) = await views_of(actor, [customer])
    await record(actor, "customer.read", "Customer", customer.id, {"unmasked": not view.masked})
    return view


async def customers_by_ids(actor: Actor, ids: Sequence[int]) -> list[CustomerView | None]:
    """Batch body: views in key order, None where absent or out of reach."""
    found = {c.id: c for c in await visible_customers(actor).filter(id__in=list(ids))}
    views = {v.pk: v for v in await views_of(actor, list(found.values()))}
    return [views.get(i) for i in ids]


async def households_by_ids(actor: Actor, ids: Sequence[int]) -> list[HouseholdView | None]:
    """Batch body: the households in key order that have a member the actor may see, masked unless the actor
    sees one of those members' personal data."""
    members = await visible_customers(actor).filter(household_id__in=list(ids)).select_related("village")
    clear: dict[int, bool] = defaultdict(bool)
    for member in members:
        village = member.village
        path = village.path if isinstance(village, GridNode) else None
        household_id = member.household_id  # type: ignore[attr-defined]
        clear[household_id] = clear[household_id] or policy.sees_personal_data(actor, facts(member, path))
    found = {h.id: h for h in await Household.filter(id__in=list(clear))}
    return [household_view(found[i], clear=clear[i]) if i in found else None for i in ids]


async def counts_under(actor: Actor, node_paths: Sequence[str]) -> list[int]:
    """Batch body: for each node, the customers under it (any depth) the actor may see.

    One GROUP BY per village under the requested nodes, filtered by the customer policy's own query filter,
    then each village's count is added to every node on its path: the customer table is read once however
    many nodes (a whole drill-down) are asked for."""
    if not node_paths:
        return []
    roots = covering_paths(node_paths)
    under = reduce(or_, [Q(village__path__startswith=root) for root in roots], Q(id=-1))
    rows = await (
        visible_customers(actor)
        .filter(under)
        .annotate(customers=Count("id"))
        .group_by("village__path")
        .values("village__path", "customers")
    )
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        village_path, count = row["village__path"], int(row["customers"])
        for ancestor in [*ancestor_paths(village_path), village_path]:
            totals[ancestor] += count
    return [totals.get(p, 0) for p in node_paths]
