"""Credit mutations, one per step of the application process, each by its own role: intake, reassignment,
the investigation report, the approval decision and withdrawal. Every one answers the application or a typed
CreditError, and a refused step changes nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

import schema.credit.enums  # noqa: F401  (the credit enums, registered once)
from domain.credit.enums import GuaranteeType as GuaranteeTypeModel
from domain.credit.enums import RepaymentMethod as RepaymentMethodModel
from domain.credit.investigation import (
    MAX_NOTES_LENGTH,
    GuarantorFigures,
    InvestigationReport,
)
from domain.credit.investigation import (
    HouseholdRating as HouseholdRatingModel,
)
from domain.credit.investigation import (
    IncomeSource as IncomeSourceModel,
)
from domain.errors import DomainError
from resolvers.credit import approval, assignment, intake, investigation, views
from resolvers.credit.approval import Verdict as VerdictModel
from schema.credit.types import CreditApplication
from schema.platform.context import Info
from schema.platform.errors import CreditError
from schema.platform.ids import decode_pk
from schema.platform.input_limits import max_length

strawberry.enum(IncomeSourceModel, name="IncomeSource", description="收入来源")
strawberry.enum(HouseholdRatingModel, name="HouseholdRating", description="信用户评定")
strawberry.enum(VerdictModel, name="ApprovalVerdict", description="同意 / 否决 / 退回补充调查")
CreditApplicationResult = Annotated[CreditApplication | CreditError, strawberry.union("CreditApplicationResult")]


@strawberry.type(description="Several applications changed together")
class CreditApplicationList:
    applications: list[CreditApplication]


CreditApplicationListResult = Annotated[
    CreditApplicationList | CreditError, strawberry.union("CreditApplicationListResult")
]


@strawberry.input(description="A new credit application (受理), taken by the customer manager from the app")
class SubmitCreditApplicationInput:
    client_id: str = strawberry.field(
        description="The app's own id for this application (a UUID): sending it again creates nothing twice",
        directives=max_length(64),
    )
    customer_id: strawberry.ID
    product_code: str = strawberry.field(directives=max_length(32))
    amount: Decimal = strawberry.field(description="Yuan, whole")
    term_months: int
    repayment_method: RepaymentMethodModel
    guarantee_type: GuaranteeTypeModel
    purpose: str = strawberry.field(default="", directives=max_length(intake.MAX_PURPOSE_LENGTH))
    collateral_value: Decimal | None = strawberry.field(
        default=None, description="A pledge's deposit or a mortgage's appraised value, yuan (质押/抵押物价值)"
    )


@strawberry.input(description="What the investigator verified of the guarantor (保证人)")
class GuarantorInput:
    customer_id: strawberry.ID
    income_source: IncomeSourceModel
    income_years: int
    verified_annual_income: Decimal
    total_assets: Decimal
    total_debts: Decimal


@strawberry.input(description="The investigation report (授信调查报告)")
class SubmitInvestigationInput:
    application_id: strawberry.ID
    expected_version: int | None = None
    visited_at: datetime.datetime
    visit_lon: float
    visit_lat: float
    income_source: IncomeSourceModel
    income_years: int
    verified_annual_income: Decimal
    total_assets: Decimal
    total_debts: Decimal
    household_rating: HouseholdRatingModel
    in_credit_village: bool = False
    notes: str = strawberry.field(default="", directives=max_length(MAX_NOTES_LENGTH))
    recommended_limit: Decimal | None = strawberry.field(
        default=None, description="Leave out to take the limit decision's suggestion"
    )
    adjustment_reason: str = strawberry.field(default="", directives=max_length(200))
    guarantor: GuarantorInput | None = None


@strawberry.input(description="An approval decision at the tier the application waits at")
class DecideCreditApplicationInput:
    application_id: strawberry.ID
    verdict: VerdictModel
    reason: str = strawberry.field(
        default="", description="Required to reject or return (what is missing)", directives=max_length(500)
    )
    expected_version: int | None = None


@strawberry.input(description="Give applications to another investigator (改派), with a reason")
class ReassignInvestigatorInput:
    application_ids: list[strawberry.ID] = strawberry.field(directives=max_length(assignment.MAX_BULK))
    investigator_id: strawberry.ID
    reason: str = strawberry.field(directives=max_length(assignment.MAX_REASON_LENGTH))


@strawberry.input(description="Withdraw an application (撤回), as the customer asked")
class WithdrawCreditApplicationInput:
    application_id: strawberry.ID
    reason: str = strawberry.field(directives=max_length(500))
    expected_version: int | None = None


def _application_pk(gid: str, field: str = "applicationId") -> int:
    return decode_pk(gid, "CreditApplication", field)


async def _shown(info: Info, application_id: int) -> CreditApplication:
    return CreditApplication.of(await views.get_application(info.context.require_actor(), application_id))


async def submit_credit_application(info: Info, input: SubmitCreditApplicationInput) -> CreditApplicationResult:
    actor = info.context.require_actor()
    try:
        draft = intake.ApplicationDraft(
            client_id=input.client_id,
            customer_id=decode_pk(input.customer_id, "Customer", "customerId"),
            product_code=input.product_code,
            amount=input.amount,
            term_months=input.term_months,
            repayment_method=input.repayment_method,
            guarantee_type=input.guarantee_type,
            purpose=input.purpose,
            collateral_value=input.collateral_value,
        )
        taken = await intake.submit_application(actor, draft)
        return await _shown(info, taken.application.id)
    except DomainError as error:
        return CreditError.from_domain(error)  # type: ignore[no-any-return]


async def submit_investigation(info: Info, input: SubmitInvestigationInput) -> CreditApplicationResult:
    actor = info.context.require_actor()
    try:
        g = input.guarantor
        report = InvestigationReport(
            visited_at=input.visited_at,
            visit_lon=input.visit_lon,
            visit_lat=input.visit_lat,
            income_source=input.income_source,
            income_years=input.income_years,
            verified_annual_income=input.verified_annual_income,
            total_assets=input.total_assets,
            total_debts=input.total_debts,
            household_rating=input.household_rating,
            in_credit_village=input.in_credit_village,
            notes=input.notes,
            recommended_limit=input.recommended_limit,
            adjustment_reason=input.adjustment_reason,
            guarantor=GuarantorFigures(
                customer_id=decode_pk(g.customer_id, "Customer", "guarantor.customerId"),
                income_source=g.income_source,
                income_years=g.income_years,
                verified_annual_income=g.verified_annual_income,
                total_assets=g.total_assets,
                total_debts=g.total_debts,
            )
            if g is not None
            else None,
        )
        pk = _application_pk(input.application_id)
        await investigation.submit_investigation(actor, pk, report, expected_version=input.expected_version)
        return await _shown(info, pk)
    except DomainError as error:
        return CreditError.from_domain(error)  # type: ignore[no-any-return]


async def decide_credit_application(info: Info, input: DecideCreditApplicationInput) -> CreditApplicationResult:
    actor = info.context.require_actor()
    try:
        pk = _application_pk(input.application_id)
        verdict = input.verdict
        await approval.decide(actor, pk, verdict, input.reason, expected_version=input.expected_version)
        return await _shown(info, pk)
    except DomainError as error:
        return CreditError.from_domain(error)  # type: ignore[no-any-return]


async def reassign_investigator(info: Info, input: ReassignInvestigatorInput) -> CreditApplicationListResult:
    actor = info.context.require_actor()
    try:
        pks = [_application_pk(gid, "applicationIds") for gid in input.application_ids]
        staff_pk = decode_pk(input.investigator_id, "Staff", "investigatorId")
        moved = await assignment.reassign(actor, pks, staff_pk, input.reason)
        shown = await views.views_of(actor, moved)
        return CreditApplicationList(applications=[CreditApplication.of(v) for v in shown])
    except DomainError as error:
        return CreditError.from_domain(error)  # type: ignore[no-any-return]


async def withdraw_credit_application(info: Info, input: WithdrawCreditApplicationInput) -> CreditApplicationResult:
    actor = info.context.require_actor()
    try:
        pk = _application_pk(input.application_id)
        await approval.withdraw(actor, pk, input.reason, expected_version=input.expected_version)
        return await _shown(info, pk)
    except DomainError as error:
        return CreditError.from_domain(error)  # type: ignore[no-any-return]


@strawberry.type
class Mutation:
    submit_credit_application: CreditApplicationResult = strawberry.mutation(
        resolver=submit_credit_application,
        description="Take a credit application (受理, customer manager); admission runs at once",
    )
    submit_investigation: CreditApplicationResult = strawberry.mutation(
        resolver=submit_investigation,
        description="File the investigation report (授信调查, the assigned investigator); rating and limit run on it",
    )
    decide_credit_application: CreditApplicationResult = strawberry.mutation(
        resolver=decide_credit_application,
        description="Approve, reject or return an application at its approval tier (授信审批)",
    )
    reassign_investigator: CreditApplicationListResult = strawberry.mutation(
        resolver=reassign_investigator,
        description="Give applications of your branch to another investigator (改派, branch president)",
    )
    withdraw_credit_application: CreditApplicationResult = strawberry.mutation(
        resolver=withdraw_credit_application,
        description="Withdraw an application at the customer's request (撤回, the customer manager who took it)",
    )
