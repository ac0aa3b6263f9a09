"""Notifications in the graph: the list, acknowledging, and the live subscription."""

from __future__ import annotations

import datetime
from collections.abc import AsyncGenerator, Iterable
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.scalars import JSON

from domain.errors import DomainError, ErrorCode
from domain.errors import ErrorCode as SharedCode
from models import Notification as NotificationModel
from resolvers.platform import inbox
from resolvers.platform import notifications as delivery
from resolvers.platform.auth import AuthenticationError, actor_from_token
from schema.platform.context import Info
from schema.platform.errors import Error, query_error
from schema.platform.ids import decode_pk
from schema.platform.pagination import CountedConnection, Cursor


@strawberry.type(name="Notification", description="A message to you (通知): a finished run, a task pushed to you")
class Notification(relay.Node):
    pk: relay.NodeID[int]
    kind: str = strawberry.field(description="What it is about, e.g. job.succeeded or job.failed")
    title: str
    body: str
    created_at: datetime.datetime
    read_at: datetime.datetime | None = strawberry.field(description="When you acknowledged it; null while unread")
    payload_data: strawberry.Private[Any]

    @classmethod
    def from_model(cls, n: NotificationModel) -> Notification:
        return cls(
            pk=n.id,
            kind=n.kind,
            title=n.title,
            body=n.body,
            created_at=n.created_at,
            read_at=n.read_at,
            payload_data=n.payload,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Notification | None]:
        found = await inbox.notifications_by_ids(info.context.require_actor(), [int(i) for i in node_ids])
        return [cls.from_model(n) if n else None for n in found]

    @strawberry.field(description="Details for the client, e.g. {job_id, kind, status}; the shape depends on the kind")
    def payload(self) -> JSON:
        return self.payload_data  # type: ignore[no-any-return]


@strawberry.type(description="How many notifications were marked read")
class AcknowledgeNotificationsSuccess:
    acknowledged: int = strawberry.field(
        description="Your unread notifications among the ids, now read (other ids are ignored)"
    )


@strawberry.type(description="The notifications could not be acknowledged; nothing was changed")
class NotificationError(Error):
    code: SharedCode = strawberry.field(description="Machine-readable code")


AcknowledgeNotificationsResult = Annotated[
    AcknowledgeNotificationsSuccess | NotificationError, strawberry.union("AcknowledgeNotificationsResult")
]


async def notifications(
    info: Info, unread_only: bool = True, first: int | None = 20, after: Cursor = None
) -> CountedConnection[Notification]:
    """Your notifications, newest first."""
    try:
        page = await inbox.list_notifications(info.context.require_actor(), unread_only, first, after)
    except DomainError as error:
        raise query_error(error) from None
    return CountedConnection[Notification].from_page(page, Notification.from_model)


async def acknowledge_notifications(info: Info, ids: list[strawberry.ID]) -> AcknowledgeNotificationsResult:
    actor = info.context.require_actor()
    try:
        if len(ids) > inbox.MAX_ACKNOWLEDGE:
            raise DomainError(
                ErrorCode.INVALID_VALUE,
                f"一次最多确认{inbox.MAX_ACKNOWLEDGE}条",
                f"at most {inbox.MAX_ACKNOWLEDGE} ids at a time",
                "ids",
            )
        pks = [decode_pk(i, "Notification", "ids") for i in ids]
        count = await inbox.acknowledge(actor, pks)
    except DomainError as error:
        return NotificationError.from_domain(error)  # type: ignore[no-any-return]
    return AcknowledgeNotificationsSuccess(acknowledged=count)


async def notification_feed(info: Info) -> AsyncGenerator[Notification, None]:
    """New notifications for the signed-in member of staff, as they are sent."""
    actor, token = info.context.require_actor(), info.context.token

    async def still_signed_in() -> None:
        try:
            await actor_from_token(token)
        except AuthenticationError as error:
            raise GraphQLError(
                f"{error.message_zh} / {error.message_en}", extensions={"code": ErrorCode.UNAUTHENTICATED.value}
            ) from None

    async for notification in delivery.live(actor.staff_id, still_signed_in):
        yield Notification.from_model(notification)


__all__ = [
    "AcknowledgeNotificationsResult",
    "Notification",
    "NotificationError",
    "acknowledge_notifications",
    "notification_feed",
    "notifications",
]


@strawberry.type
class Query:
    notifications: CountedConnection[Notification] = strawberry.field(
        resolver=notifications, description="Your notifications, newest first"
    )


@strawberry.type
class Mutation:
    acknowledge_notifications: AcknowledgeNotificationsResult = strawberry.mutation(
        resolver=acknowledge_notifications,
        description="Mark your notifications read; returns how many were",
    )


@strawberry.type
class Subscription:
    notifications: AsyncGenerator[Notification, None] = strawberry.subscription(
        resolver=notification_feed,
        description="Your new notifications, live (graphql-transport-ws)",
    )
