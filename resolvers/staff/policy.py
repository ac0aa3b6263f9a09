"""The access policy of staff records: who may see which colleagues, and who sees their login names — the
predicate, the query filter that lists the same colleagues, and the masking decision, side by side.

People see the colleagues their work involves:

- themselves;
- the staff of their own outlet (网点);
- the staff whose grid scope overlaps theirs — one scope inside the other: a customer manager sees the branch
  president over their villages, a branch president the customer managers in their branch;
- the approvers, credit investigators and back office, the central posts every application passes through;
- head office and the administrator see everyone.

The managing officer of a customer is shown with that customer to everyone who may see the customer (see
`shown_with_customer`): the manager of a customer your work involves is someone your work involves, even when
their grid scope has since moved away from yours.

Login names are shown only to the administrator (who runs the accounts) and to the person themselves: a login
name is half of what a stranger needs to sign in.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import or_

from tortoise.expressions import Q, Subquery

from domain.access import Actor, Role
from models import Staff

SEES_ALL_STAFF = frozenset({Role.HEAD_OFFICE, Role.ADMIN})
CENTRAL_POSTS = frozenset({Role.APPROVER, Role.CREDIT_INVESTIGATOR, Role.BACK_OFFICE})


@dataclass(frozen=True)
class ColleagueFacts:
    """What the rules read off a member of staff."""

    staff_id: int
    roles: frozenset[Role]
    outlet_id: int | None
    scope_paths: tuple[str, ...]


def facts_of(staff: Staff) -> ColleagueFacts:
    """The facts of a staff row whose scope has been prefetched."""
    return ColleagueFacts(
        staff_id=staff.id,
        roles=frozenset(Role(r) for r in staff.roles),
        outlet_id=staff.outlet_id,  # type: ignore[attr-defined]
        scope_paths=tuple(node.path for node in staff.scope),
    )


def _overlap(mine: tuple[str, ...], theirs: tuple[str, ...]) -> bool:
    return any(a.startswith(b) or b.startswith(a) for a in mine for b in theirs)


def may_see(actor: Actor, colleague: ColleagueFacts) -> bool:
    """May the actor see this member of staff at all?"""
    if actor.roles & SEES_ALL_STAFF or colleague.staff_id == actor.staff_id:
        return True
    if colleague.roles & CENTRAL_POSTS:
        return True
    if actor.outlet_id is not None and colleague.outlet_id == actor.outlet_id:
        return True
    return _overlap(actor.scope_paths, colleague.scope_paths)


def _self_and_ancestors(path: str) -> list[str]:
    ids = [p for p in path.split("/") if p]
    return ["/" + "/".join(ids[:i]) + "/" for i in range(1, len(ids) + 1)]


def visible(actor: Actor) -> Q:
    """The staff the actor may see, as a filter on Staff: the same rule as may_see."""
    if actor.roles & SEES_ALL_STAFF:
        return Q()
    alternatives = [Q(id=actor.staff_id), *(Q(roles__contains=[role.value]) for role in sorted(CENTRAL_POSTS))]
    if actor.outlet_id is not None:
        alternatives.append(Q(outlet_id=actor.outlet_id))
    if actor.scope_paths:
        overlapping = [
            Q(scope__path__startswith=p) | Q(scope__path__in=_self_and_ancestors(p)) for p in actor.scope_paths
        ]
        # the scope join stays inside the subquery: staff without any scope still match the other alternatives
        alternatives.append(Q(id__in=Subquery(Staff.filter(reduce(or_, overlapping)).values("id"))))
    return reduce(or_, alternatives)


def shown_with_customer(actor: Actor, *, customer_visible: bool) -> bool:
    """The managing officer of a customer is shown with the customer to whoever may see that customer."""
    return customer_visible


def shows_login_name(actor: Actor, colleague_id: int) -> bool:
    """The masking decision: the login name for the administrator and for the person themselves."""
    return actor.has(Role.ADMIN) or actor.staff_id == colleague_id
