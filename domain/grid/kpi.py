"""Grid KPIs (网格指标): the figures kept per node, the ratios derived from them, and rolling village figures up
the hierarchy. Pure: the roll-up job feeds it rows and stores what it returns."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from enum import StrEnum

from domain.errors import DomainError, ErrorCode


@dataclass
class KpiFigures:
    """Additive figures: the figures of a node are the sums of its villages'."""

    customers: int = 0
    households: int = 0
    households_with_credit: int = 0
    deposit_balance: Decimal = Decimal(0)
    loan_balance: Decimal = Decimal(0)
    credit_line_total: Decimal = Decimal(0)
    ebanking: int = 0
    third_party_payment: int = 0
    social_security_card: int = 0
    borrowers: int = 0
    npl_borrowers: int = 0
    npl_balance: Decimal = Decimal(0)

    def add(self, other: KpiFigures) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @classmethod
    def from_row(cls, row: Mapping[str, object]) -> KpiFigures:
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = row.get(f.name) or 0
            values[f.name] = _money(raw) if f.type == "Decimal" else int(raw)  # type: ignore[call-overload]
        return cls(**values)  # type: ignore[arg-type]


def _money(raw: object) -> Decimal:
    return Decimal(str(raw)).quantize(Decimal("0.01"))


class KpiMetric(StrEnum):
    CUSTOMERS = "CUSTOMERS"
    HOUSEHOLDS = "HOUSEHOLDS"
    DEPOSIT_BALANCE = "DEPOSIT_BALANCE"
    LOAN_BALANCE = "LOAN_BALANCE"
    CREDIT_LINE_TOTAL = "CREDIT_LINE_TOTAL"
    CREDIT_COVERAGE = "CREDIT_COVERAGE"
    EBANKING_PENETRATION = "EBANKING_PENETRATION"
    THIRD_PARTY_PAYMENT_PENETRATION = "THIRD_PARTY_PAYMENT_PENETRATION"
    SOCIAL_SECURITY_CARD_PENETRATION = "SOCIAL_SECURITY_CARD_PENETRATION"
    NPL_RATIO_BY_COUNT = "NPL_RATIO_BY_COUNT"
    NPL_RATIO_BY_BALANCE = "NPL_RATIO_BY_BALANCE"


METRIC_NAMES = {
    KpiMetric.CUSTOMERS: ("客户数", "customers"),
    KpiMetric.HOUSEHOLDS: ("户数", "households"),
    KpiMetric.DEPOSIT_BALANCE: ("存款余额", "deposit balance"),
    KpiMetric.LOAN_BALANCE: ("贷款余额", "loan balance"),
    KpiMetric.CREDIT_LINE_TOTAL: ("授信总额", "credit lines"),
    KpiMetric.CREDIT_COVERAGE: ("授信覆盖率", "credit coverage"),
    KpiMetric.EBANKING_PENETRATION: ("电子银行渗透率", "e-banking penetration"),
    KpiMetric.THIRD_PARTY_PAYMENT_PENETRATION: ("三方支付绑定率", "third-party payment penetration"),
    KpiMetric.SOCIAL_SECURITY_CARD_PENETRATION: ("社保卡覆盖率", "social-security card penetration"),
    KpiMetric.NPL_RATIO_BY_COUNT: ("不良率(户数)", "NPL ratio by count"),
    KpiMetric.NPL_RATIO_BY_BALANCE: ("不良率(余额)", "NPL ratio by balance"),
}


def _ratio(part: float | Decimal, whole: float | Decimal) -> float:
    return float(part) / float(whole) if whole else 0.0


def metric_value(figures: KpiFigures, metric: KpiMetric) -> float:
    """A metric as a number; ratios are 0 where the denominator is 0."""
    f = figures
    values = {
        KpiMetric.CUSTOMERS: lambda: float(f.customers),
        KpiMetric.HOUSEHOLDS: lambda: float(f.households),
        KpiMetric.DEPOSIT_BALANCE: lambda: float(f.deposit_balance),
        KpiMetric.LOAN_BALANCE: lambda: float(f.loan_balance),
        KpiMetric.CREDIT_LINE_TOTAL: lambda: float(f.credit_line_total),
        KpiMetric.CREDIT_COVERAGE: lambda: _ratio(f.households_with_credit, f.households),
        KpiMetric.EBANKING_PENETRATION: lambda: _ratio(f.ebanking, f.customers),
        KpiMetric.THIRD_PARTY_PAYMENT_PENETRATION: lambda: _ratio(f.third_party_payment, f.customers),
        KpiMetric.SOCIAL_SECURITY_CARD_PENETRATION: lambda: _ratio(f.social_security_card, f.customers),
        KpiMetric.NPL_RATIO_BY_COUNT: lambda: _ratio(f.npl_borrowers, f.borrowers),
        KpiMetric.NPL_RATIO_BY_BALANCE: lambda: _ratio(f.npl_balance, f.loan_balance),
    }
    return values[metric]()


def path_ids(path: str) -> list[int]:
    return [int(p) for p in path.split("/") if p]


def roll_up(village_figures: Mapping[int, KpiFigures], node_paths: Mapping[int, str]) -> dict[int, KpiFigures]:
    """Figures for every node: each village's figures added to the village itself and every ancestor.
    Nodes with nothing under them get zeros."""
    totals = {node_id: KpiFigures() for node_id in node_paths}
    for village_id, figures in village_figures.items():
        path = node_paths.get(village_id)
        if path is None:
            continue
        for node_id in path_ids(path):
            if node_id in totals:
                totals[node_id].add(figures)
    return totals


def previous_period(period: str) -> str:
    """'2026-01' → '2025-12'."""
    year, month = (int(p) for p in period.split("-"))
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


def next_period(period: str) -> str:
    """'2025-12' → '2026-01'."""
    year, month = (int(p) for p in period.split("-"))
    return f"{year + 1}-01" if month == 12 else f"{year}-{month + 1:02d}"


EARLIEST_PERIOD = "2000-01"
_PERIOD = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


def parse_period(raw: str, *, today: date, field: str = "period") -> str:
    """A KPI period as given by a person or a client: exactly YYYY-MM in ASCII digits (not '２０２６-01', not
    '2026-01' with a line break after it), a real month, from 2000-01 up to next month. Every way a period
    enters (starting a roll-up, reading KPIs, the command line) goes through this before it is used."""
    if not _PERIOD.fullmatch(raw):
        raise DomainError(
            ErrorCode.INVALID_VALUE, "期间格式应为YYYY-MM(如2026-01)", "period must be YYYY-MM (e.g. 2026-01)", field
        )
    latest = next_period(f"{today:%Y-%m}")
    if not EARLIEST_PERIOD <= raw <= latest:
        raise DomainError(
            ErrorCode.INVALID_VALUE,
            f"期间须在{EARLIEST_PERIOD}到{latest}之间",
            f"period must be between {EARLIEST_PERIOD} and {latest}",
            field,
        )
    return raw


def rank(values: Iterable[tuple[int, float]], *, descending: bool = True) -> list[tuple[int, float, int]]:
    """(node id, value) pairs ranked; equal values share a rank (1, 2, 2, 4); ties listed by id."""
    ordered = sorted(values, key=lambda pair: ((-pair[1] if descending else pair[1]), pair[0]))
    ranked: list[tuple[int, float, int]] = []
    for position, (node_id, value) in enumerate(ordered, start=1):
        shared = ranked[-1][2] if ranked and ranked[-1][1] == value else position
        ranked.append((node_id, value, shared))
    return ranked


@dataclass(frozen=True)
class KpiChange:
    """How one metric moved since the previous period (环比)."""

    metric: KpiMetric
    current: float
    previous: float | None  # None when the previous period was not computed
    delta: float | None
    delta_ratio: float | None  # delta ÷ previous; None when previous is 0 or unknown


def changes(current: KpiFigures, previous: KpiFigures | None) -> list[KpiChange]:
    """Every metric of a period against the period before."""
    moved = []
    for metric in KpiMetric:
        now = metric_value(current, metric)
        before = metric_value(previous, metric) if previous is not None else None
        delta = now - before if before is not None else None
        ratio = delta / before if delta is not None and before else None
        moved.append(KpiChange(metric=metric, current=now, previous=before, delta=delta, delta_ratio=ratio))
    return moved
