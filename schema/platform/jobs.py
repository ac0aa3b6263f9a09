"""Background jobs in the graph: a run's status and progress while it runs, its report when it is done.

The Job type knows no kind: its report is the union of the report types derived from resolvers.kinds.KINDS,
and each kind's report is also a field of its own, named after its report type (AssignmentReport:
assignment), null for the other kinds.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Iterable
from typing import Annotated, Any

import strawberry
from pydantic import ValidationError
from strawberry import relay
from strawberry.scalars import JSON

from domain.errors import DomainError, ErrorCode
from models import Job as JobModel
from models import JobStatus as JobStatusModel
from resolvers.kinds import KINDS
from resolvers.platform import jobs as cases
from resolvers.platform.job_kinds import AnyRecorded
from schema.platform.context import Info
from schema.platform.errors import query_error
from schema.platform.ids import decode_pk
from schema.platform.input_limits import max_length
from schema.platform.job_reports import report_type, report_union, to_graphql
from schema.platform.pagination import CountedConnection, Cursor
from schema.staff.types import Staff

JOB_KIND_LENGTH = 32

# registers the model's enum with strawberry in place, so fields can be annotated with the model enum itself
JobStatus = strawberry.enum(JobStatusModel, name="JobStatus", description="待运行 / 运行中 / 成功 / 失败")
JobReport = report_union(KINDS, "JobReport")
_SHOWN = {kind.name: kind for kind in KINDS}
log = logging.getLogger("palmcredit.schema.jobs")


def _report(job: Job) -> Any:
    """The job's report as its kind's GraphQL type; None before it has one, or for a run recorded before
    reports were typed (its result stays readable as JSON)."""
    kind = _SHOWN.get(job.kind)
    if kind is None or not job.result_data:
        return None
    try:
        report = kind.report_codec.load(job.result_data)
    except ValidationError:
        log.info("job %s: its result is not a %s report", job.pk, kind.name)
        return None
    return to_graphql(report, job.pk)


def _field_name(kind: AnyRecorded) -> str:
    """AssignmentReport → assignment, GridImportReport → grid_import."""
    name = kind.report.__name__.removesuffix("Report")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _kind_report_field(kind: AnyRecorded) -> Any:
    def resolve(root: Job) -> Any:
        return _report(root) if root.kind == kind.name else None

    resolve.__annotations__["return"] = report_type(kind) | None
    return strawberry.field(
        resolver=resolve, description=f"The {kind.title_en}'s report, typed; null for other kinds and until it has one"
    )


KindReports = strawberry.type(
    type("KindReports", (), {_field_name(kind): _kind_report_field(kind) for kind in KINDS}),
    name="KindReports",
)


@strawberry.type(name="Job", description="A recorded run of background work (任务), cut into chunks")
class Job(KindReports, relay.Node):  # type: ignore[valid-type,misc]
    pk: relay.NodeID[int]
    kind: str = strawberry.field(description="What kind of work, e.g. kpi_rollup or geo_assign")
    scope: str = strawberry.field(description="The part of the grid it runs over: a node's path, / for the bank")
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
            scope=job.scope,
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

    @strawberry.field(description="The run's report as JSON once it has one; its shape depends on the kind")
    def result(self) -> JSON:
        return self.result_data  # type: ignore[no-any-return]

    @strawberry.field(description="The run's report, typed by its kind; null until it has one")
    def report(self) -> JobReport | None:  # type: ignore[valid-type]
        return _report(self)  # type: ignore[no-any-return]

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
