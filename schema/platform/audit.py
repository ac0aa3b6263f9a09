"""The audit log in the graph, for head office: who did what to which record, who read whose personal data."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from domain.errors import DomainError
from models import AuditLog as AuditLogModel
from resolvers.platform import audit_log
from schema.platform.context import Info
from schema.platform.errors import query_error
from schema.platform.ids import decode_pk
from schema.platform.input_limits import max_length
from schema.platform.pagination import CountedConnection, Cursor


@strawberry.type(description="One entry of the audit log (审计日志)")
class AuditEntry(relay.Node):
    pk: relay.NodeID[int]
    actor_username: str = strawberry.field(description="Who (their login name then); empty for the system")
    action: str = strawberry.field(description="What, e.g. customer.update or personal_data.read")
    target_type: str
    target_id: str
    request_id: str = strawberry.field(description="The request it came from, as in the X-Request-ID header")
    created_at: datetime.datetime
    changes_data: strawberry.Private[Any]

    @strawberry.field(description="What changed, or for personal_data.read which fields were shown in clear")
    def changes(self) -> JSON:
        return self.changes_data  # type: ignore[no-any-return]

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[AuditEntry | None]:
        found = await audit_log.entries_by_ids(info.context.require_actor(), [int(i) for i in node_ids])
        return [cls.from_model(row) if row else None for row in found]

    @classmethod
    def from_model(cls, row: AuditLogModel) -> AuditEntry:
        return cls(
            pk=row.id,
            actor_username=row.actor_username,
            action=row.action,
            target_type=row.target_type,
            target_id=row.target_id,
            request_id=row.request_id,
            created_at=row.created_at,
            changes_data=row.changes,
        )


@strawberry.input(description="Narrow the audit log; every given condition must hold")
class AuditFilterInput:
    actor_id: strawberry.ID | None = strawberry.field(default=None, description="Global id of a Staff")
    action: str | None = strawberry.field(default=None, directives=max_length(64))
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global id of a Customer: everything done to them or read of their data"
    )
    target_type: str | None = strawberry.field(
        default=None, description="Customer, Household, GridNode, Job …", directives=max_length(32)
    )
    target_id: str | None = strawberry.field(default=None, directives=max_length(64))
    since: datetime.datetime | None = strawberry.field(default=None, description="From this moment on")
    until: datetime.datetime | None = strawberry.field(default=None, description="Before this moment")


def _filters(f: AuditFilterInput | None) -> audit_log.AuditFilter:
    if f is None:
        return audit_log.AuditFilter()
    target_type, target_id = f.target_type, f.target_id
    if f.customer_id is not None:
        target_type, target_id = "Customer", str(decode_pk(f.customer_id, "Customer", "filter.customerId"))
    return audit_log.AuditFilter(
        actor_id=decode_pk(f.actor_id, "Staff", "filter.actorId") if f.actor_id else None,
        action=f.action,
        target_type=target_type,
        target_id=target_id,
        since=f.since,
        until=f.until,
    )


async def audit_entries(
    info: Info, filter: AuditFilterInput | None = None, first: int | None = 20, after: Cursor = None
) -> CountedConnection[AuditEntry]:
    """Head office reads the audit log, newest first."""
    actor = info.context.require_actor()
    try:
        page = await audit_log.list_entries(actor, _filters(filter), first, after)
    except DomainError as error:
        raise query_error(error) from None
    return CountedConnection[AuditEntry].from_page(page, AuditEntry.from_model)


@strawberry.type
class Query:
    audit_log: CountedConnection[AuditEntry] = strawberry.field(
        resolver=audit_entries,
        description="Who did what to which record, and who read whose personal data, when; head office only",
    )
