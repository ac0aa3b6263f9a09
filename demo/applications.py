"""The book's applications, decided the way the platform decides them: admission on the bureau summary at
intake; for a product with investigation the assignment to a skilled investigator, the investigator's report
and the rating and limit decisions on it (a guarantor rated and screened too); the approval tiers the limit
needs, each by its authority; the credit line. Every decision is the bank's decision file evaluated on the
facts, recorded as evaluated (inputs, outputs, the rules that fired), so the book's decisions explain and
replay like the platform's own.

What the platform would not let through is not approved in the book either: an application admission refuses
is ADMISSION_REFUSED; one whose limit comes out below the product's minimum, or whose guarantor is not admitted,
could not be reported and was withdrawn; a few are rejected at approval. The three posts are kept apart as the
state machine keeps them: the village's customer manager markets, an investigator skilled in the product
investigates, and each tier is decided by a different person holding its authority."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import IntEnum
from typing import Any

import numpy as np

from demo.bureau import Bureau
from demo.clientele import Clientele
from demo.crew import Crew
from demo.people import Floats, Ints
from demo.records import Decided, Granted
from domain.credit.decisions import Evaluation
from domain.credit.enums import GuaranteeType
from domain.credit.investigation import HouseholdRating, IncomeSource
from domain.credit.process import StageName
from domain.credit.products import Product
from domain.credit.workflow import Action, ApplicationState
from resolvers.credit import applications as apps
from resolvers.credit.approval import months_later, tiers_for

CREDIT_VILLAGE_SHARE = 0.6
HOUSEHOLD_RATINGS = {HouseholdRating.EXCELLENT: 0.3, HouseholdRating.GOOD: 0.4, HouseholdRating.ORDINARY: 0.2,
                     HouseholdRating.NONE: 0.1}  # fmt: skip
REJECT_SHARE = 0.03
WITHDRAW_SHARE = 0.01
LOWER_RECOMMENDATION_SHARE = 0.06
GUARANTEE_FACTOR = {GuaranteeType.CREDIT: 1.0, GuaranteeType.GUARANTOR: 1.2, GuaranteeType.PLEDGE: 1.5,
                    GuaranteeType.MORTGAGE: 1.5}  # fmt: skip
LINE_ACTIVE, LINE_EXPIRED = "ACTIVE", "EXPIRED"  # an expired line counts in nobody's credit figure
REJECTIONS = ("负债偏高,还款能力不足 / debts too high for the income", "经营流水不稳定 / the turnover is unsteady",
              "借款用途不明确 / the purpose is not clear")  # fmt: skip
WITHDRAWALS = {
    "limit": "调查测算额度低于起贷金额,客户撤回申请 / the limit the investigation supports is below the minimum",
    "guarantor": "保证人未通过担保人准入,客户撤回申请 / the guarantor was not admitted",
    "customer": "客户资金需求已解决,撤回申请 / the customer no longer needs the money",
}
LOWERED = "结合实地走访情况,审慎下调建议额度 / lowered on what the visit found"
NOTES = "实地走访,经营正常 / visited on site, business as usual"
MINUTE = timedelta(minutes=1)
Guarantor = tuple[list[Evaluation], dict[str, Any]]  # the guarantor's rating and screening, and their figures


class U(IntEnum):
    """The uniform draws each application takes, by what they decide."""

    SOURCE = 0
    INCOME = 1
    ASSETS = 2
    YEARS = 3
    SOME_DEBT = 4
    DEBT = 5
    RELATIONSHIP = 6
    ASSIGNED = 7
    INVESTIGATED = 8
    INVESTIGATOR = 9
    WITHDRAW = 10
    WITHDRAWN_DAYS = 11
    LOWER = 12
    REJECT = 13
    REJECTION = 14
    GUARANTOR_SOURCE = 15
    GUARANTOR_INCOME = 16
    TIER = 17


DRAWS = len(U) + 2  # three tiers at most: TIER, TIER + 1, TIER + 2


@dataclass(frozen=True)
class Application:
    """One application as the customer made it, with who markets it."""

    number: int  # 1, 2 … in the order applications came
    customer: int  # index
    product: Product
    submitted_at: datetime
    amount: int
    term: int
    method: str
    guarantee: GuaranteeType
    guarantor: int  # customer index, −1 for none
    collateral: int  # yuan, 0 for none
    purpose: str
    marketer: int
    village_id: int
    township: int

    @property
    def customer_id(self) -> int:
        return self.customer + 1


class Desk:
    """Decides the book's applications one by one in the order they came, keeping what a later one depends on
    (the guarantees each guarantor already stands in)."""

    def __init__(self, people: Clientele, bureau: Bureau, crew: Crew, today: date, rng: np.random.Generator) -> None:
        self.people, self.bureau, self.crew, self.today, self.rng = people, bureau, crew, today, rng
        self.report = bureau.columns
        self.decided = Decided()
        self.standing: dict[int, list[tuple[int, date]]] = {}  # guarantor: (amount, until) of guarantees given
        self.credit_village = rng.random(int(people.village.max()) + 1) < CREDIT_VILLAGE_SHARE
        ratings = list(HOUSEHOLD_RATINGS)
        drawn = rng.choice(len(ratings), int(people.household.max()) + 1, p=list(HOUSEHOLD_RATINGS.values()))
        self.household_rating = [ratings[i] for i in drawn.tolist()]

    def decide(self, a: Application) -> None:
        u = self.rng.random(DRAWS)
        admission = apps.evaluate(a.product, "admission", self._admission_facts(a))
        if not admission.outputs["admitted"]:
            self._refused(a, admission)
        elif a.product.has_stage(StageName.INVESTIGATION):
            self._investigated(a, admission, u)
        else:
            self._without_investigation(a, admission, u)

    def _admission_facts(self, a: Application) -> dict[str, Any]:
        c, report = a.customer, self.report
        return {
            **report["feeds"][c],
            "age": _age(self.people.birth[c].item(), a.submitted_at.date()),
            "term_months": a.term,
            "on_blacklist": report["on_blacklist"][c],
            "current_overdue_amount": float(report["current_overdue_amount"][c]),
            "overdue_count_24m": report["overdue_count_24m"][c],
            "max_consecutive_overdue_24m": report["max_consecutive_overdue_24m"][c],
            "loan_queries_3m": report["loan_queries_3m"][c],
        }

    def _refused(self, a: Application, admission: Evaluation) -> None:
        at = a.submitted_at
        reasons = [dict(reason) for reason in admission.outputs.get("reasons") or []]
        app_id = self._application(a, ApplicationState.ADMISSION_REFUSED, at, refusal_reasons=reasons, decided_at=at)
        self.decided.record(app_id, StageName.ADMISSION.value, [admission], at)
        self.decided.event(app_id, Action.REFUSE_ADMISSION, None, ApplicationState.ADMISSION_REFUSED, a.marketer, at,
                           detail=_intake_detail(a, admitted=False))  # fmt: skip

    def _investigated(self, a: Application, admission: Evaluation, u: Floats) -> None:
        t0 = a.submitted_at
        t1 = t0 + MINUTE * (1 + 4 * u[U.ASSIGNED])
        t2 = t1 + MINUTE * (20 + 220 * u[U.INVESTIGATED])
        skilled = self.crew.skilled_in(a.product.code)
        investigator = skilled[int(u[U.INVESTIGATOR] * len(skilled))]
        survey = self._survey(a, u)
        rating = apps.evaluate(a.product, "rating", survey)
        grade = str(rating.outputs["grade"])
        limit = apps.evaluate(a.product, "limit", self._limit_facts(a, survey, grade))
        suggested = int(limit.outputs["suggested_limit"])
        guarantor = self._guarantor(a, suggested, t2, u)
        withdrawal = _withdrawal(a, suggested, guarantor, float(u[U.WITHDRAW]))
        if withdrawal is not None:
            t3 = t2 + timedelta(days=1 + 3 * float(u[U.WITHDRAWN_DAYS]))
            app_id = self._application(a, ApplicationState.WITHDRAWN, t3, investigator_id=investigator, decided_at=t3,
                                       version=3)  # fmt: skip
            self._intake(app_id, a, admission, ApplicationState.AWAITING_ASSIGNMENT)
            self._assigned(app_id, a, investigator, t1)
            self.decided.event(app_id, Action.WITHDRAW, ApplicationState.INVESTIGATING, ApplicationState.WITHDRAWN,
                               a.marketer, t3, WITHDRAWALS[withdrawal])  # fmt: skip
            return
        recommended, reason = suggested, ""
        if u[U.LOWER] < LOWER_RECOMMENDATION_SHARE and suggested >= 2 * a.product.amount.min:
            recommended, reason = max(a.product.amount.min, suggested * 8 // 10 // 1000 * 1000), LOWERED
        figures = {
            "investigator_id": investigator, "rating_grade": grade, "suggested_limit": Decimal(suggested),
            "recommended_limit": Decimal(recommended),
            "investigation": _report(a, self.people, survey, t2 - 30 * MINUTE, recommended, reason, guarantor),
        }  # fmt: skip
        rejected = a.guarantee != GuaranteeType.GUARANTOR and u[U.REJECT] < REJECT_SHARE
        app_id, approve = self._approvals(a, recommended, t2, u, figures, rejected=rejected)
        self._intake(app_id, a, admission, ApplicationState.AWAITING_ASSIGNMENT)
        self._assigned(app_id, a, investigator, t1)
        screened = guarantor[0] if guarantor else []
        self.decided.record(app_id, StageName.INVESTIGATION.value, [rating, limit, *screened], t2)
        self.decided.event(
            app_id, Action.SUBMIT_INVESTIGATION, ApplicationState.INVESTIGATING, ApplicationState.AWAITING_APPROVAL,
            investigator, t2, reason,
            {"grade": grade, "suggested_limit": suggested, "recommended_limit": str(Decimal(recommended))},
        )  # fmt: skip
        approve(app_id, t2)

    def _survey(self, a: Application, u: Floats) -> dict[str, Any]:
        """What the investigator (or the whole-village survey) verified, with what the bank knows: the rating
        decision's facts, and the verified income the limit reads (plain floats, not numpy's: the records'
        JSON encoder takes no numpy scalar)."""
        c = a.customer
        debts = float(self.bureau.debt_elsewhere[c])
        factor = GUARANTEE_FACTOR[a.guarantee]
        income = max(20_000.0, float(round((a.amount + debts) / (2.0 * factor) * (0.6 + 1.4 * u[U.INCOME]), -3)))
        return {
            "income_source": _income_source(self.people, c, a.product.code, float(u[U.SOURCE])).value,
            "income_years": int(1 + u[U.YEARS] * 18),
            "verified_annual_income": income,
            "total_assets": float(round(income * (2 + 8 * u[U.ASSETS]) + a.collateral, -3)),
            "total_debts": float(round(debts + (u[U.SOME_DEBT] < 0.3) * income * u[U.DEBT] * 0.5, -3)),
            "household_credit_rating": self.household_rating[int(self.people.household[c])].value,
            "credit_village": bool(self.credit_village[self.people.village[c]]),
            "avg_deposit_balance_12m": float(self.people.deposit[c]),
            "relationship_years": int(u[U.RELATIONSHIP] * 20),
            "overdue_count_24m": self.report["overdue_count_24m"][c],
            "credit_history_years": self.report["credit_history_years"][c],
        }

    def _limit_facts(self, a: Application, survey: dict[str, Any], grade: str | None) -> dict[str, Any]:
        """The limit decision's facts; a product limited on its collateral alone is given no income or grade."""
        on_income = grade is not None
        return {
            **({"grade": grade, "verified_annual_income": survey["verified_annual_income"]} if on_income else {}),
            "existing_debt": max(survey["total_debts"], float(self.bureau.debt_elsewhere[a.customer])),
            "guarantee_type": a.guarantee.value,
            "requested_amount": float(a.amount),
            **({"collateral_value": float(a.collateral)} if a.collateral else {}),
        }

    def _guarantor(self, a: Application, suggested: int, at: datetime, u: Floats) -> Guarantor | None:
        """The guarantor rated and screened (担保人准入) on the figures the investigator verified, as the platform
        does; None for an application without one."""
        g = a.guarantor
        if a.guarantee != GuaranteeType.GUARANTOR or g < 0:
            return None
        report = self.report
        deposit = float(self.people.deposit[g])
        business = deposit >= 10_000 and u[U.GUARANTOR_SOURCE] < 0.4
        income = max(60_000.0, float(round(suggested * (0.5 + u[U.GUARANTOR_INCOME]), -3)))
        figures = {
            "customer_id": g + 1, "income_source": (IncomeSource.BUSINESS if business else IncomeSource.SALARIED).value,
            "income_years": int(3 + u[U.GUARANTOR_INCOME] * 15), "verified_annual_income": income,
            "total_assets": float(round(income * (3 + 5 * u[U.GUARANTOR_SOURCE]), -3)),
            "total_debts": float(self.bureau.debt_elsewhere[g]),
        }  # fmt: skip
        rating = apps.evaluate(a.product, "rating", {
            **figures, "avg_deposit_balance_12m": deposit, "relationship_years": int(u[U.RELATIONSHIP] * 20),
            "overdue_count_24m": report["overdue_count_24m"][g],
            "credit_history_years": report["credit_history_years"][g],
            "household_credit_rating": HouseholdRating.NONE.value, "credit_village": False,
        })  # fmt: skip
        standing = [amount for amount, until in self.standing.get(g, []) if until >= at.date()]
        screened = apps.evaluate(a.product, "guarantor_admission", {
            "guarantor_grade": rating.outputs["grade"], "guarantees_count": len(standing),
            "guarantees_amount": float(sum(standing)), "new_guarantee_amount": suggested, "annual_income": income,
            "own_debt": figures["total_debts"], "on_blacklist": report["on_blacklist"][g],
            "current_overdue_amount": float(report["current_overdue_amount"][g]),
        })  # fmt: skip
        return [rating, screened], figures

    def _without_investigation(self, a: Application, admission: Evaluation, u: Floats) -> None:
        """整村授信 is rated and limited at admission on the household survey its campaign brought; 存单质押贷 on the
        pledged deposit alone. An application whose limit comes out below the minimum is never taken."""
        survey = self._survey(a, u)
        evaluations, grade = [admission], None
        if any(ref.name == "rating" for ref in a.product.stage(StageName.ADMISSION).decisions):
            evaluations.append(apps.evaluate(a.product, "rating", survey))
            grade = str(evaluations[-1].outputs["grade"])
        evaluations.append(apps.evaluate(a.product, "limit", self._limit_facts(a, survey, grade)))
        limit = min(a.amount, int(evaluations[-1].outputs["suggested_limit"]))
        if limit < a.product.amount.min:
            return
        # the grade is kept on the application: the drawdowns are priced on it
        figures = {"rating_grade": grade, "suggested_limit": Decimal(limit), "recommended_limit": Decimal(limit)}
        app_id, approve = self._approvals(a, limit, a.submitted_at, u, figures, rejected=False)
        self.decided.record(app_id, StageName.ADMISSION.value, evaluations, a.submitted_at)
        self._intake(app_id, a, None, ApplicationState.AWAITING_APPROVAL)
        approve(app_id, a.submitted_at)

    def _intake(self, app_id: int, a: Application, admission: Evaluation | None, target: ApplicationState) -> None:
        if admission is not None:
            self.decided.record(app_id, StageName.ADMISSION.value, [admission], a.submitted_at)
        self.decided.event(app_id, Action.ADMIT, None, target, a.marketer, a.submitted_at,
                           detail=_intake_detail(a, admitted=True))  # fmt: skip

    def _assigned(self, app_id: int, a: Application, investigator: int, at: datetime) -> None:
        self.decided.event(
            app_id, Action.ASSIGN, ApplicationState.AWAITING_ASSIGNMENT, ApplicationState.INVESTIGATING, None, at,
            f"网格覆盖该村、具备{a.product.name_zh}产品技能 / covers the village, product skill {a.product.code}",
            {"investigator_id": investigator},
        )  # fmt: skip

    def _approvals(
        self, a: Application, limit: int, since: datetime, u: Floats, figures: dict[str, Any], *, rejected: bool
    ) -> tuple[int, Any]:
        """The application's row as its approvals leave it, and the function that writes their history (and the
        line) once the history before them is written: events are numbered in the order they happened."""
        tiers = a.product.approval_tiers[: tiers_for(a.product, Decimal(limit))]
        steps: list[tuple[int, datetime, int]] = []  # (tier, when, who)
        at = since
        for number, tier in enumerate(tiers[:1] if rejected else tiers):
            at = at + MINUTE * (10 + 170 * u[U.TIER + number])
            steps.append((number, at, self.crew.deciding(tier.authority, a.township, float(u[U.TIER + number]))))
        deciders = [who for _, _, who in steps]
        rejection = REJECTIONS[int(u[U.REJECTION] * len(REJECTIONS))]
        moves = (2 if a.product.has_stage(StageName.INVESTIGATION) else 0) + len(steps)
        app_id = self._application(
            a, ApplicationState.REJECTED if rejected else ApplicationState.APPROVED, at, **figures,
            approval_tier=steps[-1][0], approver_ids=[] if rejected else deciders, reviewer_ids=sorted(set(deciders)),
            approved_limit=None if rejected else Decimal(limit), decided_at=at, version=1 + moves,
            refusal_reasons=[{"code": "REJECTED_AT_APPROVAL", "text": rejection}] if rejected else [],
        )  # fmt: skip

        def write(application_id: int, investigated_at: datetime) -> None:
            waiting = ApplicationState.AWAITING_APPROVAL
            for number, moment, who in steps:
                if rejected:
                    self.decided.event(application_id, Action.REJECT, waiting, ApplicationState.REJECTED, who,
                                       moment, rejection, {"tier": number})  # fmt: skip
                elif number == len(tiers) - 1:
                    granted = {"tier": number, "approved_limit": str(Decimal(limit))}
                    self.decided.event(application_id, Action.APPROVE, waiting, ApplicationState.APPROVED, who,
                                       moment, detail=granted)  # fmt: skip
                else:
                    self.decided.event(application_id, Action.APPROVE, waiting, waiting, who, moment,
                                       detail={"tier": number, "next_tier": number + 1})  # fmt: skip
            if not rejected:
                self._grant(a, application_id, limit, at, investigated_at, figures["rating_grade"])

        return app_id, write

    def _grant(self, a: Application, app_id: int, limit: int, at: datetime, investigated_at: datetime,
               grade: str | None) -> None:  # fmt: skip
        valid_from = at.date()
        valid_until = months_later(valid_from, a.product.line.validity_months)
        line_id = self.decided.lines.add(
            application_id=app_id, customer_id=a.customer_id, product_code=a.product.code,
            product_version=a.product.version, amount=Decimal(limit), drawn=Decimal(0), reserved=Decimal(0),
            revolving=a.product.line.revolving, valid_from=valid_from, valid_until=valid_until,
            status=LINE_ACTIVE if valid_until >= self.today else LINE_EXPIRED, created_at=at,
        )  # fmt: skip
        guarantees = []
        if a.guarantee == GuaranteeType.GUARANTOR and a.guarantor >= 0:
            guarantees.append(self.decided.guarantees.add(
                application_id=app_id, guarantor_id=a.guarantor + 1, borrower_id=a.customer_id,
                amount=Decimal(limit), status="ACTIVE", created_at=investigated_at,
            ))  # fmt: skip
            self.standing.setdefault(a.guarantor, []).append((limit, valid_until))
        self.decided.granted.append(Granted(
            line_id=line_id, application_id=app_id, customer=a.customer, product=a.product, amount=limit,
            valid_from=valid_from, valid_until=valid_until, granted_at=at, marketer=a.marketer, grade=grade,
            guarantees=tuple(guarantees),
        ))  # fmt: skip

    def _application(self, a: Application, state: ApplicationState, since: datetime, **values: Any) -> int:
        row: dict[str, Any] = {
            "client_id": f"book-{a.number:08d}", "customer_id": a.customer_id, "village_id": a.village_id,
            "outlet_id": self.crew.outlet_of[a.marketer], "marketer_id": a.marketer, "investigator_id": None,
            "product_code": a.product.code, "product_version": a.product.version,
            "product_sha256": a.product.content_hash, "amount": Decimal(a.amount), "term_months": a.term,
            "repayment_method": a.method, "guarantee_type": a.guarantee, "purpose": a.purpose,
            "collateral_value": Decimal(a.collateral) if a.collateral else None, "state": state,
            "approval_tier": None, "tier_authority": None, "approver_ids": [], "reviewer_ids": [],
            "refusal_reasons": [], "rating_grade": None, "suggested_limit": None, "recommended_limit": None,
            "approved_limit": None, "investigation": None, "version": 1, "submitted_at": a.submitted_at,
            "state_since": since, "sla_due": None, "decided_at": None,
        }  # fmt: skip
        return self.decided.applications.add(**{**row, **values})


def _intake_detail(a: Application, *, admitted: bool) -> dict[str, Any]:
    return {"product": f"{a.product.code}@{a.product.version}", "amount": str(Decimal(a.amount)), "admitted": admitted}


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _income_source(people: Clientele, c: int, product: str, draw: float) -> IncomeSource:
    """How the applicant earns, as the investigator finds it: mostly as the product's customers do, else by their
    tags."""
    by_product = {
        "liushui": IncomeSource.BUSINESS,
        "dianshang": IncomeSource.BUSINESS,
        "shimin": IncomeSource.SALARIED,
        "lianbao": IncomeSource.FARMING,
        "zhengcun": IncomeSource.FARMING,
    }
    if product in by_product and draw < 0.85:
        return by_product[product]
    tags = str(people.tags[c])
    for tag, source in (("个体工商户", IncomeSource.BUSINESS), ("电商", IncomeSource.BUSINESS),
                        ("务工", IncomeSource.SALARIED), ("新市民", IncomeSource.SALARIED),
                        ("种植户", IncomeSource.FARMING), ("养殖户", IncomeSource.FARMING)):  # fmt: skip
        if f",{tag}," in tags:
            return source
    return (IncomeSource.SALARIED, IncomeSource.BUSINESS, IncomeSource.FARMING, IncomeSource.OTHER)[int(draw * 4)]


def _withdrawal(a: Application, suggested: int, guarantor: Guarantor | None, draw: float) -> str | None:
    """Why an investigated application was withdrawn, if it was: what the platform would not let be reported."""
    if suggested < a.product.amount.min:
        return "limit"
    if a.guarantee == GuaranteeType.GUARANTOR and (guarantor is None or not guarantor[0][1].outputs["admitted"]):
        return "guarantor"
    return "customer" if draw < WITHDRAW_SHARE else None


def _report(
    a: Application, people: Clientele, survey: dict[str, Any], visited: datetime, recommended: int, reason: str,
    guarantor: Guarantor | None,
) -> dict[str, Any]:  # fmt: skip
    """The investigation report as the platform stores it."""
    yuan = ("verified_annual_income", "total_assets", "total_debts")
    figures = None if guarantor is None else {**guarantor[1], **{k: f"{guarantor[1][k]:.2f}" for k in yuan}}
    return {
        "visited_at": visited.isoformat(), "visit_lon": float(people.lon[a.customer]),
        "visit_lat": float(people.lat[a.customer]), "income_source": survey["income_source"],
        "income_years": survey["income_years"], **{k: f"{survey[k]:.2f}" for k in yuan},
        "household_rating": survey["household_credit_rating"], "in_credit_village": survey["credit_village"],
        "notes": NOTES, "recommended_limit": str(Decimal(recommended)) if reason else None,
        "adjustment_reason": reason, "guarantor": figures,
    }  # fmt: skip


def utc(moments: Ints) -> list[datetime]:
    """Seconds since the epoch as aware datetimes."""
    return [datetime.fromtimestamp(s, UTC) for s in moments.tolist()]
