"""Repayment schedules (还款计划) of a loan, exact to the fen, by the conventions of Chinese banks:

- Amounts are whole fen. Arithmetic is exact (rational numbers) and an amount is rounded only where it becomes
  an amount the borrower pays: the monthly payment, each instalment's interest, the equal principal share, each
  to the fen, half up (四舍五入, ROUND_HALF_UP).
- The monthly rate r is the annual rate / 12 and applies to every whole-month period whatever the month's length.
- Instalment k falls due in the k-th calendar month after disbursement, on the repayment day, or on the month's
  last day when the month is shorter (domain.credit.due_dates).
- The repayment day defaults to the disbursement day, so every period is a whole month and there is no
  broken-period interest. When another repayment day is chosen, the first period runs from the disbursement
  date to the first due date (between 1 and 61 days) and its interest is opening principal × annual rate ×
  actual days / 360. Only that interest changes: each instalment's principal is as in the whole-month schedule.
- Interest of every other instalment = opening principal × r, rounded to the fen.
- 等额本息 (equal instalments): the payment P·r·(1+r)^n / ((1+r)^n − 1) rounded to the fen (P / n at a zero rate);
  principal = payment − interest.
- 等额本金 (equal principal): principal = P / n rounded to the fen.
- 按月付息到期还本 (interest monthly, principal at maturity): no principal until the last instalment.
- The last instalment repays exactly the principal still owed, so the principal column always sums to P; its
  interest is computed like any other's. Its total differs from the regular 等额本息 payment by the payment's
  rounding carried over the term: fen on short loans, about two yuan on a 30-year loan at 4.9%, and up to some
  hundreds of yuan on a 30-year loan at a rate above 20%.
- No instalment repays more principal than is still owed; only loans of a few fen over many months reach that
  bound, and their later instalments then repay nothing.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from domain.credit.due_dates import due_dates, is_repayment_date
from domain.credit.enums import RepaymentMethod
from domain.credit.loan_terms import checked_repayment_day, checked_term, exact_annual_rate, principal_in_fen
from domain.errors import DomainError, ErrorCode

DAYS_IN_YEAR = 360


@dataclass(frozen=True)
class Instalment:
    """One row of the schedule: principal + interest = total, opening − principal = closing."""

    number: int
    due_date: date
    opening_principal: Decimal
    principal: Decimal
    interest: Decimal
    total: Decimal
    closing_principal: Decimal


@dataclass(frozen=True)
class RepaymentSchedule:
    method: RepaymentMethod
    principal: Decimal
    annual_rate: Decimal
    term_months: int
    disbursed_on: date
    repayment_day: int
    instalments: tuple[Instalment, ...]
    total_principal: Decimal
    total_interest: Decimal
    total_payment: Decimal


def build_schedule(
    *,
    method: RepaymentMethod,
    principal: Decimal,
    annual_rate: Decimal,
    term_months: int,
    disbursed_on: date,
    repayment_day: int | None = None,
) -> RepaymentSchedule:
    """The schedule a borrower signs: every instalment's due date and amounts, and the totals."""
    method = _checked_method(method)
    principal_fen = principal_in_fen(principal)
    rate = exact_annual_rate(annual_rate)
    term_months = checked_term(term_months)
    repayment_day = checked_repayment_day(repayment_day, disbursed_on)
    dates = due_dates(disbursed_on, repayment_day, term_months)

    monthly_rate = rate / 12
    shares = _PRINCIPAL_SHARES[method](principal_fen, monthly_rate, term_months)
    interests = [_round_fen(opening * monthly_rate) for opening in _openings(principal_fen, shares)]
    if not is_repayment_date(disbursed_on, repayment_day):
        broken_days = (dates[0] - disbursed_on).days
        interests[0] = _round_fen(principal_fen * rate * broken_days / DAYS_IN_YEAR)

    instalments = tuple(_rows(principal_fen, shares, interests, dates))
    return RepaymentSchedule(
        method=method,
        principal=_yuan(principal_fen),
        annual_rate=annual_rate,
        term_months=term_months,
        disbursed_on=disbursed_on,
        repayment_day=repayment_day,
        instalments=instalments,
        total_principal=_yuan(sum(shares)),
        total_interest=_yuan(sum(interests)),
        total_payment=_yuan(sum(shares) + sum(interests)),
    )


@dataclass(frozen=True)
class SchedulePosition:
    """Where a loan stands on a day by its schedule alone (payments are not known here). An instalment due on
    that day is still the next one due; from the day after, it has fallen due and is overdue if unpaid."""

    as_of: date
    fallen_due: tuple[Instalment, ...]
    next_due: Instalment | None
    remaining_principal: Decimal


def position_on(schedule: RepaymentSchedule, as_of: date) -> SchedulePosition:
    """The instalments that fell due before `as_of`, the next one due on or after it, and the principal still to
    repay by the schedule on that day: the next instalment's opening principal, none once the last has fallen due."""
    if as_of < schedule.disbursed_on:
        raise DomainError(
            ErrorCode.INVALID_VALUE,
            "查询日期早于放款日期",
            "as-of date is before the disbursement date",
            "as_of",
        )
    count = bisect.bisect_left([row.due_date for row in schedule.instalments], as_of)
    next_due = schedule.instalments[count] if count < len(schedule.instalments) else None
    return SchedulePosition(
        as_of=as_of,
        fallen_due=schedule.instalments[:count],
        next_due=next_due,
        remaining_principal=next_due.opening_principal if next_due else _yuan(0),
    )


def _checked_method(method: RepaymentMethod) -> RepaymentMethod:
    try:
        return RepaymentMethod(method)
    except ValueError:
        raise DomainError(ErrorCode.INVALID_VALUE, "还款方式无效", "unknown repayment method", "method") from None


def _equal_instalment_shares(principal: int, monthly_rate: Fraction, term: int) -> list[int]:
    if monthly_rate == 0:
        payment = _round_fen(Fraction(principal, term))
    else:
        growth = (1 + monthly_rate) ** term
        payment = _round_fen(principal * monthly_rate * growth / (growth - 1))
    shares = []
    owed = principal
    for _ in range(term - 1):
        share = min(payment - _round_fen(owed * monthly_rate), owed)
        shares.append(share)
        owed -= share
    return [*shares, owed]


def _equal_principal_shares(principal: int, monthly_rate: Fraction, term: int) -> list[int]:
    share = _round_fen(Fraction(principal, term))
    shares = []
    owed = principal
    for _ in range(term - 1):
        shares.append(min(share, owed))
        owed -= shares[-1]
    return [*shares, owed]


def _principal_at_maturity_shares(principal: int, monthly_rate: Fraction, term: int) -> list[int]:
    return [0] * (term - 1) + [principal]


_PRINCIPAL_SHARES: dict[RepaymentMethod, Callable[[int, Fraction, int], list[int]]] = {
    RepaymentMethod.EQUAL_INSTALMENTS: _equal_instalment_shares,
    RepaymentMethod.EQUAL_PRINCIPAL: _equal_principal_shares,
    RepaymentMethod.INTEREST_MONTHLY_PRINCIPAL_AT_MATURITY: _principal_at_maturity_shares,
}


def _openings(principal: int, shares: Sequence[int]) -> list[int]:
    openings = []
    owed = principal
    for share in shares:
        openings.append(owed)
        owed -= share
    return openings


def _rows(principal: int, shares: Sequence[int], interests: Sequence[int], dates: Sequence[date]) -> list[Instalment]:
    rows = []
    owed = principal
    for number, (share, interest, due_date) in enumerate(zip(shares, interests, dates, strict=True), start=1):
        rows.append(
            Instalment(
                number=number,
                due_date=due_date,
                opening_principal=_yuan(owed),
                principal=_yuan(share),
                interest=_yuan(interest),
                total=_yuan(share + interest),
                closing_principal=_yuan(owed - share),
            )
        )
        owed -= share
    return rows


def _round_fen(fen: Fraction | int) -> int:
    """To the whole fen, half up; the amounts rounded here are never negative."""
    return math.floor(fen + Fraction(1, 2))


def _yuan(fen: int) -> Decimal:
    """Built from the text of the number, which is exact however many digits it has."""
    return Decimal(f"{fen}E-2")
