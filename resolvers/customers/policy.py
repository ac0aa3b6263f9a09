"""The access policy of customers: who may see, list, change and read in clear which customers, written side by
side — the predicate, the query filter that lists what the actor may see, and the masking decision — so that
a detail page, a list, a count and a mask can never disagree.

- Head office sees every customer, with personal data in clear.
- A branch president sees the customers in their branch's subtrees, masked; may change them (not their
  personal data) and reassign their managing officer within the branch.
- A customer manager sees the customers in their villages and those they manage; personal data in clear only
  for the customers they manage.
- The other roles see no customers through the grid (investigators, approvers and the back office will see
  them through the applications assigned to them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from operator import or_

from tortoise.expressions import Q, Subquery

from domain.access import CUSTOMER_CREATE_ROLES, Actor, Role
from domain.grid.paths import inside
from models import GridNode

# Fields only someone who sees the personal data may change.
PERSONAL_FIELDS = frozenset({"name", "phone", "address"})


@dataclass(frozen=True)
class CustomerFacts:
    """What the rules read off a customer: where they live in the grid and who manages them."""

    village_path: str | None
    manager_id: int | None


def list_scope(actor: Actor) -> tuple[str, ...] | None:
    """Grid paths whose customers this actor may list; None means the whole bank, () means none."""
    if actor.is_head_office:
        return None
    if actor.has(Role.BRANCH_PRESIDENT, Role.CUSTOMER_MANAGER):
        return actor.scope_paths
    return ()


def _manages(actor: Actor, facts: CustomerFacts) -> bool:
    return facts.manager_id is not None and facts.manager_id == actor.staff_id and actor.has(Role.CUSTOMER_MANAGER)


def may_see(actor: Actor, facts: CustomerFacts) -> bool:
    """May the actor see this customer at all?"""
    scope = list_scope(actor)
    if scope is None or _manages(actor, facts):
        return True
    return facts.village_path is not None and inside(facts.village_path, scope)


def living_under(paths: Sequence[str]) -> Q:
    """The customers whose village lies under any of the grid paths, as a filter on Customer. The villages are
    a subquery, not a join: the customer table is read by its village index, and the statement's text does not
    grow with the number of villages."""
    if not paths:
        return Q(id=-1)
    villages = GridNode.filter(reduce(or_, [Q(path__startswith=p) for p in paths])).values("id")
    return Q(village_id__in=Subquery(villages))


def visible(actor: Actor) -> Q:
    """The customers the actor may see, as a filter on Customer: the same rule as may_see."""
    scope = list_scope(actor)
    if scope is None:
        return Q()
    alternatives = [living_under(scope)] if scope else []
    if actor.has(Role.CUSTOMER_MANAGER):
        alternatives.append(Q(manager_id=actor.staff_id))
    return reduce(or_, alternatives) if alternatives else Q(id=-1)


def visible_under(actor: Actor, paths: Sequence[str]) -> Q:
    """The customers under any of the grid paths that the actor may see: visible and living_under together,
    as a filter on Customer. When every path lies inside the actor's list scope, whatever lives under them is
    visible already and the filter is living_under alone: one scan of the grid's paths, not two."""
    scope = list_scope(actor)
    if scope is None or (scope and all(inside(p, scope) for p in paths)):
        return living_under(paths)
    return visible(actor) & living_under(paths)


def sees_personal_data(actor: Actor, facts: CustomerFacts) -> bool:
    """The masking decision: full ID number, phone, address and location for head office and the customer
    manager who manages the customer; masked for everyone else who may see them."""
    return actor.is_head_office or _manages(actor, facts)


def personal_data_visible(actor: Actor) -> Q:
    """The customers whose personal data the actor sees in clear, as a filter on Customer: the same rule as
    sees_personal_data, for the customers the actor may see at all."""
    if actor.is_head_office:
        return Q()
    if actor.has(Role.CUSTOMER_MANAGER):
        return Q(manager_id=actor.staff_id)
    return Q(id=-1)


def may_search_by_personal_data(actor: Actor) -> bool:
    """Filtering by an ID number or phone is for those who see such data in clear, and it only ever matches
    the customers whose data they see (personal_data_visible): a search must never confirm a masked value."""
    return actor.is_head_office or actor.has(Role.CUSTOMER_MANAGER)


def may_edit(actor: Actor, facts: CustomerFacts) -> bool:
    """Head office anywhere; the managing customer manager; a branch president inside their branch."""
    if actor.is_head_office or _manages(actor, facts):
        return True
    return (
        actor.has(Role.BRANCH_PRESIDENT)
        and facts.village_path is not None
        and inside(facts.village_path, actor.scope_paths)
    )


def may_reassign_manager(actor: Actor) -> bool:
    return actor.is_head_office or actor.has(Role.BRANCH_PRESIDENT)


def may_file(actor: Actor) -> bool:
    """Who takes on new customers (客户建档)."""
    return actor.has_any(CUSTOMER_CREATE_ROLES)


def may_file_into(actor: Actor, village_path: str) -> bool:
    """Head office anywhere; others only into their own grid."""
    return actor.is_head_office or inside(village_path, actor.scope_paths)
