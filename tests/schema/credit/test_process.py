"""The credit application's whole path through GraphQL, each stage by its own role: intake and admission by the
customer manager, assignment by the job, investigation by the investigator, approval tier by tier, the credit
line and the customer's credit figure as its projection; the history, the stored decisions explained and
replayed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.credit.process import StageName
from models import ApplicationEvent, AuditLog, CreditApplication, CreditLine, Customer, DecisionRecord, Notification
from resolvers.credit.applications import catalogue
from tests.credit_flow import (
    DECIDER,
    PRODUCTS,
    application_input,
    approve_every_tier,
    credit_world,
    decide,
    give_report,
    investigate,
    investigation_input,
    pk_of,
    run_queued_work,
    submit,
)
from tests.factories import Api, World, gid, make_customer

DETAIL = """query($id: ID!) { creditApplication(id: $id) {
  state approvedLimit product { code version contentSha256 }
  history { action fromState toState actor { displayName } reason }
  decisions { stage decision version contentSha256 outputs explanation replaysIdentically }
  line { amount drawn available revolving validFrom validUntil status } } }"""


@pytest.fixture
async def credit(world: World) -> World:
    return await credit_world(world)


async def test_an_application_goes_from_intake_to_a_credit_line_by_four_people(api: Api, credit: World) -> None:
    taken = await submit(api, "manager1a", application_input(credit))
    assert (taken["state"], taken["marketer"]["displayName"]) == ("AWAITING_ASSIGNMENT", "Manager1A")
    await run_queued_work()
    investigated = await investigate(api, "investigator", investigation_input(taken["id"]))
    assert investigated["state"] == "AWAITING_APPROVAL", investigated
    assert investigated["investigator"]["displayName"] == "Investigator"
    assert investigated["waitingTier"] == {"authority": "APPROVER"}
    approved = await approve_every_tier(api, investigated)
    assert (approved["state"], approved["approvedLimit"]) == ("APPROVED", "50000.00")

    body = await api.as_("head", DETAIL, {"id": taken["id"]})
    detail = body["data"]["creditApplication"]
    steps = [(h["action"], h["toState"], h["actor"]["displayName"] if h["actor"] else None) for h in detail["history"]]
    assert steps == [
        ("ADMIT", "AWAITING_ASSIGNMENT", "Manager1A"),
        ("ASSIGN", "INVESTIGATING", None),
        ("SUBMIT_INVESTIGATION", "AWAITING_APPROVAL", "Investigator"),
        ("APPROVE", "APPROVED", "Approver"),
    ]
    assert "open case" in detail["history"][1]["reason"]  # the assignment explained
    assert [d["decision"] for d in detail["decisions"]] == ["admission", "rating", "limit"]
    assert all(d["replaysIdentically"] for d in detail["decisions"])
    assert all(d["explanation"] for d in detail["decisions"])
    assert detail["line"]["amount"] == "50000.00"
    assert detail["line"]["available"] == "50000.00"
    assert detail["line"]["status"] == "ACTIVE"
    customer = await Customer.get(id=credit.customers["c1a"].id)
    assert customer.credit_line == Decimal("50000.00")
    # every step is audited, and the next handler was told
    actions = set(await AuditLog.filter(target_type="CreditApplication").values_list("action", flat=True))
    assert {"credit_application.submit", "credit_application.assign", "credit_application.submit_investigation",
            "credit_application.approve"} <= actions  # fmt: skip
    kinds = set(await Notification.all().values_list("kind", flat=True))
    assert {"credit.application_assigned", "credit.application_to_approve", "credit.application_decided"} <= kinds


@pytest.mark.parametrize("code", PRODUCTS)
async def test_every_shipped_product_goes_the_whole_way(api: Api, credit: World, code: str) -> None:
    product = catalogue().current(code, date.today())
    guarantee = next((g for g in product.guarantee_types if g.value != "GUARANTOR"), product.guarantee_types[0])
    values = application_input(
        credit, productCode=code, amount=str(product.amount.min), termMonths=product.term.min_months,
        repaymentMethod=product.repayment_methods[0].value, guaranteeType=guarantee.value,
    )  # fmt: skip
    if guarantee.value in {"PLEDGE", "MORTGAGE"}:
        values["collateralValue"] = str(product.amount.min * 3)
    taken = await submit(api, "manager1a", values)
    if code == "zhengcun":  # rated at admission on the household survey a whole-village campaign brings
        assert (taken["__typename"], taken["code"]) == ("CreditError", "DECISION_INPUT_MISSING"), taken
        assert await CreditApplication.all().count() == 0
        return
    assert taken["__typename"] == "CreditApplication", taken
    if product.has_stage(StageName.INVESTIGATION):
        assert taken["state"] == "AWAITING_ASSIGNMENT", taken
        await run_queued_work()
        extra = {}
        if guarantee.value == "GUARANTOR":
            guarantor = credit.customers["c1b"]
            extra["guarantor"] = {"customerId": gid("Customer", guarantor.id), "incomeSource": "SALARIED",
                                  "incomeYears": 8, "verifiedAnnualIncome": "300000", "totalAssets": "2000000",
                                  "totalDebts": "0"}  # fmt: skip
        taken = await investigate(api, "investigator", investigation_input(taken["id"], **extra))
        assert taken["state"] == "AWAITING_APPROVAL", taken
    else:  # straight from admission to its approval tier
        assert taken["state"] == "AWAITING_APPROVAL", taken
    approved = await approve_every_tier(api, taken)
    assert approved["state"] == "APPROVED", approved
    line = await CreditLine.get(application_id=pk_of(approved["id"]))
    assert line.product_code == code


async def test_a_large_amount_passes_every_tier_each_by_another_person(api: Api, credit: World) -> None:
    taken = await submit(api, "manager1a", application_input(credit, amount="400000", termMonths=36))
    await run_queued_work()
    investigated = await investigate(
        api, "investigator",
        investigation_input(taken["id"], verifiedAnnualIncome="400000", recommendedLimit="400000",
                            adjustmentReason="经营稳定,收入可核实 / steady business, verified income"),
    )  # fmt: skip
    assert investigated["state"] == "AWAITING_APPROVAL", investigated
    tiers = []
    application = investigated
    while application["state"] == "AWAITING_APPROVAL":
        tiers.append(application["waitingTier"]["authority"])
        application = await _approve_once(api, application)
    assert tiers == ["APPROVER", "BRANCH_PRESIDENT", "HEAD_OFFICE"]
    assert application["state"] == "APPROVED"
    row = await CreditApplication.get(id=pk_of(taken["id"]))
    approvers = row.approver_ids
    assert len(approvers) == len(set(approvers)) == 3


async def _approve_once(api: Api, application: dict[str, object]) -> dict[str, object]:
    tier = application["waitingTier"]
    assert isinstance(tier, dict)
    return await decide(api, DECIDER[tier["authority"]], str(application["id"]))


async def test_admission_refuses_with_its_reasons_in_words(api: Api, credit: World) -> None:
    customer = await make_customer(credit.village1a, credit.staff["manager1a"], "赵四")
    await give_report(customer, on_blacklist=True, loan_queries_3m=9)
    credit.customers["blacklisted"] = customer
    refused = await submit(api, "manager1a", application_input(credit, "blacklisted"))
    assert refused["state"] == "ADMISSION_REFUSED"
    assert {r["code"] for r in refused["refusalReasons"]} == {"BLACKLISTED", "TOO_MANY_ENQUIRIES"}
    assert all(r["text"] for r in refused["refusalReasons"])
    assert refused["availableActions"] == []
    await run_queued_work()
    assert (await CreditApplication.get(id=pk_of(refused["id"]))).investigator_id is None  # type: ignore[attr-defined]
    assert await DecisionRecord.filter(decision="admission").count() == 1


async def test_the_same_client_id_sent_again_creates_nothing_twice(api: Api, credit: World) -> None:
    values = application_input(credit)
    first = await submit(api, "manager1a", values)
    again = await submit(api, "manager1a", {**values, "purpose": "重发 resent"})
    assert again["id"] == first["id"]
    assert await CreditApplication.all().count() == 1
    assert await ApplicationEvent.all().count() == 1
    reused = await submit(api, "manager1a", {**values, "amount": "60000"})
    assert (reused["__typename"], reused["code"], reused["field"]) == ("CreditError", "CLIENT_ID_REUSED", "clientId")
    assert await CreditApplication.all().count() == 1


async def test_a_return_goes_back_to_the_investigator_with_what_is_missing(api: Api, credit: World) -> None:
    taken = await submit(api, "manager1a", application_input(credit))
    await run_queued_work()
    investigated = await investigate(api, "investigator", investigation_input(taken["id"]))
    assert investigated.get("state") == "AWAITING_APPROVAL", investigated
    returned = await decide(api, "approver", investigated["id"], "RETURN", "缺少经营流水 / turnover statement missing")
    assert returned["state"] == "INVESTIGATING"
    again = await investigate(api, "investigator", investigation_input(taken["id"]))
    assert again["state"] == "AWAITING_APPROVAL"
    rejected = await decide(api, "approver", again["id"], "REJECT", "负债过高 / debts too high")
    assert (rejected["state"], rejected["refusalReasons"][0]["text"]) == ("REJECTED", "负债过高 / debts too high")
    assert await CreditLine.all().count() == 0
