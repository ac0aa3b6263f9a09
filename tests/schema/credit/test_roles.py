"""Every credit query and mutation per role and grid scope: who may take, see, investigate, decide, reassign and
withdraw which applications; a refused step answers a typed error and changes nothing; out of reach is
NOT_FOUND; the applicant in clear only to those who work on the application, and every such read audited; two
approvers at once: exactly one decision wins."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from models import ApplicationEvent, AuditLog, CreditApplication, Staff
from tests.credit_flow import (
    DECIDE,
    REASSIGN,
    WITHDRAW,
    application_input,
    credit_world,
    decide,
    investigate,
    investigation_input,
    pk_of,
    submit,
    to_approval,
    to_investigation,
)
from tests.factories import ROLES, Api, World, gid, make_staff

LIST = """query($states: [ApplicationState!]) { creditApplications(states: $states, first: 50) {
  totalCount edges { node { id state applicant { name idNumber phone masked } } } } }"""
ONE = "query($id: ID!) { creditApplication(id: $id) { id state applicant { idNumber masked } investigation } }"


@pytest.fixture
async def credit(world: World) -> World:
    return await credit_world(world)


async def snapshot() -> list[tuple[Any, ...]]:
    rows = await CreditApplication.all().order_by("id").values_list("id", "state", "version", "investigator_id")
    return [*rows, await ApplicationEvent.all().count()]


@pytest.mark.parametrize("user", [u for u in ROLES if u not in {"manager1a", "manager1b", "manager2a"}])
async def test_only_a_customer_manager_takes_applications(api: Api, credit: World, user: str) -> None:
    body = await api.as_(user, "mutation($input: SubmitCreditApplicationInput!) { submitCreditApplication(input: "
                               "$input) { __typename ... on CreditError { code } } }",
                         {"input": application_input(credit)})  # fmt: skip
    assert body["data"]["submitCreditApplication"] == {"__typename": "CreditError", "code": "FORBIDDEN"}
    assert await CreditApplication.all().count() == 0


async def test_a_customer_manager_takes_applications_only_for_customers_they_see(api: Api, credit: World) -> None:
    refused = await submit(api, "manager2a", application_input(credit, "c1a"))
    assert (refused["code"], refused["field"]) == ("NOT_FOUND", "id")
    assert await CreditApplication.all().count() == 0


@pytest.mark.parametrize(
    ("user", "sees", "masked"),
    [
        ("head", True, False),
        ("manager1a", True, False),  # took it
        ("manager1b", False, None),  # another village
        ("manager2a", False, None),
        ("president1", True, True),  # their branch, masked
        ("president2", False, None),
        ("investigator", True, False),  # assigned to them
        ("approver", False, None),  # nothing waits for their tier yet
        ("backoffice", False, None),  # not approved yet
        ("admin", False, None),
    ],
)
async def test_who_sees_an_application_under_investigation(
    api: Api, credit: World, user: str, sees: bool, masked: bool | None
) -> None:
    application = await to_investigation(api, credit)
    body = await api.as_(user, ONE, {"id": application["id"]})
    listed = await api.as_(user, LIST, {})
    if not sees:
        assert body["data"] is None or body["data"]["creditApplication"] is None
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert listed["data"]["creditApplications"]["totalCount"] == 0
        return
    found = body["data"]["creditApplication"]
    assert found["applicant"]["masked"] is masked
    assert ("*" in found["applicant"]["idNumber"]) is masked
    assert listed["data"]["creditApplications"]["totalCount"] == 1
    reads = await AuditLog.filter(
        action="personal_data.read", target_type="Customer", actor_id=credit.staff[user].id
    ).count()
    assert (reads > 0) is (not masked)


async def test_an_approver_sees_what_waits_for_their_tier_and_then_what_they_decided(api: Api, credit: World) -> None:
    waiting = await to_approval(api, credit)
    listed = await api.as_("approver", LIST, {"states": ["AWAITING_APPROVAL"]})
    assert [e["node"]["id"] for e in listed["data"]["creditApplications"]["edges"]] == [waiting["id"]]
    await decide(api, "approver", waiting["id"])
    after = await api.as_("approver", LIST, {})
    assert [e["node"]["state"] for e in after["data"]["creditApplications"]["edges"]] == ["APPROVED"]
    back_office = await api.as_("backoffice", LIST, {})
    assert back_office["data"]["creditApplications"]["totalCount"] == 1


@pytest.mark.parametrize("user", [u for u in ROLES if u != "investigator"])
async def test_only_the_assigned_investigator_files_the_report(api: Api, credit: World, user: str) -> None:
    application = await to_investigation(api, credit)
    before = await snapshot()
    refused = await investigate(api, user, investigation_input(application["id"]))
    assert refused["__typename"] == "CreditError"
    assert refused["code"] in {"NOT_FOUND", "WRONG_ROLE"}
    assert await snapshot() == before


@pytest.mark.parametrize("user", [u for u in ROLES if u not in {"approver", "head"}])
async def test_only_the_tier_authority_decides(api: Api, credit: World, user: str) -> None:
    waiting = await to_approval(api, credit)
    before = await snapshot()
    body = await api.as_(user, DECIDE, {"input": {"applicationId": waiting["id"], "verdict": "APPROVE"}})
    refused = body["data"]["decideCreditApplication"]
    assert refused["__typename"] == "CreditError"
    assert refused["code"] in {"NOT_FOUND", "WRONG_ROLE", "SEPARATION_OF_DUTIES"}
    assert await snapshot() == before


async def test_an_investigator_who_is_also_an_approver_cannot_approve_their_own_case(api: Api, credit: World) -> None:
    await Staff.filter(id=credit.staff["investigator"].id).update(roles=["CREDIT_INVESTIGATOR", "APPROVER"])
    waiting = await to_approval(api, credit)
    before = await snapshot()
    refused = await decide(api, "investigator", waiting["id"])
    assert (refused["__typename"], refused["code"]) == ("CreditError", "SEPARATION_OF_DUTIES")
    assert await snapshot() == before


async def test_a_step_out_of_order_is_refused_and_changes_nothing(api: Api, credit: World) -> None:
    application = await to_investigation(api, credit)
    before = await snapshot()
    body = await api.as_("approver", DECIDE, {"input": {"applicationId": application["id"], "verdict": "APPROVE"}})
    assert body["data"]["decideCreditApplication"]["code"] in {"NOT_FOUND", "WRONG_STATE"}
    head = await api.as_("head", DECIDE, {"input": {"applicationId": application["id"], "verdict": "APPROVE"}})
    assert head["data"]["decideCreditApplication"]["code"] == "WRONG_STATE"
    assert await snapshot() == before


async def test_two_approvers_at_once_exactly_one_decision_wins(api: Api, credit: World) -> None:
    await make_staff("approver2", ["APPROVER"], [credit.county])
    waiting = await to_approval(api, credit)
    await api.token("approver2")
    await api.token("approver")
    results = await asyncio.gather(
        decide(api, "approver", waiting["id"], "APPROVE"),
        decide(api, "approver2", waiting["id"], "REJECT", "收入不实 / income overstated"),
    )
    outcomes = sorted(r["__typename"] for r in results)
    assert outcomes == ["CreditApplication", "CreditError"], results
    loser = next(r for r in results if r["__typename"] == "CreditError")
    assert loser["code"] in {"STALE_VERSION", "WRONG_STATE", "NOT_FOUND"}
    decided = ApplicationEvent.filter(application_id=pk_of(waiting["id"]), action__in=["approve", "reject"])
    assert await decided.count() == 1


async def test_a_branch_president_reassigns_in_their_branch_with_a_reason(api: Api, credit: World) -> None:
    other = await make_staff("investigator2", ["CREDIT_INVESTIGATOR"], [credit.county])
    await Staff.filter(id=other.id).update(product_skills=["puhui"])
    application = await to_investigation(api, credit)
    values = {"applicationIds": [application["id"]], "investigatorId": gid("Staff", other.id), "reason": ""}
    before = await snapshot()
    no_reason = await api.as_("president1", REASSIGN, {"input": values})
    assert no_reason["data"]["reassignInvestigator"]["code"] == "INVALID_VALUE"
    elsewhere = await api.as_("president2", REASSIGN, {"input": {**values, "reason": "休假 / on leave"}})
    assert elsewhere["data"]["reassignInvestigator"]["code"] == "NOT_FOUND"
    assert await snapshot() == before
    moved = await api.as_("president1", REASSIGN, {"input": {**values, "reason": "休假 / on leave"}})
    result = moved["data"]["reassignInvestigator"]
    assert result["__typename"] == "CreditApplicationList", result
    assert result["applications"][0]["investigator"]["displayName"] == "Investigator2"
    before = await snapshot()
    again = await api.as_("president1", REASSIGN, {"input": {**values, "reason": "再次改派 / again"}})
    refused = again["data"]["reassignInvestigator"]
    assert (refused["code"], refused["field"]) == ("ALREADY_WITH_INVESTIGATOR", "investigatorId"), refused
    assert "已由该授信经理调查" in refused["message"]
    assert "already with this investigator" in refused["message"]
    assert await snapshot() == before


async def test_the_marketer_withdraws_and_nobody_else(api: Api, credit: World) -> None:
    application = await to_investigation(api, credit)
    values = {"applicationId": application["id"], "reason": "客户不再需要 / no longer needed"}
    before = await snapshot()
    refused = await api.as_("president1", WITHDRAW, {"input": values})
    assert refused["data"]["withdrawCreditApplication"]["code"] == "WRONG_ROLE"
    assert await snapshot() == before
    done = await api.as_("manager1a", WITHDRAW, {"input": values})
    assert done["data"]["withdrawCreditApplication"]["state"] == "WITHDRAWN"


async def test_a_masked_reader_gets_no_investigation_report(api: Api, credit: World) -> None:
    application = await to_approval(api, credit)
    president = await api.as_("president1", ONE, {"id": application["id"]})
    assert president["data"]["creditApplication"]["investigation"] is None
    approver = await api.as_("approver", ONE, {"id": application["id"]})
    assert approver["data"]["creditApplication"]["investigation"]["verified_annual_income"] == "120000"


async def test_submitting_with_a_stale_version_changes_nothing(api: Api, credit: World) -> None:
    application = await to_investigation(api, credit)
    before = await snapshot()
    stale = await investigate(api, "investigator", {**investigation_input(application["id"]), "expectedVersion": 1})
    assert (stale["code"], stale["field"]) == ("STALE_VERSION", "id")
    assert await snapshot() == before
    assert application["version"] == 2
