"""The process metrics' pure rules: nearest-rank percentiles, the period's bounds, breaches strictly above the
time limit."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.credit.errors import CreditErrorCode
from domain.credit.metrics import Durations, Visit, percentile, period, stage_figures
from domain.credit.process import StageName
from domain.errors import DomainError


def test_percentiles_are_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([7.0], 90) == 7.0
    assert (percentile([1, 2, 3, 4], 50), percentile([1, 2, 3, 4], 90)) == (2, 4)
    assert Durations.of([10.0, 1.0, 5.0]) == Durations(3, 5.0, 10.0)
    assert percentile([float(n) for n in range(1, 11)], 90) == 9.0


def test_a_period_runs_from_midnight_to_midnight_in_utc() -> None:
    chosen = period(date(2026, 3, 1), date(2026, 3, 31))
    assert (chosen.start, chosen.end) == (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    assert period(date(2025, 1, 1), date(2026, 2, 5)).last_day == date(2026, 2, 5)  # 400 days


@pytest.mark.parametrize(
    ("first", "last", "code"),
    [(date(2026, 3, 2), date(2026, 3, 1), CreditErrorCode.PERIOD_REVERSED),
     (date(2025, 1, 1), date(2026, 2, 6), CreditErrorCode.PERIOD_TOO_LONG)],
)  # fmt: skip
def test_a_reversed_or_too_long_period_is_refused(first: date, last: date, code: CreditErrorCode) -> None:
    with pytest.raises(DomainError) as refused:
        period(first, last)
    assert refused.value.code == code


def test_a_breach_is_strictly_above_the_limit_and_a_stage_without_one_never_breaches() -> None:
    visits = [
        Visit(StageName.APPROVAL, 30.0, False, 30),
        Visit(StageName.APPROVAL, 30.5, False, 30),
        Visit(StageName.APPROVAL, 99.0, True, 30),
        Visit(StageName.ASSIGNMENT, 999.0, True, None),
    ]
    assignment, approval = stage_figures(visits, [StageName.ASSIGNMENT, StageName.APPROVAL])
    assert (approval.finished.cases, approval.still_open, approval.breached_finished, approval.breached_open) == (
        2, 1, 1, 1,
    )  # fmt: skip
    assert (assignment.still_open, assignment.breaches) == (1, 0)
