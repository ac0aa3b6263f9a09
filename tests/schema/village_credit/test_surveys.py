"""Household surveys from the collectors' app, offline first: batches re-sent, reordered and interleaved with
edits store each household once and keep the newest edit; a batch with bad surveys stores the good ones and
answers each bad one with its code, field and message in both languages; only the campaign's collectors, only
while it collects; the sync cursor catches a phone up; personal data in clear only to collectors and head
office, each read in clear audited; a batch of 501 is refused before anything runs."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from domain.customers.idcard import make_id_number
from models import AuditLog, HouseholdSurvey, SurveyMember, VillageCampaign
from tests.factories import Api, World, gid
from tests.schema.village_credit.conftest import SINCE, SUBMIT, collecting, move, person, submit, survey


def _statuses(batch: dict[str, Any]) -> list[str]:
    return [r["status"] for r in batch["results"]]


async def test_a_batch_sent_three_times_stores_each_household_once(api: Api, campaign: VillageCampaign) -> None:
    await collecting(api, campaign)
    batch = [survey() for _ in range(5)]
    assert _statuses(await submit(api, "manager1a", campaign, batch)) == ["SAVED"] * 5
    for _ in range(2):
        again = await submit(api, "manager1a", campaign, batch)
        assert _statuses(again) == ["DUPLICATE"] * 5
    assert await HouseholdSurvey.all().count() == 5
    assert await SurveyMember.all().count() == 5


async def test_the_newest_edit_wins_whatever_order_the_edits_arrive_in(api: Api, campaign: VillageCampaign) -> None:
    await collecting(api, campaign)
    head, key = person(), str(uuid.uuid4())
    v1, v2, v3 = (survey(head, client_id=key, version=v, annualIncome=str(v * 1000)) for v in (1, 2, 3))
    other = survey()
    # v3 and v1 in one batch (reordered), then v2 late with another household, then everything again
    assert _statuses(await submit(api, "manager1a", campaign, [v3, v1])) == ["SAVED", "DUPLICATE"]
    assert _statuses(await submit(api, "manager1a", campaign, [v2, other])) == ["DUPLICATE", "SAVED"]
    assert _statuses(await submit(api, "manager1a", campaign, [v1, v2, v3, other])) == ["DUPLICATE"] * 4
    v4 = survey(head, client_id=key, version=4, annualIncome="99000")
    answered = await submit(api, "manager1a", campaign, [v4, v3])
    assert _statuses(answered) == ["UPDATED", "DUPLICATE"]
    assert answered["results"][1]["survey"]["clientVersion"] == 4  # the duplicate answers what the server holds
    stored = await HouseholdSurvey.get(client_id=key)
    assert (stored.client_version, str(stored.annual_income)) == (4, "99000.00")
    assert await HouseholdSurvey.all().count() == 2
    assert await SurveyMember.filter(survey_id=stored.id).count() == 1


def _wrong(**fields: Any) -> dict[str, Any]:
    return survey(**fields)


BIRTH = date(1980, 3, 1)


def _member(id_number: str, relation: str = "SPOUSE", **extra: Any) -> dict[str, Any]:
    return {"name": "李小花", "idNumber": id_number, "relation": relation, **extra}


async def test_a_mixed_batch_stores_the_good_surveys_and_answers_each_bad_one_precisely(
    api: Api, world: World, campaign: VillageCampaign
) -> None:
    await collecting(api, campaign)
    head = make_id_number("320324", BIRTH, 11)
    full_width = head.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    child = make_id_number("320324", date(2015, 5, 5), 22)
    bad_check = head[:17] + ("0" if head[17] != "0" else "1")
    taken = person()
    await submit(api, "manager1a2", campaign, [survey(taken)])  # another collector's household
    shared_member = person(male=False)
    await submit(api, "manager1a2", campaign, [survey(person(), members=[
        {"name": "王五", "idNumber": person(), "relation": "HEAD"}, _member(shared_member)])])  # fmt: skip
    batch = [
        survey(full_width),  # 0: full-width digits: normalised and stored
        _wrong(members=[{"name": "甲", "idNumber": person(), "relation": "HEAD"}, _member(bad_check)]),
        _wrong(annualIncome="-5000"),  # 2
        _wrong(
            members=[
                {"name": "甲", "idNumber": person(), "relation": "HEAD"},
                {"name": "乙", "idNumber": person(), "relation": "HEAD"},
            ]
        ),  # 3: two heads
        _wrong(members=[{"name": "小明", "idNumber": child, "relation": "HEAD"}]),  # 4: the head is 11
        _wrong(
            members=[
                {"name": "甲", "idNumber": person(), "relation": "HEAD"},
                _member(make_id_number("320324", BIRTH, 31), age=40),
            ]
        ),  # 5: 46 on the survey day
        _wrong(members=[{"name": "甲", "idNumber": person(), "relation": "HEAD"}, _member(shared_member)]),  # 6
        survey(taken),  # 7: surveyed by manager1a2 already
        _wrong(phone="12345"),  # 8
        survey(),  # 9: good
    ]
    results = (await submit(api, "manager1a", campaign, batch))["results"]
    assert _statuses({"results": results}) == ["SAVED", *["ERROR"] * 8, "SAVED"]
    assert results[0]["survey"]["members"][0]["idNumber"] == head
    errors = [(r["error"]["code"], r["error"]["field"]) for r in results[1:9]]
    assert errors == [
        ("INVALID_ID_NUMBER", "surveys[1].members[1].idNumber"),
        ("AMOUNT_OUT_OF_RANGE", "surveys[2].annualIncome"),
        ("TWO_HEADS", "surveys[3].members[1].relation"),
        ("HEAD_UNDER_18", "surveys[4].members[0].idNumber"),
        ("AGE_MISMATCH", "surveys[5].members[1].age"),
        ("MEMBER_IN_ANOTHER_HOUSEHOLD", "surveys[6].members[1].idNumber"),
        ("HOUSEHOLD_ALREADY_SURVEYED", "surveys[7].members[0].idNumber"),
        ("INVALID_PHONE", "surveys[8].phone"),
    ]
    for r in results[1:9]:
        assert r["error"]["messageEn"]
        assert r["survey"] is None
        assert any("\u4e00" <= ch <= "\u9fff" for ch in r["error"]["messageZh"])
    assert await HouseholdSurvey.filter(collector_id=world.staff["manager1a"].id).count() == 2
    assert await SurveyMember.filter(id_number=bad_check).count() == 0  # nothing of a bad survey half-saved


async def test_only_the_collectors_submit_and_only_while_collecting(api: Api, campaign: VillageCampaign) -> None:
    planned = await submit(api, "manager1a", campaign, [survey()])
    assert planned["code"] == "NOT_COLLECTING"
    await collecting(api, campaign)
    for who, code in [("manager1b", "NOT_FOUND"), ("president1", "NOT_A_COLLECTOR"), ("head", "NOT_A_COLLECTOR"),
                      ("investigator", "NOT_A_COLLECTOR")]:  # fmt: skip
        assert (await submit(api, who, campaign, [survey()]))["code"] == code, who
    await move(api, "manager1a", campaign, "FINISH_COLLECTING")
    assert (await submit(api, "manager1a", campaign, [survey()]))["code"] == "NOT_COLLECTING"
    assert await HouseholdSurvey.all().count() == 0


async def test_another_collector_cannot_take_over_a_survey_by_its_client_id(
    api: Api, campaign: VillageCampaign
) -> None:
    await collecting(api, campaign)
    first = survey()
    await submit(api, "manager1a", campaign, [first])
    stolen = {**first, "clientVersion": 9, "annualIncome": "1"}
    result = (await submit(api, "manager1a2", campaign, [stolen]))["results"][0]
    assert (result["status"], result["error"]["code"], result["error"]["field"]) == (
        "ERROR", "CLIENT_ID_REUSED", "surveys[0].clientId")  # fmt: skip
    assert str((await HouseholdSurvey.get()).annual_income) == "86000.00"


async def test_a_batch_of_501_is_refused_before_anything_runs(api: Api, campaign: VillageCampaign) -> None:
    await collecting(api, campaign)
    one = survey()
    result = await api.as_("manager1a", SUBMIT, {"c": gid("VillageCampaign", campaign.id), "s": [one] * 501})
    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "VALUE_TOO_LONG"
    assert result["errors"][0]["extensions"]["maxItems"] == 500
    assert await HouseholdSurvey.all().count() == 0


async def test_500_surveys_in_one_batch_are_all_stored(api: Api, campaign: VillageCampaign) -> None:
    await collecting(api, campaign)
    started = datetime.now(UTC)
    batch = await submit(api, "manager1a", campaign, [survey() for _ in range(500)])
    took = (datetime.now(UTC) - started).total_seconds()
    assert _statuses(batch) == ["SAVED"] * 500
    print(f"500 surveys stored in {took:.2f} s")


async def test_the_sync_cursor_catches_a_phone_up_after_edits(api: Api, campaign: VillageCampaign) -> None:
    await collecting(api, campaign)
    c = gid("VillageCampaign", campaign.id)
    first = [survey() for _ in range(3)]
    await submit(api, "manager1a", campaign, first)
    page = (await api.as_("manager1a2", SINCE, {"c": c, "first": 2}))["data"]["surveysSince"]
    assert (len(page["surveys"]), page["hasMore"]) == (2, True)
    second = await api.as_("manager1a2", SINCE, {"c": c, "cursor": page["nextCursor"]})
    assert "errors" not in second, second
    page = second["data"]["surveysSince"]
    assert (len(page["surveys"]), page["hasMore"]) == (1, False)
    cursor = page["nextCursor"]
    nothing = (await api.as_("manager1a2", SINCE, {"c": c, "cursor": cursor}))["data"]["surveysSince"]
    assert (nothing["surveys"], nothing["nextCursor"]) == ([], cursor)
    edited = {**first[0], "clientVersion": 2, "annualIncome": "120000"}
    await submit(api, "manager1a", campaign, [edited, survey()])
    caught = (await api.as_("manager1a2", SINCE, {"c": c, "cursor": cursor}))["data"]["surveysSince"]
    assert (caught["surveys"][0]["clientId"], caught["surveys"][0]["clientVersion"]) == (first[0]["clientId"], 2)
    assert len(caught["surveys"]) == 2
    bad = await api.as_("manager1a2", SINCE, {"c": c, "cursor": "bm90IGEgY3Vyc29y"})
    assert bad["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"


@pytest.mark.parametrize(
    ("who", "clear"),
    [("manager1a", True), ("manager1a2", True), ("head", True), ("president1", False), ("investigator", False)],
)  # fmt: skip
async def test_personal_data_in_clear_only_to_collectors_and_head_office(
    api: Api, campaign: VillageCampaign, who: str, clear: bool
) -> None:
    await collecting(api, campaign)
    head = person()
    await submit(api, "manager1a", campaign, [survey(head)])
    await AuditLog.filter(action="personal_data.read").delete()
    page = (await api.as_(who, SINCE, {"c": gid("VillageCampaign", campaign.id)}))["data"]["surveysSince"]
    shown = page["surveys"][0]
    member = shown["members"][0]
    if clear:
        assert (member["idNumber"], member["phone"], shown["phone"]) == (head, "13812340000", "13812340000")
        assert member["birthDate"] is not None
        assert await AuditLog.filter(target_type="HouseholdSurvey").count() >= 1
    else:
        assert member["idNumber"] == head[:6] + "********" + head[-4:]
        assert (member["phone"], shown["phone"], member["birthDate"]) == ("138****0000", "138****0000", None)
        assert shown["address"].endswith("****")
        assert await AuditLog.filter(target_type="HouseholdSurvey").count() == 0


async def test_out_of_reach_the_sync_answers_not_found(api: Api, campaign: VillageCampaign) -> None:
    for who in ("manager1b", "president2", "backoffice", "admin"):
        result = await api.as_(who, SINCE, {"c": gid("VillageCampaign", campaign.id)})
        assert result["errors"][0]["extensions"]["code"] == "NOT_FOUND", who
