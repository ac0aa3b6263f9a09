"""After the list is published: the collectors call each approved household back and the households that accept
sign, each getting a whole-village credit line in the credit factory that a drawdown can be requested on; each
step only by a collector of the campaign, in order, once; the funnel counts every step as a direct count does."""

from __future__ import annotations

import base64
import io
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from domain.credit.enums import RepaymentMethod
from domain.village_credit.household_workflow import HouseholdState, ListColour
from models import (
    AuditLog,
    CreditApplication,
    CreditLine,
    Customer,
    DecisionRecord,
    Household,
    HouseholdScreening,
    HouseholdSurvey,
    Staff,
    VillageCampaign,
    VillageDecisionRecord,
)
from resolvers.credit.drawdowns import DrawdownDraft, request_drawdown
from resolvers.platform.auth import actor_for
from tests.factories import ROLES, Api, World, gid
from tests.schema.village_credit.conftest import collecting, move, person, submit, survey

STEP_FIELDS = """__typename
  ... on VillageHousehold { id state version limit calledBackAt signedAt creditLineId }
  ... on VillageCreditError { code field messageZh messageEn }"""
CALL_BACK = f"""mutation($h: ID!, $o: CallBackOutcome!, $note: String! = "", $v: Int) {{
  callBackHousehold(householdId: $h, outcome: $o, note: $note, expectedVersion: $v) {{ {STEP_FIELDS} }} }}"""
SIGN = f"""mutation($h: ID!, $v: Int) {{ signHousehold(householdId: $h, expectedVersion: $v) {{ {STEP_FIELDS} }} }}"""
FUNNEL = """query($c: ID, $n: ID) { villageCreditFunnel(campaignId: $c, nodeId: $n) {
  title campaigns black grey steps { step households conversion }
  managers { staffId name surveyed white approved signed drew } villages { code households surveyed coverage } } }"""
LINE = "query($id: ID!) { node(id: $id) { ... on CreditLine { amount status } } }"
WHITE_LIMITS = (Decimal("50000"), Decimal("30000"), Decimal("80000"))


async def _published(api: Api, world: World, campaign: VillageCampaign) -> list[HouseholdScreening]:
    """Four households surveyed, three on the white list with limits and one on the black, taken through the
    reviews to a published list."""
    await collecting(api, campaign)
    sent = [survey(person()) for _ in range(4)]
    batch = await submit(api, "manager1a", campaign, sent)
    assert [r["status"] for r in batch["results"]] == ["SAVED"] * 4
    assert (await move(api, "manager1a", campaign, "FINISH_COLLECTING"))["state"] == "SCREENING"
    surveys = await HouseholdSurvey.filter(campaign_id=campaign.id).order_by("id")
    now = datetime.now(UTC)
    screenings = []
    for i, s in enumerate(surveys):
        white = i < len(WHITE_LIMITS)
        screening = await HouseholdScreening.create(
            survey=s, campaign=campaign, state=HouseholdState.PROPOSED if white else HouseholdState.EXCLUDED,
            colour=ListColour.WHITE if white else ListColour.BLACK, rating="AA" if white else None,
            reasons=[] if white else [{"code": "ENFORCEMENT_LIST", "zh": "失信被执行人", "en": "on the court list"}],
            proposed_limit=WHITE_LIMITS[i] if white else None, limit=WHITE_LIMITS[i] if white else None,
            screened_at=now, updated_at=now,
        )  # fmt: skip
        await VillageDecisionRecord.create(
            screening=screening, decision="village_limit", version=1, content_sha256="0" * 64,
            inputs={"annual_income": 86000}, outputs={"limit": str(screening.limit)}, created_at=now,
        )  # fmt: skip
        screenings.append(screening)
    for action, who in (
        ("SUBMIT_FOR_REVIEW", "manager1a"),
        ("COMPLETE_FIRST_REVIEW", "investigator"),
        ("COMPLETE_SECOND_REVIEW", "approver"),
        ("APPROVE_AND_PUBLISH", "president1"),
    ):
        assert (await move(api, who, campaign, action))["__typename"] == "VillageCampaign", action
    approved = await HouseholdScreening.filter(campaign_id=campaign.id, state=HouseholdState.APPROVED).count()
    assert approved == len(WHITE_LIMITS)  # publication approved the white list
    return screenings


async def _step(api: Api, who: str, query: str, **variables: Any) -> dict[str, Any]:
    body = await api.as_(who, query, variables)
    assert "errors" not in body, body
    return next(iter(body["data"].values()))  # type: ignore[no-any-return]


async def test_a_household_called_back_and_signed_gets_a_line_a_drawdown_can_be_requested_on(
    api: Api, world: World, campaign: VillageCampaign
) -> None:
    households = await _published(api, world, campaign)
    first = households[0]
    h = gid("VillageHousehold", first.id)
    early = await _step(api, "manager1a", SIGN, h=h)
    assert (early["__typename"], early["code"]) == ("VillageCreditError", "WRONG_STATE")
    called = await _step(api, "manager1a", CALL_BACK, h=h, o="CONFIRMED", note="本人接听,确认需要")
    assert called["state"] == "CONFIRMED"
    assert called["calledBackAt"]
    signed = await _step(api, "manager1a2", SIGN, h=h, v=called["version"])
    assert signed["state"] == "SIGNED", signed
    line_node = await api.as_("manager1a2", LINE, {"id": signed["creditLineId"]})
    assert Decimal(line_node["data"]["node"]["amount"]) == WHITE_LIMITS[0]

    stored = await HouseholdScreening.get(id=first.id)
    survey_row = await HouseholdSurvey.get(id=first.survey_id)  # type: ignore[attr-defined]
    customer = await Customer.get(id=stored.customer_id)  # type: ignore[attr-defined]
    assert (customer.id_number, customer.village_id, customer.source) == (  # type: ignore[attr-defined]
        survey_row.head_id_number, world.village1a.id, "SURVEY",
    )  # fmt: skip
    application = await CreditApplication.get(id=stored.application_id)  # type: ignore[attr-defined]
    assert (application.product_code, application.state, application.approved_limit) == (
        "zhengcun", "APPROVED", WHITE_LIMITS[0],
    )  # fmt: skip
    assert application.approver_ids == [world.staff["president1"].id]
    assert set(application.reviewer_ids) == {world.staff[p].id for p in ("investigator", "approver", "president1")}
    recorded = (
        await DecisionRecord.filter(application_id=application.id)
        .order_by("id")
        .values_list("decision", "inputs", "outputs")
    )
    kept = await VillageDecisionRecord.filter(screening_id=first.id).values_list("decision", "inputs", "outputs")
    assert recorded[: len(kept)] == kept  # the household's decisions, as evaluated
    rating = recorded[len(kept) :]
    assert [r[0] for r in rating] == ["rating"]  # the product's rating, on the household's facts
    assert rating[0][1]["credit_village"] is True
    assert application.rating_grade == rating[0][2]["grade"]
    line = await CreditLine.get(application_id=application.id)
    assert (line.amount, line.product_code, line.status) == (WHITE_LIMITS[0], "zhengcun", "ACTIVE")
    assert (await Customer.get(id=customer.id)).credit_line == WHITE_LIMITS[0]
    actions = await AuditLog.filter(target_type="HouseholdScreening").order_by("id").values_list("action", flat=True)
    assert actions == ["village_household.confirm_call_back", "village_household.sign"]

    manager = actor_for(await Staff.get(username="manager1a2").prefetch_related("scope"))
    drawdown = await request_drawdown(
        manager,
        DrawdownDraft(f"village-{uuid.uuid4()}", line.id, Decimal("20000"), 12, RepaymentMethod.EQUAL_INSTALMENTS),
    )
    assert (drawdown.state, drawdown.amount) == ("PRICED", Decimal("20000"))

    again = await _step(api, "manager1a", SIGN, h=h)
    assert (again["__typename"], again["code"]) == ("VillageCreditError", "WRONG_STATE")
    assert await CreditLine.filter(customer_id=customer.id).count() == 1


async def test_only_a_collector_calls_back_or_signs_in_order_and_a_refusal_changes_nothing(
    api: Api, world: World, campaign: VillageCampaign
) -> None:
    households = await _published(api, world, campaign)
    h = gid("VillageHousehold", households[1].id)
    for who in [r for r in ROLES if r != "manager1a"]:
        refused = await _step(api, who, CALL_BACK, h=h, o="CONFIRMED")
        assert refused["__typename"] == "VillageCreditError", who
        assert refused["code"] in {"WRONG_ROLE", "NOT_FOUND"}, (who, refused)
    declined = await _step(api, "manager1a", CALL_BACK, h=h, o="DECLINED")
    assert (declined["code"], declined["field"]) == ("INVALID_VALUE", "note")
    black = await _step(api, "manager1a", CALL_BACK, h=gid("VillageHousehold", households[3].id), o="CONFIRMED")
    assert black["code"] == "WRONG_STATE"
    stale = await _step(api, "manager1a", CALL_BACK, h=h, o="CONFIRMED", v=99)
    assert stale["code"] == "STALE_VERSION"
    unchanged = await HouseholdScreening.get(id=households[1].id)
    assert (unchanged.state, unchanged.version, unchanged.called_back_at) == ("APPROVED", 2, None)
    assert await AuditLog.filter(target_type="HouseholdScreening").count() == 0

    gone = await _step(api, "manager1a", CALL_BACK, h=h, o="UNREACHABLE", note="三次未接通")
    assert gone["state"] == "DECLINED"
    after = await _step(api, "manager1a", SIGN, h=h)
    assert after["code"] == "WRONG_STATE"
    assert await CreditApplication.all().count() == 0


async def test_call_backs_wait_for_the_published_list(api: Api, world: World, campaign: VillageCampaign) -> None:
    await collecting(api, campaign)
    await submit(api, "manager1a", campaign, [survey(person())])
    await move(api, "manager1a", campaign, "FINISH_COLLECTING")
    s = await HouseholdSurvey.get(campaign_id=campaign.id)
    now = datetime.now(UTC)
    screening = await HouseholdScreening.create(
        survey=s, campaign=campaign, state=HouseholdState.APPROVED, colour=ListColour.WHITE,
        proposed_limit=Decimal(40000), limit=Decimal(40000), screened_at=now, updated_at=now,
    )  # fmt: skip
    early = await _step(api, "manager1a", CALL_BACK, h=gid("VillageHousehold", screening.id), o="CONFIRMED")
    assert early["code"] == "WRONG_STATE"


async def _funnel(api: Api, who: str, **scope: str) -> Any:
    return await api.as_(who, FUNNEL, scope)


@pytest.mark.parametrize("scope", ["campaign", "county"])
async def test_the_funnel_counts_every_step_as_a_direct_count_does(
    api: Api, world: World, campaign: VillageCampaign, scope: str
) -> None:
    for _ in range(10):
        await Household.create(village=world.village1a)
    households = await _published(api, world, campaign)
    first, second, third = households[:3]
    await _step(api, "manager1a", CALL_BACK, h=gid("VillageHousehold", first.id), o="CONFIRMED")
    await _step(api, "manager1a", SIGN, h=gid("VillageHousehold", first.id))
    await _step(api, "manager1a", CALL_BACK, h=gid("VillageHousehold", second.id), o="DECLINED", note="不需要")
    line = await CreditLine.get(application_id=(await HouseholdScreening.get(id=first.id)).application_id)  # type: ignore[attr-defined]
    assert third.state == HouseholdState.PROPOSED  # as created; publication approved it since

    variables = (
        {"c": gid("VillageCampaign", campaign.id)} if scope == "campaign" else {"n": gid("GridNode", world.county.id)}
    )
    body = await _funnel(api, "head", **variables)
    assert "errors" not in body, body
    result = body["data"]["villageCreditFunnel"]
    steps = {s["step"]: s["households"] for s in result["steps"]}
    in_campaign = HouseholdScreening.filter(campaign_id=campaign.id)
    direct = {
        "HOUSEHOLDS": await Household.filter(village_id=world.village1a.id).count(),
        "SURVEYED": await HouseholdSurvey.filter(campaign_id=campaign.id).count(),
        "WHITE": await in_campaign.filter(colour="WHITE").count(),
        "LIMIT_PROPOSED": await in_campaign.filter(proposed_limit__isnull=False).count(),
        "REVIEWED": await in_campaign.filter(colour="WHITE").count(),  # the campaign is past its second review
        "APPROVED": await in_campaign.filter(state__in=["APPROVED", "CONFIRMED", "DECLINED", "SIGNED"]).count(),
        "CALLED_BACK": await in_campaign.filter(called_back_at__isnull=False).count(),
        "SIGNED": await in_campaign.filter(state="SIGNED").count(),
        "DREW": 0,
    }  # fmt: skip
    assert steps == direct
    assert (steps["HOUSEHOLDS"], steps["SURVEYED"], steps["WHITE"], steps["SIGNED"]) == (10, 4, 3, 1)
    assert (result["black"], result["grey"], result["campaigns"]) == (1, 0, 1)
    conversions = {s["step"]: s["conversion"] for s in result["steps"]}
    assert conversions["HOUSEHOLDS"] is None
    assert conversions["SURVEYED"] == pytest.approx(0.4)
    assert conversions["CALLED_BACK"] == pytest.approx(2 / 3, abs=1e-4)
    assert result["managers"] == [
        {"staffId": gid("Staff", world.staff["manager1a"].id), "name": world.staff["manager1a"].display_name,
         "surveyed": 4, "white": 3, "approved": 3, "signed": 1, "drew": 0}
    ]  # fmt: skip
    if scope == "county":
        coverage = {v["code"]: (v["households"], v["surveyed"], v["coverage"]) for v in result["villages"]}
        assert coverage[world.village1a.code] == (10, 4, 0.4)
        assert coverage[world.village1b.code] == (0, 0, None)
    else:
        assert result["villages"] == []
    assert line.amount == WHITE_LIMITS[0]


async def test_the_funnel_as_a_workbook_a_chart_and_a_map(api: Api, world: World, campaign: VillageCampaign) -> None:
    await _published(api, world, campaign)
    query = "query($n: ID!) { villageCreditFunnel(nodeId: $n) { xlsx chartPng coverageMapPng } }"
    body = await api.as_("president1", query, {"n": gid("GridNode", world.township1.id)})
    assert "errors" not in body, body
    got = body["data"]["villageCreditFunnel"]
    xlsx = base64.b64decode(got["xlsx"].split(",", 1)[1])
    book = CalamineWorkbook.from_filelike(io.BytesIO(xlsx))
    assert book.sheet_names == ["漏斗 Funnel", "客户经理 Managers", "覆盖 Coverage"]
    rows = book.get_sheet_by_name("漏斗 Funnel").to_python()
    assert rows[0] == ["环节 Step", "户数 Households", "转化率 Conversion"]
    assert rows[2][:2] == ["已入户调查 surveyed", 4.0]
    for picture in (got["chartPng"], got["coverageMapPng"]):
        assert base64.b64decode(picture.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


async def test_who_may_read_a_funnel(api: Api, world: World, campaign: VillageCampaign) -> None:
    await _published(api, world, campaign)
    county = {"n": gid("GridNode", world.county.id)}
    for who in ("backoffice", "admin", "investigator", "approver"):
        body = await _funnel(api, who, **county)
        assert body["errors"][0]["extensions"]["code"] in {"FORBIDDEN", "NOT_FOUND"}, who
    elsewhere = await _funnel(api, "manager2a", n=gid("GridNode", world.village2a.id))
    assert elsewhere["data"]["villageCreditFunnel"]["campaigns"] == 0
    assert {s["households"] for s in elsewhere["data"]["villageCreditFunnel"]["steps"]} == {0}
    other_branch = await _funnel(api, "president2", c=gid("VillageCampaign", campaign.id))
    assert other_branch["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    reviewer = await _funnel(api, "investigator", c=gid("VillageCampaign", campaign.id))
    assert reviewer["data"]["villageCreditFunnel"]["steps"][1]["households"] == 4
    both = await _funnel(api, "head", c=gid("VillageCampaign", campaign.id), **county)
    assert both["errors"][0]["extensions"]["code"] == "INVALID_VALUE"
