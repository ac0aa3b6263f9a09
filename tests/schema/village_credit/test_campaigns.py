"""A campaign through every step by GraphQL, each by its own person: planned by head office or the village's
branch president, then collect → screen → first review → second review (复核) → branch approval → published →
accepted (验收) → closed, each step a history row and an audit row; a step by anyone else, or out of order, is a
typed error that changes nothing; who sees which campaigns."""

from __future__ import annotations

import pytest

from models import AuditLog, VillageCampaign, VillageCampaignEvent
from tests.factories import ROLES, Api, World, gid
from tests.schema.village_credit.conftest import CREATE, move

STEPS = [
    ("START_COLLECTING", "manager1a", "COLLECTING"),
    ("FINISH_COLLECTING", "manager1a2", "SCREENING"),
    ("SUBMIT_FOR_REVIEW", "manager1a", "FIRST_REVIEW"),
    ("COMPLETE_FIRST_REVIEW", "investigator", "SECOND_REVIEW"),
    ("COMPLETE_SECOND_REVIEW", "approver", "BRANCH_APPROVAL"),
    ("APPROVE_AND_PUBLISH", "president1", "PUBLISHED"),
    ("ACCEPT", "head", "ACCEPTED"),
    ("CLOSE", "head", "CLOSED"),
]
EVERYONE = [*ROLES, "manager1a2"]


async def _unchanged(campaign: VillageCampaign, state: str, version: int, events: int) -> None:
    stored = await VillageCampaign.get(id=campaign.id)
    assert (stored.state, stored.version) == (state, version)
    assert await VillageCampaignEvent.filter(campaign_id=campaign.id).count() == events


async def test_a_campaign_goes_through_every_step_by_its_own_person_and_nobody_else(
    api: Api, world: World, campaign: VillageCampaign
) -> None:
    for number, (action, taker, target) in enumerate(STEPS):
        source = "PLANNED" if number == 0 else STEPS[number - 1][2]
        for other in EVERYONE:
            if other == taker or (action in {"START_COLLECTING", "FINISH_COLLECTING", "SUBMIT_FOR_REVIEW"}
                                  and other in {"manager1a", "manager1a2"}):  # fmt: skip
                continue
            refused = await move(api, other, campaign, action)
            assert refused["__typename"] == "VillageCreditError", (action, other)
            assert refused["code"] in {"WRONG_ROLE", "SEPARATION_OF_DUTIES", "NOT_FOUND"}, (action, other, refused)
            await _unchanged(campaign, source, number + 1, number)
        for later, later_taker, _ in STEPS[number + 1 :]:  # no step skipped, even by its own person
            skipped = await move(api, later_taker, campaign, later)
            assert skipped["__typename"] == "VillageCreditError"
            assert skipped["code"] in {"WRONG_STATE", "NOT_FOUND"}, (later, later_taker)
            await _unchanged(campaign, source, number + 1, number)
        moved = await move(api, taker, campaign, action, f"第{number + 1}步")
        assert moved["state"] == target, (action, moved)
        assert moved["version"] == number + 2
        assert moved["history"][-1] == {"action": action.lower(), "fromState": source, "toState": target,
                                        "actorId": world.staff[taker].id if taker in world.staff else moved[
                                            "history"][-1]["actorId"], "reason": f"第{number + 1}步"}  # fmt: skip
    audit = await AuditLog.filter(target_type="VillageCampaign").order_by("id").values_list("action", flat=True)
    assert audit == [f"village_campaign.{a.lower()}" for a, _, _ in STEPS]
    final = await VillageCampaign.get(id=campaign.id)
    assert (final.second_reviewer_id, final.approver_id) == (world.staff["approver"].id, world.staff["president1"].id)  # type: ignore[attr-defined]


async def test_a_stale_version_is_refused_and_changes_nothing(api: Api, campaign: VillageCampaign) -> None:
    result = await api.as_("manager1a", """mutation($id: ID!) { moveVillageCampaign(id: $id,
        action: START_COLLECTING, expectedVersion: 7) { ... on VillageCreditError { code field } } }""",
                           {"id": gid("VillageCampaign", campaign.id)})  # fmt: skip
    assert result["data"]["moveVillageCampaign"] == {"code": "STALE_VERSION", "field": "expectedVersion"}
    await _unchanged(campaign, "PLANNED", 1, 0)


@pytest.mark.parametrize(
    ("who", "code"),
    [("president1", None), ("head", None), ("president2", "NOT_FOUND"), ("manager1a", "FORBIDDEN"),
     ("investigator", "FORBIDDEN"), ("admin", "NOT_FOUND")],
)  # fmt: skip
async def test_planning_a_campaign(api: Api, world: World, who: str, code: str | None) -> None:
    result = await api.as_(who, CREATE, {"input": {
        "villageId": gid("GridNode", world.village1a.id), "name": "张庄村阳光信贷",
        "collectorIds": [gid("Staff", world.staff["manager1a"].id)],
        "reviewerId": gid("Staff", world.staff["investigator"].id)}})  # fmt: skip
    created = result["data"]["createVillageCampaign"]
    if code is None:
        assert created["state"] == "PLANNED"
        assert created["history"][0]["toState"] == "PLANNED"
        assert await AuditLog.filter(action="village_campaign.plan").count() == 1
    else:
        assert created["code"] == code
        assert await VillageCampaign.all().count() == 0


@pytest.mark.parametrize(
    ("collector", "reviewer", "field"),
    [("manager1b", "investigator", "collectorIds[0]"), ("manager1a", "manager1a", "reviewerId"),
     ("manager1a", "approver", "reviewerId")],
)  # fmt: skip
async def test_collectors_manage_the_village_and_the_reviewer_collects_nothing(
    api: Api, world: World, collector: str, reviewer: str, field: str
) -> None:
    result = await api.as_("head", CREATE, {"input": {
        "villageId": gid("GridNode", world.village1a.id), "name": "张庄村",
        "collectorIds": [gid("Staff", world.staff[collector].id)],
        "reviewerId": gid("Staff", world.staff[reviewer].id)}})  # fmt: skip
    assert result["data"]["createVillageCampaign"]["field"] == field
    assert await VillageCampaign.all().count() == 0


LIST = "{ villageCampaigns(first: 50) { totalCount edges { node { name state } } } }"
ONE = "query($id: ID!) { villageCampaign(id: $id) { name } }"


@pytest.mark.parametrize(
    ("who", "sees"),
    [("head", True), ("president1", True), ("president2", False), ("manager1a", True), ("manager1b", False),
     ("manager2a", False), ("investigator", True), ("approver", False), ("backoffice", False), ("admin", False)],
)  # fmt: skip
async def test_who_sees_the_campaign(api: Api, campaign: VillageCampaign, who: str, sees: bool) -> None:
    listed = (await api.as_(who, LIST))["data"]["villageCampaigns"]
    assert listed["totalCount"] == (1 if sees else 0)
    one = await api.as_(who, ONE, {"id": gid("VillageCampaign", campaign.id)})
    if sees:
        assert one["data"]["villageCampaign"]["name"] == "张庄村整村授信"
    else:
        assert one["errors"][0]["extensions"]["code"] == "NOT_FOUND"
