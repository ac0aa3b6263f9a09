"""Browsing customers: listing them under a grid node, counting them down a drill-down, one customer's 360 detail,
batches by id for the DataLoaders — all through the customer policy (resolvers.customers.policy), and handing
back views with the policy's masking applied. A customer outside the actor's reach is NOT_FOUND. Reading a
customer's detail is audited.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from tortoise.expressions import RawSQL
from tortoise.queryset import QuerySet, ValuesQuery

from domain.access import Actor
from domain.customers.idcard import shaped_id_number
from domain.customers.phone import normalize_phone
from domain.customers.validation import MAX_TAGS
from domain.errors import DomainError, ErrorCode, forbidden, not_found
from domain.grid.paths import covering_paths, inside
from models import Customer, GridNode, Household, Staff
from resolvers.customers import policy
from resolvers.customers.views import (
    UNTIMED_COLUMNS,
    VIEW_COLUMNS,
    CustomerRow,
    CustomerView,
    HouseholdView,
    customer_view,
    household_view,
    row_of,
)
from resolvers.grid import browse as grid
from resolvers.grid import policy as grid_policy
from resolvers.platform.audit import record
from resolvers.platform.db import fetch, statement
from resolvers.platform.pagination import Page, paginate
from resolvers.staff.directory import STAFF_CARD


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
    *,
    timestamps: bool = True,
) -> Page[CustomerView]:
    """Customers at any depth under a grid node that the actor may list, as views. The page reads the
    customers' own columns as plain values (the timestamps only when asked for); the total is counted only
    when someone asks for it."""
    node = await grid.get_node(actor, node_id, field="nodeId")
    qs = _apply_filter(actor, Customer.filter(policy.visible_under(actor, [node.path])), filters)
    columns = (
        VIEW_COLUMNS if timestamps else (*UNTIMED_COLUMNS, *(["created_at"] if order.value == "created_at" else []))
    )
    page = await paginate(qs, ((order.value, descending), ("id", False)), first, after, columns=columns)
    return page.with_items(await views_of(actor, page.items))


async def views_of(actor: Actor, customers: Sequence[Customer | CustomerRow]) -> list[CustomerView]:
    """Views of customers the actor may see (loaded models or rows of VIEW_COLUMNS), with their villages (as
    far as the actor may see them) and their managing officers attached in one statement each."""
    rows = [c if isinstance(c, Mapping) else row_of(c) for c in customers]
    village_ids = sorted({r["village_id"] for r in rows if r["village_id"]})
    villages = {v["id"]: v for v in await grid.node_rows(village_ids)}
    manager_ids = sorted({r["manager_id"] for r in rows if r["manager_id"]})
    # the managing officer of a customer you may see is part of that customer's record
    managers = {s.id: s for s in await Staff.filter(id__in=manager_ids).only(*STAFF_CARD)} if manager_ids else {}
    today = datetime.now(UTC).date()
    views = []
    for row in rows:
        village = villages.get(row["village_id"])
        path = village["path"] if village else None
        rules = policy.CustomerFacts(village_path=path, manager_id=row["manager_id"])
        view = customer_view(row, clear=policy.sees_personal_data(actor, rules), today=today)
        view.village_node = village if village and grid_policy.may_see(actor, village["path"]) else None
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
    found = await visible_customers(actor).filter(id__in=list(ids)).values(*VIEW_COLUMNS)
    views = {v.pk: v for v in await views_of(actor, found)}
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


class CustomerCounts:
    """One request's customer counts down the grid, for one actor: each subtree counted once.

    Counting a node's customers reads every customer under it grouped by village (one statement, filtered by
    the customer policy's own query filter), and that same reading answers every node below it too: a
    drill-down from the county to its villages, asked level by level, costs one statement in all. The counts
    are live, never cached beyond the request."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self._counted: list[str] = []  # subtree roots whose totals below are complete
        self._totals: dict[str, int] = {}

    async def under(self, node_paths: Sequence[str]) -> list[int]:
        """For each node, the customers under it (any depth) the actor may see."""
        missing = [p for p in node_paths if not inside(p, self._counted)]
        if missing:
            await self._count(covering_paths(missing))
        return [self._totals.get(p, 0) for p in node_paths]

    async def _count(self, roots: list[str]) -> None:
        per_village = (
            Customer.filter(policy.visible_under(self.actor, roots))
            .annotate(customers=RawSQL("COUNT(*)"))  # COUNT("id") reads the id: twice the time on SQLite
            .group_by("village_id")
            .values("village_id", "customers")
        )
        rows = await with_village_paths(per_village)
        # a root counted now replaces whatever was counted inside it before
        self._counted = [p for p in self._counted if not inside(p, roots)] + roots
        self._totals = {p: n for p, n in self._totals.items() if not inside(p, roots)}
        for row in rows:
            village_path, count = row["village_path"], int(row["customers"])
            root = next(r for r in roots if village_path.startswith(r))
            # the village and every node above it up to the counted root: "/1/7/42/" under "/1/" adds to
            # "/1/", "/1/7/" and "/1/7/42/"
            end = len(root) - 1
            while end != -1:
                node_path = village_path[: end + 1]
                self._totals[node_path] = self._totals.get(node_path, 0) + count
                end = village_path.find("/", end + 1)


async def with_village_paths(per_village: ValuesQuery[Literal[False]]) -> list[dict[str, Any]]:
    """Rows counted per village (village_id, customers) with each village's path, in the same statement: the
    count grouped on the customer table alone, the paths joined to its few hundred rows afterwards."""
    sql, params = statement(per_village)
    return await fetch(
        f"SELECT v.path AS village_path, t.customers FROM ({sql}) t JOIN grid_node v ON v.id = t.village_id", params
    )
