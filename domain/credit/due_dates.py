"""When a loan's instalments fall due: instalment k in the k-th calendar month after disbursement, on the
repayment day, or on the month's last day when the month is shorter (a loan disbursed on 31 January is due on
29 February 2024, 31 March, 30 April, …: each date is taken from the repayment day, never from the previous
due date, so a short month does not pull the later ones forward)."""

from __future__ import annotations

import calendar
from datetime import MAXYEAR, date

from domain.errors import DomainError, ErrorCode


def repayment_date_in(year: int, month: int, repayment_day: int) -> date:
    """The repayment date of one calendar month."""
    return date(year, month, min(repayment_day, calendar.monthrange(year, month)[1]))


def is_repayment_date(day: date, repayment_day: int) -> bool:
    """Whether a date is the repayment date of its own month: a period starting there is a whole month."""
    return day == repayment_date_in(day.year, day.month, repayment_day)


def due_dates(disbursed_on: date, repayment_day: int, term_months: int) -> tuple[date, ...]:
    """The due date of each instalment, in order."""
    last_month_index = disbursed_on.year * 12 + disbursed_on.month - 1 + term_months
    if last_month_index // 12 > MAXYEAR:
        raise DomainError(
            ErrorCode.INVALID_VALUE,
            "放款日期过晚,还款计划超出日历范围",
            "disbursement date is so late that the schedule runs past the calendar",
            "disbursed_on",
        )
    first_month_index = disbursed_on.year * 12 + disbursed_on.month - 1
    return tuple(
        repayment_date_in(index // 12, index % 12 + 1, repayment_day)
        for index in range(first_month_index + 1, last_month_index + 1)
    )
