"""Starting the grid's recorded runs from the console: an assignment run, a KPI roll-up, a grid import."""

from __future__ import annotations

from typing import Annotated

import strawberry
from starlette.datastructures import UploadFile
from strawberry import relay
from strawberry.file_uploads import Upload

from domain.errors import DomainError
from resolvers.grid import assignment, kpis
from resolvers.grid import imports as grid_import
from resolvers.grid import uploads as grid_upload
from schema.grid.kpis import Period
from schema.platform.context import Info
from schema.platform.errors import JobError
from schema.platform.ids import decode_pk
from schema.platform.job_reports import graphql_enum
from schema.platform.jobs import Job

graphql_enum(grid_import.GridImportLevel)

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
    grid_node: Annotated[
        relay.GlobalID | None,
        strawberry.argument(description="Only the customers now in this node's villages; default the whole bank"),
    ] = None,
) -> JobResult:
    try:
        node_id = decode_pk(str(grid_node), "GridNode", "gridNode") if grid_node is not None else None
        job = await assignment.start_assignment(info.context.require_actor(), scope, max_distance_m, node_id)
    except DomainError as error:
        return JobError.from_domain(error)  # type: ignore[no-any-return]
    return Job.from_model(job)


async def roll_up_kpis(info: Info, period: Period = None) -> JobResult:
    try:
        job = await kpis.start_rollup(info.context.require_actor(), period)
    except DomainError as error:
        return JobError.from_domain(error)  # type: ignore[no-any-return]
    return Job.from_model(job)


async def import_grid(
    info: Info,
    file: Annotated[
        Upload, strawberry.argument(description="GeoJSON (.geojson/.json), GeoPackage (.gpkg) or zipped Shapefile")
    ],
    level: grid_import.GridImportLevel = grid_import.GridImportLevel.VILLAGE,
    code_field: Annotated[str, strawberry.argument(description="Attribute with the code")] = "code",
    name_field: Annotated[str, strawberry.argument(description="Attribute with the name")] = "name",
    parent_code_field: Annotated[
        str | None,
        strawberry.argument(
            description="Attribute with the parent's code (township, or county). Without this and parentNameField, "
            "villages read 'parent_code' and townships go under the county"
        ),
    ] = None,
    parent_name_field: Annotated[
        str | None, strawberry.argument(description="Attribute with the parent's name, instead of its code")
    ] = None,
    layer: Annotated[str | None, strawberry.argument(description="The layer, when the file has several")] = None,
) -> JobResult:
    fields = grid_import.ImportFields(code_field, name_field, parent_code_field, parent_name_field, layer)
    # a variable sent as JSON instead of a file part arrives as whatever the JSON held
    upload = file if isinstance(file, UploadFile) else None
    file_name = (upload.filename or "") if upload else ""
    try:
        job = await grid_upload.import_upload(
            info.context.require_actor(), file_name, upload.file if upload else None, level, fields
        )
    except DomainError as error:
        return JobError.from_domain(error)  # type: ignore[no-any-return]
    return Job.from_model(job)


__all__ = ["AssignmentScope", "JobResult", "import_grid", "roll_up_kpis", "start_assignment"]


@strawberry.type
class Mutation:
    start_assignment: JobResult = strawberry.mutation(
        resolver=start_assignment,
        description="Place customers in villages by location (网格归属), as a recorded run: head office and admin "
        "anywhere, a branch president over a node of their grid; while a run over the same scope is under way, that",
    )
    roll_up_kpis: JobResult = strawberry.mutation(
        resolver=roll_up_kpis,
        description="Recompute the grid KPIs for a period (default this month); head office and admin",
    )
    import_grid: JobResult = strawberry.mutation(
        resolver=import_grid,
        description="Import township or village polygons from an uploaded file (网格导入, GraphQL multipart "
        "request): checked whole, refused whole with a report, or created/updated by code keeping ids; head "
        "office and admin",
    )
