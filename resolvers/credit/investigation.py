"""Investigation (授信调查): the assigned credit investigator files the report of their visit; the rating (评级)
and limit (额度测算) decisions run on it, and for a guaranteed loan the guarantor is rated and screened by
guarantor admission (担保人准入). The investigator may recommend a limit other than the suggestion, with a
reason. The application then waits for its first approval tier."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.access import Actor, Role
from domain.credit.decisions import Evaluation
from domain.credit.enums import GuaranteeType
from domain.credit.errors import CreditErrorCode
from domain.credit.investigation import GuarantorFigures, InvestigationReport, checked_report
from domain.credit.process import StageName
from domain.credit.products import Product
from domain.credit.workflow import Action, ApplicationState
from domain.errors import DomainError, ErrorCode, not_found
from models import CreditApplication, CreditReport, Customer, Guarantee, Staff
from resolvers.credit import applications as apps
from resolvers.platform.unit_of_work import UnitOfWork, unit_of_work

NOTICE_KIND = "credit.application_to_approve"


def _years_since(moment: datetime, now: datetime) -> int:
    return max(0, (now - moment).days // 365)


def rating_facts(
    figures: InvestigationReport | GuarantorFigures, customer: Customer, report: CreditReport, now: datetime,
    *, household: str, credit_village: bool,
) -> dict[str, Any]:  # fmt: skip
    return {
        "income_source": figures.income_source.value,
        "income_years": figures.income_years,
        "total_assets": float(figures.total_assets),
        "total_debts": float(figures.total_debts),
        "avg_deposit_balance_12m": float(customer.deposit_balance),
        "relationship_years": _years_since(customer.created_at, now),
        "overdue_count_24m": report.overdue_count_24m,
        "credit_history_years": report.credit_history_years,
        "household_credit_rating": household,
        "credit_village": credit_village,
    }


def _serialised(report: InvestigationReport) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return plain(asdict(report))  # type: ignore[no-any-return]


async def _guarantor(
    application: CreditApplication, figures: GuarantorFigures | None, suggested: int, now: datetime
) -> list[Evaluation]:
    """Rate the guarantor and screen them (担保人准入); refuse the report when they are not admitted."""
    if application.guarantee_type != GuaranteeType.GUARANTOR:
        if figures is not None:
            raise DomainError(
                ErrorCode.INVALID_VALUE,
                "该申请不是保证方式,无需保证人",
                "this application takes no guarantor",
                "guarantor",
            )
        return []
    if figures is None:
        raise DomainError(
            ErrorCode.INVALID_VALUE, "保证方式须提供保证人", "a guaranteed loan needs its guarantor", "guarantor"
        )
    if figures.customer_id == application.customer_id:  # type: ignore[attr-defined]
        raise DomainError(
            ErrorCode.INVALID_VALUE,
            "保证人不能是借款人本人",
            "the borrower cannot guarantee their own loan",
            "guarantor.customerId",
        )
    guarantor = await Customer.get_or_none(id=figures.customer_id)
    if guarantor is None:
        raise not_found("保证人", "guarantor", "guarantor.customerId")
    report = await apps.latest_report(guarantor.id)
    product = apps.product_of(application)
    rating = apps.evaluate(
        product, "rating", rating_facts(figures, guarantor, report, now, household="NONE", credit_village=False)
    )
    screened = apps.evaluate(
        product,
        "guarantor_admission",
        {
            "guarantor_grade": rating.outputs["grade"],
            "guarantees_count": report.guarantees_count,
            "guarantees_amount": float(report.guarantees_amount),
            "new_guarantee_amount": suggested,
            "annual_income": float(figures.verified_annual_income),
            "own_debt": float(figures.total_debts),
            "on_blacklist": report.on_blacklist,
            "current_overdue_amount": float(report.current_overdue_amount),
        },
    )
    if not screened.outputs["admitted"]:
        reasons = screened.outputs.get("reasons") or []
        texts = "; ".join(str(r.get("text", r.get("code"))) for r in reasons)
        codes = ", ".join(str(r.get("code")) for r in reasons)
        raise DomainError(
            CreditErrorCode.GUARANTOR_NOT_ADMITTED,
            f"保证人未通过担保人准入:{texts}",
            f"the guarantor is not admitted: {codes}",
            "guarantor.customerId",
        )
    return [rating, screened]


def _recommended(
    product: Product, application: CreditApplication, suggested: int, report: InvestigationReport
) -> Decimal:
    recommended = report.recommended_limit if report.recommended_limit is not None else Decimal(suggested)
    product.check_amount(recommended, "recommendedLimit")
    if recommended > Decimal(application.amount):
        raise DomainError(
            CreditErrorCode.LIMIT_ABOVE_APPLIED,
            f"建议额度不能高于申请金额{Decimal(application.amount):,.0f}元",
            f"the recommended limit cannot exceed the ¥{Decimal(application.amount):,.0f} applied for",
            "recommendedLimit",
        )
    if recommended != suggested and not report.adjustment_reason:
        raise DomainError(
            CreditErrorCode.REASON_REQUIRED,
            f"建议额度与测算额度{suggested:,}元不同,请说明调整原因",
            f"the recommended limit differs from the suggested ¥{suggested:,}: give the reason for the adjustment",
            "adjustmentReason",
        )
    return recommended


async def submit_investigation(
    actor: Actor, application_id: int, report: InvestigationReport, *, expected_version: int | None = None
) -> CreditApplication:
    """The investigator's report, its decisions and the move to the first approval tier, in one transaction."""
    application, facts = await apps.find_application(actor, application_id)
    if expected_version is not None and expected_version != application.version:
        raise apps.stale()
    now = apps.now()
    checked = checked_report(report, now=now)
    product = apps.product_of(application)
    customer = await Customer.get(id=application.customer_id)  # type: ignore[attr-defined]
    bureau = await apps.latest_report(customer.id)
    rating = apps.evaluate(
        product,
        "rating",
        rating_facts(checked, customer, bureau, now, household=checked.household_rating.value,
                     credit_village=checked.in_credit_village),
    )  # fmt: skip
    limit = apps.evaluate(
        product,
        "limit",
        {
            "grade": rating.outputs["grade"],
            "verified_annual_income": float(checked.verified_annual_income),
            "existing_debt": float(max(checked.total_debts, Decimal(bureau.total_debt))),
            "guarantee_type": application.guarantee_type,
            "requested_amount": float(application.amount),
            **({"collateral_value": float(application.collateral_value)} if application.collateral_value else {}),
        },
    )
    suggested = int(limit.outputs["suggested_limit"])
    guarantor = await _guarantor(application, checked.guarantor, suggested, now)
    recommended = _recommended(product, application, suggested, checked)
    tier = product.approval_tiers[0]
    approval = product.stage(StageName.APPROVAL)
    async with unit_of_work() as uow:
        await apps.move(
            uow, application, facts, Action.SUBMIT_INVESTIGATION, actor, ApplicationState.AWAITING_APPROVAL,
            reason=checked.adjustment_reason,
            detail={"grade": rating.outputs["grade"], "suggested_limit": suggested,
                    "recommended_limit": str(recommended)},
            changes={
                "rating_grade": rating.outputs["grade"],
                "suggested_limit": Decimal(suggested),
                "recommended_limit": recommended,
                "investigation": _serialised(checked),
                "approval_tier": 0,
                "tier_authority": tier.authority.value,
                "approver_ids": [],
                "sla_due": now + approval.sla,
            },
        )  # fmt: skip
        await apps.record_decisions(application.id, StageName.INVESTIGATION.value, [rating, limit, *guarantor])
        await Guarantee.filter(application_id=application.id).delete()  # a report filed again after a return
        if checked.guarantor is not None:
            await Guarantee.create(
                application_id=application.id, guarantor_id=checked.guarantor.customer_id,
                borrower_id=application.customer_id, amount=recommended, created_at=now,  # type: ignore[attr-defined]
            )  # fmt: skip
        await notify_tier(uow, application, facts.village_path)
    return application


async def notify_tier(uow: UnitOfWork, application: CreditApplication, village_path: str | None) -> int:
    """Tell whoever holds the authority of the tier the application now waits at (never its marketer or
    investigator): the approvers, the branch president(s) of its grid, or head office."""
    authority = application.tier_authority
    if authority is None:
        return 0
    product = apps.product_of(application)
    tier = product.approval_tiers[application.approval_tier or 0]
    excluded = {application.marketer_id, application.investigator_id, *application.approver_ids}  # type: ignore[attr-defined]
    told = 0
    for staff in await Staff.filter(is_active=True, roles__contains=[authority]).prefetch_related("scope"):
        paths = [n.path for n in staff.scope]
        covers = not paths or (village_path is not None and any(village_path.startswith(p) for p in paths))
        if authority == Role.BRANCH_PRESIDENT.value and not paths:
            covers = False
        if staff.id in excluded or not covers:
            continue
        amount = f"{Decimal(application.recommended_limit or application.amount):,.0f}"
        await uow.notify(
            staff.id,
            NOTICE_KIND,
            f"授信申请待{tier.name_zh}:{amount}元 / an application for ¥{amount} awaits {tier.name_en} approval",
            f"{product.name_zh} / {product.name_en}",
            {"application_id": application.id, "tier": application.approval_tier},
        )
        told += 1
    return told
