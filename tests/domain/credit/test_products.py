"""The product catalogue: the shipped product files load; every kind of mistake in a product file is refused
with its file and field; versions are kept side by side; a product answers what may be applied for and who
approves it."""

import hashlib
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from domain.access import Role
from domain.credit.catalogue import (
    DECISIONS_DIR,
    PRODUCTS_DIR,
    Catalogue,
    CatalogueError,
    CatalogueIssue,
    load_catalogue,
)
from domain.credit.decision_files import declared_inputs
from domain.credit.enums import RepaymentMethod
from domain.credit.errors import CreditErrorCode, DecisionError
from domain.credit.process import StageName
from domain.credit.products import Product
from domain.errors import DomainError, ErrorCode

DECISIONS = ("admission", "rating", "limit", "pricing", "guarantor_admission")

# A small product of the test's own, so that the shipped files can change without touching these tests.
XIAOE = """\
code = "xiaoe"
version = 1
effective_from = 2024-01-01
name_zh = "小额信用贷"
name_en = "Small Credit Loan"
description_zh = "小额信用贷款"
description_en = "A small unsecured loan"
repayment_methods = ["EQUAL_INSTALMENTS", "EQUAL_PRINCIPAL"]
guarantee_types = ["CREDIT"]
amount = { min = 10000, max = 500000 }
term = { min_months = 6, max_months = 36 }
line = { validity_months = 12, revolving = true }
post_loan = { first_check_after_days = 15, frequency_days = 90 }
documents = [{ code = "ID_CARD", name_zh = "居民身份证", name_en = "resident identity card" }]
stages = [
  { name = "intake", role = "CUSTOMER_MANAGER", sla_minutes = 20 },
  { name = "admission", role = "CUSTOMER_MANAGER", sla_minutes = 5, automatic = true, decisions = [
    { name = "admission", inputs = { product = "xiaoe" } },
  ] },
  { name = "assignment", role = "BRANCH_PRESIDENT", sla_minutes = 5, automatic = true },
  { name = "investigation", role = "CREDIT_INVESTIGATOR", sla_minutes = 60, decisions = [
    { name = "rating" }, { name = "limit" },
  ] },
  { name = "approval", role = "APPROVER", sla_minutes = 30 },
  { name = "line", role = "BACK_OFFICE", sla_minutes = 5, automatic = true },
  { name = "drawdown", role = "CUSTOMER_MANAGER", sla_minutes = 15 },
  { name = "pricing", role = "BACK_OFFICE", sla_minutes = 5, automatic = true, decisions = [{ name = "pricing" }] },
  { name = "contract", role = "BACK_OFFICE", sla_minutes = 20 },
  { name = "back_office_check", role = "BACK_OFFICE", sla_minutes = 15 },
  { name = "disbursement", role = "BACK_OFFICE", sla_minutes = 10 },
]
approval_tiers = [
  { min_amount = 10000, max_amount = 100000, authority = "APPROVER", name_zh = "审批人", name_en = "approver" },
  { min_amount = 100001, max_amount = 300000, authority = "BRANCH_PRESIDENT", name_zh = "行长", name_en = "president" },
  { min_amount = 300001, max_amount = 500000, authority = "HEAD_OFFICE", name_zh = "贷审会", name_en = "committee" },
]
"""


def xiaoe(*changes: tuple[str, str]) -> str:
    """The test product with each (old, new) text replaced; each old text occurs exactly once."""
    text = XIAOE
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def stand_in(*reads: str) -> str:
    """A decision file reduced to what the catalogue reads of it: an input node declaring `reads`."""
    schema = {"type": "object", "properties": {name: {"type": "string"} for name in reads}}
    nodes = [
        {"id": "request", "type": "inputNode", "content": {"schema": json.dumps(schema)}},
        {"id": "response", "type": "outputNode", "content": {}},
    ]
    return json.dumps({"nodes": nodes, "edges": [{"id": "e1", "sourceId": "request", "targetId": "response"}]})


@pytest.fixture
def decisions(tmp_path: Path) -> Path:
    """Stand-ins for the decision files the products name, each reading only the product."""
    folder = tmp_path / "decisions"
    folder.mkdir()
    for name in DECISIONS:
        (folder / f"{name}.json").write_text(stand_in("product"))
    return folder


@pytest.fixture
def products(tmp_path: Path) -> Path:
    folder = tmp_path / "products"
    folder.mkdir()
    return folder


def load(products: Path, decisions: Path, **files: str) -> Catalogue:
    for name, text in files.items():
        (products / f"{name}.toml").write_text(text, encoding="utf-8")
    return load_catalogue(products, decisions)


def refusals(products: Path, decisions: Path, **files: str) -> list[tuple[str, str, str]]:
    """(file, field, English message) of every issue loading these files raises."""
    with pytest.raises(CatalogueError) as caught:
        load(products, decisions, **files)
    return [(issue.file, issue.field, issue.message_en) for issue in caught.value.issues]


def the_product(products: Path, decisions: Path) -> Product:
    return load(products, decisions, xiaoe=XIAOE).get("xiaoe", 1)


def test_the_shipped_catalogue_loads_with_the_case_study_products(decisions: Path) -> None:
    catalogue = load_catalogue(PRODUCTS_DIR, decisions)

    assert len(catalogue) >= 8
    names = {product.name_zh for product in catalogue.on_sale(date(2024, 1, 1))}
    assert names >= {"普惠贷", "车易贷", "流水贷", "市民贷", "整村授信", "农户联保贷", "存单质押贷", "电商贷"}
    for code in catalogue.codes():
        for product in catalogue.versions(code):
            raw = (PRODUCTS_DIR / product.file).read_bytes()
            assert product.content_hash == hashlib.sha256(raw).hexdigest()


def test_the_shipped_catalogue_loads_against_the_shipped_decisions() -> None:
    catalogue = load_catalogue()

    assert catalogue.codes() == (
        "cheyi", "cundan_zhiya", "dianshang", "fangdi", "lianbao", "liushui", "puhui", "shimin", "zhengcun",
    )  # fmt: skip


def test_the_shipped_products_tell_every_decision_that_reads_the_product_its_code_in_upper_case() -> None:
    reads = {path.stem: declared_inputs(path.name, path.read_bytes()) for path in DECISIONS_DIR.glob("*.json")}
    catalogue = load_catalogue()

    for product in (product for code in catalogue.codes() for product in catalogue.versions(code)):
        for stage in product.stages:
            for decision in stage.decisions:
                fixed = {"product": product.code.upper()} if "product" in reads[decision.name] else {}
                assert decision.inputs == fixed, (product.file, stage.name, decision.name)


def test_the_shipped_products_use_every_repayment_method_and_guarantee(decisions: Path) -> None:
    products = load_catalogue(PRODUCTS_DIR, decisions).on_sale(date(2024, 1, 1))

    assert {method for product in products for method in product.repayment_methods} == set(RepaymentMethod)
    guarantees = {guarantee for product in products for guarantee in product.guarantee_types}
    assert guarantees == {"CREDIT", "GUARANTOR", "PLEDGE", "MORTGAGE"}


def test_a_new_product_is_a_new_file(products: Path, decisions: Path) -> None:
    shipped = (PRODUCTS_DIR / "puhui.toml").read_text(encoding="utf-8")
    copied = shipped.replace('code = "puhui"', 'code = "xinnong"').replace('name_zh = "普惠贷"', 'name_zh = "新农贷"')

    catalogue = load(products, decisions, puhui=shipped, xinnong=copied)

    assert catalogue.codes() == ("puhui", "xinnong")
    assert catalogue.current("xinnong", date(2024, 1, 1)).name_zh == "新农贷"
    assert catalogue.get("xinnong", 1).file == "xinnong.toml"


def test_a_product_file_reads_into_its_fields(products: Path, decisions: Path) -> None:
    product = the_product(products, decisions)

    assert (product.code, product.version, product.effective_from) == ("xiaoe", 1, date(2024, 1, 1))
    assert (product.amount.min, product.amount.max, product.term.min_months, product.term.max_months) == (
        10000,
        500000,
        6,
        36,
    )
    assert product.repayment_methods == (RepaymentMethod.EQUAL_INSTALMENTS, RepaymentMethod.EQUAL_PRINCIPAL)
    assert (product.line.validity_months, product.line.revolving) == (12, True)
    assert (product.post_loan.first_check_after_days, product.post_loan.frequency_days) == (15, 90)
    admission = product.stage(StageName.ADMISSION)
    assert (admission.role, admission.automatic, admission.sla_minutes) == (Role.CUSTOMER_MANAGER, True, 5)
    assert [(d.name, d.inputs) for d in admission.decisions] == [("admission", {"product": "xiaoe"})]
    assert product.content_hash == hashlib.sha256(XIAOE.encode()).hexdigest()


def test_an_unknown_field_is_refused(products: Path, decisions: Path) -> None:
    text = xiaoe(
        ('guarantee_types = ["CREDIT"]', 'guarantee_types = ["CREDIT"]\ninterest_rate = 4.35'),
        (
            '{ name = "approval", role = "APPROVER", sla_minutes = 30 }',
            '{ name = "approval", role = "APPROVER", sla_hours = 1 }',
        ),
    )

    assert refusals(products, decisions, xiaoe=text) == [
        ("xiaoe.toml", "stages[4].sla_minutes", "missing field"),
        ("xiaoe.toml", "stages[4].sla_hours", "unknown field"),
        ("xiaoe.toml", "interest_rate", "unknown field"),
    ]


def test_a_missing_field_is_refused(products: Path, decisions: Path) -> None:
    text = xiaoe(
        ("post_loan = { first_check_after_days = 15, frequency_days = 90 }\n", ""),
        ("amount = { min = 10000, max = 500000 }", "amount = { min = 10000 }"),
    )

    with pytest.raises(CatalogueError) as caught:
        load(products, decisions, xiaoe=text)

    assert caught.value.issues == (
        CatalogueIssue("xiaoe.toml", "amount.max", "缺少必填字段", "missing field"),
        CatalogueIssue("xiaoe.toml", "post_loan", "缺少必填字段", "missing field"),
    )


def test_values_of_the_wrong_type_are_refused(products: Path, decisions: Path) -> None:
    text = xiaoe(
        ("effective_from = 2024-01-01", 'effective_from = "2024-01-01"'),
        ("version = 1", 'version = "1"'),
        ("revolving = true", "revolving = 1"),
        ('repayment_methods = ["EQUAL_INSTALMENTS", ', 'repayment_methods = ["BALLOON", '),
    )

    assert refusals(products, decisions, xiaoe=text) == [
        ("xiaoe.toml", "version", "must be a whole number"),
        ("xiaoe.toml", "effective_from", "must be a date such as 2024-01-01 (without quotes)"),
        (
            "xiaoe.toml",
            "repayment_methods[0]",
            "unknown repayment method 'BALLOON'; one of: "
            "EQUAL_INSTALMENTS, EQUAL_PRINCIPAL, INTEREST_MONTHLY_PRINCIPAL_AT_MATURITY",
        ),
        ("xiaoe.toml", "line.revolving", "must be true or false"),
    ]


def test_a_file_that_is_not_toml_is_refused(products: Path, decisions: Path) -> None:
    assert refusals(products, decisions, xiaoe=xiaoe(("version = 1", "version = "))) == [
        ("xiaoe.toml", "", "not valid TOML: Invalid value (at line 2, column 11)"),
    ]


def test_an_inverted_amount_range_is_refused(products: Path, decisions: Path) -> None:
    text = xiaoe(("amount = { min = 10000, max = 500000 }", "amount = { min = 600000, max = 500000 }"))

    with pytest.raises(CatalogueError) as caught:
        load(products, decisions, xiaoe=text)

    assert caught.value.issues == (
        CatalogueIssue(
            "xiaoe.toml",
            "amount.min",
            "最低金额 600,000 元高于最高金额 500,000 元",
            "the minimum amount ¥600,000 is above the maximum ¥500,000",
        ),
    )


def test_an_inverted_term_range_is_refused(products: Path, decisions: Path) -> None:
    text = xiaoe(("term = { min_months = 6, max_months = 36 }", "term = { min_months = 48, max_months = 36 }"))

    assert refusals(products, decisions, xiaoe=text) == [
        ("xiaoe.toml", "term.min_months", "the shortest term of 48 months is longer than the longest, 36"),
    ]


def test_a_duplicated_stage_is_refused(products: Path, decisions: Path) -> None:
    text = xiaoe(
        (
            '  { name = "line", role = "BACK_OFFICE", sla_minutes = 5, automatic = true },\n',
            '  { name = "line", role = "BACK_OFFICE", sla_minutes = 5, automatic = true },\n'
            '  { name = "approval", role = "BRANCH_PRESIDENT", sla_minutes = 30 },\n',
        )
    )

    assert refusals(products, decisions, xiaoe=text) == [
        ("xiaoe.toml", "stages[6].name", "stage approval appears twice, first at stages[4]"),
    ]


def test_a_stage_out_of_the_process_order_is_refused(products: Path, decisions: Path) -> None:
    contract = '  { name = "contract", role = "BACK_OFFICE", sla_minutes = 20 },\n'
    text = xiaoe((contract, ""), ('  { name = "approval"', contract + '  { name = "approval"'))

    with pytest.raises(CatalogueError) as caught:
        load(products, decisions, xiaoe=text)

    assert caught.value.issues == (
        CatalogueIssue(
            "xiaoe.toml",
            "stages[5].name",
            "阶段 approval 应排在 contract 之前",
            "stage approval comes before contract in the process, not after it",
        ),
    )


def test_a_stage_whose_prerequisite_is_missing_is_unreachable(products: Path, decisions: Path) -> None:
    text = xiaoe(('  { name = "assignment", role = "BRANCH_PRESIDENT", sla_minutes = 5, automatic = true },\n', ""))

    with pytest.raises(CatalogueError) as caught:
        load(products, decisions, xiaoe=text)

    assert caught.value.issues == (
        CatalogueIssue(
            "xiaoe.toml",
            "stages[2].name",
            "阶段 investigation 无法到达:流程中没有它之前必需的 assignment 阶段",
            "stage investigation cannot be reached: the process has no assignment stage before it",
        ),
    )


def test_a_process_needs_its_first_and_last_stage(products: Path, decisions: Path) -> None:
    text = xiaoe(
        ('  { name = "intake", role = "CUSTOMER_MANAGER", sla_minutes = 20 },\n', ""),
        ('  { name = "disbursement", role = "BACK_OFFICE", sla_minutes = 10 },\n', ""),
    )

    assert refusals(products, decisions, xiaoe=text) == [
        (
            "xiaoe.toml",
            "stages[0].name",
            "stage admission cannot be reached: the process has no intake stage before it",
        ),
        (
            "xiaoe.toml",
            "stages[1].name",
            "stage assignment cannot be reached: the process has no intake stage before it",
        ),
        ("xiaoe.toml", "stages", "the process has no intake stage to start with"),
        ("xiaoe.toml", "stages", "the process has no disbursement stage to end with"),
    ]


def test_a_stage_role_that_is_not_a_role_is_refused(products: Path, decisions: Path) -> None:
    text = xiaoe(('{ name = "contract", role = "BACK_OFFICE"', '{ name = "contract", role = "CLERK"'))

    assert refusals(products, decisions, xiaoe=text) == [
        (
            "xiaoe.toml",
            "stages[8].role",
            "unknown role 'CLERK'; one of: HEAD_OFFICE, BRANCH_PRESIDENT, CUSTOMER_MANAGER, CREDIT_INVESTIGATOR, "
            "APPROVER, BACK_OFFICE, ADMIN",
        ),
    ]


def test_a_stage_performed_by_a_role_outside_its_post_is_refused(products: Path, decisions: Path) -> None:
    text = xiaoe(
        (
            '{ name = "investigation", role = "CREDIT_INVESTIGATOR"',
            '{ name = "investigation", role = "CUSTOMER_MANAGER"',
        ),
        ('{ name = "intake", role = "CUSTOMER_MANAGER"', '{ name = "intake", role = "ADMIN"'),
    )

    with pytest.raises(CatalogueError) as caught:
        load(products, decisions, xiaoe=text)

    assert caught.value.issues == (
        CatalogueIssue(
            "xiaoe.toml",
            "stages[0].role",
            "阶段 intake 不能由系统管理员(ADMIN)执行,只能由 CUSTOMER_MANAGER 执行",
            "stage intake is not performed by ADMIN; only by CUSTOMER_MANAGER",
        ),
        CatalogueIssue(
            "xiaoe.toml",
            "stages[3].role",
            "阶段 investigation 不能由客户经理(CUSTOMER_MANAGER)执行,只能由 CREDIT_INVESTIGATOR 执行",
            "stage investigation is not performed by CUSTOMER_MANAGER; only by CREDIT_INVESTIGATOR",
        ),
    )


def test_overlapping_approval_tiers_are_refused(products: Path, decisions: Path) -> None:
    text = xiaoe(("min_amount = 300001, max_amount = 500000", "min_amount = 250000, max_amount = 500000"))

    assert refusals(products, decisions, xiaoe=text) == [
        ("xiaoe.toml", "approval_tiers[2].min_amount", "the tier overlaps approval_tiers[1] (¥100,001–¥300,000)"),
    ]


def test_gapped_approval_tiers_are_refused(products: Path, decisions: Path) -> None:
    text = xiaoe(("min_amount = 100001, max_amount = 300000", "min_amount = 150000, max_amount = 300000"))

    with pytest.raises(CatalogueError) as caught:
        load(products, decisions, xiaoe=text)

    assert caught.value.issues == (
        CatalogueIssue(
            "xiaoe.toml",
            "approval_tiers[1].min_amount",
            "100,001–149,999 元没有审批档次",
            "no tier approves amounts from ¥100,001 to ¥149,999",
        ),
    )


def test_approval_tiers_cover_the_whole_amount_range(products: Path, decisions: Path) -> None:
    text = xiaoe(("amount = { min = 10000, max = 500000 }", "amount = { min = 5000, max = 800000 }"))

    assert refusals(products, decisions, xiaoe=text) == [
        (
            "xiaoe.toml",
            "approval_tiers[0].min_amount",
            "the lowest tier starts at ¥10,000, not at the product's minimum amount ¥5,000",
        ),
        (
            "xiaoe.toml",
            "approval_tiers[2].max_amount",
            "the highest tier ends at ¥500,000, not at the product's maximum amount ¥800,000",
        ),
    ]


def test_approval_tiers_may_be_listed_in_any_order(products: Path, decisions: Path) -> None:
    approver = (
        '  { min_amount = 10000, max_amount = 100000, authority = "APPROVER", '
        'name_zh = "审批人", name_en = "approver" },\n'
    )
    committee = 'name_zh = "贷审会", name_en = "committee" },\n'
    text = xiaoe((approver, ""), (committee, committee + approver))

    product = load(products, decisions, xiaoe=text).get("xiaoe", 1)

    assert [tier.authority for tier in product.approval_tiers] == ["BRANCH_PRESIDENT", "HEAD_OFFICE", "APPROVER"]
    assert product.tier_for(10000).authority == Role.APPROVER


def test_an_inverted_tier_and_an_authority_without_approval_rights_are_refused(products: Path, decisions: Path) -> None:
    text = xiaoe(
        ("min_amount = 10000, max_amount = 100000", "min_amount = 100000, max_amount = 10000"),
        ('authority = "HEAD_OFFICE"', 'authority = "CUSTOMER_MANAGER"'),
    )

    assert refusals(products, decisions, xiaoe=text) == [
        (
            "xiaoe.toml",
            "approval_tiers[0].min_amount",
            "the tier's lower bound ¥100,000 is above its upper bound ¥10,000",
        ),
        (
            "xiaoe.toml",
            "approval_tiers[2].authority",
            "CUSTOMER_MANAGER holds no approval authority; approvers are HEAD_OFFICE, BRANCH_PRESIDENT, APPROVER",
        ),
    ]


def test_a_decision_that_does_not_exist_is_refused(products: Path, decisions: Path) -> None:
    text = xiaoe(('{ name = "rating" }', '{ name = "ratings" }'))

    assert refusals(products, decisions, xiaoe=text) == [
        (
            "xiaoe.toml",
            "stages[3].decisions[0].name",
            "there is no decision ratings: the decisions hold no ratings.json",
        ),
    ]


def test_an_input_the_decision_does_not_read_is_refused(products: Path, decisions: Path) -> None:
    (decisions / "limit.json").write_text(stand_in("product", "grade", "collateral_value"))
    text = xiaoe(('{ name = "limit" }', '{ name = "limit", inputs = { product = "XIAOE", collateral = "DEPOSIT" } }'))

    with pytest.raises(CatalogueError) as caught:
        load(products, decisions, xiaoe=text)

    assert caught.value.issues == (
        CatalogueIssue(
            "xiaoe.toml",
            "stages[3].decisions[1].inputs.collateral",
            "决策 limit 不读取输入 collateral:limit.json 的输入为 product、grade、collateral_value",
            "decision limit reads no input collateral; limit.json reads product, grade, collateral_value",
        ),
    )


def test_a_decision_file_whose_inputs_cannot_be_read_is_refused_by_name(products: Path, decisions: Path) -> None:
    (decisions / "pricing.json").write_text('{"nodes": [], "edges": []}')

    with pytest.raises(DecisionError) as caught:
        load(products, decisions, xiaoe=XIAOE)

    assert (caught.value.code, caught.value.file_name) == (CreditErrorCode.DECISION_FILE_INVALID, "pricing.json")
    assert caught.value.message_en == "decision file pricing.json is invalid: needs exactly one inputNode, has 0"


def test_a_decision_name_cannot_leave_the_decisions_directory(products: Path, decisions: Path) -> None:
    (decisions.parent / "secret.json").write_text("")
    text = xiaoe(('{ name = "rating" }', '{ name = "../secret" }'))

    assert refusals(products, decisions, xiaoe=text) == [
        (
            "xiaoe.toml",
            "stages[3].decisions[0].name",
            "a decision name is lower-case letters, digits and underscores, starting with a letter, not '../secret'",
        ),
    ]


def test_a_product_taking_guarantors_screens_them(products: Path, decisions: Path) -> None:
    text = xiaoe(('guarantee_types = ["CREDIT"]', 'guarantee_types = ["CREDIT", "GUARANTOR"]'))

    assert refusals(products, decisions, xiaoe=text) == [
        (
            "xiaoe.toml",
            "guarantee_types",
            "a product that takes guarantors runs the guarantor_admission decision at some stage",
        ),
    ]
    screened = text.replace('{ name = "rating" }', '{ name = "guarantor_admission" }, { name = "rating" }')
    assert load(products, decisions, xiaoe=screened).get("xiaoe", 1).guarantee_types == ("CREDIT", "GUARANTOR")


def test_a_method_listed_twice_is_refused(products: Path, decisions: Path) -> None:
    text = xiaoe(
        ('["EQUAL_INSTALMENTS", "EQUAL_PRINCIPAL"]', '["EQUAL_INSTALMENTS", "EQUAL_PRINCIPAL", "EQUAL_INSTALMENTS"]')
    )

    assert refusals(products, decisions, xiaoe=text) == [
        ("xiaoe.toml", "repayment_methods[2]", "EQUAL_INSTALMENTS is listed twice, first at repayment_methods[0]"),
    ]


def test_two_files_claiming_one_version_are_refused(products: Path, decisions: Path) -> None:
    assert refusals(products, decisions, xiaoe=XIAOE, **{"xiaoe.v1": XIAOE}) == [
        ("xiaoe.v1.toml", "version", "product xiaoe version 1 is already defined by xiaoe.toml"),
    ]


def test_a_file_is_named_after_its_product(products: Path, decisions: Path) -> None:
    assert refusals(products, decisions, other=XIAOE) == [
        ("other.toml", "code", "the file of product xiaoe version 1 is named xiaoe.toml or xiaoe.v1.toml"),
    ]


def test_a_later_version_takes_effect_later(products: Path, decisions: Path) -> None:
    second = xiaoe(("version = 1", "version = 2"), ("effective_from = 2024-01-01", "effective_from = 2023-06-01"))

    assert refusals(products, decisions, xiaoe=XIAOE, **{"xiaoe.v2": second}) == [
        (
            "xiaoe.v2.toml",
            "effective_from",
            "version 2 takes effect on 2023-06-01, which is not after version 1 (2024-01-01)",
        ),
    ]


def test_every_bad_file_is_reported_at_once(products: Path, decisions: Path) -> None:
    text = xiaoe(("term = { min_months = 6, max_months = 36 }", "term = { min_months = 48, max_months = 36 }"))
    other = text.replace('code = "xiaoe"', 'code = "dae"').replace("min_months = 48", "min_months = 6")
    other = other.replace('{ name = "pricing" }', '{ name = "price" }')

    assert refusals(products, decisions, xiaoe=text, dae=other) == [
        ("dae.toml", "stages[7].decisions[0].name", "there is no decision price: the decisions hold no price.json"),
        ("xiaoe.toml", "term.min_months", "the shortest term of 48 months is longer than the longest, 36"),
    ]


def test_an_empty_catalogue_is_refused(products: Path, decisions: Path) -> None:
    assert refusals(products, decisions) == [("", "", "there are no product files")]


def test_versions_are_kept_side_by_side(products: Path, decisions: Path) -> None:
    second = xiaoe(
        ("version = 1", "version = 2"),
        ("effective_from = 2024-01-01", "effective_from = 2025-01-01"),
        ("term = { min_months = 6, max_months = 36 }", "term = { min_months = 6, max_months = 60 }"),
    )

    catalogue = load(products, decisions, xiaoe=XIAOE, **{"xiaoe.v2": second})

    assert catalogue.current("xiaoe", date(2024, 12, 31)).version == 1
    assert catalogue.current("xiaoe", date(2025, 1, 1)).version == 2
    assert catalogue.get("xiaoe", 1).term.max_months == 36
    assert catalogue.get("xiaoe", 2).term.max_months == 60
    assert [p.version for p in catalogue.versions("xiaoe")] == [1, 2]
    assert catalogue.get("xiaoe", 2).content_hash == hashlib.sha256(second.encode()).hexdigest()
    assert catalogue.get("xiaoe", 1).content_hash != catalogue.get("xiaoe", 2).content_hash


def test_a_product_before_it_takes_effect_is_not_on_sale(products: Path, decisions: Path) -> None:
    catalogue = load(products, decisions, xiaoe=XIAOE)

    with pytest.raises(DomainError) as caught:
        catalogue.current("xiaoe", date(2023, 12, 31))

    assert (caught.value.code, caught.value.field) == (CreditErrorCode.PRODUCT_NOT_IN_EFFECT, "product_code")
    assert caught.value.message_zh == "小额信用贷自 2024-01-01 起办理,2023-12-31 尚未开办"
    assert caught.value.message_en == "Small Credit Loan is offered from 2024-01-01, not yet on 2023-12-31"
    assert catalogue.on_sale(date(2023, 12, 31)) == ()


def test_an_unknown_product_or_version_is_not_found(products: Path, decisions: Path) -> None:
    catalogue = load(products, decisions, xiaoe=XIAOE)

    with pytest.raises(DomainError) as unknown:
        catalogue.current("dae", date(2024, 1, 1))
    with pytest.raises(DomainError) as missing:
        catalogue.get("xiaoe", 2)

    assert (unknown.value.code, unknown.value.field) == (ErrorCode.NOT_FOUND, "product_code")
    assert (missing.value.code, missing.value.field) == (ErrorCode.NOT_FOUND, "product_version")


@pytest.mark.parametrize(
    ("amount", "authority"),
    [
        (10000, Role.APPROVER),
        (100000, Role.APPROVER),
        (100001, Role.BRANCH_PRESIDENT),
        (300000, Role.BRANCH_PRESIDENT),
        (Decimal("300000.00"), Role.BRANCH_PRESIDENT),
        (300001, Role.HEAD_OFFICE),
        (500000, Role.HEAD_OFFICE),
    ],
)
def test_tier_for_at_the_boundaries(products: Path, decisions: Path, amount: int | Decimal, authority: Role) -> None:
    assert the_product(products, decisions).tier_for(amount).authority == authority


@pytest.mark.parametrize("amount", [9999, 500001])
def test_tier_for_outside_the_range(products: Path, decisions: Path, amount: int) -> None:
    with pytest.raises(DomainError) as caught:
        the_product(products, decisions).tier_for(amount)

    assert (caught.value.code, caught.value.field) == (CreditErrorCode.AMOUNT_OUT_OF_RANGE, "amount")


def test_check_amount(products: Path, decisions: Path) -> None:
    product = the_product(products, decisions)
    product.check_amount(10000)
    product.check_amount(Decimal(500000))

    with pytest.raises(DomainError) as below:
        product.check_amount(9999)
    with pytest.raises(DomainError) as fraction:
        product.check_amount(Decimal("10000.50"), field="drawdownAmount")

    assert (below.value.code, below.value.field) == (CreditErrorCode.AMOUNT_OUT_OF_RANGE, "amount")
    assert below.value.message_zh == "金额 9,999 元不在小额信用贷的 10,000–500,000 元范围内"
    assert below.value.message_en == "amount ¥9,999 is outside the Small Credit Loan range of ¥10,000–¥500,000"
    assert (fraction.value.code, fraction.value.field) == (CreditErrorCode.AMOUNT_NOT_WHOLE_YUAN, "drawdownAmount")


@pytest.mark.parametrize("months", [5, 37])
def test_check_term(products: Path, decisions: Path, months: int) -> None:
    product = the_product(products, decisions)
    product.check_term(6)
    product.check_term(36)

    with pytest.raises(DomainError) as caught:
        product.check_term(months)

    assert (caught.value.code, caught.value.field) == (CreditErrorCode.TERM_OUT_OF_RANGE, "term_months")
    assert caught.value.message_en == f"a term of {months} months is outside the Small Credit Loan range of 6–36 months"


def test_check_method(products: Path, decisions: Path) -> None:
    product = the_product(products, decisions)
    product.check_method(RepaymentMethod.EQUAL_PRINCIPAL)

    with pytest.raises(DomainError) as caught:
        product.check_method(RepaymentMethod.INTEREST_MONTHLY_PRINCIPAL_AT_MATURITY)

    assert (caught.value.code, caught.value.field) == (CreditErrorCode.REPAYMENT_METHOD_NOT_OFFERED, "repayment_method")
    assert caught.value.message_zh == "小额信用贷不提供按月付息到期还本还款"
    assert (
        caught.value.message_en == "Small Credit Loan does not offer monthly interest, principal at maturity repayment"
    )


def test_stages_in_process_order(products: Path, decisions: Path) -> None:
    product = the_product(products, decisions)

    assert product.first_stage.name == StageName.INTAKE
    assert product.stage(StageName.INVESTIGATION).role == Role.CREDIT_INVESTIGATOR
    assert product.next_stage(StageName.APPROVAL) == product.stage(StageName.LINE)
    assert product.next_stage(StageName.DISBURSEMENT) is None


def test_a_stage_the_process_leaves_out(products: Path, decisions: Path) -> None:
    text = xiaoe(
        ('  { name = "assignment", role = "BRANCH_PRESIDENT", sla_minutes = 5, automatic = true },\n', ""),
        ('  { name = "investigation", role = "CREDIT_INVESTIGATOR", sla_minutes = 60, decisions = [\n', ""),
        ('    { name = "rating" }, { name = "limit" },\n  ] },\n', ""),
    )
    product = load(products, decisions, xiaoe=text).get("xiaoe", 1)

    with pytest.raises(DomainError) as caught:
        product.stage(StageName.INVESTIGATION)

    assert product.next_stage(StageName.ADMISSION) == product.stage(StageName.APPROVAL)
    assert (caught.value.code, caught.value.field) == (CreditErrorCode.STAGE_NOT_IN_PROCESS, "stage")
    assert caught.value.message_en == "the Small Credit Loan process has no investigation stage"
