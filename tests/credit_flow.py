"""Helpers to take credit applications through the process by GraphQL, each step as its own person: the
credit-bureau summaries the process reads, the queued work run to the end, and one call per step."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from models import CreditReport, Customer, Staff
from resolvers.platform import outbox
from tests.factories import Api, World, gid
from workers.tasks import by_name

APPLICATION_FIELDS = """
  __typename
  ... on CreditApplication { id state version amount ratingGrade suggestedLimit recommendedLimit approvedLimit
    availableActions refusalReasons { code text } waitingTier { authority }
    investigator { displayName } marketer { displayName } applicant { name idNumber masked } }
  ... on CreditError { code field message messageZh messageEn }
"""


def _mutation(name: str, input_type: str) -> str:
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {APPLICATION_FIELDS} }} }}"


SUBMIT = _mutation("submitCreditApplication", "SubmitCreditApplicationInput")
INVESTIGATE = _mutation("submitInvestigation", "SubmitInvestigationInput")
DECIDE = _mutation("decideCreditApplication", "DecideCreditApplicationInput")
WITHDRAW = _mutation("withdrawCreditApplication", "WithdrawCreditApplicationInput")
STATE = "query($id: ID!) { creditApplication(id: $id) { state version } }"
REASSIGN = """mutation($input: ReassignInvestigatorInput!) { reassignInvestigator(input: $input) {
  __typename ... on CreditApplicationList { applications { id state investigator { displayName } } }
  ... on CreditError { code field message } } }"""
# who decides each approval tier in the test world
DECIDER = {"APPROVER": "approver", "BRANCH_PRESIDENT": "president1", "HEAD_OFFICE": "head"}
PRODUCTS = ("puhui", "cheyi", "liushui", "shimin", "zhengcun", "lianbao", "cundan_zhiya", "dianshang", "fangdi")


async def give_report(customer: Customer, **overrides: Any) -> CreditReport:
    """A clean bureau summary, with the imported figures the product-specific admission rules read."""
    values: dict[str, Any] = {
        "customer": customer,
        "reported_on": date.today(),
        "credit_history_years": 5,
        "feeds": {"qr_turnover_months": 24, "qr_monthly_turnover_avg": 80000, "car_loan_on_time_months": 36,
                  "social_security_months": 60, "ecommerce_shop_months": 30, "ecommerce_monthly_sales_avg": 60000},
    }  # fmt: skip
    values.update(overrides)
    return await CreditReport.create(**values)


async def credit_world(world: World) -> World:
    """The test county with bureau reports for its customers and an investigator skilled in every product."""
    for customer in world.customers.values():
        await give_report(customer)
    await Staff.filter(id=world.staff["investigator"].id).update(product_skills=[*PRODUCTS, "xiaowei"])
    return world


async def run_queued_work() -> None:
    """Relay the outbox and run what it hands over in this process until nothing is left (the no-Redis mode)."""
    dispatcher = outbox.InProcessDispatcher(by_name())
    for _ in range(20):
        relayed = await outbox.relay_once(dispatcher)
        await dispatcher.idle()
        if relayed == 0:
            return
    raise AssertionError("queued work kept coming")


def application_input(world: World, customer: str = "c1a", **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "clientId": str(uuid.uuid4()),
        "customerId": gid("Customer", world.customers[customer].id),
        "productCode": "puhui",
        "amount": "50000",
        "termMonths": 12,
        "repaymentMethod": "EQUAL_INSTALMENTS",
        "guaranteeType": "CREDIT",
        "purpose": "购买农机 buy farm machinery",
    }
    values.update(overrides)
    return values


def investigation_input(application_id: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "applicationId": application_id,
        "visitedAt": datetime.now(UTC).isoformat(),
        "visitLon": 117.94,
        "visitLat": 33.91,
        "incomeSource": "SALARIED",
        "incomeYears": 5,
        "verifiedAnnualIncome": "120000",
        "totalAssets": "800000",
        "totalDebts": "50000",
        "householdRating": "EXCELLENT",
        "inCreditVillage": True,
        "notes": "实地走访,经营正常 / visited on site, business as usual",
    }
    values.update(overrides)
    return values


async def submit(api: Api, user: str, values: dict[str, Any]) -> dict[str, Any]:
    body = await api.as_(user, SUBMIT, {"input": values})
    assert "errors" not in body, body
    return body["data"]["submitCreditApplication"]  # type: ignore[no-any-return]


async def investigate(api: Api, user: str, values: dict[str, Any]) -> dict[str, Any]:
    body = await api.as_(user, INVESTIGATE, {"input": values})
    assert "errors" not in body, body
    return body["data"]["submitInvestigation"]  # type: ignore[no-any-return]


async def decide(
    api: Api, user: str, application_id: str, verdict: str = "APPROVE", reason: str = ""
) -> dict[str, Any]:
    body = await api.as_(
        user, DECIDE, {"input": {"applicationId": application_id, "verdict": verdict, "reason": reason}}
    )
    assert "errors" not in body, body
    return body["data"]["decideCreditApplication"]  # type: ignore[no-any-return]


async def approve_every_tier(api: Api, application: dict[str, Any]) -> dict[str, Any]:
    """Approve at each tier by the person holding its authority until it is approved."""
    for _ in range(5):
        if application["state"] != "AWAITING_APPROVAL":
            return application
        application = await decide(api, DECIDER[application["waitingTier"]["authority"]], application["id"])
        assert application["__typename"] == "CreditApplication", application
    return application


async def to_investigation(api: Api, world: World, user: str = "manager1a", **overrides: Any) -> dict[str, Any]:
    """An application taken, admitted and assigned."""
    taken = await submit(api, user, application_input(world, **overrides))
    assert taken["state"] == "AWAITING_ASSIGNMENT", taken
    await run_queued_work()
    body = await api.as_(
        "head", "query($id: ID!) { creditApplication(id: $id) { state version } }", {"id": taken["id"]}
    )
    assert body["data"]["creditApplication"]["state"] == "INVESTIGATING", body
    return {**taken, **body["data"]["creditApplication"]}


async def to_approval(api: Api, world: World, **overrides: Any) -> dict[str, Any]:
    application = await to_investigation(api, world, **overrides)
    investigated = await investigate(api, "investigator", investigation_input(application["id"]))
    assert investigated["state"] == "AWAITING_APPROVAL", investigated
    return investigated


def pk_of(global_id: str) -> int:
    """The database id behind a global id."""
    from strawberry.relay import GlobalID

    return int(GlobalID.from_id(global_id).node_id)


def yuan(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


DRAWDOWN_FIELDS = "__typename ... on Drawdown { id state contractSha256 } ... on CreditError { code field message }"
LINE_OF = "query($id: ID!) { creditApplication(id: $id) { line { id } } }"
REQUEST_DRAWDOWN = (
    f"mutation($input: RequestDrawdownInput!) {{ requestDrawdown(input: $input) {{ {DRAWDOWN_FIELDS} }} }}"
)
SIGN_CONTRACT = f"mutation($input: SignContractInput!) {{ signContract(input: $input) {{ {DRAWDOWN_FIELDS} }} }}"
CHECK_DRAWDOWN = f"""mutation($id: ID!) {{ checkDrawdown(drawdownId: $id, approve: true, reason: "") {{
  {DRAWDOWN_FIELDS} }} }}"""
DISBURSE_DRAWDOWN = f"mutation($id: ID!) {{ disburseDrawdown(drawdownId: $id) {{ {DRAWDOWN_FIELDS} }} }}"


async def request_drawdown(api: Api, user: str, application_id: str, amount: str) -> dict[str, Any]:
    """A drawdown requested on the line the application's approval granted: priced, its contract issued."""
    line = (await api.as_(user, LINE_OF, {"id": application_id}))["data"]["creditApplication"]["line"]
    values = {"clientId": str(uuid.uuid4()), "lineId": line["id"], "amount": amount, "termMonths": 12,
              "repaymentMethod": "EQUAL_INSTALMENTS"}  # fmt: skip
    drawdown = (await api.as_(user, REQUEST_DRAWDOWN, {"input": values}))["data"]["requestDrawdown"]
    assert drawdown["state"] == "PRICED", drawdown
    return drawdown  # type: ignore[no-any-return]


async def disburse(api: Api, user: str, drawdown: dict[str, Any], customer: Customer) -> None:
    """Signed by the customer before `user`, checked by `backoffice`, disbursed by `backoffice2`."""
    recorded = datetime.now(UTC) - timedelta(minutes=3)
    signature = {
        "drawdownId": drawdown["id"], "contractSha256": drawdown["contractSha256"], "signerName": customer.name,
        "signerIdNumber": customer.id_number, "method": "FACE_RECOGNITION",
        "recording": {"sha256": "0" * 64, "durationSeconds": 312, "recordedAt": recorded.isoformat()},
    }  # fmt: skip
    signed = (await api.as_(user, SIGN_CONTRACT, {"input": signature}))["data"]["signContract"]
    assert signed["state"] == "SIGNED", signed
    checked = (await api.as_("backoffice", CHECK_DRAWDOWN, {"id": drawdown["id"]}))["data"]["checkDrawdown"]
    assert checked["state"] == "CHECKED", checked
    paid = (await api.as_("backoffice2", DISBURSE_DRAWDOWN, {"id": drawdown["id"]}))["data"]["disburseDrawdown"]
    assert paid["state"] == "DISBURSED", paid
