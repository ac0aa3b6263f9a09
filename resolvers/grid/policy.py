"""The access policy of grid nodes and their KPIs: the predicate, the query filter and the KPI rule side by
side, so that what a node page answers and what a list returns can never disagree.

- Whole-grid roles (head office, the administrator) see every node.
- Anyone else sees their scope's subtrees and the breadcrumb above them (a customer manager sees the county
  and township names above their villages, not their siblings' contents).
- KPIs: head office everywhere; a branch president or customer manager inside their own subtrees.
- Batch work over the grid (assignment runs, KPI roll-ups, imports) is started by the whole-grid roles; a
  branch president may run it over a part of their own grid.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from tortoise.expressions import Q

from domain.access import CUSTOMER_LIST_ROLES, WHOLE_GRID_ROLES, Actor, Role
from domain.grid.paths import ancestor_paths, inside, on_breadcrumb

_NOTHING = Q(id=-1)


def may_see(actor: Actor, path: str) -> bool:
    """May the actor see the node at this path (name, code, polygon, children)?"""
    if actor.sees_whole_grid:
        return True
    return inside(path, actor.scope_paths) or on_breadcrumb(path, actor.scope_paths)


def visible(actor: Actor) -> Q:
    """The grid nodes the actor may see, as a filter on GridNode: the same rule as may_see."""
    if actor.sees_whole_grid:
        return Q()
    if not actor.scope_paths:
        return _NOTHING
    breadcrumb = {a for p in actor.scope_paths for a in ancestor_paths(p)}
    subtrees = [Q(path__startswith=p) for p in actor.scope_paths]
    return reduce(or_, subtrees, Q(path__in=sorted(breadcrumb)))


def may_see_kpis(actor: Actor, path: str) -> bool:
    """Head office everywhere; branch presidents and customer managers inside their own subtrees."""
    if actor.is_head_office:
        return True
    return actor.has(Role.BRANCH_PRESIDENT, Role.CUSTOMER_MANAGER) and inside(path, actor.scope_paths)


def kpis_visible(actor: Actor) -> Q:
    """The nodes whose KPIs the actor may read, as a filter on GridNode: the same rule as may_see_kpis."""
    if actor.is_head_office:
        return Q()
    if not actor.has(Role.BRANCH_PRESIDENT, Role.CUSTOMER_MANAGER) or not actor.scope_paths:
        return _NOTHING
    return reduce(or_, [Q(path__startswith=p) for p in actor.scope_paths])


def may_run_batch_work(actor: Actor) -> bool:
    """Assignment runs, KPI roll-ups and grid imports: the whole-grid roles."""
    return actor.has_any(WHOLE_GRID_ROLES)


def may_run_batch_work_over(actor: Actor, path: str | None) -> bool:
    """Batch work over the node at path, or the whole bank (None): the whole-grid roles anywhere, a branch
    president inside their own subtrees."""
    if may_run_batch_work(actor):
        return True
    return path is not None and actor.has(Role.BRANCH_PRESIDENT) and inside(path, actor.scope_paths)


def lists_customers(actor: Actor) -> bool:
    return actor.has_any(CUSTOMER_LIST_ROLES)
