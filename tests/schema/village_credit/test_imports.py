"""Household surveys imported from the banks' spreadsheets: the dry run lists every problem by row and column in
both languages (merged header cells, wrong column names, formulas, invalid ID numbers, negative incomes, a
household surveyed by another manager) and stores no survey; the import runs as a job to DONE through the app's
own per-survey store, so the same sheet imported three times stores each household once; GB18030 CSV; the error
sheet read back; only the campaign's collectors while it collects, every other role refused with nothing
changed."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from typing import Any

import pytest
import python_calamine
import xlsxwriter

from domain.customers.idcard import make_id_number
from domain.village_credit import sheets
from models import AuditLog, HouseholdSurvey, Job, SurveyImport, SurveyMember, VillageCampaign
from resolvers.kinds import KINDS
from resolvers.platform import jobs
from resolvers.platform.job_kinds import register
from resolvers.village_credit import imports
from tests.factories import Api, World, gid
from tests.schema.village_credit.conftest import collecting, person, submit, survey

PREFLIGHT = {"X-Palmcredit-Request": "1"}
IMPORT_FIELDS = """__typename
  ... on SurveyImport { id status rowsTotal householdsTotal householdsValid saved updated duplicates errors chunksDone
    chunksTotal problemsTotal problems { code row column header messageZh messageEn } errorSheet }
  ... on VillageCreditError { code field messageZh messageEn }"""
DRY_RUN = f"""mutation($c: ID!, $file: Upload!, $t: ID) {{
  dryRunSurveyImport(campaignId: $c, file: $file, templateId: $t) {{ {IMPORT_FIELDS} }} }}"""
START = f"mutation($id: ID!) {{ startSurveyImport(id: $id) {{ {IMPORT_FIELDS} }} }}"
READ = """query($id: ID!) { surveyImport(id: $id) { status saved updated duplicates errors chunksDone chunksTotal
  errorSheet problems { code row column messageZh messageEn } } }"""
SAVE_TEMPLATE = """mutation($n: String!, $m: [ColumnMappingInput!]!) { saveSurveyImportTemplate(name: $n, mapping: $m) {
  __typename ... on SurveyImportTemplate { id name mapping { field header } } ... on VillageCreditError { code } } }"""
HEADER = ["户号", "与户主关系", "姓名", "身份证号码", "联系电话", "调查日期", "家庭住址", "家庭年收入(元)"]


def ids(n: int) -> list[str]:
    return [make_id_number("320324", date(1970 + i, 3, 1), 101 + 2 * i) for i in range(n)]


def good_rows(people: list[str]) -> list[list[str]]:
    """Two households: a head with a spouse, and a head alone."""
    return [
        ["1", "户主", "张大山", people[0], "13812340000", "2026-11-20", "张庄村三组8号", "86000"],
        ["1", "配偶", "李秀英", people[1], "", "", "", ""],
        ["2", "户主", "王老五", people[2], "13812340001", "2026-11-20", "张庄村二组1号", "42000"],
    ]


def as_csv(rows: list[list[str]], header: list[str] = HEADER, encoding: str = "utf-8-sig") -> bytes:
    text = io.StringIO()
    csv.writer(text).writerows([header, *rows])
    return text.getvalue().encode(encoding)


def as_xlsx(rows: list[list[str]], header: list[str] = HEADER, *, merged: bool = False, formula: bool = False) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    for c, text in enumerate(header):
        sheet.write_string(0, c, text)
    if merged:
        sheet.merge_range(0, 6, 0, 7, "家庭情况")
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    if formula:
        sheet.write_formula(1, 7, "=80000+6000", None, 86000)
    book.close()
    return buffer.getvalue()


async def dry_run(api: Api, who: str, campaign: VillageCampaign, name: str, content: bytes, **more: Any) -> Any:
    operations = {"query": DRY_RUN, "variables": {"c": gid("VillageCampaign", campaign.id), "file": None, **more}}
    response = await api.client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (name, content, "application/octet-stream")},
        headers=PREFLIGHT | {"Authorization": f"Bearer {await api.token(who)}"},
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["dryRunSurveyImport"]


async def start(api: Api, who: str, import_id: str) -> Any:
    result = await api.as_(who, START, {"id": import_id})
    assert "errors" not in result, result
    return result["data"]["startSurveyImport"]


async def run_to_end(job_id: int) -> Job:
    """Run the job's chunks and its finish here, as a worker would."""
    register(KINDS)
    job = await Job.get(id=job_id)
    for number in range(job.chunks_total):
        await jobs.run_job_chunk(job_id, number)
    await jobs.finish_job(job_id)
    return await Job.get(id=job_id)


def problems(result: dict[str, Any]) -> list[tuple[str, int | None, str | None]]:
    return [(p["code"], p["row"], p["column"]) for p in result["problems"]]


async def import_sheet(api: Api, campaign: VillageCampaign, name: str, content: bytes) -> dict[str, Any]:
    checked = await dry_run(api, "manager1a", campaign, name, content)
    queued = await start(api, "manager1a", checked["id"])
    assert queued["status"] == "QUEUED"
    record = await SurveyImport.all().order_by("-id").first()
    assert record is not None
    assert record.job_id is not None  # type: ignore[attr-defined]
    await run_to_end(record.job_id)  # type: ignore[attr-defined]
    done = await api.as_("manager1a", READ, {"id": checked["id"]})
    return done["data"]["surveyImport"]  # type: ignore[no-any-return]


async def test_a_good_sheet_imports_to_done_and_three_imports_store_each_household_once(
    api: Api, campaign: VillageCampaign
) -> None:
    await collecting(api, campaign)
    people = ids(3)
    content = as_xlsx(good_rows(people))
    checked = await dry_run(api, "manager1a", campaign, "张庄村.xlsx", content)
    assert (checked["status"], checked["householdsTotal"], checked["householdsValid"], checked["problems"]) == (
        "DRY_RUN_DONE", 2, 2, []
    )  # fmt: skip
    assert await HouseholdSurvey.all().count() == 0  # the dry run stores no survey
    first = await import_sheet(api, campaign, "张庄村.xlsx", content)
    assert (first["status"], first["saved"], first["chunksDone"], first["chunksTotal"]) == ("DONE", 2, 1, 1)
    again = await import_sheet(api, campaign, "张庄村.xlsx", content)
    as_csv_too = await import_sheet(api, campaign, "张庄村.csv", as_csv(good_rows(people)))
    assert (again["saved"], as_csv_too["saved"]) == (0, 0)
    assert await HouseholdSurvey.all().count() == 2
    assert await SurveyMember.all().count() == 3
    stored = await HouseholdSurvey.get(head_id_number=people[0])
    assert (stored.head_name, str(stored.annual_income)) == ("张大山", "86000.00")
    assert stored.collector_id == campaign.collector_ids[0]  # type: ignore[attr-defined]


async def test_a_sheet_of_several_chunks_is_read_once_per_worker_and_each_chunk_checks_its_own_households(
    api: Api, campaign: VillageCampaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1,100 households in three chunks: the worker reads the sheet once for all of them (not once a chunk), each
    chunk stores its own households, and a household at fault in the last chunk is named by its row."""
    await collecting(api, campaign)
    born = date(1960, 1, 1)
    rows = [
        [str(n), "户主", f"村民{n}", make_id_number("320324", born + timedelta(days=n), 1), "", "2026-11-20", "张庄村",
         "30000"]
        for n in range(1, 1101)
    ]  # fmt: skip
    rows[1049][7] = "-5"  # household 1,050 (sheet row 1,051): a negative income
    content = as_csv(rows)
    checked = await dry_run(api, "manager1a", campaign, "大村.csv", content)
    assert (checked["householdsTotal"], checked["householdsValid"]) == (1100, 1099)
    reads: list[int] = []
    parse = sheets.parse_sheet
    monkeypatch.setattr(sheets, "parse_sheet", lambda *a: reads.append(1) or parse(*a))
    done = await import_sheet(api, campaign, "大村.csv", content)
    assert (done["status"], done["saved"], done["errors"], done["chunksDone"], done["chunksTotal"]) == (
        "DONE", 1099, 1, 3, 3
    )  # fmt: skip
    assert len(reads) == 2  # import_sheet's own dry run, then one read for the job's three chunks (not three)
    assert imports._PARSED == {}  # no chunk left to start: the sheet's memory given back
    assert [(p["code"], p["row"]) for p in done["problems"]] == [("AMOUNT_OUT_OF_RANGE", 1051)]
    assert await HouseholdSurvey.filter(campaign_id=campaign.id).count() == 1099
    assert await SurveyMember.filter(campaign_id=campaign.id).count() == 1099


async def test_a_corrected_sheet_sent_again_updates_the_households_it_changed_and_only_those(
    api: Api, campaign: VillageCampaign
) -> None:
    """The manager fixes a typo in the sheet and imports it again: the corrected household is UPDATED (the sheet
    is the newer edit, a version up, its members as the sheet now lists them), the other stays a duplicate."""
    await collecting(api, campaign)
    people = ids(4)
    await import_sheet(api, campaign, "张庄村.xlsx", as_xlsx(good_rows(people)))
    corrected = good_rows(people)
    corrected[2][7] = "52000"  # 王老五's income, mistyped the first time
    corrected.append(["2", "子女", "王小五", people[3], "", "", "", ""])
    checked = await dry_run(api, "manager1a", campaign, "张庄村.xlsx", as_xlsx(corrected))
    assert (checked["problems"], checked["householdsValid"]) == ([], 2)
    done = await import_sheet(api, campaign, "张庄村.xlsx", as_xlsx(corrected))
    assert (done["status"], done["saved"], done["updated"], done["duplicates"], done["errors"]) == (
        "DONE", 0, 1, 1, 0
    )  # fmt: skip
    fixed = await HouseholdSurvey.get(head_id_number=people[2])
    assert (str(fixed.annual_income), fixed.client_version) == ("52000.00", 2)
    assert sorted(await SurveyMember.filter(survey_id=fixed.id).values_list("id_number", flat=True)) == sorted(
        people[2:4]
    )
    untouched = await HouseholdSurvey.get(head_id_number=people[0])
    assert (str(untouched.annual_income), untouched.client_version) == ("86000.00", 1)
    assert await HouseholdSurvey.all().count() == 2
    again = await import_sheet(api, campaign, "张庄村.csv", as_csv(corrected))
    assert (again["updated"], again["duplicates"]) == (0, 2)  # the correction sent once more changes nothing


async def test_a_household_edited_in_the_app_after_its_import_keeps_the_apps_edit(
    api: Api, campaign: VillageCampaign
) -> None:
    """After the import, the manager corrected household 1 on the phone; a later sheet that says otherwise does
    not overwrite the app's edit: the dry run and the import name the row, in both languages, and the rest of
    the sheet is imported."""
    await collecting(api, campaign)
    people = ids(3)
    await import_sheet(api, campaign, "张庄村.xlsx", as_xlsx(good_rows(people)))
    client_id = sheets.import_client_id("张庄村.xlsx", "1")
    edit = survey(people[0], client_id=client_id, version=2, annualIncome="91000")
    edit["members"].append({"name": "李秀英", "idNumber": people[1], "relation": "SPOUSE"})
    sent = await submit(api, "manager1a", campaign, [edit])
    assert [o["status"] for o in sent["results"]] == ["UPDATED"], sent
    later = good_rows(people)
    later[2][7] = "52000"
    checked = await dry_run(api, "manager1a", campaign, "张庄村.xlsx", as_xlsx(later))
    assert problems(checked) == [("SURVEY_EDITED_IN_APP", 2, "A")]
    assert "App" in checked["problems"][0]["messageZh"]
    assert "app" in checked["problems"][0]["messageEn"]
    done = await import_sheet(api, campaign, "张庄村.xlsx", as_xlsx(later))
    assert (done["updated"], done["errors"]) == (1, 1)
    assert [(p["code"], p["row"]) for p in done["problems"]] == [("SURVEY_EDITED_IN_APP", 2)]
    kept = await HouseholdSurvey.get(head_id_number=people[0])
    assert (str(kept.annual_income), kept.client_version, kept.last_import_id) == ("91000.00", 2, None)  # type: ignore[attr-defined]
    assert str((await HouseholdSurvey.get(head_id_number=people[2])).annual_income) == "52000.00"


async def test_another_managers_sheet_of_the_same_name_is_refused_household_by_household(
    api: Api, campaign: VillageCampaign
) -> None:
    await collecting(api, campaign)
    people = ids(3)
    await import_sheet(api, campaign, "张庄村.xlsx", as_xlsx(good_rows(people)))
    checked = await dry_run(api, "manager1a2", campaign, "张庄村.xlsx", as_xlsx(good_rows(people)))
    assert problems(checked) == [("CLIENT_ID_REUSED", 2, "A"), ("CLIENT_ID_REUSED", 4, "A")]
    assert checked["householdsValid"] == 0
    assert await HouseholdSurvey.filter(collector_id=campaign.collector_ids[1]).count() == 0


async def test_every_problem_is_reported_by_row_and_column_and_nothing_is_stored(
    api: Api, campaign: VillageCampaign
) -> None:
    await collecting(api, campaign)
    people = ids(3)
    rows = good_rows(people)
    rows[0][3] = people[0][:-1] + ("0" if people[0][-1] != "0" else "1")  # a wrong check digit
    rows[0][7] = "-500"  # a negative income, on the same row: both reported
    rows[2][4] = "12345"  # a bad phone
    result = await dry_run(api, "manager1a", campaign, "bad.csv", as_csv(rows))
    found = problems(result)
    assert ("INVALID_ID_NUMBER", 2, "D") in found
    assert ("AMOUNT_OUT_OF_RANGE", 2, "H") in found
    assert any(code == "INVALID_PHONE" and row == 4 for code, row, _ in found), found
    assert all(p["messageZh"] and p["messageEn"] for p in result["problems"])
    assert (result["householdsValid"], result["errors"]) == (0, 2)
    sheet = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(await _error_sheet(api, result)))
    rows_back = sheet.get_sheet_by_index(0).to_python()
    assert rows_back[0][0] == "原行号 Row"
    assert [int(r[0]) for r in rows_back[1:]] == [2, 4]
    assert "身份证号码" in rows_back[1][-2]
    assert "negative" in rows_back[1][-1]
    refused = await start(api, "manager1a", result["id"])
    assert refused["code"] == "IMPORT_HAS_NO_VALID_HOUSEHOLDS"
    assert await HouseholdSurvey.all().count() == 0


async def _error_sheet(api: Api, result: dict[str, Any]) -> bytes:
    import base64

    read = await api.as_("manager1a", READ, {"id": result["id"]})
    url = read["data"]["surveyImport"]["errorSheet"]
    assert url.startswith("data:application/vnd.openxmlformats")
    return base64.b64decode(url.split(",", 1)[1])


async def test_merged_header_cells_and_formulas_are_refused_cell_by_cell(api: Api, campaign: VillageCampaign) -> None:
    await collecting(api, campaign)
    merged = await dry_run(api, "manager1a", campaign, "merged.xlsx", as_xlsx(good_rows(ids(3)), merged=True))
    assert ("MERGED_HEADER_CELLS", 1, "G") in problems(merged)
    formula = await dry_run(api, "manager1a", campaign, "formula.xlsx", as_xlsx(good_rows(ids(3)), formula=True))
    assert problems(formula) == [("FORMULA_NOT_VALUE", 2, "H")]
    assert formula["householdsValid"] == 1  # the household with the formula is held back, the other is fine


async def test_wrong_column_names_are_named_with_the_closest_expected(api: Api, campaign: VillageCampaign) -> None:
    await collecting(api, campaign)
    header = [*HEADER[:3], "身份证号", *HEADER[4:7], "年收入"]
    result = await dry_run(api, "manager1a", campaign, "cols.csv", as_csv(good_rows(ids(3)), header))
    by_code = {(p["code"], p["column"]): p for p in result["problems"]}
    assert "身份证号码" in by_code[("UNKNOWN_COLUMN", "D")]["messageZh"]
    assert "did you mean" in by_code[("UNKNOWN_COLUMN", "H")]["messageEn"]
    assert ("MISSING_COLUMN", 1, None) in problems(result)


async def test_a_saved_template_maps_a_banks_own_headers(api: Api, campaign: VillageCampaign) -> None:
    await collecting(api, campaign)
    mapping = [{"field": "id_number", "header": "证件号"}, {"field": "household_no", "header": "家庭编号"}]
    saved = (await api.as_("manager1a", SAVE_TEMPLATE, {"n": "睢宁模板", "m": mapping}))["data"]
    template = saved["saveSurveyImportTemplate"]
    header = ["家庭编号", *HEADER[1:3], "证件号", *HEADER[4:]]
    result = await dry_run(api, "manager1a", campaign, "own.csv", as_csv(good_rows(ids(3)), header), t=template["id"])
    assert (result["householdsValid"], result["problems"]) == (2, [])
    refused = await api.as_("backoffice", SAVE_TEMPLATE, {"n": "x", "m": mapping})
    assert refused["data"]["saveSurveyImportTemplate"]["code"] == "FORBIDDEN"


async def test_gb18030_csv_reads_as_utf8_does(api: Api, campaign: VillageCampaign) -> None:
    await collecting(api, campaign)
    people = ids(3)
    result = await dry_run(api, "manager1a", campaign, "gbk.csv", as_csv(good_rows(people), encoding="gb18030"))
    assert (result["householdsValid"], result["problems"]) == (2, [])
    parsed = sheets.read_sheet(as_csv(good_rows(people), encoding="gb18030"), "CSV", "gbk.csv", None, _now())
    assert parsed.households[0].survey is not None
    assert parsed.households[0].survey.head.name == "张大山"


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def test_a_household_surveyed_by_another_manager_is_refused(api: Api, campaign: VillageCampaign) -> None:
    await collecting(api, campaign)
    people = ids(3)
    await submit(api, "manager1a2", campaign, [survey(people[2])])
    result = await dry_run(api, "manager1a", campaign, "again.csv", as_csv(good_rows(people)))
    assert problems(result) == [("HOUSEHOLD_ALREADY_SURVEYED", 4, "D")]
    assert result["householdsValid"] == 1
    done = await import_sheet(api, campaign, "again.csv", as_csv(good_rows(people)))
    assert (done["status"], done["saved"], done["errors"]) == ("DONE", 1, 1)
    assert [(p["code"], p["row"]) for p in done["problems"]] == [("HOUSEHOLD_ALREADY_SURVEYED", 4)]  # listed once
    assert await HouseholdSurvey.filter(head_id_number=people[2]).count() == 1


@pytest.mark.parametrize("who", ["head", "admin", "president1", "manager1b", "investigator", "approver", "backoffice"])
async def test_only_the_campaigns_collectors_may_import(api: Api, campaign: VillageCampaign, who: str) -> None:
    await collecting(api, campaign)
    await api.token(who)  # signing in is audited; the refused import is not
    audits = await AuditLog.all().count()
    result = await dry_run(api, who, campaign, "x.csv", as_csv(good_rows(ids(3))))
    assert result["code"] in ("NOT_A_COLLECTOR", "NOT_FOUND")
    assert (await SurveyImport.all().count(), await AuditLog.all().count()) == (0, audits)
    checked = await dry_run(api, "manager1a", campaign, "x.csv", as_csv(good_rows(ids(3))))
    refused = await start(api, who, checked["id"])
    assert refused["code"] in ("NOT_A_COLLECTOR", "NOT_FOUND")
    assert (await SurveyImport.get()).status == "DRY_RUN_DONE"
    assert await HouseholdSurvey.all().count() == 0


async def test_nothing_is_imported_before_the_campaign_collects(api: Api, campaign: VillageCampaign) -> None:
    result = await dry_run(api, "manager1a", campaign, "x.csv", as_csv(good_rows(ids(3))))
    assert result["code"] == "NOT_COLLECTING"
    assert await SurveyImport.all().count() == 0


async def test_the_template_sheet_is_the_layout_it_reads(api: Api, world: World) -> None:
    result = await api.as_("manager1a", "{ surveyImportTemplateSheet }")
    _ = result["data"]["surveyImportTemplateSheet"]
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(sheets.template_sheet()))
    header = book.get_sheet_by_index(0).to_python()[0]
    columns, found = sheets.map_headers(header)
    assert found == []
    assert len(columns) == len(sheets.COLUMNS)
    assert person()  # the conftest's people stay valid ID numbers


async def test_a_chunk_the_database_refuses_is_stored_survey_by_survey_exactly(
    api: Api, campaign: VillageCampaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the chunk's look-ups miss (an app's batch storing the same person meanwhile, here the look-ups made
    blind) the database refuses: the chunk falls back to the app's per-survey store, which saves one and finds
    the other a duplicate."""
    await collecting(api, campaign)
    parsed = sheets.read_sheet(as_csv(good_rows(ids(3))), "CSV", "x.csv", None, _now())
    first = parsed.households[0].survey
    assert first is not None
    collector = campaign.collector_ids[0]
    in_batch = await imports.store_batch(collector, campaign.id, [(0, first), (1, first)], _now())
    assert [(o.status, o.error) for o in in_batch] == [("SAVED", None), ("DUPLICATE", None)]
    await HouseholdSurvey.all().delete()
    monkeypatch.setattr(imports, "_judged", lambda *_: None)
    outcomes = await imports.store_batch(collector, campaign.id, [(0, first), (1, first)], _now())
    assert [(o.status, o.error) for o in outcomes] == [("SAVED", None), ("DUPLICATE", None)]
    assert (await HouseholdSurvey.all().count(), await SurveyMember.all().count()) == (1, 2)


async def test_a_second_sheet_of_the_village_waits_for_the_first(api: Api, campaign: VillageCampaign) -> None:
    await collecting(api, campaign)
    people = ids(6)
    first = await dry_run(api, "manager1a", campaign, "a.csv", as_csv(good_rows(people[:3])))
    second = await dry_run(api, "manager1a", campaign, "b.csv", as_csv(good_rows(people[3:])))
    assert (await start(api, "manager1a", first["id"]))["status"] == "QUEUED"
    refused = await start(api, "manager1a", second["id"])
    assert refused["code"] == "IMPORT_UNDER_WAY"
    assert [r.status for r in await SurveyImport.all().order_by("id")] == ["QUEUED", "DRY_RUN_DONE"]


CHECKED = """query($id: ID!) { surveyImport(id: $id) { status rowsTotal householdsTotal householdsValid errors
  problemsTotal chunksDone chunksTotal problems { code row column header messageZh messageEn } } }"""


def _sheet_with_a_bad_row() -> bytes:
    people = ids(4)
    bad = ["3", "户主", "赵四", people[3][:-1] + ("0" if people[3][-1] != "0" else "1"), "13812340002", "2026-11-20",
           "张庄村一组2号", "-5"]  # fmt: skip
    return as_csv([*good_rows(people), bad])


async def test_a_large_sheet_is_checked_by_a_job_as_the_request_checks_a_small_one(
    api: Api, campaign: VillageCampaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    await collecting(api, campaign)
    content = _sheet_with_a_bad_row()
    in_request = await dry_run(api, "manager1a", campaign, "a.csv", content)
    assert in_request["status"] == "DRY_RUN_DONE"
    assert in_request["householdsValid"] == 2
    assert [p[1] for p in problems(in_request)] == [5, 5]  # the ID number and the income of the fourth person

    monkeypatch.setattr(imports, "CHECKED_IN_REQUEST_BYTES", len(content) - 1)
    queued = await dry_run(api, "manager1a", campaign, "b.csv", content)
    assert queued["status"] == "CHECKING"
    assert (queued["householdsTotal"], queued["problemsTotal"], queued["problems"], queued["errorSheet"]) == (
        0, 0, [], None,
    )  # fmt: skip
    assert (queued["chunksDone"], queued["chunksTotal"]) == (0, 1)
    record = await SurveyImport.get(file_name="b.csv")
    assert record.status == "CHECKING"
    assert record.job_id is not None
    audit = await AuditLog.filter(action="survey_import.dry_run", target_id=str(record.id)).first()
    assert audit is not None
    assert audit.changes["job"] == record.job_id

    refused = await start(api, "manager1a", queued["id"])
    assert (refused["code"], refused["field"]) == ("IMPORT_NOT_CHECKED", "id")
    assert "仍在" in refused["messageZh"]
    assert "still checking" in refused["messageEn"]
    assert await HouseholdSurvey.filter(campaign_id=campaign.id).count() == 0

    job = await run_to_end(record.job_id)  # type: ignore[attr-defined]
    assert job.status == "SUCCEEDED"
    checked = (await api.as_("manager1a", CHECKED, {"id": queued["id"]}))["data"]["surveyImport"]
    assert checked["status"] == "DRY_RUN_DONE"
    for key in ("rowsTotal", "householdsTotal", "householdsValid", "errors", "problemsTotal", "problems"):
        assert checked[key] == in_request[key], key
    assert await HouseholdSurvey.filter(campaign_id=campaign.id).count() == 0  # a dry run stores no survey

    assert (await start(api, "manager1a", queued["id"]))["status"] == "QUEUED"
    record = await SurveyImport.get(id=record.id)
    await run_to_end(record.job_id)  # type: ignore[attr-defined]
    done = (await api.as_("manager1a", READ, {"id": queued["id"]}))["data"]["surveyImport"]
    assert (done["status"], done["saved"]) == ("DONE", 2)


async def test_a_second_large_sheet_of_the_village_waits_for_the_first_check(
    api: Api, campaign: VillageCampaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    await collecting(api, campaign)
    monkeypatch.setattr(imports, "CHECKED_IN_REQUEST_BYTES", 10)
    people = ids(6)
    first = await dry_run(api, "manager1a", campaign, "a.csv", as_csv(good_rows(people[:3])))
    assert first["status"] == "CHECKING"
    second = await dry_run(api, "manager1a", campaign, "b.csv", as_csv(good_rows(people[3:])))
    assert (second["code"], second["field"]) == ("IMPORT_UNDER_WAY", "file")
    assert "检查" in second["messageZh"]
    assert "being checked" in second["messageEn"]
    assert await SurveyImport.all().count() == 1  # nothing kept of the second
    assert await Job.filter(kind="village_survey_check").count() == 1


async def test_a_check_that_failed_is_named_at_the_start(
    api: Api, campaign: VillageCampaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    await collecting(api, campaign)
    monkeypatch.setattr(imports, "CHECKED_IN_REQUEST_BYTES", 10)
    queued = await dry_run(api, "manager1a", campaign, "a.csv", as_csv(good_rows(ids(3))))
    record = await SurveyImport.get(file_name="a.csv")

    def unreadable(*_args: Any) -> Any:
        raise RuntimeError("the worker ran out of memory")

    monkeypatch.setattr(imports.sheets, "read_sheet", unreadable)
    register(KINDS)
    for _attempt in range(imports.SURVEY_CHECK.max_attempts):
        await jobs.run_job_chunk(record.job_id, 0)  # type: ignore[attr-defined]
    assert (await Job.get(id=record.job_id)).status == "FAILED"  # type: ignore[attr-defined]
    read = (await api.as_("manager1a", CHECKED, {"id": queued["id"]}))["data"]["surveyImport"]
    assert read["status"] == "FAILED"
    refused = await start(api, "manager1a", queued["id"])
    assert (refused["code"], refused["field"]) == ("IMPORT_NOT_CHECKED", "id")
    assert "重新试导入" in refused["messageZh"]
    assert "dry-run it again" in refused["messageEn"]
    assert (await SurveyImport.get(id=record.id)).status == "CHECKING"


def _her_own_household(people: list[str]) -> list[str]:
    """Household 3, headed by the spouse of household 1 (people[1])."""
    return ["3", "户主", "李秀英", people[1], "13812340009", "2026-11-21", "张庄村三组9号", "30000"]


async def _imported_with_her_as_spouse(api: Api, campaign: VillageCampaign) -> tuple[list[str], list[list[str]]]:
    """The campaign collecting, good_rows imported (she is household 1's spouse); the people and the corrected
    sheet that moves her into her own household, listed before the one she leaves."""
    await collecting(api, campaign)
    people = ids(3)
    await import_sheet(api, campaign, "张庄村.xlsx", as_xlsx(good_rows(people)))
    first, _spouse, other = good_rows(people)
    return people, [_her_own_household(people), first, other]


async def _assert_each_in_the_household_the_sheet_gives(people: list[str]) -> None:
    left = await HouseholdSurvey.get(head_id_number=people[0])
    assert left.client_version == 2
    assert await SurveyMember.filter(survey_id=left.id).values_list("id_number", flat=True) == [people[0]]
    own = await HouseholdSurvey.get(head_id_number=people[1])
    assert await SurveyMember.filter(survey_id=own.id).values_list("id_number", flat=True) == [people[1]]


async def test_a_corrected_sheet_moves_a_member_into_a_new_household_of_the_sheet(
    api: Api, campaign: VillageCampaign
) -> None:
    """The spouse of household 1 turns out to head a household of her own: the corrected sheet drops her from
    household 1 and adds household 3 headed by her. The sheet moves her; neither the dry run nor the import calls
    her a member of another household, whichever of the two the sheet lists first."""
    people, corrected = await _imported_with_her_as_spouse(api, campaign)
    assert good_rows(people)[1][3] == people[1]  # household 1's spouse
    checked = await dry_run(api, "manager1a", campaign, "张庄村.xlsx", as_xlsx(corrected))
    assert (checked["problems"], checked["householdsValid"]) == ([], 3)
    done = await import_sheet(api, campaign, "张庄村.xlsx", as_xlsx(corrected))
    assert (done["status"], done["problems"]) == ("DONE", [])
    assert (done["saved"], done["updated"], done["duplicates"], done["errors"]) == (1, 1, 1, 0)
    await _assert_each_in_the_household_the_sheet_gives(people)


async def test_a_person_in_two_households_of_the_sheet_is_named_in_the_dry_run(
    api: Api, campaign: VillageCampaign
) -> None:
    """The same new household while the corrected sheet still lists her in household 1: she would be in two,
    and the dry run names the second row that lists her and the first."""
    await collecting(api, campaign)
    people = ids(3)
    await import_sheet(api, campaign, "张庄村.xlsx", as_xlsx(good_rows(people)))
    checked = await dry_run(
        api, "manager1a", campaign, "张庄村.xlsx", as_xlsx([_her_own_household(people), *good_rows(people)])
    )
    assert problems(checked) == [("MEMBER_IN_ANOTHER_HOUSEHOLD", 4, "D")]  # household 1's spouse row
    assert "第2行" in checked["problems"][0]["messageZh"]
    assert "row 2" in checked["problems"][0]["messageEn"]
    assert checked["householdsValid"] == 2
    first_sheet = await dry_run(api, "manager1a", campaign, "王庄村.csv", as_csv([*good_rows(ids(6)[3:]), [
        "9", "户主", "李秀英", ids(6)[4], "13812340010", "2026-11-21", "王庄村一组1号", "30000"]]))  # fmt: skip
    assert problems(first_sheet) == [("MEMBER_IN_ANOTHER_HOUSEHOLD", 5, "D")]  # a new sheet, the same check


async def test_a_member_moved_into_a_household_of_an_earlier_chunk_is_stored_whatever_the_order(
    api: Api, campaign: VillageCampaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same move in a sheet of one household a chunk: the chunk of her new household runs before the chunk
    of the household she leaves, brings that correction forward, and each household is counted once."""
    people, corrected = await _imported_with_her_as_spouse(api, campaign)
    monkeypatch.setattr(imports, "HOUSEHOLDS_PER_CHUNK", 1)
    done = await import_sheet(api, campaign, "张庄村.xlsx", as_xlsx(corrected))
    assert (done["status"], done["problems"], done["chunksTotal"]) == ("DONE", [], 3)
    assert (done["saved"], done["updated"], done["duplicates"], done["errors"]) == (1, 1, 1, 0)
    await _assert_each_in_the_household_the_sheet_gives(people)
    again = await import_sheet(api, campaign, "张庄村.xlsx", as_xlsx(corrected))
    assert (again["saved"], again["updated"], again["duplicates"], again["errors"]) == (0, 0, 3, 0)
