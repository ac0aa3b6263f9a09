"""Writing the audit log. Every mutation writes an entry in the same transaction as its change; every read of
a customer's full detail writes one too, and every response that carries personal data in clear writes one row
per customer shown naming the fields (who read whose personal data)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from domain.access import Actor
from models import AuditLog

current_request_id: ContextVar[str] = ContextVar("current_request_id", default="")
PERSONAL_DATA_READ = "personal_data.read"


async def record(
    actor: Actor | None,
    action: str,
    target_type: str,
    target_id: object,
    changes: dict[str, Any] | None = None,
    *,
    using_db: BaseDBAsyncClient | None = None,
) -> None:
    await AuditLog.create(
        actor_id=actor.staff_id if actor else None,
        actor_username=actor.username if actor else "",
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        changes=changes or {},
        request_id=current_request_id.get(),
        using_db=using_db,
    )


async def record_many(
    actor: Actor | None,
    action: str,
    target_type: str,
    entries: Iterable[tuple[object, dict[str, Any]]],
    *,
    using_db: BaseDBAsyncClient | None = None,
) -> None:
    """The audit rows of one action on many records (a batch run's), in multi-row inserts: (target id, changes)."""
    from resolvers.platform.db import insert_rows

    request_id, now = current_request_id.get(), datetime.now(UTC)
    rows = [
        {"actor_id": actor.staff_id if actor else None, "actor_username": actor.username if actor else "",
         "action": action, "target_type": target_type, "target_id": str(target_id), "changes": changes,
         "request_id": request_id, "created_at": now}
        for target_id, changes in entries
    ]  # fmt: skip
    await insert_rows(AuditLog, rows, using_db)


async def record_disclosures(actor: Actor, disclosed: Mapping[tuple[str, int], Iterable[str]]) -> None:
    """Who read whose personal data in clear: one row per record shown (target type and id), naming the fields
    the response carried, written before the response may leave. One multi-row insert per target type (a page
    of customers is one statement, atomic on its own), not a row at a time."""
    by_type: dict[str, list[tuple[object, dict[str, Any]]]] = {}
    for (target_type, target_id), fields in sorted(disclosed.items()):
        by_type.setdefault(target_type, []).append((target_id, {"fields": sorted(fields)}))
    if len(by_type) == 1:
        ((target_type, entries),) = by_type.items()
        await record_many(actor, PERSONAL_DATA_READ, target_type, entries)
        return
    async with in_transaction() as conn:
        for target_type, entries in by_type.items():
            await record_many(actor, PERSONAL_DATA_READ, target_type, entries, using_db=conn)
