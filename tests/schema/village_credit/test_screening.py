"""Screening a campaign's households onto the black, grey and white lists, their pre-approved limits (replayable
from the decision and the data), the maker-checker limit changes of the reviews, the branch's publication and
the published list as XLSX and PDF with masked ID numbers; every call by every role, refusals changing nothing."""

from __future__ import annotations

import base64
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pypdf
import pytest
from python_calamine import CalamineWorkbook

from models import (
    AuditLog,
    CoreCustomerRecord,
    DecisionFileVersion,
    EnforcementListEntry,
    HouseholdScreening,
    Job,
    LimitAdjustment,
    Staff,
    VillageCampaign,
    VillageDecisionRecord,
)
from resolvers.platform import jobs
from resolvers.platform.auth import actor_for
from resolvers.village_credit import screening as screening_cases
from tests.conftest import QueryCounter
from tests.factories import Api, World, gid
from tests.schema.village_credit.conftest import collecting, move, person, submit, survey

SCREEN = """mutation($c: ID!) { screenCampaign(campaignId: $c) {
  __typename ... on Job { kind } ... on VillageCreditError { code field messageZh messageEn } } }"""
HOUSEHOLDS = """query($id: ID!, $colours: [ListColour!]) { villageCampaign(id: $id) {
  screeningSummary { surveyed screened counts { colour state households } }
  households(colours: $colours, first: 100) { totalCount edges { node {
    id headName headIdNumber colour state reasons { code zh en } rating proposedLimit limit version
    explanation { code amount } adjustments { id status toLimit } } } } } }"""
PROPOSE = """mutation($h: ID!, $l: Decimal!, $r: String!, $v: Int!) {
  proposeHouseholdLimitChange(householdId: $h, newLimit: $l, reason: $r, expectedVersion: $v) {
  __typename ... on HouseholdLimitAdjustment { id status fromLimit toLimit }
  ... on VillageCreditError { code field messageZh messageEn } } }"""
DECIDE = """mutation($a: ID!, $ok: Boolean!) { decideHouseholdLimitChange(adjustmentId: $a, confirm: $ok) {
  __typename ... on HouseholdLimitAdjustment { id status } ... on VillageCreditError { code field } } }"""
LIST_FILES = "query($id: ID!) { villageCampaign(id: $id) { publishedListXlsx publishedListPdf } }"
ROLES = ("head", "president1", "president2", "manager1a", "manager1b", "investigator", "approver", "backoffice",
         "admin")  # fmt: skip
AS_OF = date(2026, 11, 1)


async def _core(id_number: str, **values: Any) -> None:
    await CoreCustomerRecord.create(
        id_number=id_number, name="某人", as_of=AS_OF, updated_at=datetime.now(UTC), **values
    )


async def _run_screening(campaign: VillageCampaign) -> None:
    job = await Job.filter(kind="village_screening").order_by("-id").first()
    assert job is not None
    for number in range(job.chunks_total):
        await jobs.run_job_chunk(job.id, number)
    assert (await Job.get(id=job.id)).status == "SUCCEEDED"


async def _screen(api: Api, campaign: VillageCampaign, who: str = "manager1a") -> dict[str, Any]:
    result = await api.as_(who, SCREEN, {"c": gid("VillageCampaign", campaign.id)})
    answer: dict[str, Any] = result["data"]["screenCampaign"]
    if answer["__typename"] == "Job":
        await _run_screening(campaign)
    return answer


WHITE = "white"


async def _village(api: Api, campaign: VillageCampaign) -> dict[str, str]:
    """Surveys built to hit each rule, the campaign at SCREENING: name → the head's ID number."""
    await collecting(api, campaign)
    heads = {name: person() for name in ("white", "npl", "overdue120", "overdue30", "debts", "unknownD", "small")}
    heads["old"] = person(date(1950, 1, 1))
    heads["gambling"], heads["drugs"], heads["court"] = person(), person(), person()
    spouse = person(male=False)
    for name in ("white", "debts", "old", "gambling", "drugs", "court"):
        await _core(heads[name], deposit_balance=Decimal(100000), loan_balance=Decimal(20000))
    await _core(heads["npl"], npl_history=True)
    await _core(heads["overdue120"], overdue_days=120, max_overdue_days=120)
    await _core(heads["overdue30"], overdue_days=30, max_overdue_days=30)
    await EnforcementListEntry.create(
        id_number=spouse, name="李小花", case_number="(2025)苏0324执123号", imported_at=datetime.now(UTC)
    )
    extra: dict[str, dict[str, Any]] = {
        "white": {"collectorRating": "A"},
        "debts": {"debts": [{"lender": "某银行", "amount": "300000"}]},
        "unknownD": {"collectorRating": "D"},
        "small": {"annualIncome": "31000", "annualExpenses": "30000", "landContractedMu": "0", "debts": []},
        "gambling": {"riskFlags": ["GAMBLING"]},
        "drugs": {"riskFlags": ["DRUGS"]},
        "court": {"members": [{"name": "张大山", "idNumber": heads["court"], "relation": "HEAD"},
                              {"name": "李小花", "idNumber": spouse, "relation": "SPOUSE"}]},
    }  # fmt: skip
    batch = [survey(heads[name], **extra.get(name, {})) for name in heads]
    assert {r["status"] for r in (await submit(api, "manager1a", campaign, batch))["results"]} == {"SAVED"}
    assert (await move(api, "manager1a", campaign, "FINISH_COLLECTING"))["state"] == "SCREENING"
    return heads


async def _households(api: Api, who: str, campaign: VillageCampaign) -> dict[str, Any]:
    result = await api.as_(who, HOUSEHOLDS, {"id": gid("VillageCampaign", campaign.id)})
    assert "errors" not in result, result
    return result["data"]["villageCampaign"]  # type: ignore[no-any-return]


def _by_head(data: dict[str, Any], heads: dict[str, str]) -> dict[str, dict[str, Any]]:
    nodes = {e["node"]["headIdNumber"]: e["node"] for e in data["households"]["edges"]}
    return {name: nodes[number] for name, number in heads.items()}


async def test_each_household_lands_on_its_list_with_its_reasons(api: Api, campaign: VillageCampaign) -> None:
    heads = await _village(api, campaign)
    assert (await _screen(api, campaign))["kind"] == "village_screening"
    data = await _households(api, "manager1a", campaign)
    found = _by_head(data, heads)
    expected = {
        "white": ("WHITE", "PROPOSED", []),
        "npl": ("BLACK", "EXCLUDED", ["NPL_HISTORY"]),
        "overdue120": ("BLACK", "EXCLUDED", ["OVERDUE_OVER_90_DAYS", "PAST_OVERDUE_OVER_30_DAYS"]),
        "overdue30": ("GREY", "EXCLUDED", ["OVERDUE_NOW"]),
        "debts": ("GREY", "EXCLUDED", ["DEBTS_OVER_TWICE_INCOME"]),
        "unknownD": ("GREY", "EXCLUDED", ["UNKNOWN_AND_RATED_D"]),
        "small": ("GREY", "EXCLUDED", ["LIMIT_BELOW_MINIMUM"]),
        "old": ("GREY", "EXCLUDED", ["HEAD_OVER_65"]),
        "gambling": ("BLACK", "EXCLUDED", ["GAMBLING"]),
        "drugs": ("BLACK", "EXCLUDED", ["DRUGS"]),
        "court": ("BLACK", "EXCLUDED", ["ENFORCEMENT_LIST"]),
    }
    for name, (colour, state, codes) in expected.items():
        node = found[name]
        assert (node["colour"], node["state"], [r["code"] for r in node["reasons"]]) == (colour, state, codes), name
        assert all(r["zh"] and r["en"] for r in node["reasons"])
    # ¥86,000 − ¥30,000 twice = 112,000; (100,000 deposits − 20,000 debts elsewhere) × 30% = 24,000; 12.5 mu =
    # 12,500; × 1.2 (rated A) = 178,200; less the bank's ¥20,000 = 158,200 → ¥158,000
    white = found["white"]
    assert (white["proposedLimit"], white["limit"], white["rating"]) == ("158000.00", "158000.00", "A")
    assert [(f["code"], f["amount"]) for f in white["explanation"]] == [
        ("INCOME_CAPACITY", "112000"), ("ASSET_CAPACITY", "24000"), ("LAND_CAPACITY", "12500"),
        ("RATING_MULTIPLIER", "1.2"), ("GROSS_CAPACITY", "178200"), ("EXISTING_EXPOSURE", "20000"),
        ("CAPACITY", "158200"), ("PRE_APPROVED_LIMIT", "158000"),
    ]  # fmt: skip
    summary = data["screeningSummary"]
    assert (summary["surveyed"], summary["screened"]) == (11, 11)
    assert {(c["colour"], c["households"]) for c in summary["counts"]} == {("BLACK", 5), ("GREY", 5), ("WHITE", 1)}


async def test_a_limit_is_replayed_to_the_same_answer_and_screening_again_replaces_the_rows(
    api: Api, world: World, campaign: VillageCampaign
) -> None:
    await _village(api, campaign)
    await _screen(api, campaign)
    white = await HouseholdScreening.get(colour="WHITE")
    actor = actor_for(await Staff.get(id=world.staff["manager1a"].id).prefetch_related("scope"))
    replays = await screening_cases.replay_household(actor, white.id)
    assert [r.matches for r in replays] == [True, True]
    assert [[rule.rule_id for rule in r.evaluation.fired_rules] for r in replays] == [["K03"], ["R01", "O02"]]
    kept = await DecisionFileVersion.filter(decision__in=["village_screening", "village_limit"]).count()
    assert kept == 2  # each file's text once, whatever the number of households
    records = await VillageDecisionRecord.all().count()
    await _screen(api, campaign)
    assert await HouseholdScreening.all().count() == 11
    assert await VillageDecisionRecord.all().count() == records
    again = await HouseholdScreening.get(colour="WHITE")
    assert again.limit == white.limit


@pytest.mark.parametrize("who", ROLES)
async def test_only_a_collector_screens_and_only_while_screening(api: Api, campaign: VillageCampaign, who: str) -> None:
    await _village(api, campaign)
    answer = await _screen(api, campaign, who)
    if who == "manager1a":
        assert answer["__typename"] == "Job"
        assert await HouseholdScreening.all().count() == 11
        return
    assert answer["code"] in ({"WRONG_ROLE"} if who in ("head", "president1", "investigator") else {"NOT_FOUND"})
    assert await Job.filter(kind="village_screening").count() == 0
    assert await HouseholdScreening.all().count() == 0


async def test_screening_is_refused_outside_screening_and_review_waits_for_it(
    api: Api, campaign: VillageCampaign
) -> None:
    await collecting(api, campaign)
    await submit(api, "manager1a", campaign, [survey()])
    assert (await _screen(api, campaign))["code"] == "WRONG_STATE"
    await move(api, "manager1a", campaign, "FINISH_COLLECTING")
    refused = await move(api, "manager1a", campaign, "SUBMIT_FOR_REVIEW")
    assert (refused["code"], refused["field"]) == ("NOT_SCREENED", "action")
    assert (await VillageCampaign.get(id=campaign.id)).state == "SCREENING"
    await _screen(api, campaign)
    assert (await move(api, "manager1a", campaign, "SUBMIT_FOR_REVIEW"))["state"] == "FIRST_REVIEW"


async def _propose(api: Api, who: str, household: HouseholdScreening, limit: str, version: int | None = None) -> Any:
    variables = {"h": gid("VillageHousehold", household.id), "l": limit, "r": "经营规模扩大,核实收入增加",
                 "v": household.version if version is None else version}  # fmt: skip
    return (await api.as_(who, PROPOSE, variables))["data"]["proposeHouseholdLimitChange"]


async def _decide(api: Api, who: str, adjustment_id: str, confirm: bool) -> Any:
    return (await api.as_(who, DECIDE, {"a": adjustment_id, "ok": confirm}))["data"]["decideHouseholdLimitChange"]


async def test_limit_changes_are_made_by_one_reviewer_and_checked_by_the_next(
    api: Api, campaign: VillageCampaign
) -> None:
    await _village(api, campaign)
    await _screen(api, campaign)
    await move(api, "manager1a", campaign, "SUBMIT_FOR_REVIEW")
    white = await HouseholdScreening.get(colour="WHITE")
    # first review: only the named first reviewer proposes, within ¥5,000–300,000, on the version they read
    assert (await _propose(api, "manager1a", white, "120000"))["code"] == "WRONG_ROLE"
    assert (await _propose(api, "investigator", white, "300001"))["code"] == "LIMIT_OUT_OF_RANGE"
    assert (await _propose(api, "investigator", white, "120000", version=99))["code"] == "STALE_VERSION"
    assert await LimitAdjustment.all().count() == 0
    proposed = await _propose(api, "investigator", white, "120000")
    assert (proposed["status"], proposed["fromLimit"], proposed["toLimit"]) == ("PROPOSED", "158000.00", "120000.00")
    twice = await _propose(api, "investigator", white, "120000", version=white.version)  # the app resent it
    assert twice["code"] == "STALE_VERSION"
    assert (await _decide(api, "investigator", proposed["id"], True))["code"] == "OWN_ADJUSTMENT"
    assert (await _decide(api, "head", proposed["id"], True))["code"] == "WRONG_STATE"  # checked at the next step
    assert (await HouseholdScreening.get(id=white.id)).limit == Decimal("158000.00")  # not until confirmed
    assert (await move(api, "investigator", campaign, "COMPLETE_FIRST_REVIEW"))["state"] == "SECOND_REVIEW"
    # second review: the approver cannot move on while the first reviewer's change waits for them
    waiting = await move(api, "approver", campaign, "COMPLETE_SECOND_REVIEW")
    assert waiting["code"] == "ADJUSTMENTS_WAITING"
    assert (await _decide(api, "president1", proposed["id"], True))["code"] == "WRONG_ROLE"
    assert (await _decide(api, "approver", proposed["id"], True))["status"] == "CONFIRMED"
    assert (await _decide(api, "approver", proposed["id"], False))["code"] == "ADJUSTMENT_DECIDED"
    white = await HouseholdScreening.get(id=white.id)
    assert white.limit == Decimal("120000.00")
    own = await _propose(api, "approver", white, "100000")
    assert (await _decide(api, "approver", own["id"], True))["code"] == "OWN_ADJUSTMENT"
    assert (await move(api, "approver", campaign, "COMPLETE_SECOND_REVIEW"))["state"] == "BRANCH_APPROVAL"
    # branch approval: the president checks the second reviewer's change before publishing
    assert (await move(api, "president1", campaign, "APPROVE_AND_PUBLISH"))["code"] == "ADJUSTMENTS_WAITING"
    assert (await _decide(api, "president1", own["id"], False))["status"] == "REJECTED"
    assert (await HouseholdScreening.get(id=white.id)).limit == Decimal("120000.00")
    assert (await move(api, "president1", campaign, "APPROVE_AND_PUBLISH"))["state"] == "PUBLISHED"
    assert [s.state for s in await HouseholdScreening.filter(colour="WHITE")] == ["APPROVED"]
    assert await HouseholdScreening.filter(state="EXCLUDED").count() == 10
    actions = set(await AuditLog.filter(action__startswith="village_limit.").values_list("action", flat=True))
    assert actions == {"village_limit.propose", "village_limit.confirm", "village_limit.reject"}


async def _published(api: Api, campaign: VillageCampaign) -> dict[str, str]:
    await _village(api, campaign)
    await _screen(api, campaign)
    for who, action in (("manager1a", "SUBMIT_FOR_REVIEW"), ("investigator", "COMPLETE_FIRST_REVIEW"),
                        ("approver", "COMPLETE_SECOND_REVIEW")):  # fmt: skip
        assert "state" in await move(api, who, campaign, action)
    return {}


async def test_the_published_list_is_posted_with_masked_id_numbers(api: Api, campaign: VillageCampaign) -> None:
    await _published(api, campaign)
    early = await api.as_("president1", LIST_FILES, {"id": gid("VillageCampaign", campaign.id)})
    assert early["errors"][0]["extensions"]["code"] == "NOT_PUBLISHED"
    await move(api, "president1", campaign, "APPROVE_AND_PUBLISH")
    white = await HouseholdScreening.get(colour="WHITE").prefetch_related("survey")
    number = white.survey.head_id_number
    masked = number[:6] + "********" + number[-4:]
    files = (await api.as_("president1", LIST_FILES, {"id": gid("VillageCampaign", campaign.id)}))["data"]
    xlsx = base64.b64decode(files["villageCampaign"]["publishedListXlsx"].split(",", 1)[1])
    rows = CalamineWorkbook.from_filelike(io.BytesIO(xlsx)).get_sheet_by_index(0).to_python()
    assert rows[3][1:] == ["张庄村", "张大山", masked, 158000.0]
    assert len([r for r in rows if r and r[0] == 1.0]) == 1
    pdf = base64.b64decode(files["villageCampaign"]["publishedListPdf"].split(",", 1)[1])
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert masked in text
    assert "158,000" in text
    for every in await HouseholdScreening.all().prefetch_related("survey"):
        assert every.survey.head_id_number not in text
        assert every.survey.head_id_number not in str(rows)


@pytest.mark.parametrize(("who", "in_clear"), [("head", True), ("manager1a", True), ("president1", False),
                                                ("investigator", False)])  # fmt: skip
async def test_households_are_masked_per_the_campaign_policy(
    api: Api, campaign: VillageCampaign, who: str, in_clear: bool
) -> None:
    heads = await _village(api, campaign)
    await _screen(api, campaign)
    data = await _households(api, who, campaign)
    numbers = {e["node"]["headIdNumber"] for e in data["households"]["edges"]}
    clear = set(heads.values())
    assert (numbers == clear) if in_clear else (not numbers & clear and all("********" in n for n in numbers))
    rows = await AuditLog.filter(action="personal_data.read", target_type="HouseholdSurvey").values_list(
        "changes", flat=True
    )
    read = [r for r in rows if "headIdNumber" in r["fields"]]  # type: ignore[index]
    assert len(read) == (11 if in_clear else 0)  # each head's ID number read in clear is audited


@pytest.mark.parametrize("who", ["manager1b", "approver", "backoffice", "admin", "president2"])
async def test_households_of_a_campaign_out_of_reach_are_not_found(
    api: Api, campaign: VillageCampaign, who: str
) -> None:
    result = await api.as_(who, HOUSEHOLDS, {"id": gid("VillageCampaign", campaign.id)})
    assert result["data"]["villageCampaign"] is None
    assert result["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_survey_with_an_unknown_rating_or_flag_is_refused(api: Api, campaign: VillageCampaign) -> None:
    await collecting(api, campaign)
    batch = [survey(collectorRating="E"), survey(riskFlags=["SMOKING"])]
    results = (await submit(api, "manager1a", campaign, batch))["results"]
    assert [(r["status"], r["error"]["code"], r["error"]["field"]) for r in results] == [
        ("ERROR", "INVALID_RATING", "surveys[0].collectorRating"),
        ("ERROR", "INVALID_RATING", "surveys[1].riskFlags[0]"),
    ]


async def test_the_households_page_costs_the_same_statements_whatever_its_size(
    api: Api, campaign: VillageCampaign, count_queries: QueryCounter
) -> None:
    await _village(api, campaign)
    await _screen(api, campaign)
    page = """query($id: ID!, $n: Int!) { villageCampaign(id: $id) { households(first: $n) { edges { node {
      headName headIdNumber reasons { code } explanation { code } adjustments { id } } } } } }"""
    variables = {"id": gid("VillageCampaign", campaign.id)}
    await api.as_("manager1a", page, {**variables, "n": 1})  # signs in and caches the scope
    sizes = []
    for n in (1, 11):
        count_queries.statements.clear()
        result = await api.as_("manager1a", page, {**variables, "n": n})
        assert len(result["data"]["villageCampaign"]["households"]["edges"]) == n
        sizes.append(len(count_queries.statements))
    assert sizes[0] == sizes[1], count_queries.statements


async def test_a_reason_longer_than_its_cap_is_refused_before_anything_runs(
    api: Api, campaign: VillageCampaign
) -> None:
    await _village(api, campaign)
    await _screen(api, campaign)
    await move(api, "manager1a", campaign, "SUBMIT_FOR_REVIEW")
    white = await HouseholdScreening.get(colour="WHITE")
    variables = {"h": gid("VillageHousehold", white.id), "l": "100000", "r": "长" * 501, "v": white.version}
    result = await api.as_("investigator", PROPOSE, variables)
    assert result["errors"][0]["extensions"]["code"] == "VALUE_TOO_LONG"
    assert await LimitAdjustment.all().count() == 0


@pytest.mark.parametrize("who", ROLES)
async def test_only_the_named_first_reviewer_proposes_at_the_first_review(
    api: Api, campaign: VillageCampaign, who: str
) -> None:
    await _village(api, campaign)
    await _screen(api, campaign)
    await move(api, "manager1a", campaign, "SUBMIT_FOR_REVIEW")
    white = await HouseholdScreening.get(colour="WHITE")
    answer = await _propose(api, who, white, "100000")
    files = await api.as_(who, LIST_FILES, {"id": gid("VillageCampaign", campaign.id)})
    if who == "investigator":
        assert answer["status"] == "PROPOSED"
        return
    sees = who in ("head", "president1", "manager1a")
    assert answer["code"] == ("WRONG_ROLE" if sees else "NOT_FOUND")
    assert files["errors"][0]["extensions"]["code"] == ("NOT_PUBLISHED" if sees else "NOT_FOUND")
    assert await LimitAdjustment.all().count() == 0
    assert (await HouseholdScreening.get(id=white.id)).version == white.version


@pytest.mark.parametrize("who", ["manager1b", "president2", "backoffice"])
async def test_a_household_out_of_reach_answers_as_one_that_does_not_exist(
    api: Api, campaign: VillageCampaign, who: str
) -> None:
    """Every use case on one household looks it up the same way: an id out of the caller's reach gets the very
    answer a missing id gets, so household ids cannot be probed across campaigns."""
    from tests.schema.village_credit.test_signing import CALL_BACK

    await _village(api, campaign)
    await _screen(api, campaign)
    real = await HouseholdScreening.filter(campaign_id=campaign.id).order_by("id").first()
    assert real is not None
    missing = real.id + 100_000
    before = await HouseholdScreening.filter(campaign_id=campaign.id).values_list("id", "state", "limit", "version")

    async def answers(household_id: int) -> list[Any]:
        h = gid("VillageHousehold", household_id)
        proposed = await api.as_(who, PROPOSE, {"h": h, "l": "10000", "r": "探测 / probing", "v": 1})
        called = await api.as_(who, CALL_BACK, {"h": h, "o": "CONFIRMED", "v": 1})
        node = await api.as_(who, "query($id: ID!) { node(id: $id) { id } }", {"id": h})
        return [
            proposed["data"]["proposeHouseholdLimitChange"],
            called["data"]["callBackHousehold"],
            node["data"]["node"],
            [e["extensions"].get("code") for e in node.get("errors", [])],
        ]

    out_of_reach, absent = await answers(real.id), await answers(missing)
    assert out_of_reach[0]["code"] == "NOT_FOUND"
    assert out_of_reach[0]["field"] == "householdId"
    assert out_of_reach == absent
    after = await HouseholdScreening.filter(campaign_id=campaign.id).values_list("id", "state", "limit", "version")
    assert after == before
