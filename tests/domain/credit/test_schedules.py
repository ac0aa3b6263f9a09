"""Repayment schedules: worked examples checked by hand, a reference computed independently with Decimal at
high precision, and the invariants of many random loans."""

import calendar
import itertools
import random
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest

from domain.credit.errors import CreditErrorCode
from domain.credit.schedules import (
    Instalment,
    RepaymentMethod,
    RepaymentSchedule,
    build_schedule,
    position_on,
)
from domain.errors import DomainError, ErrorCode

FEN = Decimal("0.01")
EQUAL_INSTALMENTS = RepaymentMethod.EQUAL_INSTALMENTS
EQUAL_PRINCIPAL = RepaymentMethod.EQUAL_PRINCIPAL
AT_MATURITY = RepaymentMethod.INTEREST_MONTHLY_PRINCIPAL_AT_MATURITY


def _schedule(
    method: RepaymentMethod = EQUAL_INSTALMENTS,
    principal: str = "100000.00",
    annual_rate: str = "0.0435",
    term_months: int = 12,
    disbursed_on: date = date(2024, 1, 15),
    repayment_day: int | None = None,
) -> RepaymentSchedule:
    return build_schedule(
        method=method,
        principal=Decimal(principal),
        annual_rate=Decimal(annual_rate),
        term_months=term_months,
        disbursed_on=disbursed_on,
        repayment_day=repayment_day,
    )


def _fen(amount: Decimal) -> Decimal:
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def _reference_rows(
    method: RepaymentMethod, principal: Decimal, annual_rate: Decimal, term: int
) -> list[tuple[Decimal, Decimal]]:
    """(principal, interest) of each whole-month instalment, straight from the conventions, with Decimal at
    100 digits and the annuity written as r / (1 − (1 + r)^−n)."""
    with localcontext() as ctx:
        ctx.prec = 100
        monthly_rate = annual_rate / 12
        if method is EQUAL_INSTALMENTS:
            if monthly_rate == 0:
                payment = _fen(principal / term)
            else:
                payment = _fen(principal * monthly_rate / (1 - (1 + monthly_rate) ** -term))
        rows = []
        owed = principal
        for number in range(1, term + 1):
            interest = _fen(owed * monthly_rate)
            if number == term:
                share = owed
            elif method is EQUAL_INSTALMENTS:
                share = min(payment - interest, owed)
            elif method is EQUAL_PRINCIPAL:
                share = min(_fen(principal / term), owed)
            else:
                share = Decimal("0.00")
            rows.append((share, interest))
            owed -= share
        return rows


def _amounts(schedule: RepaymentSchedule) -> list[tuple[Decimal, Decimal]]:
    return [(row.principal, row.interest) for row in schedule.instalments]


# 等额本息 (equal instalments)


def test_equal_instalments_of_100000_at_4_35_percent_over_12_months_are_8530_99() -> None:
    schedule = _schedule(EQUAL_INSTALMENTS, "100000.00", "0.0435", 12)
    first, second, last = schedule.instalments[0], schedule.instalments[1], schedule.instalments[-1]
    # monthly rate 0.0435 / 12 = 0.003625; 100000 × 0.003625 = 362.50
    assert first == Instalment(
        number=1,
        due_date=date(2024, 2, 15),
        opening_principal=Decimal("100000.00"),
        principal=Decimal("8168.49"),
        interest=Decimal("362.50"),
        total=Decimal("8530.99"),
        closing_principal=Decimal("91831.51"),
    )
    # 91831.51 × 0.003625 = 332.889…
    assert (second.interest, second.principal, second.total) == (
        Decimal("332.89"),
        Decimal("8198.10"),
        Decimal("8530.99"),
    )
    assert [row.total for row in schedule.instalments[:-1]] == [Decimal("8530.99")] * 11
    # the last repays what is still owed, 8500.20, with 8500.20 × 0.003625 = 30.813… interest
    assert last == Instalment(
        number=12,
        due_date=date(2025, 1, 15),
        opening_principal=Decimal("8500.20"),
        principal=Decimal("8500.20"),
        interest=Decimal("30.81"),
        total=Decimal("8531.01"),
        closing_principal=Decimal("0.00"),
    )
    assert (schedule.total_principal, schedule.total_interest, schedule.total_payment) == (
        Decimal("100000.00"),
        Decimal("2371.90"),
        Decimal("102371.90"),
    )


def test_equal_instalments_match_the_annuity_formula_at_high_precision() -> None:
    with localcontext() as ctx:
        ctx.prec = 100
        rate = Decimal("0.0435") / 12
        growth = (1 + rate) ** 12
        payment = _fen(Decimal(100000) * rate * growth / (growth - 1))
    assert payment == Decimal("8530.99")
    schedule = _schedule(EQUAL_INSTALMENTS, "100000.00", "0.0435", 12)
    assert schedule.instalments[0].total == payment
    assert _amounts(schedule) == _reference_rows(EQUAL_INSTALMENTS, Decimal("100000.00"), Decimal("0.0435"), 12)


def test_a_30_year_mortgage_of_a_million_at_4_9_percent_pays_5307_27_a_month() -> None:
    schedule = _schedule(EQUAL_INSTALMENTS, "1000000.00", "0.049", 360, date(2024, 3, 31))
    assert len(schedule.instalments) == 360
    # 1000000 × 0.049 / 12 = 4083.333…
    assert (schedule.instalments[0].interest, schedule.instalments[0].total) == (Decimal("4083.33"), Decimal("5307.27"))
    assert {row.total for row in schedule.instalments[:-1]} == {Decimal("5307.27")}
    last = schedule.instalments[-1]
    # the half fen the payment was rounded by, carried over 30 years, leaves the last instalment 2.08 short of it
    assert (last.number, last.due_date, last.principal, last.interest, last.total, last.closing_principal) == (
        360,
        date(2054, 3, 31),
        Decimal("5283.62"),
        Decimal("21.57"),
        Decimal("5305.19"),
        Decimal("0.00"),
    )
    assert schedule.total_interest == Decimal("910615.12")
    assert _amounts(schedule) == _reference_rows(EQUAL_INSTALMENTS, Decimal("1000000.00"), Decimal("0.049"), 360)


# 等额本金 (equal principal)


def test_equal_principal_of_120000_over_12_months_repays_10000_a_month_with_falling_interest() -> None:
    schedule = _schedule(EQUAL_PRINCIPAL, "120000.00", "0.0435", 12)
    # interest on 120000, 110000, …, 10000 at 0.003625: 435.00, 398.75, …, 36.25
    assert [row.principal for row in schedule.instalments] == [Decimal("10000.00")] * 12
    assert [row.interest for row in schedule.instalments] == [Decimal("36.25") * k for k in range(12, 0, -1)]
    assert (schedule.instalments[0].total, schedule.instalments[-1].total) == (Decimal("10435.00"), Decimal("10036.25"))
    # 36.25 × (12 + 11 + … + 1) = 36.25 × 78
    assert schedule.total_interest == Decimal("2827.50")
    assert schedule.total_payment == Decimal("122827.50")


def test_equal_principal_leaves_the_rounding_remainder_to_the_last_instalment() -> None:
    schedule = _schedule(EQUAL_PRINCIPAL, "100000.00", "0.0435", 12)
    # 100000 / 12 = 8333.333…: eleven shares of 8333.33, then 100000 − 11 × 8333.33 = 8333.37
    assert [row.principal for row in schedule.instalments] == [Decimal("8333.33")] * 11 + [Decimal("8333.37")]
    # 91666.67 × 0.003625 = 332.2916…; 8333.37 × 0.003625 = 30.2084…
    assert (schedule.instalments[1].interest, schedule.instalments[-1].interest) == (
        Decimal("332.29"),
        Decimal("30.21"),
    )
    assert _amounts(schedule) == _reference_rows(EQUAL_PRINCIPAL, Decimal("100000.00"), Decimal("0.0435"), 12)


def test_equal_principal_over_30_years() -> None:
    schedule = _schedule(EQUAL_PRINCIPAL, "1000000.00", "0.049", 360)
    # 1000000 / 360 = 2777.777…; the last repays 1000000 − 359 × 2777.78 = 2776.98
    assert (schedule.instalments[0].principal, schedule.instalments[0].total) == (
        Decimal("2777.78"),
        Decimal("6861.11"),
    )
    assert (schedule.instalments[-1].principal, schedule.instalments[-1].interest) == (
        Decimal("2776.98"),
        Decimal("11.34"),
    )
    assert _amounts(schedule) == _reference_rows(EQUAL_PRINCIPAL, Decimal("1000000.00"), Decimal("0.049"), 360)


# 按月付息到期还本 (interest monthly, principal at maturity)


def test_interest_monthly_then_the_whole_principal_with_the_last_instalment() -> None:
    schedule = _schedule(AT_MATURITY, "100000.00", "0.0435", 12)
    assert [row.interest for row in schedule.instalments] == [Decimal("362.50")] * 12
    assert [row.principal for row in schedule.instalments] == [Decimal("0.00")] * 11 + [Decimal("100000.00")]
    assert [row.closing_principal for row in schedule.instalments] == [Decimal("100000.00")] * 11 + [Decimal("0.00")]
    assert schedule.instalments[-1].total == Decimal("100362.50")
    assert (schedule.total_interest, schedule.total_payment) == (Decimal("4350.00"), Decimal("104350.00"))


# due dates


def test_a_loan_disbursed_on_31_january_falls_due_on_the_last_day_of_shorter_months() -> None:
    leap = _schedule(disbursed_on=date(2024, 1, 31), term_months=4)
    assert [row.due_date for row in leap.instalments] == [
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]
    common = _schedule(disbursed_on=date(2023, 1, 31), term_months=2)
    assert [row.due_date for row in common.instalments] == [date(2023, 2, 28), date(2023, 3, 31)]
    # a month-end repayment is still a whole month: no broken-period interest
    assert (leap.repayment_day, leap.instalments[0].interest) == (31, Decimal("362.50"))


def test_a_loan_disbursed_on_29_february_falls_due_on_the_29th_and_on_28_february_next_year() -> None:
    schedule = _schedule(disbursed_on=date(2024, 2, 29), term_months=12)
    assert schedule.instalments[0].due_date == date(2024, 3, 29)
    assert schedule.instalments[-1].due_date == date(2025, 2, 28)


def test_due_dates_cross_the_year_end() -> None:
    schedule = _schedule(disbursed_on=date(2024, 11, 30), term_months=3)
    assert [row.due_date for row in schedule.instalments] == [date(2024, 12, 30), date(2025, 1, 30), date(2025, 2, 28)]


# another repayment day: a broken first period at actual days / 360


def test_a_later_repayment_day_charges_the_first_period_by_actual_days_over_360() -> None:
    schedule = _schedule(AT_MATURITY, "100000.00", "0.036", 12, date(2024, 1, 15), repayment_day=20)
    # 15 January to 20 February 2024 is 36 days: 100000 × 0.036 × 36 / 360 = 360.00; then 100000 × 0.003 = 300.00
    assert schedule.instalments[0].due_date == date(2024, 2, 20)
    assert [row.interest for row in schedule.instalments] == [Decimal("360.00")] + [Decimal("300.00")] * 11
    assert schedule.instalments[-1].due_date == date(2025, 1, 20)
    assert schedule.total_interest == Decimal("3660.00")


def test_an_earlier_repayment_day_makes_a_short_first_period() -> None:
    schedule = _schedule(AT_MATURITY, "100000.00", "0.036", 3, date(2024, 1, 25), repayment_day=5)
    # 25 January to 5 February is 11 days: 100000 × 0.036 × 11 / 360 = 110.00
    assert [row.due_date for row in schedule.instalments] == [date(2024, 2, 5), date(2024, 3, 5), date(2024, 4, 5)]
    assert [row.interest for row in schedule.instalments] == [Decimal("110.00"), Decimal("300.00"), Decimal("300.00")]


def test_a_broken_first_period_changes_only_the_first_interest_of_equal_instalments() -> None:
    broken = _schedule(EQUAL_INSTALMENTS, "100000.00", "0.0435", 12, date(2024, 1, 10), repayment_day=20)
    whole = _schedule(EQUAL_INSTALMENTS, "100000.00", "0.0435", 12, date(2024, 1, 20))
    # 10 January to 20 February is 41 days: 100000 × 0.0435 × 41 / 360 = 495.4166…
    assert broken.instalments[0] == Instalment(
        number=1,
        due_date=date(2024, 2, 20),
        opening_principal=Decimal("100000.00"),
        principal=Decimal("8168.49"),
        interest=Decimal("495.42"),
        total=Decimal("8663.91"),
        closing_principal=Decimal("91831.51"),
    )
    assert broken.instalments[1:] == whole.instalments[1:]
    assert broken.total_interest == whole.total_interest + Decimal("495.42") - Decimal("362.50")


def test_repayment_day_31_for_a_loan_disbursed_on_the_last_day_of_february_is_a_whole_month() -> None:
    schedule = _schedule(AT_MATURITY, "100000.00", "0.036", 2, date(2023, 2, 28), repayment_day=31)
    assert [row.due_date for row in schedule.instalments] == [date(2023, 3, 31), date(2023, 4, 30)]
    assert [row.interest for row in schedule.instalments] == [Decimal("300.00"), Decimal("300.00")]


def test_repayment_day_given_as_the_disbursement_day_is_the_default() -> None:
    assert _schedule(repayment_day=15) == _schedule(repayment_day=None)


# edges


@pytest.mark.parametrize("method", list(RepaymentMethod))
def test_a_zero_rate_charges_no_interest(method: RepaymentMethod) -> None:
    schedule = _schedule(method, "1000.00", "0", 3)
    assert [row.interest for row in schedule.instalments] == [Decimal("0.00")] * 3
    expected = {
        EQUAL_INSTALMENTS: ["333.33", "333.33", "333.34"],
        EQUAL_PRINCIPAL: ["333.33", "333.33", "333.34"],
        AT_MATURITY: ["0.00", "0.00", "1000.00"],
    }[method]
    assert [row.principal for row in schedule.instalments] == [Decimal(amount) for amount in expected]
    assert (schedule.total_interest, schedule.total_payment) == (Decimal("0.00"), Decimal("1000.00"))


def test_a_zero_rate_with_a_broken_first_period_still_charges_nothing() -> None:
    schedule = _schedule(EQUAL_INSTALMENTS, "1000.00", "0", 3, date(2024, 1, 10), repayment_day=25)
    assert schedule.total_interest == Decimal("0.00")


@pytest.mark.parametrize("method", list(RepaymentMethod))
def test_a_one_month_loan_is_repaid_with_a_month_of_interest(method: RepaymentMethod) -> None:
    schedule = _schedule(method, "100000.00", "0.0435", 1, date(2024, 1, 31))
    assert schedule.instalments == (
        Instalment(
            number=1,
            due_date=date(2024, 2, 29),
            opening_principal=Decimal("100000.00"),
            principal=Decimal("100000.00"),
            interest=Decimal("362.50"),
            total=Decimal("100362.50"),
            closing_principal=Decimal("0.00"),
        ),
    )


def test_a_few_fen_over_many_months_never_repays_more_than_is_owed() -> None:
    equal_principal = _schedule(EQUAL_PRINCIPAL, "0.05", "0.0435", 10)
    # 5 fen / 10 = 0.5 fen rounds up to 1 fen: five instalments repay it all
    assert [row.principal for row in equal_principal.instalments] == [FEN] * 5 + [Decimal("0.00")] * 5
    equal_instalments = _schedule(EQUAL_INSTALMENTS, "0.01", "0.0435", 360)
    assert sum(row.principal for row in equal_instalments.instalments) == FEN
    assert all(row.closing_principal >= 0 for row in equal_instalments.instalments)


@pytest.mark.parametrize("principal", ["100000", "1E+5", "100000.000", "100000.00"])
def test_a_principal_of_whole_fen_is_accepted_in_any_notation(principal: str) -> None:
    schedule = _schedule(principal=principal)
    assert str(schedule.principal) == "100000.00"
    assert str(schedule.instalments[0].opening_principal) == "100000.00"


# refused terms


@pytest.mark.parametrize(
    ("changes", "code", "field", "message_en"),
    [
        (
            {"principal": Decimal("0")},
            CreditErrorCode.INVALID_AMOUNT,
            "principal",
            "principal must be an amount in yuan above 0 with at most 2 decimal places",
        ),
        ({"principal": Decimal("-100.00")}, CreditErrorCode.INVALID_AMOUNT, "principal", None),
        ({"principal": Decimal("100.001")}, CreditErrorCode.INVALID_AMOUNT, "principal", None),
        ({"principal": Decimal("NaN")}, CreditErrorCode.INVALID_AMOUNT, "principal", None),
        ({"principal": Decimal("Infinity")}, CreditErrorCode.INVALID_AMOUNT, "principal", None),
        ({"principal": 100.0}, CreditErrorCode.INVALID_AMOUNT, "principal", None),
        (
            {"annual_rate": Decimal("-0.01")},
            CreditErrorCode.INVALID_RATE,
            "annual_rate",
            "annual rate must be at least 0 and below 1, with at most 6 decimal places (0.0435 is 4.35%)",
        ),
        ({"annual_rate": Decimal("4.35")}, CreditErrorCode.INVALID_RATE, "annual_rate", None),
        ({"annual_rate": Decimal("1")}, CreditErrorCode.INVALID_RATE, "annual_rate", None),
        ({"annual_rate": Decimal("0.0435001")}, CreditErrorCode.INVALID_RATE, "annual_rate", None),
        ({"annual_rate": Decimal("sNaN")}, CreditErrorCode.INVALID_RATE, "annual_rate", None),
        ({"annual_rate": 0.0435}, CreditErrorCode.INVALID_RATE, "annual_rate", None),
        ({"term_months": 0}, CreditErrorCode.INVALID_TERM, "term_months", "term must be 1 to 360 months"),
        ({"term_months": 361}, CreditErrorCode.INVALID_TERM, "term_months", None),
        ({"term_months": True}, CreditErrorCode.INVALID_TERM, "term_months", None),
        ({"term_months": 12.0}, CreditErrorCode.INVALID_TERM, "term_months", None),
        (
            {"repayment_day": 0},
            CreditErrorCode.INVALID_REPAYMENT_DAY,
            "repayment_day",
            "repayment day must be day 1 to 31 of the month",
        ),
        ({"repayment_day": 32}, CreditErrorCode.INVALID_REPAYMENT_DAY, "repayment_day", None),
        ({"method": "MONTHLY"}, ErrorCode.INVALID_VALUE, "method", "unknown repayment method"),
        (
            {"disbursed_on": date(9999, 6, 1)},
            ErrorCode.INVALID_VALUE,
            "disbursed_on",
            "disbursement date is so late that the schedule runs past the calendar",
        ),
    ],
)
def test_invalid_terms_are_refused_with_the_field(
    changes: dict[str, object], code: str, field: str, message_en: str | None
) -> None:
    terms: dict[str, object] = {
        "method": EQUAL_INSTALMENTS,
        "principal": Decimal("100000.00"),
        "annual_rate": Decimal("0.0435"),
        "term_months": 12,
        "disbursed_on": date(2024, 1, 15),
        **changes,
    }
    with pytest.raises(DomainError) as caught:
        build_schedule(**terms)  # type: ignore[arg-type]
    assert (caught.value.code, caught.value.field) == (code, field)
    if message_en is not None:
        assert caught.value.message_en == message_en


def test_refusals_explain_themselves_in_chinese_too() -> None:
    with pytest.raises(DomainError) as caught:
        _schedule(term_months=0)
    assert caught.value.message == "期限须为1到360个月 / term must be 1 to 360 months"
    with pytest.raises(DomainError) as caught:
        _schedule(annual_rate="4.35")
    assert caught.value.message_zh == "年利率须不小于0且小于1,最多6位小数(0.0435即4.35%)"


# where a loan stands on a day


def test_position_before_the_first_due_date_owes_everything_and_nothing_has_fallen_due() -> None:
    schedule = _schedule(disbursed_on=date(2024, 1, 15))
    for day in (date(2024, 1, 15), date(2024, 2, 14)):
        position = position_on(schedule, day)
        assert (position.fallen_due, position.next_due, position.remaining_principal) == (
            (),
            schedule.instalments[0],
            Decimal("100000.00"),
        )


def test_an_instalment_is_next_due_on_its_due_date_and_has_fallen_due_the_day_after() -> None:
    schedule = _schedule(disbursed_on=date(2024, 1, 15))
    on_the_day = position_on(schedule, date(2024, 2, 15))
    assert (on_the_day.fallen_due, on_the_day.next_due, on_the_day.remaining_principal) == (
        (),
        schedule.instalments[0],
        Decimal("100000.00"),
    )
    day_after = position_on(schedule, date(2024, 2, 16))
    assert (day_after.fallen_due, day_after.next_due, day_after.remaining_principal) == (
        schedule.instalments[:1],
        schedule.instalments[1],
        Decimal("91831.51"),
    )
    assert day_after.as_of == date(2024, 2, 16)


def test_after_the_last_due_date_everything_has_fallen_due_and_no_principal_remains() -> None:
    schedule = _schedule(disbursed_on=date(2024, 1, 15))
    on_last = position_on(schedule, date(2025, 1, 15))
    assert (on_last.next_due, on_last.remaining_principal) == (schedule.instalments[-1], Decimal("8500.20"))
    after = position_on(schedule, date(2025, 1, 16))
    assert (after.fallen_due, after.next_due, after.remaining_principal) == (
        schedule.instalments,
        None,
        Decimal("0.00"),
    )


def test_a_position_before_disbursement_is_refused() -> None:
    schedule = _schedule(disbursed_on=date(2024, 1, 15))
    with pytest.raises(DomainError) as caught:
        position_on(schedule, date(2024, 1, 14))
    assert (caught.value.code, caught.value.field, caught.value.message) == (
        ErrorCode.INVALID_VALUE,
        "as_of",
        "查询日期早于放款日期 / as-of date is before the disbursement date",
    )


# many random loans


def _random_principal(rng: random.Random) -> Decimal:
    digits = rng.choice([1, 3, 5, 7, 9])
    return Decimal(rng.randint(1, 10**digits)).scaleb(-2)


def _random_rate(rng: random.Random) -> Decimal:
    if rng.random() < 0.1:
        return Decimal("0")
    return Decimal(rng.randint(1, 240_000)).scaleb(-6)


def _assert_invariants(schedule: RepaymentSchedule, repayment_day: int) -> None:
    rows = schedule.instalments
    assert [row.number for row in rows] == list(range(1, schedule.term_months + 1))
    assert sum(row.principal for row in rows) == schedule.principal == schedule.total_principal
    assert sum(row.interest for row in rows) == schedule.total_interest
    assert (
        sum(row.total for row in rows) == schedule.total_payment == schedule.total_principal + schedule.total_interest
    )
    assert rows[0].opening_principal == schedule.principal
    assert rows[-1].closing_principal == 0
    for row in rows:
        assert min(row.principal, row.interest, row.closing_principal) >= 0
        assert row.total == row.principal + row.interest
        assert row.closing_principal == row.opening_principal - row.principal
        amounts = (row.opening_principal, row.principal, row.interest, row.total, row.closing_principal)
        assert all(amount.as_tuple().exponent == -2 for amount in amounts)
    assert all(later.opening_principal == earlier.closing_principal for earlier, later in itertools.pairwise(rows))
    month = schedule.disbursed_on.year * 12 + schedule.disbursed_on.month - 1
    for row in rows:
        month += 1
        year, month_of_year = divmod(month, 12)
        last_day = calendar.monthrange(year, month_of_year + 1)[1]
        assert row.due_date == date(year, month_of_year + 1, min(repayment_day, last_day))


def test_random_loans_keep_the_invariants_and_match_the_reference() -> None:
    rng = random.Random(20240115)
    for _ in range(300):
        method = rng.choice(list(RepaymentMethod))
        principal, rate = _random_principal(rng), _random_rate(rng)
        term = rng.choice([1, 2, 3, 6, 12, 24, 36, 60, 120, 240, 360, rng.randint(1, 360)])
        disbursed_on = date(2000, 1, 1) + timedelta(days=rng.randint(0, 365 * 30))
        schedule = build_schedule(
            method=method, principal=principal, annual_rate=rate, term_months=term, disbursed_on=disbursed_on
        )
        _assert_invariants(schedule, disbursed_on.day)
        assert _amounts(schedule) == _reference_rows(method, principal, rate, term), (method, principal, rate, term)


def test_random_loans_with_another_repayment_day_keep_the_invariants() -> None:
    rng = random.Random(20240120)
    for _ in range(300):
        method = rng.choice(list(RepaymentMethod))
        principal, rate = _random_principal(rng), _random_rate(rng)
        term = rng.randint(1, 360)
        disbursed_on = date(2000, 1, 1) + timedelta(days=rng.randint(0, 365 * 30))
        repayment_day = rng.randint(1, 31)
        schedule = build_schedule(
            method=method,
            principal=principal,
            annual_rate=rate,
            term_months=term,
            disbursed_on=disbursed_on,
            repayment_day=repayment_day,
        )
        _assert_invariants(schedule, repayment_day)
        reference = _reference_rows(method, principal, rate, term)
        assert [row.principal for row in schedule.instalments] == [share for share, _ in reference]
        days = (schedule.instalments[0].due_date - disbursed_on).days
        assert 1 <= days <= 61
        whole_month = disbursed_on.day == min(
            repayment_day, calendar.monthrange(disbursed_on.year, disbursed_on.month)[1]
        )
        with localcontext() as ctx:
            ctx.prec = 100
            first_interest = reference[0][1] if whole_month else _fen(principal * rate * days / 360)
        assert [row.interest for row in schedule.instalments] == [first_interest] + [i for _, i in reference[1:]]
