"""The staff directory: colleagues by id, as far as the actor may see them (resolvers.staff.policy)."""

from __future__ import annotations

from collections.abc import Sequence

from domain.access import Actor
from models import Staff
from resolvers.staff import policy


async def staff_by_ids(actor: Actor, ids: Sequence[int]) -> list[Staff | None]:
    """Batch body: staff in key order, None where absent or not the actor's to see."""
    found = {s.id: s for s in await Staff.filter(policy.visible(actor), id__in=list(ids))}
    return [found.get(i) for i in ids]
