"""Loan contracts (个人借款合同): the PDF reads back with its Chinese text, the borrower, the amount in capital
numerals and every row of the schedule; the same terms give the same bytes, in another process too; a long
schedule breaks across pages with its header on each; capital numerals by worked examples; bad terms refused."""

import hashlib
import io
import os
import subprocess
import sys
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from domain.credit.capital_amounts import amount_in_capitals
from domain.credit.catalogue import load_catalogue
from domain.credit.contract_fonts import contract_fonts
from domain.credit.contracts import (
    Borrower,
    ContractProduct,
    ContractTerms,
    RenderedContract,
    render_contract,
)
from domain.credit.enums import GuaranteeType, RepaymentMethod
from domain.credit.errors import CreditErrorCode
from domain.credit.schedules import RepaymentSchedule, build_schedule
from domain.errors import DomainError

ROOT = Path(__file__).resolve().parents[3]
ZHANG = Borrower(
    name="张晓燕",
    id_number="32032419900101124X",
    phone="13812345678",
    address="江苏省徐州市睢宁县王集镇鲤鱼山村3组12号",
)
PUHUI = ContractProduct(name_zh="普惠贷", name_en="Inclusive Loan", code="puhui", version=1)
HEADER = [
    "期次",
    "No.",
    "还款日",
    "Due date",
    "应还本金",
    "Principal",
    "应还利息",
    "Interest",
    "应还合计",
    "Payment",
    "剩余本金",
    "Remaining",
]


def contract_terms(
    *,
    borrower: Borrower = ZHANG,
    principal: str = "100000",
    annual_rate: str = "0.0435",
    term_months: int = 36,
    method: RepaymentMethod = RepaymentMethod.EQUAL_INSTALMENTS,
    disbursed_on: date = date(2024, 1, 15),
    repayment_day: int | None = None,
) -> ContractTerms:
    schedule = build_schedule(
        method=method,
        principal=Decimal(principal),
        annual_rate=Decimal(annual_rate),
        term_months=term_months,
        disbursed_on=disbursed_on,
        repayment_day=repayment_day,
    )
    return ContractTerms(
        contract_number="SNRCB-JK-2024-000123",
        bank_name="睢宁农村商业银行",
        outlet="睢宁农村商业银行王集支行",
        borrower=borrower,
        product=PUHUI,
        principal=Decimal(principal),
        annual_rate=Decimal(annual_rate),
        term_months=term_months,
        repayment_method=method,
        guarantee_type=GuaranteeType.GUARANTOR,
        disbursed_on=disbursed_on,
        schedule=schedule,
    )


def _page_texts(contract: RenderedContract) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(contract.pdf)).pages]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _compact(text: str) -> str:
    """Without any whitespace: a paragraph extracts with a line break wherever it wrapped."""
    return "".join(text.split())


def _has_run(lines: list[str], run: list[str]) -> bool:
    return any(lines[at : at + len(run)] == run for at in range(len(lines) - len(run) + 1))


def _row(schedule: RepaymentSchedule, number: int) -> list[str]:
    row = schedule.instalments[number - 1]
    amounts = (row.principal, row.interest, row.total, row.closing_principal)
    return [str(row.number), row.due_date.isoformat(), *(f"{amount:,.2f}" for amount in amounts)]


def _annex_pages(texts: list[str]) -> list[str]:
    first = next(index for index, text in enumerate(texts) if "附件 还款计划表" in text)
    return texts[first:]


# What the contract says


def test_the_contract_reads_back_with_the_parties_the_amount_in_capitals_and_the_terms() -> None:
    contract = render_contract(contract_terms())
    texts = _page_texts(contract)
    assert contract.pages == len(texts) == 3
    whole = _compact("".join(texts))
    for expected in [
        "个人借款合同",
        "PersonalLoanContract",
        "合同编号ContractNo.：SNRCB-JK-2024-000123",
        "贷款人（甲方）Lender睢宁农村商业银行",
        "经办机构Outlet睢宁农村商业银行王集支行",
        "借款人（乙方）Borrower张晓燕",
        "身份证号码IDnumber32032419900101124X",
        "联系电话Phone13812345678",
        "住址Address江苏省徐州市睢宁县王集镇鲤鱼山村3组12号",
        "普惠贷（InclusiveLoan），产品代码puhui，第1版",
        "人民币（大写）壹拾万元整（小写¥100,000.00）",
        "借款期限为36个月，自放款日2024年1月15日起至2027年1月15日止",
        "借款年利率为4.35%",
        "月利率为年利率除以十二",
        "每期利息为该期期初剩余本金乘以月利率",
        "均以分为单位四舍五入",
        "还款方式为等额本息（equalinstalments），共36期。还款日为每月15日。",
        "本金合计¥100,000.00，利息合计¥6,847.74，本息合计¥106,847.74",
        "担保方式为保证（guarantor）",
        "甲方（盖章）Lender(seal)",
        "乙方（签字）Borrower(signature)",
    ]:
        assert expected in whole, expected
    for number, text in enumerate(texts, start=1):
        assert f"第 {number} 页 共 3 页 Page {number} of 3" in text


def test_every_row_of_the_schedule_is_printed_in_the_annex_with_the_totals() -> None:
    terms = contract_terms()
    annex = _lines("".join(_annex_pages(_page_texts(render_contract(terms)))))
    assert _has_run(annex, HEADER)
    for number in range(1, 37):
        assert _has_run(annex, _row(terms.schedule, number)), number
    assert _row(terms.schedule, 36) == ["36", "2027-01-15", "2,957.37", "10.72", "2,968.09", "0.00"]
    assert _has_run(annex, ["合计 Total", "100,000.00", "6,847.74", "106,847.74"])


def test_every_character_of_the_contract_is_in_its_typeface() -> None:
    text = "".join(
        _page_texts(render_contract(contract_terms(repayment_day=20, method=RepaymentMethod.EQUAL_PRINCIPAL)))
    )
    assert contract_fonts().unprintable(_compact(text)) == ""


def test_a_first_period_shorter_or_longer_than_a_month_is_explained_in_days() -> None:
    terms = contract_terms(repayment_day=20)
    whole = _compact("".join(_page_texts(render_contract(terms))))
    # disbursed 15 January, first due 20 February: 36 days at the annual rate / 360
    assert "首期自放款日起至首个还款日2024年2月20日止，共36天" in whole
    assert "乘以实际天数再除以360" in whole
    assert "还款日为每月20日。" in whole


def test_each_repayment_method_is_stated_with_its_rule() -> None:
    for method, rule in [
        (RepaymentMethod.EQUAL_INSTALMENTS, "每期应还款额=借款本金×月利率×(1+月利率)期数÷[(1+月利率)期数−1]"),
        (RepaymentMethod.EQUAL_PRINCIPAL, "每期归还相同的本金，为借款本金÷期数"),
        (RepaymentMethod.INTEREST_MONTHLY_PRINCIPAL_AT_MATURITY, "每期只支付利息，借款本金于最后一期一次归还"),
    ]:
        assert rule in _compact("".join(_page_texts(render_contract(contract_terms(method=method))))), method


def test_markup_characters_in_an_address_are_printed_as_typed() -> None:
    borrower = replace(ZHANG, address="睢宁县<东区>3号楼&1单元")
    whole = _compact("".join(_page_texts(render_contract(contract_terms(borrower=borrower)))))
    assert "住址Address睢宁县<东区>3号楼&1单元" in whole


def test_the_documents_properties_carry_no_personal_data() -> None:
    reader = PdfReader(io.BytesIO(render_contract(contract_terms()).pdf))
    assert reader.metadata is not None
    properties = " ".join(str(value) for value in reader.metadata.values())
    assert "个人借款合同 SNRCB-JK-2024-000123" in properties
    for personal in (ZHANG.name, ZHANG.id_number, ZHANG.phone, ZHANG.address):
        assert personal not in properties


def test_the_product_is_named_as_the_catalogue_has_it() -> None:
    product = load_catalogue().get("puhui", 1)
    assert ContractProduct.of(product) == ContractProduct(
        name_zh=product.name_zh, name_en=product.name_en, code="puhui", version=1
    )


# Same terms, same bytes


def test_the_same_terms_give_the_same_bytes_and_digest() -> None:
    first, second = render_contract(contract_terms()), render_contract(contract_terms())
    assert first.pdf == second.pdf
    assert first.sha256 == second.sha256 == hashlib.sha256(first.pdf).hexdigest()
    other = render_contract(contract_terms(borrower=replace(ZHANG, name="李建国")))
    assert other.sha256 != first.sha256


def test_another_process_gives_the_same_bytes() -> None:
    script = (
        "from tests.domain.credit.test_contracts import contract_terms\n"
        "from domain.credit.contracts import render_contract\n"
        "print(render_contract(contract_terms()).sha256)\n"
    )
    environment = {**os.environ, "PYTHONHASHSEED": "20241202"}
    result = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == render_contract(contract_terms()).sha256


# A schedule over many pages


def test_a_long_schedule_breaks_across_pages_with_its_header_on_each() -> None:
    terms = contract_terms(
        principal="600000", annual_rate="0.039", term_months=360, method=RepaymentMethod.EQUAL_PRINCIPAL
    )
    contract = render_contract(terms)
    texts = _page_texts(contract)
    annex = _annex_pages(texts)
    assert len(annex) >= 7
    assert contract.pages == len(texts)
    printed = []
    for page in annex:
        lines = _lines(page)
        start = next(at for at in range(len(lines)) if lines[at : at + len(HEADER)] == HEADER)
        # the header, then the first row of this page: no page begins mid-table without it
        assert lines[start + len(HEADER)] == str(len(printed) + 1)
        printed += [number for number in range(1, 361) if _has_run(lines, _row(terms.schedule, number))]
    assert printed == list(range(1, 361))
    for number, text in enumerate(texts, start=1):
        assert f"第 {number} 页 共 {len(texts)} 页" in text


# Capital numerals (大写金额)


@pytest.mark.parametrize(
    ("amount", "capitals"),
    [
        ("0.05", "伍分"),
        ("0.50", "伍角整"),
        ("1", "壹元整"),
        ("10", "壹拾元整"),
        ("10.50", "壹拾元伍角整"),
        ("100.05", "壹佰元零伍分"),
        ("110", "壹佰壹拾元整"),
        ("325.04", "叁佰贰拾伍元零肆分"),
        ("1001", "壹仟零壹元整"),
        ("1010", "壹仟零壹拾元整"),
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
        ("10500", "壹万零伍佰元整"),
        ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
        ("100000", "壹拾万元整"),
        ("100000.00", "壹拾万元整"),
        ("107000.53", "壹拾万零柒仟元伍角叁分"),
        ("1000500.07", "壹佰万零伍佰元零柒分"),
        ("10005000", "壹仟万零伍仟元整"),
        ("100000000", "壹亿元整"),
        ("100000500", "壹亿零伍佰元整"),
        ("20000000001", "贰佰亿零壹元整"),
        ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
        ("0", "零元整"),
    ],
)
def test_amount_in_capitals(amount: str, capitals: str) -> None:
    assert amount_in_capitals(Decimal(amount)) == capitals


@pytest.mark.parametrize(
    "amount",
    ["-0.01", "-100", "NaN", "Infinity", "-Infinity", "0.001", "1.0000000000000000000000000001", "1000000000000"],
)
def test_amount_in_capitals_refuses_what_is_not_an_amount(amount: str) -> None:
    with pytest.raises(DomainError) as refused:
        amount_in_capitals(Decimal(amount))
    assert (refused.value.code, refused.value.field) == (CreditErrorCode.INVALID_AMOUNT, "amount")


# Terms refused


@pytest.mark.parametrize("principal", [Decimal("-100000"), Decimal("NaN"), Decimal("Infinity"), Decimal("0")])
def test_a_contract_for_no_real_amount_is_refused(principal: Decimal) -> None:
    with pytest.raises(DomainError) as refused:
        render_contract(replace(contract_terms(), principal=principal))
    assert (refused.value.code, refused.value.field) == (CreditErrorCode.INVALID_AMOUNT, "principal")


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"principal": Decimal("100000.01")}, "principal"),
        ({"annual_rate": Decimal("0.0436")}, "annual_rate"),
        ({"term_months": 24}, "term_months"),
        ({"repayment_method": RepaymentMethod.EQUAL_PRINCIPAL}, "repayment_method"),
        ({"disbursed_on": date(2024, 1, 16)}, "disbursed_on"),
    ],
)
def test_a_schedule_of_other_terms_is_refused(change: dict[str, object], named: str) -> None:
    with pytest.raises(DomainError) as refused:
        render_contract(replace(contract_terms(), **change))
    assert (refused.value.code, refused.value.field) == (CreditErrorCode.CONTRACT_INVALID, "schedule")
    assert named in refused.value.message_en


@pytest.mark.parametrize(
    ("borrower", "field", "says"),
    [
        (replace(ZHANG, id_number="320324199001011241"), "borrower.id_number", "check digit"),
        (replace(ZHANG, id_number="32032419900101124"), "borrower.id_number", "18 characters"),
        (replace(ZHANG, name="张\U00020000"), "borrower.name", "U+20000"),  # CJK extension B: not in the typeface
        (replace(ZHANG, name="张\u200b晓燕"), "borrower.name", "U+200B"),
        (replace(ZHANG, address="  "), "borrower.address", "empty"),
    ],
)
def test_a_borrower_the_contract_cannot_name_exactly_is_refused(borrower: Borrower, field: str, says: str) -> None:
    with pytest.raises(DomainError) as refused:
        render_contract(contract_terms(borrower=borrower))
    assert (refused.value.code, refused.value.field) == (CreditErrorCode.CONTRACT_INVALID, field)
    assert says in refused.value.message_en
