"""Screening a surveyed household (筛查) onto the black, grey or white list, and its pre-approved limit (预授信额度),
from the campaign's decision pair (by default rules/decisions/village_screening.json and village_limit.json).

Pure: the facts a household brings (its survey, its head's entry in the core-banking file, whether any member is
on the court's enforcement list) become the decisions' inputs here, and the decisions' answers become the
household's outcome and its explanation, factor by factor, for the reviewers and the household itself.

A white household whose limit comes out below the product's minimum is put on the grey list with the reason
LIMIT_BELOW_MINIMUM: the bank does not post a limit it would not lend.

`screen_households` is the bulk path (a whole county's villages in one process): untraced evaluations, each
kept with its inputs, outputs, file version and hash, so that a replay on the same file text gives the same
answer and names the rules that fired."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from domain.credit.decisions import DecisionBook, Evaluation
from domain.customers.masking import age
from domain.village_credit.household_workflow import HouseholdState, ListColour

SCREENING_DECISION = "village_screening"
LIMIT_DECISION = "village_limit"
PRODUCT_CODE = "zhengcun"


class CollectorRating(StrEnum):
    """The collector's overall grade of the household (采集人评级), from what they saw and heard in the village."""

    A = "A"  # 好
    B = "B"  # 较好
    C = "C"  # 一般
    D = "D"  # 差


class RiskFlag(StrEnum):
    """What the collector noted of the household's conduct (不良嗜好)."""

    GAMBLING = "GAMBLING"  # 赌博
    DRUGS = "DRUGS"  # 吸毒


@dataclass(frozen=True, slots=True)
class CoreFacts:
    """The head's entry in the core-banking file (核心系统)."""

    overdue_days: int = 0
    max_overdue_days: int = 0
    npl_history: bool = False
    loan_balance: Decimal = Decimal(0)
    deposit_balance: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class HouseholdFacts:
    """Everything screening and the limit read of one surveyed household."""

    survey_id: int
    head_birth_date: date
    surveyed_on: date
    annual_income: Decimal
    annual_expenses: Decimal
    assets: Decimal  # house, vehicles, machinery
    land_mu: Decimal  # contracted and rented
    debts_elsewhere: Decimal
    collector_rating: CollectorRating | None
    risk_flags: frozenset[RiskFlag]
    core: CoreFacts | None  # None: the head is not in the core-banking file
    on_enforcement_list: bool  # any member


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Factor:
    """One line of the limit's explanation: what it is and how much it adds (or the multiplier)."""

    code: str
    zh: str
    en: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class LimitBounds:
    """The product's amount range (rules/products/zhengcun.toml)."""

    minimum: int
    maximum: int


@dataclass(frozen=True, slots=True)
class Outcome:
    survey_id: int
    colour: ListColour
    state: HouseholdState
    reasons: tuple[Reason, ...]
    proposed_limit: Decimal | None
    rating: str | None
    evaluations: tuple[Evaluation, ...] = field(repr=False)


BELOW_MINIMUM = Reason(
    "LIMIT_BELOW_MINIMUM", "测算额度低于产品起贷金额", "the limit worked out is below the product's minimum"
)


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def screening_inputs(facts: HouseholdFacts) -> dict[str, Any]:
    core = facts.core
    inputs: dict[str, Any] = {
        "head_age": age(facts.head_birth_date, facts.surveyed_on),
        "on_enforcement_list": facts.on_enforcement_list,
        "npl_history": bool(core and core.npl_history),
        "has_core_record": core is not None,
        "overdue_days_now": core.overdue_days if core else 0,
        "max_overdue_days_24m": core.max_overdue_days if core else 0,
        "annual_income": _number(facts.annual_income),
        "debts_elsewhere": _number(facts.debts_elsewhere),
        "gambling": RiskFlag.GAMBLING in facts.risk_flags,
        "drugs": RiskFlag.DRUGS in facts.risk_flags,
    }
    if facts.collector_rating is not None:
        inputs["collector_rating"] = facts.collector_rating.value
    return inputs


def limit_inputs(facts: HouseholdFacts, bounds: LimitBounds) -> dict[str, Any]:
    core = facts.core or CoreFacts()
    inputs: dict[str, Any] = {
        "annual_income": _number(facts.annual_income),
        "annual_expenses": _number(facts.annual_expenses),
        "net_assets": _number(facts.assets + core.deposit_balance - facts.debts_elsewhere),
        "land_mu": _number(facts.land_mu),
        "existing_exposure": _number(core.loan_balance),
        "product_min": bounds.minimum,
        "product_max": bounds.maximum,
    }
    if facts.collector_rating is not None:
        inputs["collector_rating"] = facts.collector_rating.value
    return inputs


def screen(
    book: DecisionBook,
    facts: HouseholdFacts,
    bounds: LimitBounds,
    *,
    decisions: tuple[str, str] = (SCREENING_DECISION, LIMIT_DECISION),
    trace: bool = True,
) -> Outcome:
    """One household's list, reasons and (white only) pre-approved limit."""
    screening_name, limit_name = decisions
    screened = book.evaluate(screening_name, screening_inputs(facts), trace=trace)
    colour = ListColour(screened.outputs["colour"])
    reasons = tuple(Reason(r["code"], r["zh"], r["en"]) for r in screened.outputs["reasons"])
    rating = facts.collector_rating.value if facts.collector_rating else None
    if colour != ListColour.WHITE:
        return Outcome(facts.survey_id, colour, HouseholdState.EXCLUDED, reasons, None, rating, (screened,))
    limited = book.evaluate(limit_name, limit_inputs(facts, bounds), trace=trace)
    limit = Decimal(str(limited.outputs["pre_approved_limit"]))
    if limit < bounds.minimum:
        return Outcome(
            facts.survey_id, ListColour.GREY, HouseholdState.EXCLUDED, (BELOW_MINIMUM,), None, rating,
            (screened, limited),
        )  # fmt: skip
    return Outcome(facts.survey_id, colour, HouseholdState.PROPOSED, (), limit, rating, (screened, limited))


def screen_households(
    book: DecisionBook,
    households: Iterable[HouseholdFacts],
    bounds: LimitBounds,
    decisions: tuple[str, str] = (SCREENING_DECISION, LIMIT_DECISION),
) -> list[Outcome]:
    """Every household's outcome, untraced (the bulk path): the evaluations keep inputs, outputs, version and
    hash, so a replay reproduces each answer and lists the rules that fired."""
    return [screen(book, facts, bounds, decisions=decisions, trace=False) for facts in households]


_FACTORS: Sequence[tuple[str, str, str]] = (
    ("income_capacity", "年收支结余×2", "twice the yearly surplus of income over expenses"),
    ("asset_capacity", "净资产(房产、车辆、农机、存款减他行负债)×30%", "30% of net assets (house, vehicles, "
     "machinery and deposits, less debts elsewhere)"),
    ("land_capacity", "土地(承包及流转)每亩1000元", "¥1,000 a mu of land (contracted and rented)"),
    ("rating_multiplier", "采集人评级系数", "the collector's rating multiplier"),
    ("gross_capacity", "评级调整后测算额", "capacity after the rating"),
    ("existing_exposure", "减:我行现有贷款余额", "less: loans outstanding with the bank"),
    ("capacity", "测算额度", "capacity"),
    ("pre_approved_limit", "预授信额度(不超过产品上限,千元取整)", "pre-approved limit (within the product's "
     "maximum, rounded down to ¥1,000)"),
)  # fmt: skip


def explain_limit(outputs: Mapping[str, Any]) -> list[Factor]:
    """The limit decision's answer, factor by factor, in the order it was worked out."""
    return [
        Factor(code.upper(), zh, en, Decimal(str(outputs[code])))
        for code, zh, en in _FACTORS
        if outputs.get(code) is not None
    ]


HOUSEHOLD_RATINGS = {  # the collector's grade as the credit rating's village credit rating (网格信用评定)
    CollectorRating.A: "EXCELLENT",
    CollectorRating.B: "GOOD",
    CollectorRating.C: "ORDINARY",
}


def credit_rating_inputs(facts: HouseholdFacts, operations: str) -> dict[str, object]:
    """The credit factory's rating decision's facts for a surveyed household, from what the survey and the
    core-banking file hold: income from the farm unless the survey names an operation, assets and debts as
    surveyed (the bank's own loans among the debts), deposits as the core file gives them, any overdue in the
    last 24 months counted once, and the village's credit rating from the collector's grade in a credit village.
    What neither records (years of that income, of the relationship, of credit history) counts as none."""
    core = facts.core or CoreFacts()
    return {
        "income_source": "BUSINESS" if operations.strip() else "FARMING",
        "income_years": 0,
        "total_assets": float(facts.assets),
        "total_debts": float(facts.debts_elsewhere + core.loan_balance),
        "avg_deposit_balance_12m": float(core.deposit_balance),
        "relationship_years": 0,
        "overdue_count_24m": 1 if core.max_overdue_days > 0 else 0,
        "credit_history_years": 0,
        "household_credit_rating": HOUSEHOLD_RATINGS.get(facts.collector_rating, "") if facts.collector_rating else "",
        "credit_village": True,
    }
