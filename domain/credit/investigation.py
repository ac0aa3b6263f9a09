"""The investigation report (授信调查报告) a credit investigator files after visiting the applicant: the visit
(where and when), the income, assets and debts they verified, the household's standing in the village, and
for a guaranteed loan the guarantor's own figures. Checked here field by field, so that nothing half-true is
stored; the rating and limit decisions read it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from domain.errors import DomainError, ErrorCode
from domain.geo import in_china
from domain.text import checked_text

MAX_NOTES_LENGTH = 1000
MAX_REASON_LENGTH = 200
MAX_YEARS = 60
MAX_YUAN = Decimal("1000000000")  # ¥1 billion: above it, a typo
VISIT_VALID_FOR = timedelta(days=30)  # a visit older than this is no basis for a decision


class IncomeSource(StrEnum):
    SALARIED = "SALARIED"  # 工薪
    BUSINESS = "BUSINESS"  # 个体经营
    FARMING = "FARMING"  # 种养殖
    OTHER = "OTHER"


class HouseholdRating(StrEnum):
    """The household's standing from the village's credit-household rating (信用户评定)."""

    EXCELLENT = "EXCELLENT"  # 优秀信用户
    GOOD = "GOOD"  # 良好信用户
    ORDINARY = "ORDINARY"  # 一般信用户
    NONE = "NONE"  # 未评定


@dataclass(frozen=True)
class GuarantorFigures:
    """What the investigator verified of the guarantor (保证人), a customer of the bank."""

    customer_id: int
    income_source: IncomeSource
    income_years: int
    verified_annual_income: Decimal
    total_assets: Decimal
    total_debts: Decimal


@dataclass(frozen=True)
class InvestigationReport:
    visited_at: datetime
    visit_lon: float
    visit_lat: float
    income_source: IncomeSource
    income_years: int
    verified_annual_income: Decimal
    total_assets: Decimal
    total_debts: Decimal
    household_rating: HouseholdRating
    in_credit_village: bool  # the applicant's village is a credit village (信用村)
    notes: str = ""
    recommended_limit: Decimal | None = None  # None: the limit decision's suggestion
    adjustment_reason: str = ""  # required when the recommendation differs from the suggestion
    guarantor: GuarantorFigures | None = None


def yuan(value: Decimal, field: str, *, positive: bool = False) -> Decimal:
    """An amount in yuan as the bank writes it: finite, at most two decimals, not negative (or positive)."""
    try:
        ok = value.is_finite() and value == value.quantize(Decimal("0.01"))
    except InvalidOperation:
        ok = False
    if not ok or value < 0 or (positive and value == 0) or value > MAX_YUAN:
        low = "大于0" if positive else "不小于0"
        raise DomainError(
            ErrorCode.INVALID_VALUE,
            f"金额须为{low}、不超过10亿、最多两位小数的数",
            f"an amount is {'above' if positive else 'at least'} 0, at most ¥1 billion, with at most two decimals",
            field,
        )
    return value


def years(value: int, field: str) -> int:
    if not 0 <= value <= MAX_YEARS:
        raise DomainError(ErrorCode.INVALID_VALUE, f"年数须在0到{MAX_YEARS}之间", f"years are 0 to {MAX_YEARS}", field)
    return value


def checked_report(report: InvestigationReport, *, now: datetime) -> InvestigationReport:
    """The report as stored, or a typed error naming the field at fault."""
    visited = report.visited_at if report.visited_at.tzinfo else report.visited_at.replace(tzinfo=UTC)
    if visited > now + timedelta(minutes=5) or visited < now - VISIT_VALID_FOR:
        raise DomainError(
            ErrorCode.INVALID_VALUE,
            "走访时间须在最近30天内,且不晚于现在",
            "the visit must be within the last 30 days and not in the future",
            "visitedAt",
        )
    if not in_china(report.visit_lon, report.visit_lat):
        raise DomainError(
            ErrorCode.INVALID_VALUE, "走访位置不在中国境内", "the visit's location is not in China", "visitLon"
        )
    guarantor = report.guarantor
    if guarantor is not None:
        guarantor = GuarantorFigures(
            customer_id=guarantor.customer_id,
            income_source=guarantor.income_source,
            income_years=years(guarantor.income_years, "guarantor.incomeYears"),
            verified_annual_income=yuan(guarantor.verified_annual_income, "guarantor.verifiedAnnualIncome"),
            total_assets=yuan(guarantor.total_assets, "guarantor.totalAssets"),
            total_debts=yuan(guarantor.total_debts, "guarantor.totalDebts"),
        )
    recommended = report.recommended_limit
    return InvestigationReport(
        visited_at=visited,
        visit_lon=report.visit_lon,
        visit_lat=report.visit_lat,
        income_source=report.income_source,
        income_years=years(report.income_years, "incomeYears"),
        verified_annual_income=yuan(report.verified_annual_income, "verifiedAnnualIncome"),
        total_assets=yuan(report.total_assets, "totalAssets"),
        total_debts=yuan(report.total_debts, "totalDebts"),
        household_rating=report.household_rating,
        in_credit_village=report.in_credit_village,
        notes=checked_text(
            report.notes, field="notes", what_zh="调查意见", what_en="notes", max_length=MAX_NOTES_LENGTH
        ),
        recommended_limit=yuan(recommended, "recommendedLimit", positive=True) if recommended is not None else None,
        adjustment_reason=checked_text(
            report.adjustment_reason,
            field="adjustmentReason",
            what_zh="调整原因",
            what_en="reason for the adjustment",
            max_length=MAX_REASON_LENGTH,
        ),
        guarantor=guarantor,
    )
