"""Every shipped product against the decisions its stages run, told which product it is by the product file alone:
admission has the product's own rules, limit the product file's amount range, pricing the product's own spread,
and only the deposit-pledge loan, decided without an investigation, goes without a grade."""

from __future__ import annotations

from typing import Any

import pytest

from domain.credit.catalogue import load_catalogue
from domain.credit.decisions import DecisionBook
from domain.credit.products import Product

CATALOGUE = load_catalogue()
PRODUCTS = [product for code in CATALOGUE.codes() for product in CATALOGUE.versions(code)]
IDS = [f"{product.code}@{product.version}" for product in PRODUCTS]
DECIDED_WITHOUT_A_GRADE = {"cundan_zhiya"}
# limit.json's cap for each guarantee type (T01–T05)
GUARANTEE_CAPS = {"CREDIT": 300000, "GUARANTOR": 1000000, "PLEDGE": 1000000, "MORTGAGE": 3000000}

APPLICANT: dict[str, Any] = {
    "age": 40,
    "on_blacklist": False,
    "current_overdue_amount": 0,
    "overdue_count_24m": 0,
    "max_consecutive_overdue_24m": 0,
    "loan_queries_3m": 1,
    "qr_turnover_months": 24,
    "qr_monthly_turnover_avg": 50000,
    "car_loan_on_time_months": 24,
    "social_security_months": 24,
    "ecommerce_shop_months": 24,
    "ecommerce_monthly_sales_avg": 50000,
    "existing_debt": 0,
    "lpr_1y": 0.031,
    "avg_deposit_balance_12m": 0,
    "uses_e_banking": False,
}


@pytest.fixture(scope="module")
def book() -> DecisionBook:
    return DecisionBook.from_directory()


def fixed_inputs(product: Product, decision: str) -> dict[str, str]:
    """What the product file gives the decision at the stage that runs it."""
    return next(ref.inputs for stage in product.stages for ref in stage.decisions if ref.name == decision)


def ample(product: Product, guarantee_type: str, requested_amount: int) -> dict[str, Any]:
    """Limit facts on which nothing but the product, the guarantee type and the amount applied for can bind."""
    facts: dict[str, Any] = {
        **APPLICANT,
        **fixed_inputs(product, "limit"),
        "guarantee_type": guarantee_type,
        "requested_amount": requested_amount,
        "collateral_value": 100 * product.amount.max,
    }
    if product.code not in DECIDED_WITHOUT_A_GRADE:
        facts.update(grade="AAA", verified_annual_income=10 * product.amount.max)
    return facts


@pytest.mark.parametrize("product", PRODUCTS, ids=IDS)
def test_a_clean_applicant_is_admitted_to_every_product(book: DecisionBook, product: Product) -> None:
    facts = {**APPLICANT, **fixed_inputs(product, "admission"), "term_months": product.term.max_months}

    admitted = book.evaluate("admission", facts)

    assert admitted.outputs["admitted"] is True, admitted.outputs["reasons"]
    assert [rule.rule_id for rule in admitted.fired_rules] == ["C01"]


@pytest.mark.parametrize("product", PRODUCTS, ids=IDS)
def test_the_limit_keeps_to_the_product_files_amount_range(book: DecisionBook, product: Product) -> None:
    for guarantee_type in product.guarantee_types:
        lowest = book.evaluate("limit", ample(product, guarantee_type, product.amount.min)).outputs
        below = book.evaluate("limit", ample(product, guarantee_type, product.amount.min - 1)).outputs
        highest = book.evaluate("limit", ample(product, guarantee_type, product.amount.max + 1000)).outputs

        assert (lowest["suggested_limit"], lowest["binding_constraint"]) == (product.amount.min, "REQUESTED")
        assert (below["suggested_limit"], below["binding_constraint"]) == (0, "BELOW_MINIMUM")
        assert highest["suggested_limit"] == min(product.amount.max, GUARANTEE_CAPS[guarantee_type])


@pytest.mark.parametrize("product", PRODUCTS, ids=IDS)
def test_a_missing_grade_leaves_only_the_deposit_pledge_loan_with_a_limit(book: DecisionBook, product: Product) -> None:
    facts = {key: value for key, value in ample(product, product.guarantee_types[0], 50000).items() if key != "grade"}

    limit = book.evaluate("limit", facts).outputs

    if product.code in DECIDED_WITHOUT_A_GRADE:
        assert (limit["suggested_limit"], limit["binding_constraint"]) == (50000, "REQUESTED")
    else:
        assert (limit["suggested_limit"], limit["binding_constraint"]) == (0, "GRADE_MISSING")


@pytest.mark.parametrize("product", PRODUCTS, ids=IDS)
def test_every_product_is_priced_on_its_own_spread(book: DecisionBook, product: Product) -> None:
    facts = {**APPLICANT, **fixed_inputs(product, "pricing"), "grade": "A"}

    priced = book.evaluate("pricing", facts)

    spread = next(rule for rule in priced.fired_rules if rule.node_id == "product")
    assert spread.conditions == (f'产品 Product: "{product.code.upper()}"',)
    assert priced.outputs["rate_bound"] in {"NONE", "FLOOR"}


@pytest.mark.parametrize("product", PRODUCTS, ids=IDS)
def test_a_missing_grade_leaves_only_the_deposit_pledge_loan_priced(book: DecisionBook, product: Product) -> None:
    facts = {**APPLICANT, **fixed_inputs(product, "pricing")}

    priced = book.evaluate("pricing", facts).outputs

    if product.code in DECIDED_WITHOUT_A_GRADE:
        assert (priced["annual_rate"], priced["rate_bound"], priced["risk_spread"]) == (0.036, "FLOOR", 0)
    else:
        assert priced["rate_bound"] == "GRADE_MISSING"
        assert "annual_rate" not in priced
