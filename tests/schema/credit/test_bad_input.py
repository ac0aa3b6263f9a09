"""Bad input to the credit steps: each refused with a typed error naming the field, in both languages, and
nothing created or changed — an amount or term outside the product, an unknown product, a repayment method or
guarantee the product does not offer, a client id that is no id, full-width digits, invisible characters, a
visit in the future, a negative income, a limit above what was applied for, a missing reason."""

from __future__ import annotations

from typing import Any

import pytest

from models import ApplicationEvent, AuditLog, CreditApplication, CreditReport, DecisionRecord
from tests.credit_flow import (
    application_input,
    credit_world,
    investigate,
    investigation_input,
    submit,
    to_investigation,
)
from tests.factories import Api, World, gid


@pytest.fixture
async def credit(world: World) -> World:
    return await credit_world(world)


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"amount": "9999"}, "AMOUNT_OUT_OF_RANGE", "amount"),
        ({"amount": "500001"}, "AMOUNT_OUT_OF_RANGE", "amount"),
        ({"amount": "50000.50"}, "AMOUNT_NOT_WHOLE_YUAN", "amount"),
        ({"amount": "-50000"}, "INVALID_AMOUNT", "amount"),
        ({"amount": "0"}, "INVALID_AMOUNT", "amount"),
        ({"termMonths": 5}, "TERM_OUT_OF_RANGE", "termMonths"),
        ({"termMonths": 37}, "TERM_OUT_OF_RANGE", "termMonths"),
        ({"productCode": "nosuch"}, "NOT_FOUND", "productCode"),
        ({"guaranteeType": "MORTGAGE", "collateralValue": "900000"}, "GUARANTEE_NOT_ACCEPTED", "guaranteeType"),
        ({"collateralValue": "100000"}, "INVALID_VALUE", "collateralValue"),
        ({"clientId": "short"}, "INVALID_VALUE", "clientId"),
        ({"clientId": "ａｂｃｄｅｆｇｈｉｊ"}, "INVALID_VALUE", "clientId"),  # full-width letters are not an id
        ({"clientId": "id with spaces inside"}, "INVALID_VALUE", "clientId"),
        ({"purpose": "买\u202e农机"}, "INVALID_VALUE", "purpose"),
        ({"customerId": gid("Customer", 999999)}, "NOT_FOUND", "id"),
        ({"customerId": gid("Staff", 1)}, "INVALID_VALUE", "customerId"),
    ],
)
async def test_bad_intake_gets_a_typed_error_and_creates_nothing(
    api: Api, credit: World, overrides: dict[str, Any], code: str, field: str
) -> None:
    refused = await submit(api, "manager1a", application_input(credit, **overrides))
    assert (refused["__typename"], refused["code"], refused["field"]) == ("CreditError", code, field), refused
    assert refused["messageZh"]
    assert refused["messageEn"]
    assert await CreditApplication.all().count() == 0
    assert await DecisionRecord.all().count() == 0
    assert await AuditLog.filter(target_type="CreditApplication").count() == 0


async def test_an_unknown_repayment_method_is_refused_by_the_schema(api: Api, credit: World) -> None:
    body = await api.as_("manager1a", "mutation($input: SubmitCreditApplicationInput!) { submitCreditApplication("
                         "input: $input) { __typename } }",
                         {"input": application_input(credit, repaymentMethod="BALLOON")})  # fmt: skip
    assert body["errors"]
    assert await CreditApplication.all().count() == 0


async def test_full_width_digits_in_an_amount_are_the_same_number(api: Api, credit: World) -> None:
    taken = await submit(api, "manager1a", application_input(credit, amount="５００００"))
    assert (taken["__typename"], taken["amount"]) == ("CreditApplication", "50000.00"), taken


async def test_no_credit_report_no_application(api: Api, credit: World) -> None:
    await CreditReport.filter(customer_id=credit.customers["c1a"].id).delete()
    refused = await submit(api, "manager1a", application_input(credit))
    assert (refused["code"], refused["field"]) == ("CREDIT_REPORT_MISSING", "customerId")
    assert await CreditApplication.all().count() == 0


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"visitedAt": "2099-01-01T00:00:00+00:00"}, "INVALID_VALUE", "visitedAt"),
        ({"visitedAt": "2020-01-01T00:00:00+00:00"}, "INVALID_VALUE", "visitedAt"),
        ({"visitLon": 2.35, "visitLat": 48.85}, "INVALID_VALUE", "visitLon"),
        ({"verifiedAnnualIncome": "-1"}, "INVALID_VALUE", "verifiedAnnualIncome"),
        ({"verifiedAnnualIncome": "1.005"}, "INVALID_VALUE", "verifiedAnnualIncome"),
        ({"totalAssets": "NaN"}, "INVALID_VALUE", "totalAssets"),
        ({"incomeYears": 61}, "INVALID_VALUE", "incomeYears"),
        ({"recommendedLimit": "80000"}, "LIMIT_ABOVE_APPLIED", "recommendedLimit"),
        ({"recommendedLimit": "40000"}, "REASON_REQUIRED", "adjustmentReason"),
        ({"recommendedLimit": "5000", "adjustmentReason": "保守 / cautious"}, "AMOUNT_OUT_OF_RANGE",
         "recommendedLimit"),
        ({"notes": "正常\u200b"}, "INVALID_VALUE", "notes"),
        ({"guarantor": {"customerId": gid("Customer", 1), "incomeSource": "SALARIED", "incomeYears": 3,
                        "verifiedAnnualIncome": "1", "totalAssets": "1", "totalDebts": "0"}},
         "INVALID_VALUE", "guarantor"),
    ],
)  # fmt: skip
async def test_a_bad_report_gets_a_typed_error_and_changes_nothing(
    api: Api, credit: World, overrides: dict[str, Any], code: str, field: str
) -> None:
    application = await to_investigation(api, credit)
    before = (await CreditApplication.all().values_list("state", "version"), await ApplicationEvent.all().count())
    refused = await investigate(api, "investigator", investigation_input(application["id"], **overrides))
    assert (refused["__typename"], refused["code"], refused["field"]) == ("CreditError", code, field), refused
    after = (await CreditApplication.all().values_list("state", "version"), await ApplicationEvent.all().count())
    assert after == before
    assert await DecisionRecord.exclude(stage="admission").count() == 0
