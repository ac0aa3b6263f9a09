"""KPI periods: a real month, written YYYY-MM in ASCII digits, from 2000-01 up to next month."""

from datetime import date

import pytest

from domain.errors import DomainError, ErrorCode
from domain.grid.kpi import next_period, parse_period, previous_period

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize("period", ["2000-01", "2026-11", "2026-12", "2027-01"])
def test_months_from_2000_to_next_month_are_accepted(period: str) -> None:
    assert parse_period(period, today=TODAY) == period


@pytest.mark.parametrize(
    ("period", "message_en"),
    [
        ("２０２６-01", "period must be YYYY-MM (e.g. 2026-01)"),  # full-width digits
        ("٢٠٢٦-01", "period must be YYYY-MM (e.g. 2026-01)"),  # Arabic-Indic digits
        ("2026-01\n", "period must be YYYY-MM (e.g. 2026-01)"),  # a line break after it
        (" 2026-01", "period must be YYYY-MM (e.g. 2026-01)"),
        ("2026-1", "period must be YYYY-MM (e.g. 2026-01)"),
        ("2026-13", "period must be YYYY-MM (e.g. 2026-01)"),
        ("2026-00", "period must be YYYY-MM (e.g. 2026-01)"),
        ("202601", "period must be YYYY-MM (e.g. 2026-01)"),
        ("", "period must be YYYY-MM (e.g. 2026-01)"),
        ("0000-01", "period must be between 2000-01 and 2027-01"),
        ("1999-12", "period must be between 2000-01 and 2027-01"),
        ("2027-02", "period must be between 2000-01 and 2027-01"),
        ("9999-12", "period must be between 2000-01 and 2027-01"),
    ],
)
def test_other_periods_are_refused(period: str, message_en: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse_period(period, today=TODAY)
    assert (caught.value.code, caught.value.field, caught.value.message_en) == (
        ErrorCode.INVALID_VALUE,
        "period",
        message_en,
    )


def test_next_month_after_december_is_january() -> None:
    assert parse_period("2027-01", today=date(2026, 12, 31)) == "2027-01"
    assert next_period("2026-12") == "2027-01"
    assert previous_period(next_period("2026-06")) == "2026-06"
