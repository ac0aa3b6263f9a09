"""The demo county's credit-bureau summaries (征信报告摘要): one for every customer, as imported from the bureau
feed in the last few weeks, with the figures the bank imports beside it (`feeds`). Mostly clean; some with
lenders' enquiries, a few with overdue history or debts elsewhere, a few on the blacklist. Merchants take QR
payments through the bank, some people repay a car loan with it, salaried townspeople pay social security, and
the county's online shops report their sales.

Drawn for everyone at once (plan_reports); what the bank's own book says of a customer — their loans overdue
now, the guarantees they have given, what they owe the bank — is added once the book is planned
(settle_reports), since the bank reports its loans to the bureau."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np

from demo.clientele import Clientele
from demo.people import Bools, Floats, Ints
from demo.writer import Columns
from geo.demo_grid import SUBDISTRICTS

BLACKLIST_SHARE = 0.004
OVERDUE_ELSEWHERE_SHARE = 0.006  # an amount overdue at another lender now
# overdue history within 24 months: (share, fewest, most times overdue, most in a row)
OVERDUE_HISTORY = ((0.09, 1, 2, 1), (0.02, 3, 5, 2), (0.008, 6, 9, 4))
ENQUIRIES = ((0.55, 0, 0), (0.38, 1, 3), (0.06, 4, 6), (0.01, 7, 10))  # (share, fewest, most) in 3 months
DEBT_ELSEWHERE_SHARE = 0.18
QR_MERCHANT_SHARE = 0.7  # of the self-employed (个体工商户); a few others take QR payments too
QR_OTHER_SHARE = 0.02
CAR_LOAN_SHARE = 0.07
SOCIAL_SECURITY_SHARE = {"town": 0.55, "worker": 0.4}  # townspeople of the subdistricts (街道); 务工 and 新市民
ONLINE_SHOP_SHARE = 0.8  # of the 电商 tagged
REPORT_AGE_DAYS = 25


@dataclass(frozen=True)
class Bureau:
    """The CreditReport fields of every customer, row i for customer i + 1 (whose report id is i + 1 too)."""

    columns: Columns
    admissible: Bools  # passes the basic admission rules: no blacklist, nothing overdue, no 连三累六, few enquiries
    debt_elsewhere: Floats  # yuan owed to other lenders


def plan_reports(people: Clientele, today: date, rng: np.random.Generator) -> Bureau:
    count = len(people)
    blacklisted = rng.random(count) < BLACKLIST_SHARE
    overdue_now = np.where(
        rng.random(count) < OVERDUE_ELSEWHERE_SHARE, np.round(rng.uniform(500, 30_000, count), -1), 0.0
    )
    times, in_a_row = _overdue_history(count, rng)
    enquiries = _banded(ENQUIRIES, count, rng)
    age = people.age_on(today)
    history_years = np.minimum(np.maximum(age - 20, 0), rng.geometric(0.12, count) - 1)
    debt_drawn = np.round(rng.lognormal(np.log(60_000), 0.8, count), -3)
    debt = np.where(rng.random(count) < DEBT_ELSEWHERE_SHARE, debt_drawn, 0)
    admissible = (~blacklisted) & (overdue_now == 0) & (in_a_row < 3) & (times < 6) & (enquiries <= 6)
    reported_on = np.datetime64(today) - rng.integers(0, REPORT_AGE_DAYS, count).astype("timedelta64[D]")
    columns: Columns = {
        "id": list(range(1, count + 1)),
        "customer_id": people.customer_id.tolist(),
        "reported_on": reported_on.tolist(),
        "on_blacklist": blacklisted.tolist(),
        "current_overdue_amount": [Decimal(f"{a:.2f}") for a in overdue_now.tolist()],
        "overdue_count_24m": times.tolist(),
        "max_consecutive_overdue_24m": in_a_row.tolist(),
        "loan_queries_3m": enquiries.tolist(),
        "credit_history_years": history_years.tolist(),
        "total_debt": [Decimal(int(d)) for d in debt.tolist()],
        "guarantees_count": [0] * count,
        "guarantees_amount": [Decimal(0)] * count,
        "feeds": _feeds(people, age, rng),
    }
    return Bureau(columns=columns, admissible=admissible, debt_elsewhere=debt.astype(np.float64))


def _overdue_history(count: int, rng: np.random.Generator) -> tuple[Ints, Ints]:
    """How often each customer was overdue within 24 months, and the most months in a row."""
    draw = rng.random(count)
    times = np.zeros(count, dtype=np.int64)
    in_a_row = np.zeros(count, dtype=np.int64)
    bound = 0.0
    for share, fewest, most, longest in OVERDUE_HISTORY:
        band = (draw >= bound) & (draw < bound + share)
        times[band] = rng.integers(fewest, most + 1, count)[band]
        in_a_row[band] = np.minimum(rng.integers(1, longest + 1, count), times)[band]
        bound += share
    return times, in_a_row


def _banded(bands: tuple[tuple[float, int, int], ...], count: int, rng: np.random.Generator) -> Ints:
    shares = np.array([share for share, _, _ in bands])
    band = rng.choice(len(bands), size=count, p=shares / shares.sum())
    low = np.array([fewest for _, fewest, _ in bands])[band]
    high = np.array([most for _, _, most in bands])[band]
    drawn: Ints = rng.integers(low, high + 1)
    return drawn


def _feeds(people: Clientele, age: Ints, rng: np.random.Generator) -> list[dict[str, int]]:
    """The figures imported beside the bureau's, only for those the bank has them for (the admission decision
    reads a missing figure as none)."""
    count = len(people)
    working_age = (age >= 22) & (age <= 58)
    merchant = np.where(people.tagged("个体工商户"), QR_MERCHANT_SHARE, QR_OTHER_SHARE) > rng.random(count)
    car = working_age & (rng.random(count) < CAR_LOAN_SHARE)
    in_town = people.township < SUBDISTRICTS
    worker = people.tagged("务工") | people.tagged("新市民")
    salaried = working_age & (
        (in_town & (rng.random(count) < SOCIAL_SECURITY_SHARE["town"]))
        | (worker & (rng.random(count) < SOCIAL_SECURITY_SHARE["worker"]))
    )
    shop = people.tagged("电商") & (rng.random(count) < ONLINE_SHOP_SHARE)
    qr_months, qr_turnover = rng.integers(3, 61, count), np.round(rng.lognormal(np.log(30_000), 0.8, count), -2)
    car_months = rng.integers(3, 61, count)
    social_months = np.minimum(rng.integers(6, 181, count), np.maximum(age - 18, 1) * 12)
    shop_months, shop_sales = rng.integers(3, 73, count), np.round(rng.lognormal(np.log(50_000), 0.9, count), -2)
    feeds: list[dict[str, int]] = [{} for _ in range(count)]
    for i in np.flatnonzero(merchant).tolist():
        feeds[i].update(qr_turnover_months=int(qr_months[i]), qr_monthly_turnover_avg=int(qr_turnover[i]))
    for i in np.flatnonzero(car).tolist():
        feeds[i]["car_loan_on_time_months"] = int(car_months[i])
    for i in np.flatnonzero(salaried).tolist():
        feeds[i]["social_security_months"] = int(social_months[i])
    for i in np.flatnonzero(shop).tolist():
        feeds[i].update(ecommerce_shop_months=int(shop_months[i]), ecommerce_monthly_sales_avg=int(shop_sales[i]))
    return feeds


@dataclass(frozen=True)
class OwnBook:
    """What the bank's own book says of each customer (by index), for the bureau."""

    overdue_amount: list[Decimal]  # instalments fallen due and unpaid, principal and interest
    missed_instalments: Ints
    owed: list[Decimal]  # outstanding principal of their loans
    guarantees_count: Ints  # guarantees given that are still in force
    guarantees_amount: list[Decimal]


def settle_reports(bureau: Bureau, book: OwnBook) -> Columns:
    """The reports with the bank's own loans in them: what its borrowers owe and are overdue on now (an
    overdue instalment at the bank counts as overdue at the bureau), and the guarantees they stand in."""
    columns = dict(bureau.columns)
    missed = book.missed_instalments
    columns["current_overdue_amount"] = [
        elsewhere + own for elsewhere, own in zip(columns["current_overdue_amount"], book.overdue_amount, strict=True)
    ]
    columns["overdue_count_24m"] = np.maximum(np.array(columns["overdue_count_24m"]), np.minimum(missed, 24)).tolist()
    columns["max_consecutive_overdue_24m"] = np.maximum(
        np.array(columns["max_consecutive_overdue_24m"]), np.minimum(missed, 24)
    ).tolist()
    columns["total_debt"] = [elsewhere + own for elsewhere, own in zip(columns["total_debt"], book.owed, strict=True)]
    columns["guarantees_count"] = book.guarantees_count.tolist()
    columns["guarantees_amount"] = book.guarantees_amount
    return columns
