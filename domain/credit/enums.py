"""The credit products' vocabulary: how a loan is repaid and what secures it, with their names."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class RepaymentMethod(StrEnum):
    EQUAL_INSTALMENTS = "EQUAL_INSTALMENTS"
    EQUAL_PRINCIPAL = "EQUAL_PRINCIPAL"
    INTEREST_MONTHLY_PRINCIPAL_AT_MATURITY = "INTEREST_MONTHLY_PRINCIPAL_AT_MATURITY"


REPAYMENT_METHOD_NAMES: Mapping[RepaymentMethod, tuple[str, str]] = {
    RepaymentMethod.EQUAL_INSTALMENTS: ("等额本息", "equal instalments"),
    RepaymentMethod.EQUAL_PRINCIPAL: ("等额本金", "equal principal"),
    RepaymentMethod.INTEREST_MONTHLY_PRINCIPAL_AT_MATURITY: (
        "按月付息到期还本",
        "monthly interest, principal at maturity",
    ),
}


class GuaranteeType(StrEnum):
    CREDIT = "CREDIT"  # 信用: on the borrower's own standing
    GUARANTOR = "GUARANTOR"  # 保证: one or more guarantors
    PLEDGE = "PLEDGE"  # 质押: e.g. a certificate of deposit
    MORTGAGE = "MORTGAGE"  # 抵押: e.g. a house


GUARANTEE_NAMES: Mapping[GuaranteeType, tuple[str, str]] = {
    GuaranteeType.CREDIT: ("信用", "unsecured"),
    GuaranteeType.GUARANTOR: ("保证", "guarantor"),
    GuaranteeType.PLEDGE: ("质押", "pledge"),
    GuaranteeType.MORTGAGE: ("抵押", "mortgage"),
}
