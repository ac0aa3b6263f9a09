"""Household surveys imported from a bank's spreadsheet (入户调查表批量导入) in the graph: the saved column
mappings, the dry run and the start (the file sent as a GraphQL multipart upload, as the grid import takes
its file), the import with its progress and problems, and the error sheet as a data: URL, as the project serves
its other files (the contract PDF, the KPI map)."""

from __future__ import annotations

import base64
import datetime
from typing import Annotated

import strawberry
from starlette.datastructures import UploadFile
from strawberry import relay
from strawberry.file_uploads import Upload

from domain.errors import DomainError, ErrorCode
from domain.village_credit import sheets
from models import SurveyImportStatus as SurveyImportStatusModel
from models import SurveyImportTemplate as TemplateModel
from resolvers.village_credit import imports as cases
from resolvers.village_credit.imports import ImportView
from schema.platform.context import Info
from schema.platform.errors import VillageCreditError, query_error
from schema.platform.ids import decode_pk
from schema.platform.input_limits import max_items, max_length
from settings import SETTINGS

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _gid(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(relay.to_base64(type_name, pk))


@strawberry.type(description="Which of the sheet's headers holds one of our fields")
class ColumnMapping:
    field: str = strawberry.field(description="Our field: household_no, relation, name, id_number, …")
    header: str = strawberry.field(description="The header text in the bank's sheet")


@strawberry.type(description="A bank's sheet layout, saved by name (导入模板)")
class SurveyImportTemplate:
    id: strawberry.ID
    name: str
    mapping: list[ColumnMapping]
    updated_at: datetime.datetime

    @classmethod
    def of(cls, template: TemplateModel) -> SurveyImportTemplate:
        return cls(
            id=_gid("SurveyImportTemplate", template.id),
            name=template.name,
            mapping=[ColumnMapping(field=k, header=v) for k, v in template.mapping.items()],
            updated_at=template.updated_at,
        )


@strawberry.type(description="One problem of the sheet, where the user sees it, in both languages")
class SurveyImportProblem:
    code: str
    row: int | None = strawberry.field(description="The sheet's row number (1 is the header); none: the whole file")
    column: str | None = strawberry.field(description="The column letter")
    header: str | None
    message_zh: str
    message_en: str


SurveyImportStatus = strawberry.enum(SurveyImportStatusModel, name="SurveyImportStatus", description="导入状态")


@strawberry.type(description="A spreadsheet of household surveys: dry-run, then imported as a job")
class SurveyImport:
    view: strawberry.Private[ImportView]
    id: strawberry.ID
    campaign_id: strawberry.ID
    file_name: str
    format: str
    status: SurveyImportStatus  # type: ignore[valid-type]
    rows_total: int
    households_total: int
    households_valid: int = strawberry.field(description="Households without a problem in the dry run")
    saved: int
    updated: int = strawberry.field(
        description="Households an earlier import of the same sheet stored, corrected by this one (the sheet's row "
        "differs): the newer edit wins"
    )
    duplicates: int = strawberry.field(description="Already stored, unchanged, by an earlier import of the same sheet")
    errors: int = strawberry.field(description="Households not imported")
    chunks_done: int
    chunks_total: int
    problems_total: int
    problems: list[SurveyImportProblem] = strawberry.field(description="The first 1,000 problems")
    created_at: datetime.datetime

    @classmethod
    def of(cls, view: ImportView) -> SurveyImport:
        r = view.record
        return cls(
            view=view, id=_gid("SurveyImport", r.id), campaign_id=_gid("VillageCampaign", r.campaign_id),  # type: ignore[attr-defined]
            file_name=r.file_name, format=r.file_format, status=view.status, rows_total=r.rows_total,
            households_total=r.households_total, households_valid=r.households_valid, saved=r.saved,
            updated=r.updated, duplicates=r.duplicates, errors=r.errors, chunks_done=view.chunks_done,
            chunks_total=view.chunks_total, problems_total=r.problems_total, created_at=r.created_at,
            problems=[
                SurveyImportProblem(
                    code=p.code, row=p.row, column=p.column, header=p.header, message_zh=p.message_zh,
                    message_en=p.message_en,
                )
                for p in view.problems
            ],
        )  # fmt: skip

    @strawberry.field(
        description="The rows at fault with their errors in both languages, as an XLSX data: URL; only to those "
        "who see the campaign's surveys in clear (the download is audited)"
    )
    async def error_sheet(self, info: Info) -> str | None:
        if not self.view.may_download:
            return None
        content = await cases.download_error_sheet(info.context.require_actor(), self.view.record.id)
        return f"data:{XLSX_MIME};base64,{base64.b64encode(content).decode()}" if content else None


@strawberry.input(description="Which of the sheet's headers holds one of our fields")
class ColumnMappingInput:
    field: str = strawberry.field(directives=max_length(32))
    header: str = strawberry.field(directives=max_length(cases.MAX_HEADER_TEXT))


SurveyImportResult = Annotated[SurveyImport | VillageCreditError, strawberry.union("SurveyImportResult")]
SaveTemplateResult = Annotated[
    SurveyImportTemplate | VillageCreditError, strawberry.union("SaveSurveyImportTemplateResult")
]


def _template_id(template_id: strawberry.ID | None) -> int | None:
    return decode_pk(template_id, "SurveyImportTemplate", "templateId") if template_id else None


async def dry_run_survey_import(
    info: Info,
    campaign_id: strawberry.ID,
    file: Annotated[Upload, strawberry.argument(description="The sheet: .xlsx or .csv (UTF-8 or GB18030)")],
    template_id: strawberry.ID | None = None,
) -> SurveyImportResult:
    actor = info.context.require_actor()
    upload = file if isinstance(file, UploadFile) else None
    try:
        content = await upload.read(SETTINGS.max_upload_bytes + 1) if upload else None
        view = await cases.dry_run(
            actor,
            decode_pk(campaign_id, "VillageCampaign", "campaignId"),
            (upload.filename or "") if upload else "",
            content,
            _template_id(template_id),
        )
    except DomainError as error:
        return VillageCreditError.from_domain(error)  # type: ignore[no-any-return]
    return SurveyImport.of(view)


async def start_survey_import(info: Info, id: strawberry.ID) -> SurveyImportResult:
    try:
        view = await cases.start_import(info.context.require_actor(), decode_pk(id, "SurveyImport", "id"))
    except DomainError as error:
        return VillageCreditError.from_domain(error)  # type: ignore[no-any-return]
    return SurveyImport.of(view)


async def save_survey_import_template(
    info: Info,
    name: Annotated[str, strawberry.argument(directives=max_length(cases.MAX_TEMPLATE_NAME))],
    mapping: Annotated[list[ColumnMappingInput], strawberry.argument(directives=max_items(len(sheets.COLUMNS)))],
) -> SaveTemplateResult:
    try:
        template = await cases.save_template(info.context.require_actor(), name, {m.field: m.header for m in mapping})
    except DomainError as error:
        return VillageCreditError.from_domain(error)  # type: ignore[no-any-return]
    return SurveyImportTemplate.of(template)


@strawberry.type
class Query:
    @strawberry.field(description="The saved sheet layouts (导入模板), by name; customer managers and head office")
    async def survey_import_templates(self, info: Info) -> list[SurveyImportTemplate]:
        try:
            templates = await cases.list_templates(info.context.require_actor())
        except DomainError as error:
            raise query_error(error) from None
        return [SurveyImportTemplate.of(t) for t in templates]

    @strawberry.field(description="One survey import of a campaign you may see, with its progress; NOT_FOUND otherwise")
    async def survey_import(self, info: Info, id: strawberry.ID) -> SurveyImport | None:
        try:
            view = await cases.get_import(
                info.context.require_actor(), decode_pk(id, "SurveyImport", "id", ErrorCode.NOT_FOUND)
            )
        except DomainError as error:
            raise query_error(error) from None
        return SurveyImport.of(view)

    @strawberry.field(description="The survey sheet's layout to fill in, with an example household (XLSX data: URL)")
    def survey_import_template_sheet(self, info: Info) -> str:
        info.context.require_actor()
        return f"data:{XLSX_MIME};base64,{base64.b64encode(sheets.template_sheet()).decode()}"


@strawberry.type
class Mutation:
    dry_run_survey_import: SurveyImportResult = strawberry.mutation(
        resolver=dry_run_survey_import,
        description="Check a spreadsheet of household surveys (GraphQL multipart request): every problem by row and "
        "column in both languages; no survey stored. A village's sheet (up to 512 KiB) is checked at once "
        "(DRY_RUN_DONE); a larger one answers CHECKING and is checked by a job: follow it with surveyImport(id). "
        "The campaign's collectors while it collects",
    )
    start_survey_import: SurveyImportResult = strawberry.mutation(
        resolver=start_survey_import,
        description="Import a dry-run sheet as a job (progress in chunksDone/chunksTotal); asking again answers the "
        "same import, and importing the same sheet again stores nothing twice",
    )
    save_survey_import_template: SaveTemplateResult = strawberry.mutation(
        resolver=save_survey_import_template,
        description="Save a bank's sheet layout by name (its header text for each of our fields)",
    )
