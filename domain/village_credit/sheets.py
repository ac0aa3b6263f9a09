"""Household surveys from the spreadsheets banks already keep (入户调查表, XLSX or CSV): reading a sheet, matching
its headers to our fields, and turning its rows into surveys, with every problem reported by the sheet's own row
number, column letter and header, in Chinese and English.

The layout, one row per person (家庭成员一人一行):
- person columns on every row: 户号 (the household's number in the sheet), 与户主关系, 姓名, 身份证号码, 联系电话, 年龄;
- household columns (调查日期, 家庭住址, land, income, values, debts, soft information) are read from the head's
  row (户主那一行); other rows may leave them blank or repeat them, and a repeated value that differs from the
  head's is reported, since nobody can say which one is right.
`template_sheet()` writes the layout with our headers and an example household. A bank's own header texts are
mapped field by field (a saved SurveyImportTemplate); headers are matched exactly, then after normalising
full-width characters, spaces and case; a header matching nothing is reported with the closest expected name.

A merged header cell, or a formula where a value belongs, is refused: the sheet's values cannot be trusted to be
what the user saw. Household numbers give the surveys their client ids (`import_client_id`), stable per file
name and household, so sending the same sheet again (as CSV or XLSX) stores nothing twice.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import PurePosixPath
from typing import Any
from xml.etree import ElementTree

import python_calamine
import xlsxwriter
from rapidfuzz import fuzz, process

from domain.customers.phone import normalize_phone
from domain.errors import DomainError
from domain.village_credit.errors import VillageCreditErrorCode as Code
from domain.village_credit.surveys import Debt, Member, Relation, Survey, check_member, check_survey

CHINA = timezone(timedelta(hours=8))
MAX_ROWS = 600_000
MAX_PROBLEMS_KEPT = 1000
FORMATS = {".xlsx": "XLSX", ".csv": "CSV"}


@dataclass(frozen=True)
class Column:
    key: str  # our field
    header: str  # our header text
    required: bool = False
    per_household: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("household_no", "户号", required=True),
    Column("relation", "与户主关系", required=True),
    Column("name", "姓名", required=True),
    Column("id_number", "身份证号码", required=True),
    Column("phone", "联系电话"),
    Column("age", "年龄"),
    Column("surveyed_on", "调查日期", per_household=True),
    Column("address", "家庭住址", per_household=True),
    Column("land_contracted_mu", "承包地(亩)", per_household=True),
    Column("land_rented_mu", "流转地(亩)", per_household=True),
    Column("operations", "经营项目", per_household=True),
    Column("annual_income", "家庭年收入(元)", per_household=True),
    Column("annual_expenses", "家庭年支出(元)", per_household=True),
    Column("house_value", "房产价值(元)", per_household=True),
    Column("vehicle_value", "车辆价值(元)", per_household=True),
    Column("machinery_value", "农机价值(元)", per_household=True),
    Column("other_debts", "他行负债(元)", per_household=True),
    Column("character", "人品评价", per_household=True),
    Column("reputation", "口碑评价", per_household=True),
    Column("notes", "备注", per_household=True),
)
BY_KEY = {c.key: c for c in COLUMNS}
AMOUNTS: tuple[str, ...] = ("land_contracted_mu", "land_rented_mu", "annual_income", "annual_expenses", "house_value")
AMOUNTS += ("vehicle_value", "machinery_value", "other_debts")
TEXTS = ("address", "operations", "character", "reputation", "notes")
# the survey's field names (as check_survey reports them) back to our columns
SURVEY_FIELDS = {
    "landContractedMu": "land_contracted_mu",
    "landRentedMu": "land_rented_mu",
    "annualIncome": "annual_income",
    "annualExpenses": "annual_expenses",
    "houseValue": "house_value",
    "vehicleValue": "vehicle_value",
    "machineryValue": "machinery_value",
    "debts[0].amount": "other_debts",
    "address": "address",
    "operations": "operations",
    "character": "character",
    "reputation": "reputation",
    "notes": "notes",
    "surveyedAt": "surveyed_on",
    "phone": "phone",
}
MEMBER_FIELDS = {"name": "name", "idNumber": "id_number", "phone": "phone", "age": "age", "relation": "relation"}
RELATIONS = {
    "户主": Relation.HEAD,
    "本人": Relation.HEAD,
    "配偶": Relation.SPOUSE,
    "妻": Relation.SPOUSE,
    "夫": Relation.SPOUSE,
    "子女": Relation.CHILD,
    "子": Relation.CHILD,
    "女": Relation.CHILD,
    "父母": Relation.PARENT,
    "父": Relation.PARENT,
    "母": Relation.PARENT,
    "兄弟姐妹": Relation.SIBLING,
    "孙辈": Relation.GRANDCHILD,
    "孙子": Relation.GRANDCHILD,
    "孙女": Relation.GRANDCHILD,
    "其他": Relation.OTHER,
}
_RELATION_ZH = {Relation.HEAD: "户主", Relation.SPOUSE: "配偶", Relation.CHILD: "子女", Relation.PARENT: "父母"}
_RELATION_ZH |= {Relation.SIBLING: "兄弟姐妹", Relation.GRANDCHILD: "孙辈", Relation.OTHER: "其他"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the sheet: where (the row and column as the user sees them) and what, in both
    languages. row is None for the sheet as a whole; column is None for a whole row or household."""

    code: str
    message_zh: str
    message_en: str
    row: int | None = None
    column: str | None = None
    header: str | None = None
    field: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "zh": self.message_zh,
            "en": self.message_en,
            "row": self.row,
            "column": self.column,
            "header": self.header,
            "field": self.field,
        }

    @staticmethod
    def from_json(value: dict[str, Any]) -> Problem:
        return Problem(
            value["code"], value["zh"], value["en"], value.get("row"), value.get("column"), value.get("header"),
            value.get("field"),
        )  # fmt: skip


@dataclass(frozen=True)
class Table:
    """The sheet's cells as read (header row first), with the problems of the file itself."""

    rows: list[list[Any]]
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Household:
    """One household of the sheet: its number, its rows (sheet row numbers) and its survey, or its problems."""

    number: str
    rows: tuple[int, ...]
    survey: Survey | None
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class ReadSheet:
    households: list[Household]
    problems: list[Problem]  # every problem, sheet-wide ones first
    rows_total: int
    header: list[str]
    columns: dict[str, int]  # our field → 0-based column
    cells: list[list[Any]] = field(default_factory=list)  # the rows below the header, as read


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def file_format(file_name: str) -> str | None:
    return FORMATS.get(PurePosixPath(file_name).suffix.lower())


def sheet_stem(file_name: str) -> str:
    """What makes two uploads the same sheet: the file name without its extension, case and outer spaces."""
    return PurePosixPath(file_name).stem.strip().casefold()


def import_client_id(file_name: str, household_no: str) -> str:
    """The survey's client id: the same for the same file name (whatever its extension) and household number."""
    stem = sheet_stem(file_name)
    digest = hashlib.sha256(f"{stem}\x00{household_no}".encode()).hexdigest()[:40]
    return f"sheet-{digest}"


# --- reading ---------------------------------------------------------------------------------------------------


def read_table(content: bytes, fmt: str) -> Table:
    return read_xlsx(content) if fmt == "XLSX" else read_csv(content)


def decode_csv(content: bytes) -> str:
    """UTF-8 with or without BOM, else GB18030 (what Excel saves on a Chinese Windows)."""
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("gb18030")


def read_csv(content: bytes) -> Table:
    try:
        text = decode_csv(content)
    except UnicodeDecodeError:
        return Table(
            [], [_sheet_problem("文件编码无法识别(应为UTF-8或GB18030)", "the file is neither UTF-8 nor GB18030")]
        )
    return Table([row for row in csv.reader(io.StringIO(text, newline="")) if any(c.strip() for c in row)])


def read_xlsx(content: bytes) -> Table:
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
        sheet = book.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except Exception:  # calamine's errors are its own; any of them means an unreadable workbook
        return Table([], [_sheet_problem("无法读取该XLSX文件", "the XLSX file cannot be read")])
    problems = []
    for (r0, c0), (r1, c1) in sheet.merged_cell_ranges or []:
        if r0 == 0:
            span = f"{column_letter(c0)}1:{column_letter(c1)}{r1 + 1}"
            problems.append(
                Problem(
                    Code.MERGED_HEADER_CELLS,
                    f"表头有合并单元格({span}),请取消合并,每列一个表头",
                    f"the header has merged cells ({span}): unmerge them, one header per column",
                    row=1,
                    column=column_letter(c0),
                )
            )
    problems += _formula_cells(content)
    return Table([r for r in rows if any(str(c).strip() for c in r)], problems)


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")
_BLOCK = 1 << 20


def _has_formula(archive: zipfile.ZipFile, path: str) -> bool:
    """A quick pass over the sheet's XML for any formula element, in blocks, without parsing it."""
    with archive.open(path) as xml:
        tail = b""
        while block := xml.read(_BLOCK):
            if _FORMULA_TAG.search(tail + block):
                return True
            tail = block[-16:]
    return False


def _formula_cells(content: bytes, most: int = MAX_PROBLEMS_KEPT) -> list[Problem]:
    """Cells of the first sheet holding a formula, read from the sheet's XML (calamine gives values only); the
    sheet is parsed only when a quick pass has found one."""
    found: list[Problem] = []
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        path = _first_sheet_path(archive)
        if path is None or not _has_formula(archive, path):
            return found
        with archive.open(path) as xml:
            cell = None
            # expat ≥ 2.4.1 (in the interpreter) refuses entity amplification; defusedxml is not installed here
            for event, element in ElementTree.iterparse(xml, events=("start", "end")):  # noqa: S314
                tag = element.tag.rsplit("}", 1)[-1]
                if event == "start" and tag == "c":
                    cell = element.get("r")
                elif event == "start" and tag == "f" and cell:
                    letters = re.match(r"[A-Z]+", cell)
                    found.append(
                        Problem(
                            Code.FORMULA_NOT_VALUE,
                            f"单元格{cell}是公式,请粘贴为数值后再导入",
                            f"cell {cell} holds a formula: paste it as a value and import again",
                            row=int(cell[len(letters.group(0)) :]) if letters else None,
                            column=letters.group(0) if letters else None,
                        )
                    )
                    cell = None
                    if len(found) >= most:
                        break
                elif event == "end" and tag in ("c", "row"):
                    element.clear()
    return found


def _first_sheet_path(archive: zipfile.ZipFile) -> str | None:
    ns = {
        "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    }
    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
    except KeyError:
        return None
    sheet = book.find("m:sheets/m:sheet", ns)
    if sheet is None:
        return None
    rid = sheet.get(f"{{{ns['r']}}}id")
    for rel in rels:
        if rel.get("Id") == rid:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return None


def _sheet_problem(zh: str, en: str) -> Problem:
    return Problem(Code.UNREADABLE_SHEET, zh, en)


# --- headers ---------------------------------------------------------------------------------------------------


def normalise_header(text: Any) -> str:
    """Full-width to half-width, no spaces, no case: "  年收入（元） " and "年收入(元)" are one header."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).casefold()


def map_headers(header: Sequence[Any], mapping: dict[str, str] | None = None) -> tuple[dict[str, int], list[Problem]]:
    """Our field → 0-based column, from the sheet's header row and a template's mapping (our field → their
    header); problems for headers matching nothing (with the closest expected), required columns missing and a
    header given twice."""
    expected: dict[str, str] = {}  # normalised header → our field
    for column in COLUMNS:
        for text in (column.header, column.key, (mapping or {}).get(column.key)):
            if text:
                expected[normalise_header(text)] = column.key
    shown = {c.key: (mapping or {}).get(c.key) or c.header for c in COLUMNS}
    found: dict[str, int] = {}
    problems: list[Problem] = []
    for index, text in enumerate(header):
        if not str(text).strip():
            continue
        key = expected.get(normalise_header(text))
        letter = column_letter(index)
        if key is None:
            choices = list(shown.values())
            best = process.extractOne(str(text), choices, scorer=fuzz.WRatio)
            hint_zh = f",是否应为“{best[0]}”?" if best and best[1] >= 50 else ""
            hint_en = f"; did you mean “{best[0]}”?" if best and best[1] >= 50 else ""
            problems.append(
                Problem(
                    Code.UNKNOWN_COLUMN,
                    f"列名“{text}”无法识别{hint_zh}",
                    f"the column name “{text}” is not one we know{hint_en}",
                    row=1,
                    column=letter,
                    header=str(text),
                )
            )
        elif key in found:
            problems.append(
                Problem(
                    Code.COLUMN_TWICE,
                    f"列“{text}”与第{column_letter(found[key])}列重复",
                    f"the column “{text}” repeats column {column_letter(found[key])}",
                    row=1,
                    column=letter,
                    header=str(text),
                )
            )
        else:
            found[key] = index
    for column in COLUMNS:
        if column.required and column.key not in found:
            problems.append(
                Problem(
                    Code.MISSING_COLUMN,
                    f"缺少必填列“{shown[column.key]}”",
                    f"the required column “{shown[column.key]}” is missing",
                    row=1,
                    header=shown[column.key],
                    field=column.key,
                )
            )
    return found, problems


# --- rows to surveys -------------------------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """A cell as text: whole numbers without ".0" (an ID number or phone typed as a number)."""
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


class _Row:
    """One sheet row being read: its cells by our field, and the problems found in it."""

    def __init__(self, number: int, cells: list[Any], columns: dict[str, int], header: list[str]) -> None:
        self.number = number
        self.cells = cells
        self.columns = columns
        self.header = header
        self.problems: list[Problem] = []

    def raw(self, key: str) -> Any:
        index = self.columns.get(key)
        return self.cells[index] if index is not None and index < len(self.cells) else None

    def text(self, key: str) -> str:
        return cell_text(self.raw(key))

    def problem(self, key: str, code: str, zh: str, en: str) -> None:
        index = self.columns.get(key)
        self.problems.append(
            Problem(
                code, zh, en, row=self.number,
                column=column_letter(index) if index is not None else None,
                header=self.header[index] if index is not None else BY_KEY[key].header,
                field=key,
            )
        )  # fmt: skip

    def amount(self, key: str) -> Decimal:
        text = self.text(key).replace(",", "")
        if not text:
            return Decimal(0)
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            self.problem(key, Code.NOT_A_NUMBER, f"“{text}”不是数字", f"“{text}” is not a number")
            return Decimal(0)
        if value < 0:
            what = BY_KEY[key].header
            self.problem(
                key, Code.AMOUNT_OUT_OF_RANGE, f"{what}不能为负数({text})", f"{key} cannot be negative ({text})"
            )
            return Decimal(0)
        return value

    def surveyed_at(self, now: datetime) -> datetime:
        value = self.raw("surveyed_on")
        if value in (None, ""):
            return now
        if isinstance(value, datetime):
            return value.replace(tzinfo=value.tzinfo or CHINA)
        if isinstance(value, date):
            return datetime.combine(value, time(12), CHINA)
        text = cell_text(value).replace("/", "-").replace(".", "-")
        try:
            return datetime.combine(date.fromisoformat(text[:10]), time(12), CHINA)
        except ValueError:
            self.problem(
                "surveyed_on", Code.INVALID_SURVEY_TIME,
                f"调查日期“{text}”无法识别(应为2026-11-20)", f"the survey date “{text}” is not a date like 2026-11-20",
            )  # fmt: skip
            return now

    def member(self) -> Member | None:
        relation_text = self.text("relation")
        relation = RELATIONS.get(relation_text) or next((r for r in Relation if r.value == relation_text.upper()), None)
        if relation is None:
            self.problem(
                "relation", Code.UNKNOWN_RELATION,
                f"与户主关系“{relation_text}”无法识别(户主、配偶、子女、父母、兄弟姐妹、孙辈、其他)",
                f"the relation “{relation_text}” is not one of 户主 (head), 配偶, 子女, 父母, 兄弟姐妹, 孙辈, 其他",
            )  # fmt: skip
        age_text = self.text("age")
        age = None
        if age_text:
            if age_text.isdigit():
                age = int(age_text)
            else:
                self.problem(
                    "age", Code.NOT_A_NUMBER, f"年龄“{age_text}”不是整数", f"the age “{age_text}” is not a whole number"
                )
        return Member(
            name=self.text("name"), id_number=self.text("id_number"), relation=relation or Relation.OTHER,
            age=age, phone=self.text("phone") or None,
        )  # fmt: skip


@dataclass(frozen=True)
class ParsedSheet:
    """A sheet read, its headers mapped and its rows grouped by household, nothing checked yet: what an import
    job's worker reads once and keeps for every chunk of the import it runs."""

    problems: tuple[Problem, ...]  # sheet-wide ones, and rows without a household number
    held_back: frozenset[int]  # rows with a formula: their households wait
    rows_total: int
    header: list[str]
    columns: dict[str, int]
    body: list[list[Any]]
    groups: tuple[tuple[str, tuple[tuple[int, list[Any]], ...]], ...]  # household number → (row number, cells)


def parse_sheet(content: bytes, fmt: str, mapping: dict[str, str] | None) -> ParsedSheet:
    """The sheet read and grouped (see ParsedSheet); no groups when nothing can be read household by household:
    an empty sheet, too many rows, a missing column or merged header cells."""
    table = read_table(content, fmt)
    problems = list(table.problems)
    held_back = frozenset(p.row for p in table.problems if p.row and p.row > 1)
    if not table.rows:
        if not problems:
            problems.append(_sheet_problem("表格是空的", "the sheet is empty"))
        return ParsedSheet(tuple(problems), held_back, 0, [], {}, [], ())
    header = [cell_text(c) for c in table.rows[0]]
    columns, header_problems = map_headers(header, mapping)
    problems += header_problems
    body = table.rows[1:]
    if len(body) > MAX_ROWS:
        problems.append(_sheet_problem(f"一次最多导入{MAX_ROWS}行", f"at most {MAX_ROWS} rows an import"))
        return ParsedSheet(tuple(problems), held_back, len(body), header, columns, [], ())
    if any(p.code in (Code.MISSING_COLUMN, Code.MERGED_HEADER_CELLS) for p in problems):
        return ParsedSheet(tuple(problems), held_back, len(body), header, columns, [], ())
    groups: dict[str, list[tuple[int, list[Any]]]] = {}
    for offset, cells in enumerate(body):
        row = _Row(offset + 2, list(cells), columns, header)
        number = row.text("household_no")
        if not number:
            row.problem("household_no", Code.MISSING_VALUE, "户号不能为空", "the household number is required")
            problems += row.problems
            continue
        groups.setdefault(number, []).append((row.number, row.cells))
    grouped = tuple((number, tuple(rows)) for number, rows in groups.items())
    return ParsedSheet(tuple(problems), held_back, len(body), header, columns, body, grouped)


def read_sheet(content: bytes, fmt: str, file_name: str, mapping: dict[str, str] | None, now: datetime) -> ReadSheet:
    """The sheet's households, each with its checked survey or every problem found in its rows."""
    return check_sheet(parse_sheet(content, fmt, mapping), file_name, now)


def check_sheet(
    parsed: ParsedSheet, file_name: str, now: datetime, households: tuple[int, int] | None = None
) -> ReadSheet:
    """The parsed sheet's households checked. With `households` (first, stop), only those are checked and
    listed, as an import job's chunk needs them."""
    problems = list(parsed.problems)
    first, stop = households if households is not None else (0, len(parsed.groups))
    checked = []
    for number, rows in parsed.groups[first:stop]:
        fresh = [_Row(n, cells, parsed.columns, parsed.header) for n, cells in rows]  # problems of this check only
        household = _household(number, fresh, file_name, now)
        if parsed.held_back.intersection(household.rows):
            household = replace(household, survey=None)
        checked.append(household)
        problems += household.problems
    return ReadSheet(checked, problems, parsed.rows_total, parsed.header, parsed.columns, parsed.body)


def _household(number: str, rows: list[_Row], file_name: str, now: datetime) -> Household:
    members = [row.member() for row in rows]
    heads = [row for row, m in zip(rows, members, strict=True) if m is not None and m.relation == Relation.HEAD]
    source = heads[0] if heads else rows[0]
    values: dict[str, Any] = {key: source.amount(key) for key in AMOUNTS}
    texts: dict[str, Any] = {key: source.text(key) for key in TEXTS}
    surveyed_at = source.surveyed_at(now)
    _differing(rows, source)
    other_debts = values.pop("other_debts")
    debts = (Debt("他行", other_debts),) if other_debts else ()
    draft = Survey(
        client_id=import_client_id(file_name, number), client_version=1, surveyed_at=surveyed_at,
        members=tuple(m for m in members if m is not None), phone=(heads[0].text("phone") or None) if heads else None,
        debts=debts, **values, **texts,
    )  # fmt: skip
    survey = _checked_at_once(draft, now) if not any(row.problems for row in rows) else None
    if survey is None:  # something is wrong: find every fault, member by member, then field by field
        checked_members = _check_members(rows, draft, surveyed_at)
        survey = _check_household(rows, source, draft, checked_members, now)
    problems = tuple(p for row in rows for p in row.problems)
    return Household(number, tuple(r.number for r in rows), None if problems else survey, problems)


def _checked_at_once(draft: Survey, now: datetime) -> Survey | None:
    """The survey checked in one pass, as most of a sheet's households are; None when anything is at fault."""
    try:
        return check_survey(draft, now)
    except DomainError:
        return None


def _differing(rows: list[_Row], source: _Row) -> None:
    household_columns = [(c, source.columns[c.key]) for c in COLUMNS if c.per_household and c.key in source.columns]
    for row in rows:
        if row is source:
            continue
        width = len(row.cells)
        for column, index in household_columns:
            if index >= width or row.cells[index] in (None, ""):
                continue  # most rows: blank, as the layout asks
            if (given := row.text(column.key)) and given != source.text(column.key):
                row.problem(
                    column.key, Code.HOUSEHOLD_VALUE_DIFFERS,
                    f"与户主行(第{source.number}行)的“{column.header}”不同;户级信息以户主行为准,其他行请留空",
                    f"differs from the head's row ({source.number}); household values are read from the head's "
                    "row, leave them blank on other rows",
                )  # fmt: skip


def _check_members(rows: list[_Row], draft: Survey, surveyed_at: datetime) -> list[Member | None]:
    """Each member checked on their own, every fault of the row reported (a faulty name does not hide a faulty
    ID number)."""
    checked: list[Member | None] = []
    on = surveyed_at.date() if surveyed_at.tzinfo else datetime.now(UTC).date()
    for index, (row, member) in enumerate(zip(rows, draft.members, strict=True)):
        candidate, result = member, None
        for _ in range(len(MEMBER_FIELDS) + 1):
            try:
                result = check_member(candidate, index, on)
                break
            except DomainError as error:
                key = MEMBER_FIELDS.get((error.field or "").rsplit(".", 1)[-1], "id_number")
                row.problem(key, error.code, error.message_zh, error.message_en)
                if key == "name":
                    candidate = replace(candidate, name="张三")
                elif key == "age":
                    candidate = replace(candidate, age=None)
                elif key == "phone":
                    candidate = replace(candidate, phone=None)
                else:  # the ID number: nothing more to learn from it; the phone still has its say
                    _check_phone(row, candidate.phone)
                    break
        checked.append(result if not row.problems else None)
    return checked


def _check_phone(row: _Row, phone: str | None) -> None:
    if phone:
        try:
            normalize_phone(phone)
        except DomainError as error:
            row.problem("phone", error.code, error.message_zh, error.message_en)


def _check_household(
    rows: list[_Row], source: _Row, draft: Survey, members: list[Member | None], now: datetime
) -> Survey | None:
    """The household's own rules and fields by check_survey, every fault found: a field at fault is reported and
    cleared, and the survey checked again."""
    kept = [i for i, m in enumerate(members) if m is not None]
    if any(draft.members[i].relation == Relation.HEAD and members[i] is None for i in range(len(members))):
        return None  # the head's own row is at fault: the household's rules cannot be judged yet
    rows = [rows[i] for i in kept]
    draft = replace(draft, members=tuple(draft.members[i] for i in kept))
    survey = draft
    for _ in range(len(SURVEY_FIELDS) + len(rows) + 1):
        try:
            return check_survey(survey, now)
        except DomainError as error:
            at = error.field or ""
            member = re.match(r"members\[(\d+)\]\.?(\w*)", at)
            if member:
                index = int(member.group(1))
                rows[index].problem(
                    MEMBER_FIELDS.get(member.group(2), "id_number"), error.code, error.message_zh, error.message_en
                )
                return None
            if at in ("members", ""):
                source.problem("relation", error.code, error.message_zh, error.message_en)
                return None
            key = SURVEY_FIELDS.get(at, "notes")
            source.problem(key, error.code, error.message_zh, error.message_en)
            survey = _cleared(survey, at)
    return None


def _cleared(survey: Survey, at: str) -> Survey:
    if at.startswith("debts"):
        return replace(survey, debts=())
    if at == "surveyedAt":
        return replace(survey, surveyed_at=datetime.now(UTC))
    attribute = re.sub(r"(?<!^)(?=[A-Z])", "_", at).lower()
    default: Any = Survey.__dataclass_fields__[attribute].default
    return replace(survey, **{attribute: default})


# --- sheets written --------------------------------------------------------------------------------------------


def template_sheet() -> bytes:
    """The layout as an XLSX to fill in: our headers and one example household (a head, a spouse and a child)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("入户调查")
    bold = book.add_format({"bold": True})
    text = book.add_format({"num_format": "@"})
    for index, column in enumerate(COLUMNS):
        sheet.write_string(0, index, column.header, bold)
        sheet.set_column(index, index, 14, text)
    example = [
        ["1", "户主", "张大山", "", "13812340000", "", "2026-11-20", "睢宁县王集镇张庄村三组8号", "12.5", "3",
         "种植小麦、养羊", "86000", "30000", "200000", "50000", "20000", "20000", "为人踏实", "邻里口碑好", ""],
        ["1", "配偶", "李秀英"],
        ["1", "子女", "张小明"],
    ]  # fmt: skip
    for r, cells in enumerate(example, start=1):
        for c, value in enumerate(cells):
            sheet.write_string(r, c, value)
    book.close()
    return buffer.getvalue()


def error_sheet(header: Sequence[str], body: Sequence[Sequence[Any]], problems: Sequence[Problem]) -> bytes:
    """The rows at fault as they were sent, each with its errors in Chinese and English in two last columns;
    sheet-wide problems first, on rows of their own."""
    by_row: dict[int | None, list[Problem]] = {}
    for problem in problems:
        by_row.setdefault(problem.row if problem.row and problem.row > 1 else None, []).append(problem)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "constant_memory": True})
    sheet = book.add_worksheet("错误")
    titles = ["原行号 Row", *header, "错误 (中文)", "Errors (English)"]
    for c, title in enumerate(titles):
        sheet.write_string(0, c, str(title))
    out = 1
    for problem in by_row.get(None, []):
        sheet.write_row(out, 0, [problem.row or "", *([""] * len(header)), _zh(problem), _en(problem)])
        out += 1
    for number, cells in enumerate(body, start=2):
        found = by_row.get(number)
        if not found:
            continue
        sheet.write_number(out, 0, number)
        for c, value in enumerate(cells):
            sheet.write_string(out, c + 1, cell_text(value))
        sheet.write_string(out, len(header) + 1, ";".join(_zh(p) for p in found))
        sheet.write_string(out, len(header) + 2, "; ".join(_en(p) for p in found))
        out += 1
    book.close()
    return buffer.getvalue()


def _zh(problem: Problem) -> str:
    where = f"{problem.column}列“{problem.header}”:" if problem.column else ""
    return f"{where}{problem.message_zh}"


def _en(problem: Problem) -> str:
    where = f"column {problem.column} ({problem.header}): " if problem.column else ""
    return f"{where}{problem.message_en}"


def relation_zh(relation: Relation) -> str:
    return _RELATION_ZH[relation]
