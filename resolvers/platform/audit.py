"""Writing the audit log. Every mutation writes an entry in the same transaction as its change; every read of
a customer's full detail writes one too (who looked at whose personal data)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from domain.access import Actor
from models import AuditLog

current_request_id: ContextVar[str] = ContextVar("current_request_id", default="")


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
