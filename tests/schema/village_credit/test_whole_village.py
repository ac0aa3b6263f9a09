"""A village taken through whole-village credit in GraphQL alone, each step by its own person: planned by the
branch president; surveyed by two collectors, one offline batch sent twice from a phone (the second send stores
nothing); screened; a limit changed at the first review and confirmed at the second; published, with the list
posted; households called back and signed into credit lines; accepted by head office; the first loans drawn and
disbursed — and the funnel showing every step, as a direct count of the tables gives it."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from models import (
    Customer,
    Household,
    HouseholdScreening,
    HouseholdSurvey,
    Loan,
    Staff,
    VillageCampaign,
)
from tests.credit_flow import DISBURSE_DRAWDOWN, REQUEST_DRAWDOWN, SIGN_CONTRACT
from tests.factories import Api, World, gid, make_staff
from tests.schema.village_credit.conftest import CREATE, person, survey
from tests.schema.village_credit.test_screening import DECIDE, HOUSEHOLDS, LIST_FILES, PROPOSE, SCREEN, _run_screening
from tests.schema.village_credit.test_signing import CALL_BACK, FUNNEL, SIGN

MOVE = """mutation($id: ID!, $action: VillageCampaignAction!) {
  moveVillageCampaign(id: $id, action: $action, reason: "") { __typename
    ... on VillageCampaign { state version } ... on VillageCreditError { code field messageEn } } }"""
SUBMIT = """mutation($c: ID!, $s: [SurveyInput!]!) { submitSurveys(campaignId: $c, surveys: $s) {
  ... on SurveyBatch { results { status error { code field } } } ... on VillageCreditError { code } } }"""
CHECK = """mutation($id: ID!) { checkDrawdown(drawdownId: $id, approve: true, reason: "") {
  __typename ... on Drawdown { state } ... on CreditError { code field message } } }"""
HOUSEHOLDS_OF_HEAD = 10


async def _data(api: Api, who: str, query: str, **variables: Any) -> Any:
    body = await api.as_(who, query, variables)
    assert "errors" not in body, body
    return next(iter(body["data"].values()))


async def _move(api: Api, who: str, campaign_id: str, action: str) -> None:
    moved = await _data(api, who, MOVE, id=campaign_id, action=action)
    assert moved["__typename"] == "VillageCampaign", (action, who, moved)


async def test_a_village_from_surveys_to_first_loans_with_the_funnel_at_every_step(api: Api, world: World) -> None:
    await make_staff("manager1a2", ["CUSTOMER_MANAGER"], [world.village1a])
    await make_staff("backoffice2", ["BACK_OFFICE"], [world.county])
    second = await Staff.get(username="manager1a2")
    for _ in range(HOUSEHOLDS_OF_HEAD):
        await Household.create(village=world.village1a)

    planned = await _data(api, "president1", CREATE, input={
        "villageId": gid("GridNode", world.village1a.id), "name": "张庄村整村授信",
        "collectorIds": [gid("Staff", world.staff["manager1a"].id), gid("Staff", second.id)],
        "reviewerId": gid("Staff", world.staff["investigator"].id),
    })  # fmt: skip
    assert planned["state"] == "PLANNED", planned
    campaign_id = planned["id"]
    await _move(api, "manager1a", campaign_id, "START_COLLECTING")

    # the phone was offline for the week: its batch goes out once, the connection drops before the answer, and
    # it sends the same batch again
    batch = [survey(person(), annualIncome=str(60000 + 9000 * i)) for i in range(6)]
    first = await _data(api, "manager1a", SUBMIT, c=campaign_id, s=batch)
    assert [r["status"] for r in first["results"]] == ["SAVED"] * 6
    again = await _data(api, "manager1a", SUBMIT, c=campaign_id, s=batch)
    assert [r["status"] for r in again["results"]] == ["DUPLICATE"] * 6
    other = await _data(api, "manager1a2", SUBMIT, c=campaign_id, s=[survey(person()) for _ in range(2)])
    assert [r["status"] for r in other["results"]] == ["SAVED"] * 2
    pk = int(_pk(campaign_id))
    assert await HouseholdSurvey.filter(campaign_id=pk).count() == 8

    await _move(api, "manager1a2", campaign_id, "FINISH_COLLECTING")
    screened = await _data(api, "manager1a", SCREEN, c=campaign_id)
    assert screened["__typename"] == "Job", screened
    await _run_screening(await VillageCampaign.get(id=pk))
    await _move(api, "manager1a", campaign_id, "SUBMIT_FOR_REVIEW")

    listed = await _data(api, "investigator", HOUSEHOLDS, id=campaign_id)
    white = [e["node"] for e in listed["households"]["edges"] if e["node"]["colour"] == "WHITE"]
    assert len(white) >= 4, listed
    changed = white[0]
    lower = Decimal(changed["limit"]) - 10000
    proposal = await _data(api, "investigator", PROPOSE, h=changed["id"], l=str(lower), r="外出务工收入不稳定",
                           v=changed["version"])  # fmt: skip
    assert proposal["status"] == "PROPOSED", proposal
    await _move(api, "investigator", campaign_id, "COMPLETE_FIRST_REVIEW")
    confirmed = await _data(api, "approver", DECIDE, a=proposal["id"], ok=True)
    assert confirmed["status"] == "CONFIRMED", confirmed
    await _move(api, "approver", campaign_id, "COMPLETE_SECOND_REVIEW")
    await _move(api, "president1", campaign_id, "APPROVE_AND_PUBLISH")
    posted = await _data(api, "president1", LIST_FILES, id=campaign_id)
    assert posted["publishedListXlsx"].startswith("data:application/vnd.openxmlformats")
    assert posted["publishedListPdf"].startswith("data:application/pdf")

    after = {e["node"]["id"]: e["node"] for e in (await _data(api, "manager1a", HOUSEHOLDS, id=campaign_id))[
        "households"]["edges"]}  # fmt: skip
    assert Decimal(after[changed["id"]]["limit"]) == lower
    approved = [h for h in after.values() if h["state"] == "APPROVED"]
    assert len(approved) == len(white)
    signed_ids = []
    for number, household in enumerate(approved):
        if number == len(approved) - 1:  # the last one would rather not borrow
            declined = await _data(api, "manager1a", CALL_BACK, h=household["id"], o="DECLINED", note="暂无资金需求")
            assert declined["state"] == "DECLINED", declined
            continue
        called = await _data(api, "manager1a", CALL_BACK, h=household["id"], o="CONFIRMED", note="本人确认")
        assert called["state"] == "CONFIRMED", called
        if number < 3:
            signed = await _data(api, "manager1a2", SIGN, h=household["id"])
            assert signed["state"] == "SIGNED", signed
            signed_ids.append(signed)
    await _move(api, "head", campaign_id, "ACCEPT")

    for signed in signed_ids[:2]:  # the first loans
        line = signed["creditLineId"]
        drawdown = await _data(api, "manager1a2", REQUEST_DRAWDOWN, input={
            "clientId": str(uuid.uuid4()), "lineId": line, "amount": "20000", "termMonths": 12,
            "repaymentMethod": "EQUAL_INSTALMENTS"})  # fmt: skip
        assert drawdown.get("state") == "PRICED", drawdown
        screening = await HouseholdScreening.get(id=int(_pk(signed["id"])))
        customer = await Customer.get(id=screening.customer_id)  # type: ignore[attr-defined]
        signature = {
            "drawdownId": drawdown["id"], "contractSha256": drawdown["contractSha256"], "signerName": customer.name,
            "signerIdNumber": customer.id_number, "method": "FACE_RECOGNITION",
            "recording": {"sha256": "0" * 64, "durationSeconds": 312, "recordedAt": "2026-11-20T10:00:00+00:00"},
        }  # fmt: skip
        assert (await _data(api, "manager1a2", SIGN_CONTRACT, input=signature))["state"] == "SIGNED"
        assert (await _data(api, "backoffice", CHECK, id=drawdown["id"]))["state"] == "CHECKED"
        assert (await _data(api, "backoffice2", DISBURSE_DRAWDOWN, id=drawdown["id"]))["state"] == "DISBURSED"

    funnel = await _data(api, "president1", FUNNEL, c=campaign_id)
    steps = {s["step"]: s["households"] for s in funnel["steps"]}
    in_campaign = HouseholdScreening.filter(campaign_id=pk)
    assert steps == {
        "HOUSEHOLDS": HOUSEHOLDS_OF_HEAD,
        "SURVEYED": 8,
        "WHITE": len(white),
        "LIMIT_PROPOSED": await in_campaign.filter(colour="WHITE", proposed_limit__isnull=False).count(),
        "REVIEWED": len(white),
        "APPROVED": len(white),
        "CALLED_BACK": len(white),
        "SIGNED": 3,
        "DREW": await Loan.filter(drawdown__line__application__village_screenings__campaign_id=pk).count(),
    }
    assert steps["DREW"] == 2
    assert all(count > 0 for count in steps.values()), steps
    assert funnel["black"] + funnel["grey"] == 8 - len(white)
    collectors = {m["name"]: m["surveyed"] for m in funnel["managers"]}
    assert sorted(collectors.values()) == [2, 6]


def _pk(global_id: str) -> str:
    from strawberry.relay import GlobalID

    return GlobalID.from_id(global_id).node_id
