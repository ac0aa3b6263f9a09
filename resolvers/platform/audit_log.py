"""Reading the audit log: who did what to which record, and who read whose personal data, when — for head
office (the bank's compliance and audit departments sit there), filtered and keyset-paged, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q

from domain.access import Actor
from domain.errors import forbidden
from models import AuditLog
from resolvers.platform.pagination import Page, paginate


def may_read(actor: Actor) -> bool:
    """The audit log's policy: head office reads all of it; nobody else reads any."""
    return actor.is_head_office


def visible(actor: Actor) -> Q:
    """The entries the actor may read, as a filter on AuditLog: the same rule as may_read."""
    return Q() if may_read(actor) else Q(id=-1)


@dataclass(frozen=True)
class AuditFilter:
    actor_id: int | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def list_entries(
    actor: Actor, filters: AuditFilter, first: int | None = None, after: str | None = None
) -> Page[AuditLog]:
    """Audit entries matching every given condition, newest first."""
    if not may_read(actor):
        raise forbidden("查阅审计日志", "read the audit log")
    query = AuditLog.filter(visible(actor))
    if filters.actor_id is not None:
        query = query.filter(actor_id=filters.actor_id)
    if filters.action:
        query = query.filter(action=filters.action)
    if filters.target_type:
        query = query.filter(target_type=filters.target_type)
    if filters.target_id:
        query = query.filter(target_id=filters.target_id)
    if filters.since is not None:
        query = query.filter(created_at__gte=filters.since)
    if filters.until is not None:
        query = query.filter(created_at__lt=filters.until)
    return await paginate(query, (("created_at", True), ("id", True)), first, after)


async def entries_by_ids(actor: Actor, ids: Sequence[int]) -> list[AuditLog | None]:
    """Batch body: entries in key order, None where absent or not the actor's to read."""
    found = {row.id: row for row in await AuditLog.filter(visible(actor), id__in=list(ids))}
    return [found.get(i) for i in ids]
