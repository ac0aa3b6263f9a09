"""Intake (受理): a customer manager takes a credit application from the app, for a customer they serve, on a
product on sale. Admission (准入) runs at once on the customer's credit-bureau summary and the bank's own data,
and either refuses with its reasons in words or lets the application through to assignment.

Idempotent by the app's own id: a resend after a dropped connection returns the application the first send
created, and the same id with different terms is refused, so nothing is ever created twice."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from tortoise.exceptions import IntegrityError

from domain.access import Actor, Role
from domain.credit.decisions import Evaluation
from domain.credit.enums import GuaranteeType, RepaymentMethod
from domain.credit.errors import CreditErrorCode
from domain.credit.investigation import yuan
from domain.credit.process import StageName
from domain.credit.products import GUARANTOR_ADMISSION, Product, Stage
from domain.credit.workflow import Action, ApplicationState
from domain.errors import DomainError, ErrorCode, forbidden
from domain.text import checked_text
from models import CreditApplication, CreditReport, Customer, GridNode
from resolvers.credit import applications as apps
from resolvers.credit.assignment import start_assignment
from resolvers.credit.investigation import notify_tier
from resolvers.customers.browse import find_customer
from resolvers.platform.unit_of_work import unit_of_work

CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
MAX_PURPOSE_LENGTH = 200


@dataclass(frozen=True)
class ApplicationDraft:
    client_id: str
    customer_id: int
    product_code: str
    amount: Decimal
    term_months: int
    repayment_method: RepaymentMethod
    guarantee_type: GuaranteeType
    purpose: str = ""
    collateral_value: Decimal | None = None  # the pledged deposit or the appraised property, yuan

    def same_terms(self, application: CreditApplication) -> bool:
        return (
            application.customer_id == self.customer_id  # type: ignore[attr-defined]
            and application.product_code == self.product_code
            and Decimal(application.amount) == self.amount
            and application.term_months == self.term_months
            and application.repayment_method == self.repayment_method
            and application.guarantee_type == self.guarantee_type
            and (None if application.collateral_value is None else Decimal(application.collateral_value))
            == self.collateral_value
        )


@dataclass(frozen=True)
class Intake:
    application: CreditApplication
    created: bool  # False: a resend of an application already taken


def _client_id(value: str) -> str:
    client_id = value.strip()
    if not CLIENT_ID.fullmatch(client_id):
        raise DomainError(
            ErrorCode.INVALID_VALUE,
            "客户端编号应为8至64位字母、数字、连字符或下划线(如 UUID)",
            "the client id is 8 to 64 letters, digits, hyphens or underscores (a UUID, say)",
            "clientId",
        )
    return client_id


def _amount(value: Decimal) -> Decimal:
    try:
        ok = value.is_finite() and value > 0
    except InvalidOperation:
        ok = False
    if not ok:
        raise DomainError(CreditErrorCode.INVALID_AMOUNT, "金额须为正数", "the amount must be positive", "amount")
    return value


def _purpose(value: str) -> str:
    return checked_text(value, field="purpose", what_zh="用途", what_en="purpose", max_length=MAX_PURPOSE_LENGTH)


SECURED = frozenset({GuaranteeType.PLEDGE, GuaranteeType.MORTGAGE})


def _collateral(draft: ApplicationDraft) -> Decimal | None:
    """A pledge or a mortgage is worth what is pledged (存单金额) or appraised (评估价值); nothing else has one."""
    if draft.guarantee_type not in SECURED:
        if draft.collateral_value is not None:
            raise DomainError(
                ErrorCode.INVALID_VALUE,
                "只有质押或抵押方式填写押品价值",
                "only a pledge or a mortgage has a collateral value",
                "collateralValue",
            )
        return None
    if draft.collateral_value is None:
        raise DomainError(
            ErrorCode.INVALID_VALUE, "质押或抵押方式须填写押品价值", "give the collateral's value", "collateralValue"
        )
    return yuan(draft.collateral_value, "collateralValue", positive=True)


def _product(code: str, today: date) -> Product:
    try:
        return apps.catalogue().current(code, today)
    except DomainError as error:
        error.field = "productCode"
        raise


def _age(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def admission_facts(customer: Customer, report: CreditReport, term_months: int, today: date) -> dict[str, Any]:
    """The admission decision's inputs: the bureau summary, and the figures the bank imports beside it
    (QR-payment turnover, the car-loan record, social-security contributions, an e-commerce shop's record)
    where it has them."""
    return {
        **(report.feeds or {}),
        "age": _age(customer.birth_date, today),
        "term_months": term_months,
        "on_blacklist": report.on_blacklist,
        "current_overdue_amount": float(report.current_overdue_amount),
        "overdue_count_24m": report.overdue_count_24m,
        "max_consecutive_overdue_24m": report.max_consecutive_overdue_24m,
        "loan_queries_3m": report.loan_queries_3m,
    }


async def submit_application(actor: Actor, draft: ApplicationDraft, *, today: date | None = None) -> Intake:
    """Take an application (受理) and run admission on it, in one transaction."""
    if not actor.has(Role.CUSTOMER_MANAGER):
        raise forbidden("受理授信申请", "take credit applications")
    client_id = _client_id(draft.client_id)
    earlier = await CreditApplication.get_or_none(marketer_id=actor.staff_id, client_id=client_id)
    if earlier is not None:
        return _resent(earlier, draft)
    at = apps.now()
    today = today or at.date()
    product = _product(draft.product_code, today)
    amount = _amount(draft.amount)
    product.check_amount(amount, "amount")
    product.check_term(draft.term_months, "termMonths")
    product.check_method(draft.repayment_method, "repaymentMethod")
    product.check_guarantee(draft.guarantee_type, "guaranteeType")
    purpose = _purpose(draft.purpose)
    collateral = _collateral(draft)
    customer = await find_customer(actor, draft.customer_id)
    _placed(customer)
    report = await apps.latest_report(customer.id)
    admission = apps.evaluate(product, "admission", admission_facts(customer, report, draft.term_months, today))
    admitted = bool(admission.outputs["admitted"])
    reasons = [dict(r) for r in admission.outputs.get("reasons") or []]
    state, next_stage = _after_admission(product, admitted)
    tier = product.approval_tiers[0] if state == ApplicationState.AWAITING_APPROVAL else None
    evaluations = [admission]
    limit = amount
    if tier is not None:  # no investigation: decided now, on the file, the bureau and the collateral
        evaluations += _decided_without_investigation(product, customer, report, draft, collateral)
        limit = min(amount, Decimal(int(evaluations[-1].outputs["suggested_limit"])))
        product.check_amount(limit, "amount")
    try:
        async with unit_of_work() as uow:
            application = await CreditApplication.create(
                client_id=client_id,
                customer_id=customer.id,
                village_id=customer.village_id,  # type: ignore[attr-defined]
                outlet_id=actor.outlet_id,
                marketer_id=actor.staff_id,
                product_code=product.code,
                product_version=product.version,
                product_sha256=product.content_hash,
                amount=amount,
                term_months=draft.term_months,
                repayment_method=draft.repayment_method,
                guarantee_type=draft.guarantee_type,
                purpose=purpose,
                state=state,
                refusal_reasons=reasons,
                approval_tier=0 if tier else None,
                tier_authority=tier.authority.value if tier else None,
                rating_grade=next((str(e.outputs["grade"]) for e in evaluations if e.decision == "rating"), None),
                suggested_limit=limit if tier else None,
                recommended_limit=limit if tier else None,
                collateral_value=collateral,
                submitted_at=at,
                state_since=at,
                sla_due=at + next_stage.sla if next_stage else None,
                decided_at=None if admitted else at,
            )
            await apps.record_decisions(application.id, StageName.ADMISSION.value, evaluations)
            action = Action.ADMIT if admitted else Action.REFUSE_ADMISSION
            await apps.entered(
                uow, application, action, actor,
                {"product": f"{product.code}@{product.version}", "amount": str(amount), "admitted": admitted},
            )  # fmt: skip
            if state == ApplicationState.AWAITING_ASSIGNMENT:  # the assignment run picks it up
                await start_assignment(uow)
            elif state == ApplicationState.AWAITING_APPROVAL:
                await notify_tier(uow, application, await village_path_of(customer))
    except IntegrityError:  # the same id sent twice at once: the other send created it
        earlier = await CreditApplication.get_or_none(marketer_id=actor.staff_id, client_id=client_id)
        if earlier is None:
            raise
        return _resent(earlier, draft)
    return Intake(application, created=True)


def _after_admission(product: Product, admitted: bool) -> tuple[ApplicationState, Stage | None]:
    """Where admission sends an application: refused; to assignment and investigation; or, for a product
    without them (a pledge loan, a whole-village line), straight to its first approval tier on the amount
    applied for."""
    if not admitted:
        return ApplicationState.ADMISSION_REFUSED, None
    if product.has_stage(StageName.ASSIGNMENT):
        return ApplicationState.AWAITING_ASSIGNMENT, product.stage(StageName.ASSIGNMENT)
    return ApplicationState.AWAITING_APPROVAL, product.stage(StageName.APPROVAL)


def _decided_without_investigation(
    product: Product, customer: Customer, report: CreditReport, draft: ApplicationDraft, collateral: Decimal | None
) -> list[Evaluation]:
    """For a product without investigation: the other decisions its admission stage runs (a rating on what the
    bank knows; a guarantor is screened when one is named at investigation, so not here), then the limit."""
    facts: dict[str, Any] = {
        "existing_debt": float(report.total_debt),
        "guarantee_type": draft.guarantee_type.value,
        "requested_amount": float(draft.amount),
        "avg_deposit_balance_12m": float(customer.deposit_balance),
        "overdue_count_24m": report.overdue_count_24m,
        "credit_history_years": report.credit_history_years,
        **({"collateral_value": float(collateral)} if collateral is not None else {}),
    }
    done = []
    for ref in product.stage(StageName.ADMISSION).decisions:
        if ref.name in {"admission", GUARANTOR_ADMISSION}:
            continue
        evaluation = apps.evaluate(product, ref.name, facts)
        if ref.name == "rating":
            facts["grade"] = evaluation.outputs["grade"]
        done.append(evaluation)
    return [*done, apps.evaluate(product, "limit", facts)]


async def village_path_of(customer: Customer) -> str | None:
    return await GridNode.filter(id=customer.village_id).first().values_list("path", flat=True)  # type: ignore[attr-defined, return-value]


def _placed(customer: Customer) -> None:
    """Applications are taken for customers placed in a village: the grid decides who works on them."""
    if customer.village_id is None:  # type: ignore[attr-defined]
        raise DomainError(
            CreditErrorCode.WRONG_STATE,
            "该客户尚未归属到村,请先完成网格归属",
            "this customer is not placed in a village yet; place them first",
            "customerId",
        )


def _resent(earlier: CreditApplication, draft: ApplicationDraft) -> Intake:
    if not draft.same_terms(earlier):
        raise DomainError(
            CreditErrorCode.CLIENT_ID_REUSED,
            "该客户端编号已用于另一笔申请",
            "this client id was used for another application",
            "clientId",
        )
    return Intake(earlier, created=False)
