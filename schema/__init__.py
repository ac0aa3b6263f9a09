"""The GraphQL surface: composes Query, Mutation and Subscription from the per-domain modules. The only
package that imports strawberry."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry import relay
from strawberry.permission import BasePermission

from schema import auth, grid, grid_jobs, staff
from schema import customers as customer_api
from schema import jobs as job_api
from schema import notifications as notification_api
from schema.context import Info
from schema.extensions import build_extensions
from schema.pagination import CountedConnection
from schema.permissions import IsAuthenticated
from settings import SETTINGS, Settings

_signed_in: list[type[BasePermission]] = [IsAuthenticated]


@strawberry.type
class Query:
    @strawberry.field(
        description="Any object by its global id; null when it does not exist or is outside your scope",
        permission_classes=_signed_in,
    )
    async def node(self, info: Info, id: strawberry.ID) -> relay.Node | None:
        try:
            global_id = relay.GlobalID.from_id(id)
            return await global_id.resolve_node(info, required=False)  # type: ignore[no-any-return]
        except (ValueError, KeyError):  # malformed, or names a type that is not a Node
            return None

    viewer: staff.Viewer = strawberry.field(
        resolver=staff.viewer, description="The signed-in member of staff", permission_classes=_signed_in
    )
    grid_roots: list[grid.GridNode] = strawberry.field(
        resolver=grid.grid_roots, description="The top of the grid you can see", permission_classes=_signed_in
    )
    grid_node: grid.GridNode | None = strawberry.field(
        resolver=grid.grid_node_by_code, description="A grid node by its code", permission_classes=_signed_in
    )
    customer: customer_api.Customer | None = strawberry.field(
        resolver=customer_api.customer_detail,
        description="One customer's 360 view (reading it is audited)",
        permission_classes=_signed_in,
    )
    customers: CountedConnection[customer_api.Customer] = strawberry.field(
        resolver=customer_api.customers_under,
        description="Customers at any depth under a grid node, filtered and ordered",
        permission_classes=_signed_in,
    )
    job: job_api.Job | None = strawberry.field(
        resolver=job_api.job, description="One background run and its progress", permission_classes=_signed_in
    )
    jobs: CountedConnection[job_api.Job] = strawberry.field(
        resolver=job_api.jobs,
        description="Background runs you may see, newest first",
        permission_classes=_signed_in,
    )
    notifications: CountedConnection[notification_api.Notification] = strawberry.field(
        resolver=notification_api.notifications,
        description="Your notifications, newest first",
        permission_classes=_signed_in,
    )


@strawberry.type
class Mutation:
    login: auth.LoginResult = strawberry.mutation(
        resolver=auth.login, description="Sign in with login name and password; returns a bearer token"
    )
    create_customer: customer_api.CustomerResult = strawberry.mutation(
        resolver=customer_api.create_customer,
        description="Register a customer (客户建档)",
        permission_classes=_signed_in,
    )
    update_customer: customer_api.CustomerResult = strawberry.mutation(
        resolver=customer_api.update_customer,
        description="Change a customer's maintained fields",
        permission_classes=_signed_in,
    )
    acknowledge_notifications: notification_api.AcknowledgeNotificationsResult = strawberry.mutation(
        resolver=notification_api.acknowledge_notifications,
        description="Mark your notifications read; returns how many were",
        permission_classes=_signed_in,
    )
    start_assignment: grid_jobs.JobResult = strawberry.mutation(
        resolver=grid_jobs.start_assignment,
        description="Place customers in villages by location (网格归属), as a recorded run; head office and admin",
        permission_classes=_signed_in,
    )
    roll_up_kpis: grid_jobs.JobResult = strawberry.mutation(
        resolver=grid_jobs.roll_up_kpis,
        description="Recompute the grid KPIs for a period (default this month); head office and admin",
        permission_classes=_signed_in,
    )
    import_grid: grid_jobs.JobResult = strawberry.mutation(
        resolver=grid_jobs.import_grid,
        description="Import township or village polygons from an uploaded file (网格导入, GraphQL multipart "
        "request): checked whole, refused whole with a report, or created/updated by code keeping ids; head "
        "office and admin",
        permission_classes=_signed_in,
    )


@strawberry.type
class Subscription:
    notifications: AsyncGenerator[notification_api.Notification, None] = strawberry.subscription(
        resolver=notification_api.notification_feed,
        description="Your new notifications, live (graphql-transport-ws)",
        permission_classes=_signed_in,
    )


def build_schema(settings: Settings = SETTINGS) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[staff.Staff, grid.GridNode, customer_api.Customer],
        extensions=build_extensions(settings),
    )


schema = build_schema()
