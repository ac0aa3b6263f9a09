"""The duplicate queue: a search finds the same head surveyed twice under a homophone and a mistyped ID number,
and the same ID number in another campaign of the county; a second search queues nothing twice; confirming
merges with its history, and a later edit or re-sent sheet of the kept survey keeps the merge; rejecting keeps
both; four-eyes; every other role refused, changing nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.customers.idcard import make_id_number
from models import (
    AuditLog,
    DuplicateCandidate,
    HouseholdSurvey,
    Job,
    Notification,
    Staff,
    SurveyMember,
    VillageCampaign,
)
from tests.credit_flow import run_queued_work
from tests.factories import ROLES, Api, World, gid
from tests.schema.village_credit.conftest import SURVEYED, collecting, submit, survey
from tests.schema.village_credit.test_imports import as_csv, import_sheet

BORN = date(1975, 4, 9)
HEAD = make_id_number("320324", BORN, 111)
HEAD_MISTYPED = make_id_number("320324", BORN, 131)
CHILD = make_id_number("320324", date(2001, 6, 2), 222)
START = """mutation($c: ID!) { startVillageDedup(campaignId: $c) { __typename
  ... on Job { kind status } ... on VillageCreditError { code field messageZh messageEn } } }"""
QUEUE = """query($id: ID!, $status: DuplicateStatus) { villageCampaign(id: $id) {
  duplicateCandidates(status: $status, first: 10) { totalCount edges { node { id score rule status reasons
    survey { surveyId headName headIdNumber phone mergedIntoId } other { surveyId headName headIdNumber } } } } } }"""
DECIDE = """mutation($id: ID!, $d: DuplicateDecision!) { decideDuplicate(id: $id, decision: $d, note: "同一户") {
  __typename ... on DuplicateCandidate { status decidedById survey { mergedIntoId } other { mergedIntoId } }
  ... on VillageCreditError { code field messageZh messageEn } } }"""


def _household(head_name: str, head_id: str, *, child: bool = False, **fields: Any) -> dict[str, Any]:
    members = [{"name": head_name, "idNumber": head_id, "relation": "HEAD", "phone": "13812345678"}]
    if child:
        members.append({"name": "张小龙", "idNumber": CHILD, "relation": "CHILD"})
    return survey(head_id, members=members, phone="13812345678", **fields)


async def _other_campaign(world: World) -> VillageCampaign:
    """A campaign of the next village (same county), collecting, by manager1b."""
    return await VillageCampaign.create(
        village=world.village1b, name="李庄村整村授信", collector_ids=[world.staff["manager1b"].id],
        reviewer=world.staff["investigator"], created_by=world.staff["head"], state="COLLECTING",
        created_at=SURVEYED, state_since=SURVEYED,
    )  # fmt: skip


@pytest.fixture
async def surveyed(api: Api, world: World, campaign: VillageCampaign) -> VillageCampaign:
    """张明华 surveyed by manager1a; 张鸣华 with a mistyped ID number and a child by manager1a2; the same 张明华 by
    ID number in the next village's campaign."""
    await collecting(api, campaign)
    await submit(api, "manager1a", campaign, [_household("张明华", HEAD)])
    await submit(api, "manager1a2", campaign, [_household("张鸣华", HEAD_MISTYPED, child=True)])
    other = await _other_campaign(world)
    await submit(api, "manager1b", other, [_household("张明华", HEAD, address="睢宁县王集镇李庄村一组2号")])
    return campaign


async def _queue(api: Api, who: str, campaign: VillageCampaign, status: str | None = None) -> Any:
    return await api.as_(who, QUEUE, {"id": gid("VillageCampaign", campaign.id), "status": status})


async def _in_campaign(campaign: VillageCampaign) -> DuplicateCandidate:
    """The queued pair of the campaign's own two surveys."""
    own = await HouseholdSurvey.filter(campaign_id=campaign.id).values_list("id", flat=True)
    return await DuplicateCandidate.get(survey_id__in=own, other_id__in=own)


async def _search(api: Api, who: str, campaign: VillageCampaign) -> dict[str, Any]:
    started = await api.as_(who, START, {"c": gid("VillageCampaign", campaign.id)})
    await run_queued_work()
    return started["data"]["startVillageDedup"]  # type: ignore[no-any-return]


async def test_a_search_queues_the_probable_and_the_certain_pairs_once(api: Api, surveyed: VillageCampaign) -> None:
    assert (await _search(api, "manager1a", surveyed))["__typename"] == "Job"
    body = await _queue(api, "manager1a", surveyed)
    nodes = [e["node"] for e in body["data"]["villageCampaign"]["duplicateCandidates"]["edges"]]
    assert next((n["rule"], n["score"]) for n in nodes) == ("EXACT_ID", 1.0)
    probable = nodes[1]
    assert (probable["rule"], probable["survey"]["headName"], probable["other"]["headName"]) == (
        "NAME_PHONE", "张明华", "张鸣华"
    )  # fmt: skip
    codes = [r["code"] for r in probable["reasons"]]
    assert codes[:2] == ["SAME_PHONE", "NAME_HOMOPHONE"]
    assert "SAME_BIRTH_DATE" in codes
    assert probable["reasons"][1]["en"] == "the names differ in one similar-sounding character (明/鸣)"
    assert probable["survey"]["headIdNumber"] == HEAD  # a collector reads it in clear
    job = await Job.get(kind="village_dedup")
    # and 张鸣华 against the next village's 张明华: the same person too
    assert (job.status, job.result) == ("SUCCEEDED", {"queued": 3, "exact": 1, "probable": 2})

    await _search(api, "investigator", surveyed)
    assert await DuplicateCandidate.all().count() == 3  # nothing queued twice
    masked = await _queue(api, "investigator", surveyed)
    first = masked["data"]["villageCampaign"]["duplicateCandidates"]["edges"][0]["node"]
    assert first["survey"]["headIdNumber"] != HEAD
    assert "*" in first["survey"]["headIdNumber"]


async def test_confirming_merges_with_history_and_rejecting_keeps(api: Api, surveyed: VillageCampaign) -> None:
    await _search(api, "manager1a", surveyed)
    probable = await _in_campaign(surveyed)
    exact = await DuplicateCandidate.get(rule="EXACT_ID")
    confirmed = await api.as_("investigator", DECIDE, {"id": gid("DuplicateCandidate", probable.id), "d": "CONFIRM"})
    result = confirmed["data"]["decideDuplicate"]
    pair = probable.survey_id, probable.other_id  # type: ignore[attr-defined]
    kept, merged = await HouseholdSurvey.get(id=pair[0]), await HouseholdSurvey.get(id=pair[1])
    assert (result["status"], result["other"]["mergedIntoId"]) == ("CONFIRMED", str(kept.id))
    assert merged.merged_into_id == kept.id  # type: ignore[attr-defined]
    # the child moved to the kept household; the head with the mistyped number stays on the merged survey
    child = await SurveyMember.get(id_number=CHILD)
    assert child.survey_id == kept.id  # type: ignore[attr-defined]
    left = [m.id_number for m in await SurveyMember.filter(survey_id=merged.id)]
    assert left == [HEAD_MISTYPED]
    assert [m["name"] for m in kept.details["members"]] == ["张明华", "张小龙"]
    audit = await AuditLog.get(action="village_duplicate.confirm")
    assert [m["name"] for m in audit.changes["mergedMembers"]] == ["张鸣华", "张小龙"]
    assert await Notification.filter(kind="village_duplicate_merged").count() == 2

    again = await api.as_("investigator", DECIDE, {"id": gid("DuplicateCandidate", probable.id), "d": "CONFIRM"})
    assert again["data"]["decideDuplicate"]["status"] == "CONFIRMED"  # a resend changes nothing
    other_way = await api.as_("manager1a", DECIDE, {"id": gid("DuplicateCandidate", probable.id), "d": "REJECT"})
    assert other_way["data"]["decideDuplicate"]["code"] == "DUPLICATE_ALREADY_DECIDED"

    rejected = await api.as_("manager1a", DECIDE, {"id": gid("DuplicateCandidate", exact.id), "d": "REJECT"})
    assert rejected["data"]["decideDuplicate"]["status"] == "REJECTED"
    assert await HouseholdSurvey.filter(merged_into_id__not_isnull=True).count() == 1


async def test_the_collector_of_both_households_may_not_decide_alone(
    api: Api, world: World, campaign: VillageCampaign
) -> None:
    await collecting(api, campaign)
    await submit(api, "manager1a", campaign, [_household("张明华", HEAD), _household("张鸣华", HEAD_MISTYPED)])
    await _search(api, "manager1a", campaign)
    candidate = await DuplicateCandidate.get()
    refused = await api.as_("manager1a", DECIDE, {"id": gid("DuplicateCandidate", candidate.id), "d": "CONFIRM"})
    assert refused["data"]["decideDuplicate"]["code"] == "SEPARATION_OF_DUTIES"
    assert (await DuplicateCandidate.get()).status == "OPEN"
    allowed = await api.as_("manager1a2", DECIDE, {"id": gid("DuplicateCandidate", candidate.id), "d": "CONFIRM"})
    assert allowed["data"]["decideDuplicate"]["status"] == "CONFIRMED"


async def test_who_may_search_read_and_decide(api: Api, world: World, surveyed: VillageCampaign) -> None:
    await _search(api, "manager1a", surveyed)
    candidate = await _in_campaign(surveyed)
    before = (await Job.all().count(), await AuditLog.exclude(action="login").count())
    workers = {"head", "manager1a", "investigator"}
    for who in ROLES:
        if who in workers:
            continue
        started = (await api.as_(who, START, {"c": gid("VillageCampaign", surveyed.id)}))["data"]["startVillageDedup"]
        assert started["__typename"] == "VillageCreditError", who
        queue = await _queue(api, who, surveyed)
        assert queue.get("errors") or queue["data"]["villageCampaign"] is None, who
        decided = await api.as_(who, DECIDE, {"id": gid("DuplicateCandidate", candidate.id), "d": "CONFIRM"})
        assert decided["data"]["decideDuplicate"]["code"] in {"NOT_FOUND", "FORBIDDEN"}, who
    head = await api.as_("head", DECIDE, {"id": gid("DuplicateCandidate", candidate.id), "d": "CONFIRM"})
    assert head["data"]["decideDuplicate"]["code"] == "WRONG_ROLE"  # head office reads, the field decides
    assert (await Job.all().count(), await AuditLog.exclude(action="login").count()) == before
    assert (await DuplicateCandidate.get(id=candidate.id)).status == "OPEN"
    assert await HouseholdSurvey.filter(merged_into_id__not_isnull=True).count() == 0
    assert await Staff.filter(username="manager1a2").exists()


async def test_an_edit_of_a_merged_survey_sent_later_is_refused_whole(api: Api, surveyed: VillageCampaign) -> None:
    """The phone of the merged survey's collector had not heard of the merge: its newer version is refused with
    the kept survey named, and neither household changes; the same version again is still a plain duplicate."""
    await _search(api, "manager1a", surveyed)
    probable = await _in_campaign(surveyed)
    await api.as_("investigator", DECIDE, {"id": gid("DuplicateCandidate", probable.id), "d": "CONFIRM"})
    kept_id, merged_id = probable.survey_id, probable.other_id  # type: ignore[attr-defined]
    merged = await HouseholdSurvey.get(id=merged_id)
    members_before = sorted(await SurveyMember.all().values_list("survey_id", "id_number", "relation"))
    surveys_before = sorted(await HouseholdSurvey.all().values_list("id", "client_version", "updated_at"))

    edited = _household("张鸣华", HEAD_MISTYPED, child=True, client_id=merged.client_id, version=2, notes="补充")
    (result,) = (await submit(api, "manager1a2", surveyed, [edited]))["results"]
    assert (result["status"], result["error"]["code"], result["error"]["field"]) == (
        "ERROR", "SURVEY_ALREADY_MERGED", "surveys[0].clientId",
    )  # fmt: skip
    assert str(kept_id) in result["error"]["messageEn"]
    assert str(kept_id) in result["error"]["messageZh"]
    same = _household("张鸣华", HEAD_MISTYPED, child=True, client_id=merged.client_id, version=1)
    (again,) = (await submit(api, "manager1a2", surveyed, [same]))["results"]
    assert again["status"] == "DUPLICATE"
    assert sorted(await SurveyMember.all().values_list("survey_id", "id_number", "relation")) == members_before
    assert sorted(await HouseholdSurvey.all().values_list("id", "client_version", "updated_at")) == surveys_before


async def _merged_pair(api: Api, campaign: VillageCampaign) -> tuple[HouseholdSurvey, HouseholdSurvey]:
    """The search run and its in-campaign pair confirmed: (kept, merged), the child moved to the kept one."""
    await _search(api, "manager1a", campaign)
    probable = await _in_campaign(campaign)
    decided = await api.as_("investigator", DECIDE, {"id": gid("DuplicateCandidate", probable.id), "d": "CONFIRM"})
    assert decided["data"]["decideDuplicate"]["status"] == "CONFIRMED", decided
    kept = await HouseholdSurvey.get(id=probable.survey_id)  # type: ignore[attr-defined]
    merged = await HouseholdSurvey.get(id=probable.other_id)  # type: ignore[attr-defined]
    assert (await SurveyMember.get(id_number=CHILD)).survey_id == kept.id  # type: ignore[attr-defined]
    return kept, merged


async def _household_of(survey_id: int) -> tuple[list[tuple[str, str]], list[str], list[int]]:
    """The kept survey's members table rows, its member list's names and its merged surveys."""
    survey = await HouseholdSurvey.get(id=survey_id)
    rows = sorted(await SurveyMember.filter(survey_id=survey_id).values_list("id_number", "relation"))
    return rows, [m["name"] for m in survey.details["members"]], survey.details.get("merged_from", [])


async def test_an_edit_of_the_kept_survey_sent_later_keeps_the_merge(api: Api, surveyed: VillageCampaign) -> None:
    """The kept survey's phone had not heard of the merge either: its newer version corrects the household's own
    content and keeps the child the merge moved in (members table and member list) and the merged survey's id;
    sent once more it is a duplicate; a version that lists the child itself lists the child once."""
    kept, merged = await _merged_pair(api, surveyed)
    after_merge = await _household_of(kept.id)
    assert after_merge == ([(HEAD, "HEAD"), (CHILD, "CHILD")], ["张明华", "张小龙"], [merged.id])

    edited = _household("张明华", HEAD, client_id=kept.client_id, version=2, annualIncome="99000")
    (result,) = (await submit(api, "manager1a", surveyed, [edited]))["results"]
    assert result["status"] == "UPDATED", result
    assert str((await HouseholdSurvey.get(id=kept.id)).annual_income) == "99000.00"
    assert await _household_of(kept.id) == after_merge
    (again,) = (await submit(api, "manager1a", surveyed, [edited]))["results"]
    assert again["status"] == "DUPLICATE"

    with_child = _household("张明华", HEAD, child=True, client_id=kept.client_id, version=3, annualIncome="99000")
    (listed,) = (await submit(api, "manager1a", surveyed, [with_child]))["results"]
    assert listed["status"] == "UPDATED", listed
    assert await _household_of(kept.id) == after_merge


async def test_the_kept_surveys_sheet_sent_again_keeps_the_merge(api: Api, campaign: VillageCampaign) -> None:
    """张明华 imported from a sheet, 张鸣华 with the child from a phone; once the pair is merged, the same sheet
    sent again is a duplicate in the dry run and in the import, and the kept household keeps the child."""
    await collecting(api, campaign)
    sheet = as_csv([["1", "户主", "张明华", HEAD, "13812345678", "2026-11-20", "睢宁县王集镇张庄村三组8号", "86000"]])
    first = await import_sheet(api, campaign, "张庄村.csv", sheet)
    assert (first["status"], first["saved"]) == ("DONE", 1), first
    await submit(api, "manager1a2", campaign, [_household("张鸣华", HEAD_MISTYPED, child=True)])
    kept, merged = await _merged_pair(api, campaign)
    assert kept.last_import_id is not None  # type: ignore[attr-defined]
    after_merge = await _household_of(kept.id)
    assert after_merge == ([(HEAD, "HEAD"), (CHILD, "CHILD")], ["张明华", "张小龙"], [merged.id])

    again = await import_sheet(api, campaign, "张庄村.csv", sheet)
    assert (again["status"], again["saved"], again["updated"], again["duplicates"], again["errors"]) == (
        "DONE", 0, 0, 1, 0
    ), again  # fmt: skip
    assert await _household_of(kept.id) == after_merge
    assert (await HouseholdSurvey.get(id=kept.id)).client_version == 1
