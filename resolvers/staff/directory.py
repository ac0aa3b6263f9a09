"""The staff directory: looking up colleagues by id, listing them, and the managing officers of customers —
every one through the staff policy, so that a colleague the actor may not see is not there (None, or
NOT_FOUND), never a hint that they exist."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.access import Actor
from domain.errors import not_found
from models import Staff
from resolvers.customers import policy as customer_policy
from resolvers.platform.pagination import Page, paginate
from resolvers.staff import policy

# What a colleague's card shows (schema.staff.types.Staff): never the password hash.
STAFF_CARD = ("id", "username", "display_name", "roles", "is_active")


@dataclass(frozen=True)
class ManagedCustomer:
    """What is needed to show a customer's managing officer: where the customer lives and who manages them."""

    village_path: str | None
    manager_id: int | None


async def get_staff(actor: Actor, staff_id: int, field: str = "id") -> Staff:
    """A colleague the actor may see, or NOT_FOUND."""
    staff = await Staff.get_or_none(id=staff_id).prefetch_related("scope")
    if staff is None or not policy.may_see(actor, policy.facts_of(staff)):
        raise not_found("员工", "member of staff", field)
    return staff


async def staff_by_ids(actor: Actor, ids: Sequence[int]) -> list[Staff | None]:
    """Batch loader body: colleagues in key order, None where absent or not visible to the actor."""
    found = {s.id: s for s in await Staff.filter(policy.visible(actor), id__in=list(ids))}
    return [found.get(i) for i in ids]


async def list_staff(actor: Actor, first: int | None = None, after: str | None = None) -> Page[Staff]:
    """The colleagues the actor may see, by login name."""
    return await paginate(Staff.filter(policy.visible(actor)), (("username", False), ("id", False)), first, after)


async def managers_of(actor: Actor, customers: Sequence[ManagedCustomer]) -> list[Staff | None]:
    """The managing officer of each customer, shown to whoever may see that customer (the staff policy's
    shown_with_customer); None for a customer without one or one the actor may not see. One query."""
    shown = [
        c.manager_id
        if c.manager_id is not None
        and policy.shown_with_customer(
            actor,
            customer_visible=customer_policy.may_see(
                actor, customer_policy.CustomerFacts(c.village_path, c.manager_id)
            ),
        )
        else None
        for c in customers
    ]
    wanted = sorted({i for i in shown if i is not None})
    found = {s.id: s for s in await Staff.filter(id__in=wanted)} if wanted else {}
    return [found.get(i) if i is not None else None for i in shown]
