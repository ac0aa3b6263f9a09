"""The loan contract (个人借款合同) a borrower signs, as a PDF: the parties, the amount in figures and in capital
numerals, the term, the rate and how interest is computed and rounded, the repayment method, the guarantee, the
signatures, and the full repayment schedule as its annex (domain.credit.contract_layout: how it looks and what it
says).

The same terms give the same bytes, so the SHA-256 stored beside a contract names exactly the document signed:
reportlab's invariant mode dates every document 1 January 2000 (or by SOURCE_DATE_EPOCH where a deployment sets
it) and derives its ID from the content. That holds for one installation: another reportlab or another
derivation of the fonts (domain.credit.contract_fonts) lays the same contract out in other bytes.

The terms are checked before anything is drawn: the schedule must be the one computed from these terms, the ID
number must carry its check digit, and every character must be in the contract's typeface — a name with a
character the font lacks would print as an empty box, so such a contract is refused rather than printed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.credit.contract_fonts import ContractFonts, contract_fonts
from domain.credit.contract_layout import lay_out
from domain.credit.enums import GUARANTEE_NAMES, REPAYMENT_METHOD_NAMES, GuaranteeType, RepaymentMethod
from domain.credit.errors import CreditErrorCode
from domain.credit.loan_terms import checked_term, exact_annual_rate, principal_in_fen
from domain.credit.products import Product
from domain.credit.schedules import RepaymentSchedule
from domain.customers.idcard import check_char
from domain.errors import DomainError
from domain.text import first_invisible

_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")


@dataclass(frozen=True)
class Borrower:
    name: str
    id_number: str  # the 18-character resident identity number
    phone: str
    address: str


@dataclass(frozen=True)
class ContractProduct:
    """The product version a contract is signed under, as the contract names it."""

    name_zh: str
    name_en: str
    code: str
    version: int

    @classmethod
    def of(cls, product: Product) -> ContractProduct:
        return cls(name_zh=product.name_zh, name_en=product.name_en, code=product.code, version=product.version)


@dataclass(frozen=True)
class ContractTerms:
    contract_number: str
    bank_name: str  # the lender, e.g. 睢宁农村商业银行
    outlet: str  # the outlet (营业网点) that signs for the bank
    borrower: Borrower
    product: ContractProduct
    principal: Decimal  # yuan
    annual_rate: Decimal  # 0.0435 is 4.35%
    term_months: int
    repayment_method: RepaymentMethod
    guarantee_type: GuaranteeType
    disbursed_on: date
    schedule: RepaymentSchedule


@dataclass(frozen=True)
class RenderedContract:
    pdf: bytes
    sha256: str  # of the bytes, hex
    pages: int


def render_contract(terms: ContractTerms) -> RenderedContract:
    """The contract's PDF, byte for byte the same for the same terms."""
    fonts = contract_fonts()
    _check(terms, fonts)
    pdf, pages = lay_out(terms, fonts)
    return RenderedContract(pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(), pages=pages)


# Checks


def _invalid(field: str, why_zh: str, why_en: str) -> DomainError:
    return DomainError(
        CreditErrorCode.CONTRACT_INVALID, f"合同无法生成:{why_zh}", f"the contract cannot be drawn up: {why_en}", field
    )


def _texts(terms: ContractTerms) -> dict[str, str]:
    borrower, product = terms.borrower, terms.product
    return {
        "contract_number": terms.contract_number,
        "bank_name": terms.bank_name,
        "outlet": terms.outlet,
        "borrower.name": borrower.name,
        "borrower.id_number": borrower.id_number,
        "borrower.phone": borrower.phone,
        "borrower.address": borrower.address,
        "product.name_zh": product.name_zh,
        "product.name_en": product.name_en,
        "product.code": product.code,
    }


def _check(terms: ContractTerms, fonts: ContractFonts) -> None:
    principal_in_fen(terms.principal)
    exact_annual_rate(terms.annual_rate)
    checked_term(terms.term_months)
    if terms.repayment_method not in REPAYMENT_METHOD_NAMES:
        raise _invalid("repayment_method", "还款方式无效", "unknown repayment method")
    if terms.guarantee_type not in GUARANTEE_NAMES:
        raise _invalid("guarantee_type", "担保方式无效", "unknown guarantee type")
    for field, text in _texts(terms).items():
        _check_text(field, text, fonts)
    number = terms.borrower.id_number
    if not _ID_SHAPE.fullmatch(number) or check_char(number[:17]) != number[17]:
        raise _invalid(
            "borrower.id_number",
            "身份证号码应为18位且校验码正确",
            "the ID number must be 18 characters with a valid check digit",
        )
    _check_schedule(terms)


def _check_text(field: str, text: str, fonts: ContractFonts) -> None:
    if not text.strip():
        raise _invalid(field, "内容不能为空", "must not be empty")
    invisible = first_invisible(text)
    if invisible is not None:
        raise _invalid(
            field, f"含不可见字符 U+{ord(invisible):04X}", f"contains the invisible character U+{ord(invisible):04X}"
        )
    unprintable = fonts.unprintable(text)
    if unprintable:
        codes = ", ".join(f"U+{ord(char):04X}" for char in unprintable)
        raise _invalid(
            field,
            f"含合同字体无法显示的字符 {unprintable}({codes})",
            f"contains characters the contract's typeface cannot print: {codes}",
        )


def _check_schedule(terms: ContractTerms) -> None:
    """The annex must be the schedule of these very terms, or the contract would promise two things."""
    schedule = terms.schedule
    mismatches = [
        name
        for name, ours, its in (
            ("principal", terms.principal, schedule.principal),
            ("annual_rate", terms.annual_rate, schedule.annual_rate),
            ("term_months", terms.term_months, schedule.term_months),
            ("repayment_method", terms.repayment_method, schedule.method),
            ("disbursed_on", terms.disbursed_on, schedule.disbursed_on),
        )
        if ours != its
    ]
    if mismatches or len(schedule.instalments) != terms.term_months:
        named = ", ".join(mismatches) or "instalments"
        raise _invalid(
            "schedule",
            f"还款计划与合同条款不符({named})",
            f"the repayment schedule is not that of these terms ({named})",
        )
