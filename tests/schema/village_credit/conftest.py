"""A campaign in 张庄村 (the test county's village1a): two collecting customer managers, the county's credit
investigator as first reviewer; and the GraphQL calls and survey inputs the tests share."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from models import Staff, VillageCampaign
from tests.factories import Api, World, gid, make_staff, new_id_number

CAMPAIGN_FIELDS = """__typename
  ... on VillageCampaign { id state version availableActions collectorIds secondReviewerId approverId
    history { action fromState toState actorId reason } }
  ... on VillageCreditError { code field message messageZh messageEn }"""
CREATE = f"""mutation($input: CreateVillageCampaignInput!) {{
  createVillageCampaign(input: $input) {{ {CAMPAIGN_FIELDS} }} }}"""
MOVE = f"""mutation($id: ID!, $action: VillageCampaignAction!, $reason: String!, $v: Int) {{
  moveVillageCampaign(id: $id, action: $action, reason: $reason, expectedVersion: $v) {{ {CAMPAIGN_FIELDS} }} }}"""
SUBMIT = """mutation($c: ID!, $s: [SurveyInput!]!) { submitSurveys(campaignId: $c, surveys: $s) {
  __typename
  ... on SurveyBatch { results { index clientId status
      survey { id clientVersion headName annualIncome masked phone members { name idNumber phone relation } }
      error { code field messageZh messageEn } } }
  ... on VillageCreditError { code field messageZh messageEn } } }"""
SINCE = """query($c: ID!, $cursor: String, $first: Int! = 500) {
  surveysSince(campaignId: $c, cursor: $cursor, first: $first) {
  nextCursor hasMore surveys { clientId clientVersion headName annualIncome masked phone address
    members { idNumber phone birthDate ageBand } } } }"""
SURVEYED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture
async def campaign(world: World) -> VillageCampaign:
    """PLANNED, by head office, for village1a with manager1a and manager1a2 collecting."""
    await make_staff("manager1a2", ["CUSTOMER_MANAGER"], [world.village1a])
    second = await Staff.get(username="manager1a2")
    return await VillageCampaign.create(
        village=world.village1a, name="张庄村整村授信", collector_ids=[world.staff["manager1a"].id, second.id],
        reviewer=world.staff["investigator"], created_by=world.staff["head"], state="PLANNED",
        created_at=SURVEYED, state_since=SURVEYED,
    )  # fmt: skip


async def move(api: Api, who: str, campaign: VillageCampaign, action: str, reason: str = "") -> dict[str, Any]:
    result = await api.as_(who, MOVE, {"id": gid("VillageCampaign", campaign.id), "action": action, "reason": reason})
    return result["data"]["moveVillageCampaign"]  # type: ignore[no-any-return]


async def collecting(api: Api, campaign: VillageCampaign) -> None:
    assert (await move(api, "manager1a", campaign, "START_COLLECTING"))["state"] == "COLLECTING"


def person(birth: date = date(1980, 3, 1), male: bool = True) -> str:
    return new_id_number(birth, male)


def survey(
    head_id: str | None = None, *, client_id: str | None = None, version: int = 1, **fields: Any
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "clientId": client_id or str(uuid.uuid4()),
        "clientVersion": version,
        "surveyedAt": SURVEYED.isoformat(),
        "members": [
            {"name": "张大山", "idNumber": head_id or person(), "relation": "HEAD", "phone": "13812340000"},
        ],
        "phone": "13812340000",
        "address": "睢宁县王集镇张庄村三组8号",
        "landContractedMu": "12.5",
        "annualIncome": "86000",
        "annualExpenses": "30000",
        "crops": [{"name": "小麦", "mu": "10"}],
        "livestock": [{"kind": "羊", "head": 20}],
        "debts": [{"lender": "某银行", "amount": "20000"}],
        "character": "为人踏实", "reputation": "邻里口碑好",
        "photos": [{"sha256": "a" * 64, "sizeBytes": 120000, "takenAt": SURVEYED.isoformat()}],
    }  # fmt: skip
    values.update(fields)
    return values


async def submit(api: Api, who: str, campaign: VillageCampaign, surveys: list[dict[str, Any]]) -> Any:
    result = await api.as_(who, SUBMIT, {"c": gid("VillageCampaign", campaign.id), "s": surveys})
    assert "errors" not in result, result
    return result["data"]["submitSurveys"]
