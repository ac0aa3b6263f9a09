"""Starting the grid's background runs from the console: an assignment run and a KPI roll-up."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.errors import DomainError
from resolvers import assignment, kpis
from schema.context import Info
from schema.errors import JobError
from schema.jobs import Job

AssignmentScope = strawberry.enum(
    assignment.AssignmentScope,
    name="AssignmentScope",
    description="ALL customers, or only PENDING (new or moved)",
)
JobResult = Annotated[Job | JobError, strawberry.union("JobResult")]


async def start_assignment(
    info: Info,
    scope: assignment.AssignmentScope = assignment.AssignmentScope.PENDING,
    max_distance_m: float | None = None,
) -> JobResult:
    try:
        job = await assignment.start_assignment(info.context.require_actor(), scope, max_distance_m)
    except DomainError as error:
        return JobError.from_domain(error)  # type: ignore[no-any-return]
    return Job.from_model(job)


async def roll_up_kpis(info: Info, period: str | None = None) -> JobResult:
    try:
        job = await kpis.start_rollup(info.context.require_actor(), period)
    except DomainError as error:
        return JobError.from_domain(error)  # type: ignore[no-any-return]
    return Job.from_model(job)


__all__ = ["AssignmentScope", "JobResult", "roll_up_kpis", "start_assignment"]
