"""The bank's own files that whole-village credit is checked against, imported from CSV by head office: the
core-banking customer file (核心系统客户信息) and the court's enforcement list (失信被执行人名单); and a campaign's
link report — each surveyed person found in the core file by ID number, or new to the bank.

The core-banking feed, UTF-8 (a BOM allowed), one header line, these columns in any order:

    id_number                 18-digit resident ID number (normalised: full-width digits, lower-case x)
    name                      as the core system holds it
    phone                     11-digit mobile number, or empty
    address                   may be empty
    deposit_balance           yuan, ≥ 0, two decimals at most
    loan_balance              yuan, ≥ 0
    overdue_amount            yuan overdue now, ≥ 0
    overdue_days              days overdue now, whole, ≥ 0
    max_overdue_days          the longest overdue in the last 24 months, whole, ≥ 0
    npl_history               ever classed substandard or worse: 1/0, true/false, Y/N, 是/否
    has_ebanking, has_third_party_payment, has_social_security_card    1/0 as above
    as_of                     the feed's date, YYYY-MM-DD

The enforcement list: id_number, name, case_number, court (may be empty), listed_on (YYYY-MM-DD or empty).

The request checks who sends it, that it is UTF-8 and that its header has every column, keeps the file
(bank_feed_file) and queues the `village_feed_import` job in the same transaction: the check of every cell and
the upsert of a million rows run in a worker, not in the request, and a worker killed or Redis down loses
nothing (the job's chunk runs again from the kept file). One bank file is imported at a time; another sent
meanwhile is refused (FEED_IMPORT_UNDER_WAY) and can be sent again when the first has ended.

The job checks the file whole first; any row at fault refuses it all — nothing written — and the job ends FAILED
with each problem by row and column in its report. Otherwise every row is upserted by its key (the normalised
ID number; the ID number and case number for the list) in the chunk's transaction: loaded into a temporary
table (COPY on PostgreSQL, batched executemany on SQLite), then one INSERT … ON CONFLICT that rewrites only rows
that differ, so a feed imported twice changes nothing the second time. Once the job has run to its end (imported
or refused) the file's content is dropped, its name, size and SHA-256 kept; a job failed by errors keeps it.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from domain.access import Actor
from domain.customers.idcard import parse_id_number
from domain.customers.phone import normalize_phone
from domain.errors import DomainError, forbidden
from domain.village_credit.dedup import normalize_address, normalize_name
from domain.village_credit.errors import VillageCreditErrorCode as Code
from models import BankFeedFile, CoreCustomerRecord, EnforcementListEntry, HouseholdSurvey, Job
from resolvers.platform import jobs, outbox
from resolvers.platform.db import connection, dialect
from resolvers.platform.job_kinds import ChunkRun, Described, Finishing, GridScope, JobKind
from resolvers.platform.unit_of_work import unit_of_work
from resolvers.village_credit import campaigns, policy

MAX_PROBLEMS = 200  # reported; the count is of all of them
MAX_TEXT = 255
LARGEST_AMOUNT = Decimal("100000000000")
TEMP_BATCH = 5000
_TRUE = {"1", "true", "t", "y", "yes", "是"}
_FALSE = {"0", "false", "f", "n", "no", "否", ""}


class FeedKind(StrEnum):
    """CORE_FILE: 核心系统客户信息; ENFORCEMENT_LIST: 失信被执行人名单"""

    CORE_FILE = "CORE_FILE"
    ENFORCEMENT_LIST = "ENFORCEMENT_LIST"


@dataclass(frozen=True)
class FeedParams:
    kind: FeedKind
    file_name: str
    file_id: int = 0  # the kept file; 0 on the imports recorded before they became jobs


@dataclass(frozen=True)
class FeedChunk:
    file_id: int


@dataclass(frozen=True)
class FeedProblem:
    """One cell at fault: its row (the header is row 1), column, code and message"""

    row: int
    column: str
    code: str
    message_zh: str
    message_en: str


@dataclass(frozen=True)
class VillageFeedReport:
    rows: Annotated[int, Described("Data rows in the file")]
    inserted: Annotated[int, Described("New to the file: added")] = 0
    updated: Annotated[int, Described("Known and different: rewritten")] = 0
    unchanged: Annotated[int, Described("Known and the same: left as they were")] = 0
    problem_count: Annotated[int, Described("Cells at fault; any refuses the file")] = 0
    problems: Annotated[tuple[FeedProblem, ...], Described("The first 200 cells at fault")] = ()


# --- reading and checking the cells ------------------------------------------------------------------------


class _CellError(Exception):
    def __init__(self, zh: str, en: str) -> None:
        self.zh, self.en = zh, en


def _id_number(raw: str) -> str:
    try:
        return parse_id_number(raw, today=datetime.now(UTC).date()).number
    except DomainError as error:
        raise _CellError(error.message_zh, error.message_en) from None


def _text(required: bool) -> Callable[[str], str]:
    def read(raw: str) -> str:
        value = raw.strip()
        if required and not value:
            raise _CellError("不能为空", "must not be empty")
        if len(value) > MAX_TEXT or any(ord(c) < 32 for c in value):
            raise _CellError(f"应为不超过{MAX_TEXT}个可见字符", f"must be at most {MAX_TEXT} visible characters")
        return value

    return read


def _phone(raw: str) -> str | None:
    if not raw.strip():
        return None
    try:
        return normalize_phone(raw)
    except DomainError as error:
        raise _CellError(error.message_zh, error.message_en) from None


def _amount(raw: str) -> Decimal:
    try:
        value = Decimal(raw.strip() or "0")
    except InvalidOperation:
        raise _CellError("应为金额", "must be an amount") from None
    if not value.is_finite() or value < 0 or value > LARGEST_AMOUNT or value != value.quantize(Decimal("0.01")):
        raise _CellError("金额应不小于0且最多两位小数", "must be an amount ≥ 0 with at most two decimals")
    return value.quantize(Decimal("0.01"))


def _days(raw: str) -> int:
    text = raw.strip() or "0"
    if not text.isascii() or not text.isdigit() or int(text) > 100_000:
        raise _CellError("应为不小于0的整数天数", "must be a whole number of days ≥ 0")
    return int(text)


def _flag(raw: str) -> bool:
    text = raw.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _CellError("应为1/0、是/否", "must be 1/0, true/false or Y/N")


def _date(required: bool) -> Callable[[str], date | None]:
    def read(raw: str) -> date | None:
        if not raw.strip() and not required:
            return None
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            raise _CellError("应为日期 YYYY-MM-DD", "must be a date YYYY-MM-DD") from None

    return read


@dataclass(frozen=True)
class FeedSpec:
    model: type[Model]
    columns: dict[str, Callable[[str], Any]]
    key: tuple[str, ...]


SPECS = {
    FeedKind.CORE_FILE: FeedSpec(
        CoreCustomerRecord,
        {
            "id_number": _id_number,
            "name": _text(True),
            "phone": _phone,
            "address": _text(False),
            "deposit_balance": _amount,
            "loan_balance": _amount,
            "overdue_amount": _amount,
            "overdue_days": _days,
            "max_overdue_days": _days,
            "npl_history": _flag,
            "has_ebanking": _flag,
            "has_third_party_payment": _flag,
            "has_social_security_card": _flag,
            "as_of": _date(True),
        },
        ("id_number",),
    ),
    FeedKind.ENFORCEMENT_LIST: FeedSpec(
        EnforcementListEntry,
        {
            "id_number": _id_number,
            "name": _text(True),
            "case_number": _text(True),
            "court": _text(False),
            "listed_on": _date(False),
        },
        ("id_number", "case_number"),
    ),
}


def _refused(code: Code, zh: str, en: str) -> DomainError:
    return DomainError(code, zh, en, "file")


Checked = tuple[list[dict[str, Any]], list[FeedProblem], int]


def _where(kind: FeedKind, header_cells: Sequence[str]) -> dict[str, int]:
    """Each column's place in the header; a column missing refuses the file."""
    header = [h.strip().lower() for h in header_cells]
    missing = [c for c in SPECS[kind].columns if c not in header]
    if missing:
        raise _refused(
            Code.FEED_MISSING_COLUMN, f"缺少列:{', '.join(missing)}", f"missing columns: {', '.join(missing)}"
        )
    return {c: header.index(c) for c in SPECS[kind].columns}


def check_header(kind: FeedKind, text: str) -> None:
    """The header line alone, checked while its sender waits."""
    _where(kind, next(csv.reader(io.StringIO(text.removeprefix("\ufeff").partition("\n")[0])), []))


def read_feed(kind: FeedKind, text: str) -> Checked:
    """Every row checked: (rows as column → value, problems, the number of problems). A row repeating an
    earlier key is a problem: the feed must say one thing about one person."""
    *_, checked = _reading(kind, text)
    assert checked is not None
    return checked


async def check_feed(kind: FeedKind, text: str) -> Checked:
    """read_feed in a worker: it lets the event loop run every CHECK_STEP rows, so the chunk's heartbeat keeps
    its lease while a million rows are checked."""
    for checked in _reading(kind, text):
        if checked is not None:
            return checked
        await asyncio.sleep(0)
    raise AssertionError("unreachable: the reading ends with its result")


CHECK_STEP = 5000


def _reading(kind: FeedKind, text: str) -> Iterator[Checked | None]:
    """None every CHECK_STEP rows, then the result."""
    spec = SPECS[kind]
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    where = _where(kind, next(reader, []))
    rows: list[dict[str, Any]] = []
    problems: list[FeedProblem] = []
    count = 0
    seen: dict[tuple[Any, ...], int] = {}
    for number, cells in enumerate(reader, start=2):
        if number % CHECK_STEP == 0:
            yield None
        if not any(c.strip() for c in cells):
            continue
        row: dict[str, Any] = {}
        for column, read in spec.columns.items():
            raw = cells[where[column]] if where[column] < len(cells) else ""
            try:
                row[column] = read(raw)
            except _CellError as error:
                count += 1
                if len(problems) < MAX_PROBLEMS:
                    problems.append(FeedProblem(number, column, Code.FEED_ROWS_INVALID.value, error.zh, error.en))
        if len(row) == len(spec.columns):
            key = tuple(row[k] for k in spec.key)
            if key in seen:
                count += 1
                if len(problems) < MAX_PROBLEMS:
                    problems.append(FeedProblem(number, spec.key[-1], Code.FEED_ROWS_INVALID.value,
                                                f"与第{seen[key]}行重复", f"repeats row {seen[key]}"))  # fmt: skip
            seen[key] = number
        rows.append(row)
    yield rows, problems, count


# --- writing -----------------------------------------------------------------------------------------------


async def upsert_rows(
    conn: BaseDBAsyncClient, kind: FeedKind, rows: Sequence[dict[str, Any]], at: datetime
) -> tuple[int, int, int]:
    """Upsert checked rows by the feed's key on conn (the caller's transaction): (inserted, updated, unchanged).
    The bulk path the benchmark and the survey-import benchmark call directly."""
    spec = SPECS[kind]
    meta = spec.model._meta
    table = meta.db_table
    stamp = "updated_at" if kind == FeedKind.CORE_FILE else "imported_at"
    columns = [*spec.columns, stamp]
    names = ", ".join(columns)
    postgres = dialect(conn) == "postgres"
    async with conn.acquire_connection() as raw:
        await raw.execute("DROP TABLE IF EXISTS feed_rows")
        await raw.execute(f"CREATE TEMP TABLE feed_rows AS SELECT {names} FROM {table} WHERE 1 = 0")
        if postgres:
            await raw.copy_records_to_table("feed_rows", records=[(*r.values(), at) for r in rows], columns=columns)
        else:
            fields = [meta.fields_map[c] for c in columns]
            marks = ", ".join("?" * len(columns))
            for start in range(0, len(rows), TEMP_BATCH):
                batch = [
                    tuple(f.to_db_value(v, spec.model) for f, v in zip(fields, (*r.values(), at), strict=True))
                    for r in rows[start : start + TEMP_BATCH]
                ]
                await raw.executemany(f"INSERT INTO feed_rows ({names}) VALUES ({marks})", batch)
        keys = ", ".join(spec.key)
        joined = " AND ".join(f"t.{k} = f.{k}" for k in spec.key)
        existing = await _count(raw, postgres, f"SELECT count(*) FROM feed_rows f JOIN {table} t ON {joined}")
        compared = [c for c in spec.columns if c not in spec.key]
        differs = " OR ".join(f"{table}.{c} IS DISTINCT FROM excluded.{c}" for c in compared)
        if not postgres:
            differs = differs.replace("IS DISTINCT FROM", "IS NOT")
        sets = ", ".join(f"{c} = excluded.{c}" for c in [*compared, stamp])
        written = await _count(
            raw,
            postgres,
            f"WITH w AS (INSERT INTO {table} ({names}) SELECT {names} FROM feed_rows WHERE true "
            f"ON CONFLICT ({keys}) DO UPDATE SET {sets} WHERE {differs} RETURNING 1) SELECT count(*) FROM w"
            if postgres
            else f"INSERT INTO {table} ({names}) SELECT {names} FROM feed_rows WHERE true "
            f"ON CONFLICT ({keys}) DO UPDATE SET {sets} WHERE {differs}",
        )
        if not postgres:
            written = await _count(raw, postgres, "SELECT changes()")
        await raw.execute("DROP TABLE feed_rows")
    inserted = len(rows) - existing
    return inserted, written - inserted, len(rows) - written


async def _count(raw: Any, postgres: bool, sql: str) -> int:
    """The one number a statement answers, on the driver's own connection (asyncpg or aiosqlite); a statement
    answering no rows counts 0."""
    if postgres:
        return int(await raw.fetchval(sql) or 0)
    rows = list(await raw.execute_fetchall(sql))
    return int(rows[0][0]) if rows else 0


async def import_feed(actor: Actor, kind: FeedKind, file_name: str, content: bytes) -> Job:
    """Keep the file and queue its import (see the module); returns the queued job. Head office only."""
    if not policy.may_import_bank_files(actor):
        raise forbidden("导入核心客户信息或失信名单", "import the core-banking file or the enforcement list")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise _refused(Code.FEED_UNREADABLE, "文件应为UTF-8编码的CSV", "the file must be CSV in UTF-8") from None
    check_header(kind, text)
    name = file_name[:100]
    async with unit_of_work() as uow:
        kept = await BankFeedFile.create(
            kind=kind.value, file_name=name, size_bytes=len(content), file_sha256=hashlib.sha256(content).hexdigest(),
            content=content, created_by_id=actor.staff_id, created_at=datetime.now(UTC), using_db=uow.conn,
        )  # fmt: skip
        params = FeedParams(kind, name, kept.id)
        job = await jobs.start(FEED_IMPORT, params, created_by=actor.staff_id, using_db=uow.conn)
        if job.params != FEED_IMPORT.params_codec.dump(params):  # single flight: the bank's one feed import
            raise _refused(
                Code.FEED_IMPORT_UNDER_WAY,
                "另一份核心客户信息或失信名单正在导入,请待其完成后再发送",
                "another core-banking file or enforcement list is being imported: send this one when it has ended",
            )
        uow.on_commit(outbox.wake)
        await uow.audit(actor, f"village_feed.{kind.value.lower()}", "Job", job.id,
                        {"file": name, "bytes": len(content), "sha256": kept.file_sha256})  # fmt: skip
    return job


async def _plan(params: FeedParams, scope: GridScope, conn: BaseDBAsyncClient) -> list[FeedChunk]:
    return [FeedChunk(params.file_id)]


async def _run_chunk(run: ChunkRun[FeedParams, FeedChunk]) -> VillageFeedReport:
    """The whole file in one chunk: checked, then (nothing at fault) upserted in the chunk's transaction."""
    kept = await BankFeedFile.filter(id=run.chunk.file_id).using_db(run.conn).first()
    if kept is None or kept.content is None:
        raise LookupError(f"bank file {run.chunk.file_id} is not kept")
    kind = run.params.kind
    rows, problems, count = await check_feed(kind, bytes(kept.content).decode("utf-8"))
    if count:
        return VillageFeedReport(len(rows), problem_count=count, problems=tuple(problems))
    inserted, updated, unchanged = await upsert_rows(run.conn, kind, rows, datetime.now(UTC))
    return VillageFeedReport(len(rows), inserted, updated, unchanged)


async def _finish(finishing: Finishing[FeedParams], results: Sequence[VillageFeedReport]) -> VillageFeedReport:
    await BankFeedFile.filter(id=finishing.params.file_id).using_db(finishing.conn).update(content=None)
    return results[0]


def _refusal(params: FeedParams, report: VillageFeedReport) -> str | None:
    if not report.problem_count:
        return None
    return f"{report.problem_count}处单元格有误,未导入 / {report.problem_count} cells at fault: nothing was imported"


FEED_IMPORT = JobKind(
    name="village_feed_import",
    title_zh="核心客户信息/失信名单导入",
    title_en="core-banking file or enforcement list import",
    params=FeedParams,
    chunk=FeedChunk,
    chunk_result=VillageFeedReport,
    report=VillageFeedReport,
    plan=_plan,
    run_chunk=_run_chunk,
    finish=_finish,
    refusal=_refusal,
    bank_wide_only=True,
)


# --- the link report -----------------------------------------------------------------------------------------


class LinkStatus(StrEnum):
    """NEW: not in the core file; UNCHANGED: there, same name, phone and address; CHANGED: there, some differ"""

    NEW = "NEW"
    UNCHANGED = "UNCHANGED"
    CHANGED = "CHANGED"


@dataclass(frozen=True)
class SurveyedPerson:
    survey_id: int
    id_number: str
    name: str
    phone: str | None
    address: str


@dataclass(frozen=True)
class Link:
    person: SurveyedPerson
    status: LinkStatus
    changed: tuple[str, ...]  # which of name, phone, address differ from the core file


def compare(person: SurveyedPerson, core: tuple[str, str | None, str] | None) -> Link:
    if core is None:
        return Link(person, LinkStatus.NEW, ())
    name, phone, address = core
    changed = []
    if normalize_name(person.name) != normalize_name(name):
        changed.append("name")
    if person.phone and (phone or None) != person.phone:
        changed.append("phone")
    if person.address and normalize_address(person.address) != normalize_address(address or ""):
        changed.append("address")
    return Link(person, LinkStatus.CHANGED if changed else LinkStatus.UNCHANGED, tuple(changed))


async def core_rows_for(
    conn: BaseDBAsyncClient, id_numbers: Sequence[str], batch: int = 100_000
) -> dict[str, tuple[str, str | None, str]]:
    """The core file's name, phone and address of these people, by ID number: one statement per batch
    (unnest on PostgreSQL, IN on SQLite)."""
    found: dict[str, tuple[str, str | None, str]] = {}
    postgres = dialect(conn) == "postgres"
    step = batch if postgres else 500
    async with conn.acquire_connection() as raw:
        for start in range(0, len(id_numbers), step):
            part = list(id_numbers[start : start + step])
            if postgres:
                records = await raw.fetch(
                    "SELECT c.id_number, c.name, c.phone, c.address FROM core_customer_file c "
                    "JOIN unnest($1::text[]) AS u(id_number) ON c.id_number = u.id_number",
                    part,
                )
            else:
                marks = ", ".join("?" * len(part))
                records = await raw.execute_fetchall(
                    f"SELECT id_number, name, phone, address FROM core_customer_file WHERE id_number IN ({marks})",
                    tuple(part),
                )
            for r in records:
                found[r[0]] = (r[1], r[2], r[3])
    return found


def link_people(people: Sequence[SurveyedPerson], core: dict[str, tuple[str, str | None, str]]) -> list[Link]:
    return [compare(p, core.get(p.id_number)) for p in people]


@dataclass(frozen=True)
class LinkReport:
    new: int
    unchanged: int
    changed: int
    links: list[Link]  # the page asked for, by ID number
    has_more: bool
    masked: bool


async def campaign_links(
    actor: Actor, campaign_id: int, status: LinkStatus | None = None, first: int = 50, after: str | None = None
) -> LinkReport:
    """Each person surveyed in the campaign (merged surveys left out) against the core file: the counts, and a
    page of them by ID number (`after` an ID number)."""
    _campaign, facts = await campaigns.find_campaign(actor, campaign_id, "id")
    surveys = await HouseholdSurvey.filter(campaign_id=campaign_id, merged_into_id=None).values(
        "id", "phone", "address", "details"
    )
    people = [
        SurveyedPerson(
            s["id"],
            m["id_number"],
            m["name"],
            m.get("phone") or (s["phone"] if m["relation"] == "HEAD" else None),
            s["address"] if m["relation"] == "HEAD" else "",
        )
        for s in surveys
        for m in s["details"].get("members", [])
    ]
    people.sort(key=lambda p: p.id_number)
    links = link_people(people, await core_rows_for(connection(), [p.id_number for p in people]))
    counts = {s: sum(link.status == s for link in links) for s in LinkStatus}
    chosen = [link for link in links if (status is None or link.status == status)
              and (after is None or link.person.id_number > after)]  # fmt: skip
    masked = not policy.sees_personal_data(actor, facts)
    return LinkReport(counts[LinkStatus.NEW], counts[LinkStatus.UNCHANGED], counts[LinkStatus.CHANGED],
                      chosen[:first], len(chosen) > first, masked)  # fmt: skip
