"""The terms a repayment schedule is computed from, checked: each check returns the value in the form the
schedule computes with (amounts in whole fen, rates as exact fractions) or raises a DomainError naming the field.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from domain.credit.errors import CreditErrorCode
from domain.errors import DomainError

MAX_TERM_MONTHS = 360
RATE_DECIMAL_PLACES = 6


def principal_in_fen(principal: Decimal) -> int:
    """A loan of a whole number of fen above zero; Decimal("100000") and Decimal("100000.00") are the same loan."""
    if isinstance(principal, Decimal) and principal.is_finite() and principal > 0:
        fen = Fraction(principal) * 100
        if fen.denominator == 1:
            return fen.numerator
    raise DomainError(
        CreditErrorCode.INVALID_AMOUNT,
        "本金须为大于0的金额(元),最多两位小数",
        "principal must be an amount in yuan above 0 with at most 2 decimal places",
        "principal",
    )


def exact_annual_rate(annual_rate: Decimal) -> Fraction:
    """An annual rate as a fraction: 0.0435 is 4.35%. A rate of 1 or more is a percentage given as a number
    (4.35 for 4.35%) and is refused rather than lent at; six decimal places reach a ten-thousandth of a percent,
    finer than any rate the bank prices."""
    if isinstance(annual_rate, Decimal) and annual_rate.is_finite() and 0 <= annual_rate < 1:
        rate = Fraction(annual_rate)
        if (rate * 10**RATE_DECIMAL_PLACES).denominator == 1:
            return rate
    raise DomainError(
        CreditErrorCode.INVALID_RATE,
        f"年利率须不小于0且小于1,最多{RATE_DECIMAL_PLACES}位小数(0.0435即4.35%)",
        f"annual rate must be at least 0 and below 1, with at most {RATE_DECIMAL_PLACES} decimal places"
        " (0.0435 is 4.35%)",
        "annual_rate",
    )


def checked_term(term_months: int) -> int:
    if _is_whole_number_between(term_months, 1, MAX_TERM_MONTHS):
        return term_months
    raise DomainError(
        CreditErrorCode.INVALID_TERM,
        f"期限须为1到{MAX_TERM_MONTHS}个月",
        f"term must be 1 to {MAX_TERM_MONTHS} months",
        "term_months",
    )


def checked_repayment_day(repayment_day: int | None, disbursed_on: date) -> int:
    """The day of the month instalments fall due; by default the disbursement day."""
    if repayment_day is None:
        return disbursed_on.day
    if _is_whole_number_between(repayment_day, 1, 31):
        return repayment_day
    raise DomainError(
        CreditErrorCode.INVALID_REPAYMENT_DAY,
        "还款日须为每月1日到31日",
        "repayment day must be day 1 to 31 of the month",
        "repayment_day",
    )


def _is_whole_number_between(value: object, low: int, high: int) -> bool:
    """True and False are ints to Python, not a number of months or days to the bank."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
