"""The access policy of notifications: each is its recipient's alone, to read and to acknowledge. Predicate and
query filter side by side; someone else's notification answers as if it did not exist."""

from __future__ import annotations

from tortoise.expressions import Q

from domain.access import Actor


def may_see(actor: Actor, recipient_id: int) -> bool:
    return recipient_id == actor.staff_id


def visible(actor: Actor) -> Q:
    """The notifications the actor may see, as a filter on Notification: the same rule as may_see."""
    return Q(recipient_id=actor.staff_id)
