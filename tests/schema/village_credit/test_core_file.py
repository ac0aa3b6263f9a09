"""Head office's imports of the core-banking customer file and the court enforcement list, each kept and queued as
a job: a feed with bad cells is refused whole with each cell's row, column and message, nothing written; a good
one is upserted and the same feed again changes nothing; a file without a needed column or not in UTF-8 is
refused at once, and a second bank file while one is queued, nothing kept of either refusal; every other role is
refused; a campaign's link report counts new, unchanged and changed people as a direct count does."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import date, timedelta
from typing import Any

from domain.customers.idcard import make_id_number
from models import AuditLog, BankFeedFile, CoreCustomerRecord, EnforcementListEntry, Job, VillageCampaign
from resolvers.village_credit.core_file import CHECK_STEP, FeedKind, check_feed, read_feed
from tests.credit_flow import run_queued_work
from tests.factories import ROLES, Api, World, gid
from tests.schema.village_credit.conftest import collecting, submit, survey

PREFLIGHT = {"X-Palmcredit-Request": "1"}
HEADER = (
    "id_number,name,phone,address,deposit_balance,loan_balance,overdue_amount,overdue_days,max_overdue_days,"
    "npl_history,has_ebanking,has_third_party_payment,has_social_security_card,as_of\n"
)
JOB = """kind status error villageFeed { rows inserted updated unchanged problemCount
    problems { row column code messageZh messageEn } }"""
IMPORT = """mutation($file: Upload!) { %s(file: $file) { __typename
  ... on Job { id JOB }
  ... on VillageCreditError { code field messageZh messageEn } } }""".replace("JOB", JOB)
READ_JOB = "query($id: ID!) { job(id: $id) { JOB } }".replace("JOB", JOB)
LINKS = """query($id: ID!, $status: CoreFileLinkStatus) { villageCampaign(id: $id) {
  coreFileLinks(status: $status, first: 10) { new unchanged changed hasMore people { name idNumber status changed } }
} }"""
A = make_id_number("320324", date(1970, 1, 2), 11)
B = make_id_number("320324", date(1972, 3, 4), 13)
C = make_id_number("320324", date(1980, 5, 6), 15)


def _row(number: str, name: str, phone: str = "13812340000", address: str = "睢宁县王集镇张庄村三组8号",
         deposit: str = "1000.50") -> str:  # fmt: skip
    return f"{number},{name},{phone},{address},{deposit},0,0,0,0,0,1,0,1,2026-11-30\n"


async def upload(api: Api, user: str, mutation: str, content: bytes, name: str = "core.csv") -> dict[str, Any]:
    operations = {"query": IMPORT % mutation, "variables": {"file": None}}
    response = await api.client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (name, content, "text/csv")},
        headers=PREFLIGHT | {"Authorization": f"Bearer {await api.token(user)}"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"][mutation]  # type: ignore[no-any-return]


async def imported(api: Api, user: str, mutation: str, content: bytes) -> dict[str, Any]:
    """Send the file (queued, nothing written yet), let the workers run what the outbox holds, and read the job."""
    queued = await upload(api, user, mutation, content)
    assert (queued["__typename"], queued["status"], queued["villageFeed"]) == ("Job", "PENDING", None), queued
    await run_queued_work()
    body = await api.as_(user, READ_JOB, {"id": queued["id"]})
    assert "errors" not in body, body
    return body["data"]["job"]  # type: ignore[no-any-return]


async def test_a_feed_with_bad_cells_is_refused_whole(api: Api, world: World) -> None:
    bad = HEADER + _row(A, "张一") + _row("320324197001020000", "李二") + _row(B, "王三", phone="12345")
    bad += _row(C, "赵四", deposit="-5") + _row(A, "张一")
    job = await imported(api, "head", "importCoreFile", bad.encode())
    report = job["villageFeed"]
    assert job["error"] == "4处单元格有误,未导入 / 4 cells at fault: nothing was imported"
    assert (job["status"], report["rows"], report["problemCount"]) == ("FAILED", 5, 4)
    assert [(p["row"], p["column"]) for p in report["problems"]] == [
        (3, "id_number"), (4, "phone"), (5, "deposit_balance"), (6, "id_number")
    ]  # fmt: skip
    assert report["problems"][1]["messageEn"].startswith("invalid phone")
    assert report["problems"][3]["messageEn"] == "repeats row 2"
    assert await CoreCustomerRecord.all().count() == 0


async def test_a_feed_is_upserted_and_the_same_feed_again_changes_nothing(api: Api, world: World) -> None:
    feed = (HEADER + _row(A, "张一") + _row(B, "李二")).encode("utf-8-sig")
    queued = await upload(api, "head", "importCoreFile", feed)
    kept = await BankFeedFile.get()
    assert (bytes(kept.content or b""), kept.file_sha256) == (feed, hashlib.sha256(feed).hexdigest())
    assert await CoreCustomerRecord.all().count() == 0  # checked and written by the job, not the request
    await run_queued_work()
    first = (await api.as_("head", READ_JOB, {"id": queued["id"]}))["data"]["job"]["villageFeed"]
    assert (first["inserted"], first["updated"], first["unchanged"]) == (2, 0, 0)
    kept = await BankFeedFile.get()
    assert (kept.content, kept.size_bytes, kept.file_name) == (None, len(feed), "core.csv")  # ended: name and hash
    rows_before = await CoreCustomerRecord.all().order_by("id").values()
    again = (await imported(api, "head", "importCoreFile", feed))["villageFeed"]
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert await CoreCustomerRecord.all().order_by("id").values() == rows_before
    changed = (HEADER + _row(A, "张一", deposit="2000") + _row(B, "李二") + _row(C, "王三")).encode()
    third = (await imported(api, "head", "importCoreFile", changed))["villageFeed"]
    assert (third["inserted"], third["updated"], third["unchanged"]) == (1, 1, 1)
    assert str((await CoreCustomerRecord.get(id_number=A)).deposit_balance) == "2000.00"


async def test_the_enforcement_list_is_imported_by_id_number_and_case(api: Api, world: World) -> None:
    feed = f"id_number,name,case_number,court,listed_on\n{A},张一,(2025)苏0324执123号,睢宁县人民法院,2025-03-01\n"
    feed += f"{A},张一,(2026)苏0324执9号,,\n"
    job = await imported(api, "head", "importEnforcementList", feed.encode())
    assert (job["status"], job["villageFeed"]["inserted"]) == ("SUCCEEDED", 2)
    again = await imported(api, "head", "importEnforcementList", feed.encode())
    assert again["villageFeed"]["unchanged"] == 2
    assert await EnforcementListEntry.filter(id_number=A).count() == 2


async def test_only_head_office_imports(api: Api, world: World) -> None:
    feed = (HEADER + _row(A, "张一")).encode()
    before = await AuditLog.exclude(action="login").count()
    for who in ROLES:
        if who == "head":
            continue
        for mutation in ("importCoreFile", "importEnforcementList"):
            refused = await upload(api, who, mutation, feed)
            assert (refused["__typename"], refused["code"]) == ("VillageCreditError", "FORBIDDEN"), who
    assert (await CoreCustomerRecord.all().count(), await Job.all().count()) == (0, 0)
    assert await BankFeedFile.all().count() == 0
    assert await AuditLog.exclude(action="login").count() == before


async def test_a_file_without_a_column_or_not_in_utf8_is_refused_at_once(api: Api, world: World) -> None:
    without_phone = HEADER.replace("phone,", "") + f"{A},张一,地址,1.00,0,0,0,0,0,1,0,1,2026-11-30\n"
    refused = await upload(api, "head", "importCoreFile", without_phone.encode())
    assert (refused["code"], refused["field"]) == ("FEED_MISSING_COLUMN", "file")
    assert (refused["messageZh"], refused["messageEn"]) == ("缺少列:phone", "missing columns: phone")
    unreadable = await upload(api, "head", "importCoreFile", (HEADER + _row(A, "张一")).encode("gbk"))
    assert (unreadable["code"], unreadable["field"]) == ("FEED_UNREADABLE", "file")
    assert (await BankFeedFile.all().count(), await Job.all().count()) == (0, 0)


async def test_a_second_bank_file_while_one_is_queued_is_refused_and_keeps_nothing(api: Api, world: World) -> None:
    await upload(api, "head", "importCoreFile", (HEADER + _row(A, "张一")).encode())
    court = f"id_number,name,case_number,court,listed_on\n{B},李二,(2025)苏0324执1号,,\n".encode()
    refused = await upload(api, "head", "importEnforcementList", court)
    assert (refused["__typename"], refused["code"], refused["field"]) == (
        "VillageCreditError", "FEED_IMPORT_UNDER_WAY", "file"
    )  # fmt: skip
    assert "正在导入" in refused["messageZh"]
    assert (await BankFeedFile.all().count(), await Job.all().count()) == (1, 1)
    await run_queued_work()
    assert await CoreCustomerRecord.filter(id_number=A).exists()
    job = await imported(api, "head", "importEnforcementList", court)  # the first has ended: sent again, it runs
    assert (job["status"], job["villageFeed"]["inserted"]) == ("SUCCEEDED", 1)


async def test_the_link_report_counts_new_unchanged_and_changed(api: Api, campaign: VillageCampaign) -> None:
    await collecting(api, campaign)
    people = [(A, "张一", "13812340000"), (B, "李二", "13812340001"), (C, "王三", "13812340002")]
    await submit(api, "manager1a", campaign, [
        survey(n, members=[{"name": name, "idNumber": n, "relation": "HEAD", "phone": phone}], phone=phone,
               address="睢宁县王集镇张庄村三组8号")
        for n, name, phone in people
    ])  # fmt: skip
    feed = HEADER + _row(A, "张一") + _row(B, "李二", phone="13900000000")  # C is new to the bank
    await imported(api, "head", "importCoreFile", feed.encode())
    body = await api.as_("manager1a", LINKS, {"id": gid("VillageCampaign", campaign.id)})
    links = body["data"]["villageCampaign"]["coreFileLinks"]
    known = await CoreCustomerRecord.filter(id_number__in=[A, B, C]).count()
    assert (links["new"], links["unchanged"] + links["changed"]) == (3 - known, known)
    assert (links["new"], links["unchanged"], links["changed"]) == (1, 1, 1)
    assert [(p["name"], p["status"], p["changed"]) for p in links["people"]] == [
        ("张一", "UNCHANGED", []), ("李二", "CHANGED", ["phone"]), ("王三", "NEW", [])
    ]  # fmt: skip
    masked = await api.as_("president1", LINKS, {"id": gid("VillageCampaign", campaign.id), "status": "NEW"})
    [person] = masked["data"]["villageCampaign"]["coreFileLinks"]["people"]
    assert person["idNumber"] != C


async def test_a_large_feed_is_checked_in_steps_that_let_the_heartbeat_run() -> None:
    people = (
        _row(make_id_number("320324", date(1960, 1, 1) + timedelta(days=n // 900), n % 900), f"客户{n}")
        for n in range(3 * CHECK_STEP)
    )
    big = HEADER + "".join(people) + _row("320324197001020000", "李二")  # the last row's ID number is at fault
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    beating = asyncio.create_task(heartbeat())
    try:
        stepped = await check_feed(FeedKind.CORE_FILE, big)
    finally:
        beating.cancel()
    assert stepped == read_feed(FeedKind.CORE_FILE, big)
    assert (len(stepped[0]), stepped[2]) == (3 * CHECK_STEP + 1, 1)
    assert ticks >= 3  # the loop ran between the steps, not only before and after
