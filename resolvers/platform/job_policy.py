"""The access policy of background runs: the whole-grid roles (head office, the administrator) follow every
run; anyone else the runs they started themselves. Predicate and query filter side by side."""

from __future__ import annotations

from tortoise.expressions import Q

from domain.access import WHOLE_GRID_ROLES, Actor


def may_see(actor: Actor, created_by_id: int | None) -> bool:
    return actor.has_any(WHOLE_GRID_ROLES) or (created_by_id is not None and created_by_id == actor.staff_id)


def visible(actor: Actor) -> Q:
    """The jobs the actor may see, as a filter on Job: the same rule as may_see."""
    return Q() if actor.has_any(WHOLE_GRID_ROLES) else Q(created_by_id=actor.staff_id)
