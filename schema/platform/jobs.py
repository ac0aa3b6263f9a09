"""Background jobs in the graph: a run's status and progress while it runs, its report when it is done."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from domain.errors import DomainError, ErrorCode
from models import Job as JobModel
from models import JobStatus as JobStatusModel
from resolvers.grid import assignment
from resolvers.grid import imports as grid_import
from resolvers.platform import jobs as cases
from schema.grid.reports import AssignmentReport, GridImportReport
from schema.platform.context import Info
from schema.platform.errors import query_error
from schema.platform.ids import decode_pk
from schema.platform.input_limits import max_length
from schema.platform.pagination import CountedConnection, Cursor
from schema.staff.types import Staff

JOB_KIND_LENGTH = 32

# registers the model's enum with strawberry in place, so fields can be annotated with the model enum itself
JobStatus = strawberry.enum(JobStatusModel, name="JobStatus", description="待运行 / 运行中 / 成功 / 失败")


@strawberry.type(name="Job", description="A recorded run of background work (任务), cut into chunks")
class Job(relay.Node):
    pk: relay.NodeID[int]
    kind: str = strawberry.field(description="What kind of work, e.g. kpi_rollup or geo_assign")
    status: JobStatusModel
    chunks_total: int = strawberry.field(description="How many chunks the run is cut into")
    chunks_done: int = strawberry.field(description="How many chunks have succeeded")
    error: str = strawberry.field(description="Why the run failed; empty otherwise")
    created_at: datetime.datetime
    started_at: datetime.datetime | None = strawberry.field(description="When the first chunk started")
    finished_at: datetime.datetime | None
    result_data: strawberry.Private[Any]
    created_by_pk: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, job: JobModel) -> Job:
        return cls(
            pk=job.id,
            kind=job.kind,
            status=job.status,
            chunks_total=job.chunks_total,
            chunks_done=job.chunks_done,
            error=job.error,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            result_data=job.result,
            created_by_pk=job.created_by_id,
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Job | None]:
        found = await cases.jobs_by_ids(info.context.require_actor(), [int(i) for i in node_ids])
        return [cls.from_model(j) if j else None for j in found]

    @strawberry.field(description="Share of chunks done, from 0 to 1")
    def progress(self) -> float:
        if self.chunks_total == 0:
            return 1.0 if self.status == JobStatusModel.SUCCEEDED else 0.0
        return min(1.0, self.chunks_done / self.chunks_total)

    @strawberry.field(description="The run's report once it has succeeded; its shape depends on the kind")
    def result(self) -> JSON:
        return self.result_data  # type: ignore[no-any-return]

    @strawberry.field(
        description="A grid import's report, typed (problems by feature, overlaps, gap, counts); null for other kinds"
    )
    def grid_import(self) -> GridImportReport | None:
        if self.kind != grid_import.KIND or not self.result_data:
            return None
        return GridImportReport.from_result(self.result_data)

    @strawberry.field(
        description="An assignment run's report, typed (placed, moved, unplaced and why, managers told); null "
        "for other kinds and until the run has succeeded"
    )
    def assignment(self) -> AssignmentReport | None:
        if self.kind != assignment.KIND or self.status != JobStatusModel.SUCCEEDED:
            return None
        return AssignmentReport.from_result(self.result_data or {})

    @strawberry.field(description="Who started the run; null for scheduled runs")
    async def created_by(self, info: Info) -> Staff | None:
        if self.created_by_pk is None:
            return None
        staff = await info.context.loaders.staff_by_id.load(self.created_by_pk)
        return Staff.from_model(staff, info.context.require_actor()) if staff else None


async def job(info: Info, id: strawberry.ID) -> Job | None:
    """One run; you see the runs you started (head office and the administrator see all)."""
    actor = info.context.require_actor()
    try:
        found = await cases.get_job(actor, decode_pk(id, "Job", "id", ErrorCode.NOT_FOUND))
    except DomainError as error:
        raise query_error(error) from None
    return Job.from_model(found)


async def jobs(
    info: Info,
    kind: Annotated[str | None, strawberry.argument(directives=max_length(JOB_KIND_LENGTH))] = None,
    first: int | None = 20,
    after: Cursor = None,
) -> CountedConnection[Job]:
    """The runs you may see, newest first."""
    try:
        page = await cases.list_jobs(info.context.require_actor(), kind, first, after)
    except DomainError as error:
        raise query_error(error) from None
    return CountedConnection[Job].from_page(page, Job.from_model)


__all__ = ["Job", "JobStatus", "job", "jobs"]


@strawberry.type
class Query:
    job: Job | None = strawberry.field(resolver=job, description="One background run and its progress")
    jobs: CountedConnection[Job] = strawberry.field(
        resolver=jobs, description="Background runs you may see, newest first"
    )
