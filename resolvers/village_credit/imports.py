"""Household surveys imported from a bank's spreadsheet (入户调查表批量导入), in two steps:

1. The dry run: a campaign's collector sends the file (XLSX or CSV) while the campaign collects; every problem is
   listed by row and column (domain/village_credit/sheets.py), and so is every household whose head already
   heads another survey of the campaign (surveyed by another manager, or by the same one in another sheet) or
   whose member is listed in another household. No survey is stored: only the import's record, keeping the file
   so the job can read it after the request has ended. A village's sheet (up to CHECKED_IN_REQUEST_BYTES) is
   checked while its collector waits; a larger one (a township's or a county's, up to the upload limit) is
   kept as CHECKING and checked by a `village_survey_check` job, the same check, so that no request holds a
   server process for the half minute a 200,000-household sheet takes. The app follows it by the import's
   status, as it follows the import itself.
2. The start: the same import queued as a `village_survey_import` job, cut into chunks of households. Each
   household is written by the very code the app's batches use (resolvers/village_credit/surveys.answer): its
   client id comes from the file name and household number, so an import sent three times stores each
   household once; a household is stored whole in its savepoint or listed as an error. The job's end writes the
   counts and the error sheet (the rows at fault with their errors, in both languages).

Who may: the campaign's collecting customer managers while it is COLLECTING; templates are saved by customer
managers and head office. Whoever sees the campaign sees its imports; the error sheet holds ID numbers and phones,
so it is given only to those who see the campaign's surveys in clear, and each download is audited.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Annotated, Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain.access import Actor, Role
from domain.errors import DomainError, ErrorCode, forbidden, not_found
from domain.sizes import size_text
from domain.village_credit import sheets
from domain.village_credit.campaign_workflow import CampaignFacts, CampaignState
from domain.village_credit.errors import VillageCreditErrorCode as Code
from domain.village_credit.sheets import Problem, ReadSheet
from domain.village_credit.surveys import Relation, Survey
from models import (
    HouseholdSurvey,
    Job,
    JobChunk,
    JobStatus,
    SurveyImport,
    SurveyImportStatus,
    SurveyImportTemplate,
    SurveyMember,
    VillageCampaign,
)
from resolvers.platform import jobs, outbox
from resolvers.platform.db import any_of, connection, fetch, insert_rows, insert_rows_returning_ids, placeholders
from resolvers.platform.job_kinds import ChunkRun, Described, Finishing, GridScope, JobKind
from resolvers.platform.unit_of_work import unit_of_work
from resolvers.village_credit import campaigns, policy
from resolvers.village_credit.surveys import SurveyStatus, answer, same_content, stored_columns
from settings import SETTINGS

HOUSEHOLDS_PER_CHUNK = 500
# Checked in the request: a village's sheet, up to about 3,500 households as XLSX or 1,700 as CSV (about half a
# second, measured on the benchmark's sheets); a larger sheet is checked by a job.
CHECKED_IN_REQUEST_BYTES = 512 * 1024
MAX_CHUNKS = 40  # a large sheet is cut into fewer, larger chunks: each chunk reads the file again
MAX_TEMPLATE_NAME = 100
MAX_HEADER_TEXT = 100
MAX_FILE_NAME = 120
_ZIP_MAGIC = b"PK\x03\x04"
_LOOKUP_BATCH = 5000  # values in one IN list (both databases take 32,766 parameters)


@dataclass(frozen=True)
class ImportParams:
    import_id: int


@dataclass(frozen=True)
class HouseholdRange:
    first: int  # index into the sheet's households, in the order they first appear
    stop: int


@dataclass(frozen=True)
class RangeResult:
    saved: int = 0
    duplicates: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    updated: int = 0


@dataclass(frozen=True)
class ImportReport:
    saved: int
    duplicates: int
    errors: int
    updated: int = 0


@dataclass(frozen=True)
class ImportView:
    """An import as its reader sees it: with the job's progress, and whether they may download the error sheet."""

    record: SurveyImport
    status: SurveyImportStatus
    chunks_done: int
    chunks_total: int
    problems: list[Problem]
    may_download: bool


async def _pairs(sql: str, campaign_id: int, values: Sequence[str], conn: BaseDBAsyncClient | None = None) -> list[Any]:
    """Rows of `sql` ("… WHERE campaign_id = {campaign} AND x {is_one_of}") for values, a batch at a time, in
    raw SQL: the ORM spends longer building a thousand-term IN than the database answering it. On PostgreSQL
    the batch is one array parameter (no thousands of parameters to bind and parse), on SQLite an IN list."""
    conn = conn or connection()
    rows: list[Any] = []
    for start in range(0, len(values), _LOOKUP_BATCH):
        batch = values[start : start + _LOOKUP_BATCH]
        condition, params = any_of(conn, "", batch, start=1)
        query = sql.format(campaign=placeholders(conn, 0, 1)[0], is_one_of=condition.lstrip())
        rows += [tuple(row.values()) for row in await fetch(query, [campaign_id, *params], conn)]
    return rows


_EXISTING = (
    "SELECT client_id, collector_id FROM village_household_survey"
    " WHERE campaign_id = {campaign} AND client_id {is_one_of}"
)
_TAKEN = (
    "SELECT id_number, relation FROM village_survey_member WHERE campaign_id = {campaign} AND id_number {is_one_of}"
)
_TAKEN_BY = (
    "SELECT m.id_number, s.client_id, s.collector_id, m.relation FROM village_survey_member m"
    " JOIN village_household_survey s ON s.id = m.survey_id"
    " WHERE m.campaign_id = {campaign} AND m.id_number {is_one_of}"
)


def _refusal(code: Code | ErrorCode, zh: str, en: str, field: str | None = None) -> DomainError:
    return DomainError(code, zh, en, field)


# --- templates -------------------------------------------------------------------------------------------------


def _may_keep_templates(actor: Actor) -> bool:
    return actor.is_head_office or actor.has(Role.CUSTOMER_MANAGER)


async def list_templates(actor: Actor) -> list[SurveyImportTemplate]:
    """The saved column mappings, by name: to the customer managers and head office who import."""
    if not _may_keep_templates(actor):
        raise forbidden("查看导入模板", "see import templates")
    return list(await SurveyImportTemplate.all().order_by("name"))


async def save_template(actor: Actor, name: str, mapping: dict[str, str]) -> SurveyImportTemplate:
    """Save (or replace, by name) a bank's header text for each of our fields."""
    if not _may_keep_templates(actor):
        raise forbidden("保存导入模板", "save an import template")
    name = name.strip()
    if not 1 <= len(name) <= MAX_TEMPLATE_NAME:
        raise _refusal(
            ErrorCode.INVALID_VALUE, "模板名称须为1到100个字", "a template's name is 1 to 100 characters", "name"
        )
    for key, header in mapping.items():
        if key not in sheets.BY_KEY:
            raise _refusal(
                ErrorCode.INVALID_VALUE,
                f"没有“{key}”这一字段",
                f"there is no field “{key}”",
                f"mapping.{key}",
            )
        if not 1 <= len(header.strip()) <= MAX_HEADER_TEXT:
            raise _refusal(
                ErrorCode.INVALID_VALUE,
                "表头文字须为1到100个字",
                "a header text is 1 to 100 characters",
                f"mapping.{key}",
            )
    now = datetime.now(UTC)
    clean = {key: header.strip() for key, header in mapping.items()}
    async with unit_of_work() as uow:
        template = await SurveyImportTemplate.filter(name=name).select_for_update().first()
        if template is None:
            template = await SurveyImportTemplate.create(
                name=name, mapping=clean, created_by_id=actor.staff_id, created_at=now, updated_at=now
            )
        else:
            template.mapping, template.updated_at = clean, now
            await template.save(update_fields=["mapping", "updated_at"])
        await uow.audit(actor, "survey_import_template.save", "SurveyImportTemplate", template.id, {"mapping": clean})
    return template


# --- the dry run -----------------------------------------------------------------------------------------------


def _authorize_collector(actor: Actor, facts: CampaignFacts, field: str) -> None:
    if not (actor.has(Role.CUSTOMER_MANAGER) and actor.staff_id in facts.collector_ids):
        raise _refusal(
            Code.NOT_A_COLLECTOR,
            "只有该活动的采集客户经理可以导入调查",
            "only a collecting customer manager of the campaign may import surveys",
            field,
        )
    if facts.state != CampaignState.COLLECTING:
        raise _refusal(Code.NOT_COLLECTING, "该活动当前不在入户采集阶段", "the campaign is not collecting", field)


def _checked_file(file_name: str, content: bytes | None) -> tuple[str, str]:
    base = "".join(ch for ch in file_name.replace("\\", "/").rsplit("/", 1)[-1] if ch.isprintable()).strip()
    fmt = sheets.file_format(base)
    if content is None:
        raise _refusal(ErrorCode.INVALID_VALUE, "没有收到文件:请以 multipart 表单上传", "no file was received", "file")
    if fmt is None or len(base) > MAX_FILE_NAME:
        raise _refusal(
            ErrorCode.INVALID_VALUE,
            "请上传 .xlsx 或 .csv 文件(文件名不超过120个字)",
            "upload an .xlsx or .csv file (a name of at most 120 characters)",
            "file",
        )
    if len(content) > SETTINGS.max_upload_bytes:
        limit = size_text(SETTINGS.max_upload_bytes)
        raise _refusal(ErrorCode.INVALID_VALUE, f"文件超过 {limit} 的上限", f"the file is larger than {limit}", "file")
    if fmt == "XLSX" and not content.startswith(_ZIP_MAGIC):
        raise _refusal(
            ErrorCode.INVALID_VALUE,
            "文件内容不是XLSX(.xls请另存为.xlsx)",
            "the file is not an XLSX (save .xls as .xlsx)",
            "file",
        )
    return base, fmt


async def _template(template_id: int | None) -> SurveyImportTemplate | None:
    if template_id is None:
        return None
    template = await SurveyImportTemplate.get_or_none(id=template_id)
    if template is None:
        raise not_found("导入模板", "import template", "templateId")
    return template


def listed_twice(read: ReadSheet) -> list[Problem]:
    """A person listed in two households of the sheet: each row after the first that lists them is
    MEMBER_IN_ANOTHER_HOUSEHOLD, naming the row of the household that lists them first (the store would refuse
    all but one of them, whichever it met first)."""
    first_row: dict[str, tuple[str, int]] = {}  # id number → (household, row)
    column = read.columns.get("id_number")
    letter = sheets.column_letter(column) if column is not None else None
    header = read.header[column] if column is not None else None
    problems = []
    for household in read.households:
        if household.survey is None:
            continue
        for row, member in zip(household.rows, household.survey.members, strict=True):
            seen = first_row.setdefault(member.id_number, (household.number, row))
            if seen[0] != household.number:
                problems.append(
                    Problem(
                        Code.MEMBER_IN_ANOTHER_HOUSEHOLD,
                        f"此人已列在本表另一户中(第{seen[1]}行)",
                        f"this person is already listed in another household of this sheet (row {seen[1]})",
                        row=row, column=letter, header=header, field="id_number",
                    )
                )  # fmt: skip
    return problems


async def taken_elsewhere(campaign_id: int, read: ReadSheet, uncorrectable: set[str] | None = None) -> list[Problem]:
    """The households whose people the campaign already lists in another survey, read in batches of a thousand
    ID numbers: a head heading another survey is a household already surveyed (by another manager, or in another
    sheet); anyone else is a member in another household. The household's own survey from an earlier import of
    the same sheet is no conflict: importing again finds it a duplicate. Nor is a person the sheet moves: listed
    in a survey of the sheet's earlier import whose corrected row no longer lists them (a spouse who now heads a
    household of her own), unless that survey cannot take the correction (its client id in `uncorrectable`)."""
    rows_of: dict[str, tuple[int, str, Relation, str]] = {}  # id number → (row, household, relation, client id)
    listed_in: dict[str, set[str]] = {}  # client id → the ID numbers the sheet lists in it
    for household in read.households:
        if household.survey is None:
            continue
        numbers = listed_in.setdefault(household.survey.client_id, set())
        for row_number, member in zip(household.rows, household.survey.members, strict=True):
            rows_of[member.id_number] = (row_number, household.number, member.relation, household.survey.client_id)
            numbers.add(member.id_number)
    rows = await _pairs(_TAKEN_BY, campaign_id, list(rows_of))
    found = {number: (client_id, collector, relation) for number, client_id, collector, relation in rows}
    problems = []
    column = read.columns.get("id_number")
    letter = sheets.column_letter(column) if column is not None else None
    header = read.header[column] if column is not None else None
    for id_number, (client_id, _collector_id, relation) in found.items():
        row, _household, member_relation, own_client_id = rows_of[id_number]
        if client_id == own_client_id:
            continue
        if (
            client_id in listed_in
            and id_number not in listed_in[client_id]
            and client_id not in (uncorrectable or set())
        ):
            continue  # the sheet's correction of that household lets them go
        if member_relation == Relation.HEAD and relation == Relation.HEAD.value:
            code, zh, en = (
                Code.HOUSEHOLD_ALREADY_SURVEYED,
                "该户已在本活动中调查过(同一户主,另一份调查)",
                "this household has already been surveyed in this campaign (same head, another survey)",
            )
        else:
            code, zh, en = (
                Code.MEMBER_IN_ANOTHER_HOUSEHOLD,
                "此人已登记在本活动的另一户中",
                "this person is already listed in another household of this campaign",
            )
        problems.append(Problem(code, zh, en, row=row, column=letter, header=header, field="id_number"))
    return problems


_NOT_STARTED = (SurveyImportStatus.CHECKING, SurveyImportStatus.DRY_RUN_DONE)


async def _imported_before(campaign_id: int, file_name: str, but: int | None = None) -> bool:
    """Whether an import of a sheet of this name (whatever its extension) was ever started for the campaign,
    other than the import `but`: only then can some of the sheet's households be stored already."""
    query = SurveyImport.filter(campaign_id=campaign_id).exclude(status__in=_NOT_STARTED)
    if but is not None:
        query = query.exclude(id=but)
    names = await query.values_list("file_name", flat=True)
    return sheets.sheet_stem(file_name) in {sheets.sheet_stem(str(name)) for name in names}


async def resent_elsewhere(
    campaign_id: int, collector_id: int, file_name: str, read: ReadSheet, now: datetime
) -> list[Problem]:
    """The households an earlier import of the same sheet stored that this one cannot correct: stored by another
    collector's import (CLIENT_ID_REUSED), or changed in the sheet but edited in the app since
    (SURVEY_EDITED_IN_APP) or merged as a duplicate (SURVEY_ALREADY_MERGED). Nothing to read when no import of a
    sheet of that name was ever started for the campaign."""
    if not await _imported_before(campaign_id, file_name):
        return []
    ready = {h.survey.client_id: h for h in read.households if h.survey is not None}
    column = read.columns.get("household_no")
    letter = sheets.column_letter(column) if column is not None else None
    header = read.header[column] if column is not None else None
    problems = []
    client_ids = list(ready)
    for start in range(0, len(client_ids), _LOOKUP_BATCH):
        batch = client_ids[start : start + _LOOKUP_BATCH]
        for row in await HouseholdSurvey.filter(campaign_id=campaign_id, client_id__in=batch).values():
            household = ready[row["client_id"]]
            assert household.survey is not None
            if row["collector_id"] != collector_id:
                error = _reused()
            elif same_content(row, household.survey, now):
                continue
            elif row["merged_into_id"] is not None:
                error = _refusal(
                    Code.SURVEY_ALREADY_MERGED,
                    f"该户已作为重复户合并到调查{row['merged_into_id']},请在该调查上修改",
                    f"this household was merged, as a duplicate, into survey {row['merged_into_id']}; edit that one",
                )
            elif row["last_import_id"] is None:
                error = _edited_in_app()
            else:
                continue
            problems.append(
                Problem(
                    error.code, error.message_zh, error.message_en, row=household.rows[0], column=letter,
                    header=header, field="household_no",
                )
            )  # fmt: skip
    return problems


@dataclass(frozen=True)
class SheetChecked:
    """What the dry run found: the counts, the first problems and the error sheet, as the import keeps them."""

    rows_total: int
    households_total: int
    households_valid: int
    errors: int
    problems: list[dict[str, Any]]
    problems_total: int
    error_sheet: bytes | None

    def fields(self) -> dict[str, Any]:
        """The SurveyImport columns of the same names (not copied, unlike asdict)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


async def check_sheet(
    campaign_id: int, collector_id: int, name: str, fmt: str, content: bytes, mapping: dict[str, str], now: datetime
) -> SheetChecked:
    """The whole sheet checked (its reading and the error sheet on a thread, so the event loop keeps serving
    while a large sheet is read) and its households against the campaign's surveys."""
    read = await asyncio.to_thread(sheets.read_sheet, content, fmt, name, mapping, now)
    resent = await resent_elsewhere(campaign_id, collector_id, name, read, now)
    households_of = {row: h.survey.client_id for h in read.households if h.survey is not None for row in h.rows}
    uncorrectable = {households_of[p.row] for p in resent if p.row in households_of}
    conflicts = listed_twice(read) + await taken_elsewhere(campaign_id, read, uncorrectable) + resent
    conflicts.sort(key=lambda p: p.row or 0)  # by row, as the user reads the sheet
    problems = read.problems + conflicts
    faulty = {p.row for p in conflicts}
    valid = sum(1 for h in read.households if h.survey is not None and not faulty.intersection(h.rows))
    error_sheet = await asyncio.to_thread(sheets.error_sheet, read.header, read.cells, problems) if problems else None
    return SheetChecked(
        rows_total=read.rows_total, households_total=len(read.households), households_valid=valid,
        errors=len(read.households) - valid, problems=[p.as_json() for p in problems[: sheets.MAX_PROBLEMS_KEPT]],
        problems_total=len(problems), error_sheet=error_sheet,
    )  # fmt: skip


async def dry_run(
    actor: Actor, campaign_id: int, file_name: str, content: bytes | None, template_id: int | None = None
) -> ImportView:
    """Check the sheet whole and list every problem, or (a large sheet) queue its check; store the import's
    record (and the file) only."""
    _campaign, facts = await campaigns.find_campaign(actor, campaign_id, "campaignId")
    _authorize_collector(actor, facts, "campaignId")
    name, fmt = _checked_file(file_name, content)
    assert content is not None
    template = await _template(template_id)
    mapping = template.mapping if template else {}
    now = datetime.now(UTC)
    checked = None
    if len(content) <= CHECKED_IN_REQUEST_BYTES:
        checked = await check_sheet(campaign_id, actor.staff_id, name, fmt, content, mapping, now)
    async with unit_of_work() as uow:
        record = await SurveyImport.create(
            campaign_id=campaign_id, template=template, file_name=name, file_format=fmt,
            file_sha256=hashlib.sha256(content).hexdigest(), content=content, mapping=mapping,
            status=SurveyImportStatus.DRY_RUN_DONE if checked else SurveyImportStatus.CHECKING,
            **(checked.fields() if checked else {}), created_by_id=actor.staff_id, created_at=now, updated_at=now,
            using_db=uow.conn,
        )  # fmt: skip
        details: dict[str, Any] = {"campaign": campaign_id, "file": name, "sha256": record.file_sha256}
        if checked is None:
            job = await jobs.start(
                SURVEY_CHECK,
                ImportParams(record.id),
                scope=GridScope(facts.village_path),
                created_by=actor.staff_id,
                using_db=uow.conn,
            )
            if job.params != SURVEY_CHECK.params_codec.dump(ImportParams(record.id)):
                # one large sheet of a village checked at a time (the job's single flight over its grid scope)
                raise _refusal(
                    Code.IMPORT_UNDER_WAY,
                    "本村另一份调查表正在检查,请待其完成后再试导入",
                    "another sheet of this village is being checked: dry-run this one when it is done",
                    "file",
                )
            record.job_id = job.id
            await record.save(update_fields=["job_id"], using_db=uow.conn)
            uow.on_commit(outbox.wake)
            details["job"] = job.id
        else:
            details["problems"] = checked.problems_total
        await uow.audit(actor, "survey_import.dry_run", "SurveyImport", record.id, details)
    return await _view(actor, record, facts)


@dataclass(frozen=True)
class WholeSheet:
    import_id: int


@dataclass(frozen=True)
class SurveyCheckReport:
    households_total: Annotated[int, Described("Households in the sheet")]
    households_valid: Annotated[int, Described("Households without a problem")]
    problems_total: Annotated[int, Described("Problems listed, by row and column, on the import")]


async def _plan_check(params: ImportParams, scope: GridScope, conn: BaseDBAsyncClient) -> list[WholeSheet]:
    return [WholeSheet(params.import_id)]


async def _run_check(run: ChunkRun[ImportParams, WholeSheet]) -> SurveyCheckReport:
    """The large sheet's dry run, checked as the request checks a small one, at the time it was sent; a sheet
    already checked (the chunk run again after its worker died) is not checked twice."""
    record = await SurveyImport.filter(id=run.chunk.import_id).using_db(run.conn).select_for_update().first()
    if record is None:
        raise LookupError(f"survey import {run.chunk.import_id} is gone")
    if record.status == SurveyImportStatus.CHECKING:
        checked = await check_sheet(
            record.campaign_id,  # type: ignore[attr-defined]
            record.created_by_id,  # type: ignore[attr-defined]
            record.file_name, record.file_format, bytes(record.content), record.mapping, record.created_at,
        )  # fmt: skip
        await (
            SurveyImport.filter(id=record.id)
            .using_db(run.conn)
            .update(**checked.fields(), status=SurveyImportStatus.DRY_RUN_DONE, updated_at=datetime.now(UTC))
        )
        return SurveyCheckReport(checked.households_total, checked.households_valid, checked.problems_total)
    return SurveyCheckReport(record.households_total, record.households_valid, record.problems_total)


async def _finish_check(finishing: Finishing[ImportParams], results: Sequence[SurveyCheckReport]) -> SurveyCheckReport:
    return results[0]


SURVEY_CHECK = JobKind(
    name="village_survey_check",
    title_zh="入户调查表试导入检查",
    title_en="household survey sheet check (dry run)",
    params=ImportParams,
    chunk=WholeSheet,
    chunk_result=SurveyCheckReport,
    report=SurveyCheckReport,
    plan=_plan_check,
    run_chunk=_run_check,
    finish=_finish_check,
)


# --- the import as a job ---------------------------------------------------------------------------------------


async def start_import(actor: Actor, import_id: int) -> ImportView:
    """Queue the checked import; asking again answers the import already queued, running or done."""
    record, facts = await _find(actor, import_id)
    _authorize_collector(actor, facts, "id")
    if record.status == SurveyImportStatus.CHECKING:
        view = await _view(actor, record, facts)
        if view.status == SurveyImportStatus.FAILED:
            raise _refusal(
                Code.IMPORT_NOT_CHECKED,
                "该表的试导入检查未能完成,请重新试导入",
                "the dry run could not check this sheet: dry-run it again",
                "id",
            )
        raise _refusal(
            Code.IMPORT_NOT_CHECKED,
            "该表仍在试导入检查中,请在检查完成、问题列出后再开始导入",
            "the dry run is still checking this sheet: start the import once its problems are listed",
            "id",
        )
    if record.status != SurveyImportStatus.DRY_RUN_DONE:
        return await _view(actor, record, facts)
    if record.households_valid == 0:
        raise _refusal(
            Code.IMPORT_HAS_NO_VALID_HOUSEHOLDS,
            "该表没有可导入的户,请按错误表修改后重新试导入",
            "no household of the sheet can be imported: correct it by the error sheet and dry-run it again",
            "id",
        )
    async with unit_of_work() as uow:
        locked = await SurveyImport.filter(id=import_id).select_for_update().first()
        assert locked is not None
        if locked.status == SurveyImportStatus.DRY_RUN_DONE:
            job = await jobs.start(
                SURVEY_IMPORT,
                ImportParams(import_id),
                scope=GridScope(facts.village_path),
                created_by=actor.staff_id,
                dedup_key=f"survey_import:{import_id}",
                using_db=uow.conn,
            )
            if job.params != SURVEY_IMPORT.params_codec.dump(ImportParams(import_id)):
                # one import runs per village at a time (the job's single flight over its grid scope)
                raise _refusal(
                    Code.IMPORT_UNDER_WAY,
                    "本村另一份调查表正在导入,请待其完成后再开始",
                    "another sheet of this village is being imported: start this one when it is done",
                    "id",
                )
            locked.status, locked.job_id, locked.updated_at = SurveyImportStatus.QUEUED, job.id, datetime.now(UTC)
            await locked.save(update_fields=["status", "job_id", "updated_at"])
            uow.on_commit(outbox.wake)
            await uow.audit(actor, "survey_import.start", "SurveyImport", import_id, {"job": job.id})
        record = locked
    return await _view(actor, record, facts)


def _ranges(households: int) -> list[HouseholdRange]:
    size = max(HOUSEHOLDS_PER_CHUNK, -(-households // MAX_CHUNKS))
    return [HouseholdRange(start, min(start + size, households)) for start in range(0, households, size)]


async def _plan(params: ImportParams, scope: GridScope, conn: BaseDBAsyncClient) -> list[HouseholdRange]:
    record = await SurveyImport.filter(id=params.import_id).using_db(conn).get()
    return _ranges(record.households_total)


async def _read(record: SurveyImport, now: datetime) -> ReadSheet:
    return sheets.read_sheet(bytes(record.content), record.file_format, record.file_name, record.mapping, now)


# The import this worker process runs chunks of, read and grouped: its other chunks check only their own
# households from it, rather than each reading and checking the whole sheet again (a 200,000-household sheet
# in 40 chunks was read 40 times). One import kept, keyed by its id and the file's hash, and let go once no
# chunk of it is left to start.
_PARSED: dict[tuple[int, str], sheets.ParsedSheet] = {}


def _parsed(record: SurveyImport) -> sheets.ParsedSheet:
    key = (record.id, record.file_sha256)
    parsed = _PARSED.get(key)
    if parsed is None:
        parsed = sheets.parse_sheet(bytes(record.content), record.file_format, record.mapping)
        _PARSED.clear()
        _PARSED[key] = parsed
    return parsed


async def _run_range(run: ChunkRun[ImportParams, HouseholdRange]) -> RangeResult:
    """One range of households stored, each by the app's own per-survey code; the campaign locked and still
    collecting, else every household of the range listed as not imported."""
    record = await SurveyImport.get(id=run.params.import_id)
    await SurveyImport.filter(id=record.id, status=SurveyImportStatus.QUEUED).update(status=SurveyImportStatus.RUNNING)
    campaign = await VillageCampaign.filter(id=record.campaign_id).select_for_update().first()  # type: ignore[attr-defined]
    at = datetime.now(UTC)
    parsed = _parsed(record)
    read = sheets.check_sheet(parsed, record.file_name, record.created_at, (run.chunk.first, run.chunk.stop))
    if not await JobChunk.filter(job_id=run.job_id, status=JobStatus.PENDING).exists():
        _PARSED.clear()  # no chunk of this import left to start: the worker gives the sheet's memory back
    households = read.households
    column = read.columns.get("id_number")
    saved = updated = duplicates = 0
    problems: list[dict[str, Any]] = []
    if campaign is None or campaign.state != CampaignState.COLLECTING:
        for household in households:
            if household.survey is not None:
                zh, en = "该活动已不在入户采集阶段", "the campaign no longer collects"
                problems.append(_row_problem(household.rows[0], None, Code.NOT_COLLECTING, zh, en))
        return RangeResult(0, 0, problems)
    ready = [(i, h) for i, h in enumerate(households, start=run.chunk.first) if h.survey is not None]
    surveys = [(i, h.survey) for i, h in ready if h.survey is not None]
    ahead = await _corrections_ahead(record, parsed, surveys, run.chunk)
    del parsed  # the last chunk has let the sheet go: keep none of it while storing
    outcomes = await store_batch(
        record.created_by_id,  # type: ignore[attr-defined]
        record.campaign_id,  # type: ignore[attr-defined]
        [*ahead, *surveys],
        at,
        record.id,
    )
    outcomes = outcomes[len(ahead) :]  # a correction brought forward is counted by its own chunk
    for (_index, household), outcome in zip(ready, outcomes, strict=True):
        if outcome.status == SurveyStatus.SAVED:
            saved += 1
        elif outcome.status == SurveyStatus.UPDATED:
            updated += 1
        elif outcome.status == SurveyStatus.DUPLICATE:
            duplicates += 1
        elif outcome.error is not None:
            row = household.rows[0]
            member = re.search(r"members\[(\d+)\]", outcome.error.field or "")
            if member and int(member.group(1)) < len(household.rows):
                row = household.rows[int(member.group(1))]
            problems.append(
                _row_problem(
                    row, column, outcome.error.code, outcome.error.message_zh, outcome.error.message_en, read.header
                )
            )
    return RangeResult(saved, duplicates, problems, updated)


async def _corrections_ahead(
    record: SurveyImport, parsed: sheets.ParsedSheet, surveys: Sequence[tuple[int, Survey]], chunk: HouseholdRange
) -> list[tuple[int, Survey]]:
    """The households of other chunks whose correction this chunk needs first: surveys the sheet's earlier import
    stored that hold a person of this chunk's households (a spouse the corrected sheet moves into a household of
    her own, in this chunk). Brought forward, corrected here; their own chunk, finding them already written by
    this import, counts them. Chunks of a campaign run one at a time (each locks the campaign), so a correction
    is applied once. Nothing to look for in a sheet imported the first time: no survey of it holds anyone."""
    campaign_id = record.campaign_id  # type: ignore[attr-defined]
    if not await _imported_before(campaign_id, record.file_name, but=record.id):
        return []
    own = {survey.client_id for _i, survey in surveys}
    held = await _pairs(_TAKEN_BY, campaign_id, [m.id_number for _i, survey in surveys for m in survey.members])
    collector = record.created_by_id  # type: ignore[attr-defined]
    holders = {client_id for _n, client_id, held_by, _r in held if held_by == collector and client_id not in own}
    if not holders:
        return []
    index_of = {sheets.import_client_id(record.file_name, number): i for i, (number, _rows) in enumerate(parsed.groups)}
    ahead = []
    for client_id in sorted(holders):
        index = index_of.get(client_id)
        if index is None or chunk.first <= index < chunk.stop:
            continue
        household = sheets.check_sheet(parsed, record.file_name, record.created_at, (index, index + 1)).households[0]
        if household.survey is not None:
            ahead.append((index, household.survey))
    return ahead


def _row_problem(
    row: int, column: int | None, code: str, zh: str, en: str, header: Sequence[str] = ()
) -> dict[str, Any]:
    return Problem(
        code, zh, en, row=row,
        column=sheets.column_letter(column) if column is not None else None,
        header=header[column] if column is not None and header else None,
    ).as_json()  # fmt: skip


async def _finish(finishing: Finishing[ImportParams], results: Sequence[RangeResult]) -> ImportReport:
    record = await SurveyImport.filter(id=finishing.params.import_id).using_db(finishing.conn).get()
    known = {(p["code"], p["row"]) for p in record.problems}  # what the dry run found, the store finds again
    stored_problems = [p for r in results for p in r.problems if (p["code"], p["row"]) not in known]
    saved = sum(r.saved for r in results)
    updated = sum(r.updated for r in results)
    duplicates = sum(r.duplicates for r in results)
    problems = [Problem.from_json(p) for p in record.problems] + [Problem.from_json(p) for p in stored_problems]
    errors = record.households_total - saved - updated - duplicates
    sheet = record.error_sheet
    if stored_problems:
        read = await _read(record, record.created_at)
        sheet = sheets.error_sheet(read.header, read.cells, read.problems + problems[len(record.problems) :])
    await SurveyImport.filter(id=record.id).using_db(finishing.conn).update(
        status=SurveyImportStatus.DONE, saved=saved, updated=updated, duplicates=duplicates, errors=errors,
        problems=[p.as_json() for p in problems[: sheets.MAX_PROBLEMS_KEPT]],
        problems_total=record.problems_total + len(stored_problems), error_sheet=sheet, updated_at=datetime.now(UTC),
    )  # fmt: skip
    return ImportReport(saved, duplicates, errors, updated)


SURVEY_IMPORT = JobKind(
    name="village_survey_import",
    title_zh="入户调查导入",
    title_en="household survey import",
    params=ImportParams,
    chunk=HouseholdRange,
    chunk_result=RangeResult,
    report=ImportReport,
    plan=_plan,
    run_chunk=_run_range,
    finish=_finish,
)


# --- reading ---------------------------------------------------------------------------------------------------


async def _find(actor: Actor, import_id: int) -> tuple[SurveyImport, CampaignFacts]:
    record = await SurveyImport.get_or_none(id=import_id)
    if record is None:
        raise not_found("调查导入", "survey import", "id")
    try:
        _campaign, facts = await campaigns.find_campaign(actor, record.campaign_id, "id")  # type: ignore[attr-defined]
    except DomainError:
        raise not_found("调查导入", "survey import", "id") from None
    return record, facts


async def _view(actor: Actor, record: SurveyImport, facts: CampaignFacts) -> ImportView:
    job = await Job.get_or_none(id=record.job_id) if record.job_id else None  # type: ignore[attr-defined]
    status = record.status
    if job is not None and job.status == JobStatus.FAILED:
        status = SurveyImportStatus.FAILED
    return ImportView(
        record=record,
        status=status,
        chunks_done=job.chunks_done if job else 0,
        chunks_total=job.chunks_total if job else 0,
        problems=[Problem.from_json(p) for p in record.problems],
        may_download=policy.sees_personal_data(actor, facts) and record.error_sheet is not None,
    )


async def get_import(actor: Actor, import_id: int) -> ImportView:
    """An import of a campaign the actor may see, with its progress; NOT_FOUND otherwise."""
    record, facts = await _find(actor, import_id)
    return await _view(actor, record, facts)


async def download_error_sheet(actor: Actor, import_id: int) -> bytes | None:
    """The error sheet's bytes, to those who see the campaign's surveys in clear; each download audited."""
    record, facts = await _find(actor, import_id)
    if not policy.sees_personal_data(actor, facts) or record.error_sheet is None:
        return None
    async with unit_of_work() as uow:
        await uow.audit(actor, "survey_import.error_sheet.read", "SurveyImport", import_id, {})
    return bytes(record.error_sheet)


async def imported_surveys(import_id: int) -> list[HouseholdSurvey]:
    """The surveys an import stored: where the lead's de-duplication, core-file merge and screening start."""
    record = await SurveyImport.get(id=import_id)
    read = await _read(record, record.created_at)
    ids = [h.survey.client_id for h in read.households if h.survey is not None]
    return list(await HouseholdSurvey.filter(campaign_id=record.campaign_id, client_id__in=ids))  # type: ignore[attr-defined]


@dataclass(frozen=True)
class BatchOutcome:
    status: SurveyStatus
    error: DomainError | None = None


async def store_batch(
    collector_id: int,
    campaign_id: int,
    surveys: Sequence[tuple[int, Survey]],
    at: datetime,
    import_id: int | None = None,
) -> list[BatchOutcome]:
    """Checked surveys stored a chunk at a time, by the rules of resolvers/village_credit/surveys.py: a client id
    of another collector's survey is CLIENT_ID_REUSED; a head heading another survey is a household already
    surveyed, anyone else listed elsewhere (or twice in the batch) a member in another household. The rest is
    written in two multi-row statements, in a savepoint; should the database still refuse it (an app's batch
    stored the same person meanwhile), the chunk is stored survey by survey by the app's own code instead, which
    answers each exactly. A household the collector's earlier import stored (the same sheet sent again) is
    `_resent`: unchanged, a DUPLICATE; corrected, UPDATED — and answered first, so that a person a correction
    lets go may head or join a new household of the batch. Call it with the campaign locked and COLLECTING."""
    known: dict[str, int] = dict(await _pairs(_EXISTING, campaign_id, [s.client_id for _i, s in surveys]))
    resent = [(i, s) for i, s in surveys if known.get(s.client_id) == collector_id]
    # the corrections first: a person a corrected household lets go may head a new household of the batch
    answered = iter(await _resent(collector_id, campaign_id, resent, at, import_id))
    taken: dict[str, str] = dict(
        await _pairs(_TAKEN, campaign_id, [m.id_number for _i, s in surveys for m in s.members])
    )
    outcomes: list[BatchOutcome] = []
    fresh: list[Survey] = []
    existing = dict(known)
    for _index, survey in surveys:
        if known.get(survey.client_id) == collector_id:
            outcomes.append(next(answered))
            continue
        outcome = _judged(collector_id, survey, existing, taken)
        if outcome is None:
            fresh.append(survey)
            existing[survey.client_id] = collector_id
            taken.update((m.id_number, m.relation.value) for m in survey.members)
            outcome = BatchOutcome(SurveyStatus.SAVED)
        outcomes.append(outcome)
    try:
        async with in_transaction() as conn:
            await _insert(collector_id, campaign_id, fresh, at, conn, import_id)
    except IntegrityError:
        one_by_one: dict[int, BatchOutcome] = {}
        for index, survey in surveys:
            if known.get(survey.client_id) != collector_id:
                one = await answer(collector_id, campaign_id, index, survey, at, import_id)
                one_by_one[index] = BatchOutcome(one.status, one.error)
        return [
            outcome if known.get(survey.client_id) == collector_id else one_by_one[index]
            for (index, survey), outcome in zip(surveys, outcomes, strict=True)
        ]
    return outcomes


async def _resent(
    collector_id: int, campaign_id: int, surveys: Sequence[tuple[int, Survey]], at: datetime, import_id: int | None
) -> list[BatchOutcome]:
    """Households of the collector's own earlier import sent again: unchanged, a DUPLICATE; corrected, the sheet
    is the newer edit and the survey is UPDATED by the app's own code (a version up) — unless the app edited it
    since that import: then the app's edit stands and the row is refused (SURVEY_EDITED_IN_APP), nothing lost."""
    if not surveys:
        return []
    rows = await HouseholdSurvey.filter(
        campaign_id=campaign_id, client_id__in=[s.client_id for _i, s in surveys]
    ).values()  # plain values: no model object per household to compare (a re-sent sheet compares them all)
    stored = {row["client_id"]: row for row in rows}
    outcomes: list[BatchOutcome] = []
    for index, survey in surveys:
        row = stored[survey.client_id]
        if same_content(row, survey, at):
            # corrected by this very import, brought forward by another chunk (_corrections_ahead): counted here
            again = import_id is not None and row["last_import_id"] == import_id
            outcomes.append(BatchOutcome(SurveyStatus.UPDATED if again else SurveyStatus.DUPLICATE))
        elif row["last_import_id"] is None and row["merged_into_id"] is None:
            outcomes.append(BatchOutcome(SurveyStatus.ERROR, _edited_in_app()))
        else:
            newer = replace(survey, client_version=row["client_version"] + 1)
            one = await answer(collector_id, campaign_id, index, newer, at, import_id)
            outcomes.append(BatchOutcome(one.status, one.error))
    return outcomes


def _reused() -> DomainError:
    return _refusal(
        Code.CLIENT_ID_REUSED,
        "该客户端编号已被其他客户经理的调查使用",
        "this client id belongs to another collector's survey",
        "clientId",
    )


def _edited_in_app() -> DomainError:
    return _refusal(
        Code.SURVEY_EDITED_IN_APP,
        "该户导入后已在App中修改过,表中的改动未导入:请在App中修改",
        "this household was edited in the app after it was imported; the sheet's changes were not imported:"
        " edit it in the app",
        "clientId",
    )


def _judged(collector_id: int, survey: Survey, existing: dict[str, int], taken: dict[str, str]) -> BatchOutcome | None:
    if survey.client_id in existing:
        if existing[survey.client_id] == collector_id:
            return BatchOutcome(SurveyStatus.DUPLICATE)
        return BatchOutcome(SurveyStatus.ERROR, _reused())
    for i, member in enumerate(survey.members):
        if member.id_number not in taken:
            continue
        if member.relation == Relation.HEAD and taken[member.id_number] == Relation.HEAD.value:
            error = DomainError(
                Code.HOUSEHOLD_ALREADY_SURVEYED,
                "该户已在本活动中调查过(同一户主,另一份调查)",
                "this household has already been surveyed in this campaign (same head, another survey)",
                f"members[{i}].idNumber",
            )
        else:
            error = DomainError(
                Code.MEMBER_IN_ANOTHER_HOUSEHOLD,
                "此人已登记在本活动的另一户中",
                "this person is already listed in another household of this campaign",
                f"members[{i}].idNumber",
            )
        return BatchOutcome(SurveyStatus.ERROR, error)
    return None


async def _insert(
    collector_id: int,
    campaign_id: int,
    surveys: Sequence[Survey],
    at: datetime,
    conn: BaseDBAsyncClient,
    import_id: int | None,
) -> None:
    if not surveys:
        return
    rows = [
        {"campaign_id": campaign_id, "client_id": s.client_id, "collector_id": collector_id, "created_at": at,
         **stored_columns(s, at, import_id)}
        for s in surveys
    ]  # fmt: skip
    ids = dict(
        zip([s.client_id for s in surveys], await insert_rows_returning_ids(HouseholdSurvey, rows, conn), strict=True)
    )
    members = [
        {
            "survey_id": ids[s.client_id],
            "campaign_id": campaign_id,
            "id_number": m.id_number,
            "relation": m.relation.value,
        }
        for s in surveys
        for m in s.members
    ]
    await insert_rows(SurveyMember, members, conn)
