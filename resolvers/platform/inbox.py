"""A member of staff's inbox: their notifications, newest first, and acknowledging them (read). Delivery —
storing and pushing — is resolvers.platform.notifications."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from domain.access import Actor
from models import Notification
from resolvers.platform import notification_policy
from resolvers.platform.pagination import Page, paginate
from resolvers.platform.unit_of_work import unit_of_work

MAX_ACKNOWLEDGE = 500


async def list_notifications(
    actor: Actor, unread_only: bool = True, first: int | None = None, after: str | None = None
) -> Page[Notification]:
    """The actor's own notifications, newest first."""
    query = Notification.filter(notification_policy.visible(actor))
    if unread_only:
        query = query.filter(read_at__isnull=True)
    return await paginate(query, (("created_at", True), ("id", True)), first, after)


async def notifications_by_ids(actor: Actor, ids: Sequence[int]) -> list[Notification | None]:
    found = {n.id: n for n in await Notification.filter(notification_policy.visible(actor), id__in=list(ids))}
    return [found.get(i) for i in ids]


async def acknowledge(actor: Actor, ids: Sequence[int], *, now: datetime | None = None) -> int:
    """Mark the actor's own unread notifications among `ids` as read; returns how many. Ids of other people's
    notifications are ignored as if they did not exist. Audited when anything changed."""
    now = now or datetime.now(UTC)
    wanted = list(dict.fromkeys(ids))[:MAX_ACKNOWLEDGE]
    async with unit_of_work() as uow:
        mine = await Notification.filter(
            notification_policy.visible(actor), id__in=wanted, read_at__isnull=True
        ).values_list("id", flat=True)
        if not mine:
            return 0
        count = await Notification.filter(id__in=list(mine), read_at__isnull=True).update(read_at=now)
        await uow.audit(actor, "notification.acknowledge", "Notification", actor.staff_id, {"ids": sorted(mine)})
    return count
