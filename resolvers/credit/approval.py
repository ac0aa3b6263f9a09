"""Approval (授信审批), tier by tier as the product configures: an amount is approved by every tier from the first
up to the one whose range holds it (an approver, then the branch president, then the head-office credit
committee), each by a different person who is neither the marketer nor the investigator. An approver approves,
rejects with reasons, or returns the application for more investigation saying what is missing. The last
approval grants the credit line (授信额度) and the customer's credit figures follow from their lines.

Two approvers acting at once: the state machine's step is written with the version both read, so exactly one
decision wins and the other is told the application has just been decided."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal
from enum import StrEnum

from tortoise.functions import Sum

from domain.access import Actor
from domain.credit.process import StageName
from domain.credit.products import Product
from domain.credit.workflow import Action, ApplicationFacts, ApplicationState
from domain.text import checked_text
from models import CreditApplication, CreditLine, Customer, Guarantee
from resolvers.credit import applications as apps
from resolvers.credit.investigation import notify_tier
from resolvers.platform.unit_of_work import UnitOfWork, unit_of_work

MAX_REASON_LENGTH = 500
DECIDED_KIND = "credit.application_decided"
RETURNED_KIND = "credit.application_returned"


class Verdict(StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"
    RETURN = "RETURN"  # 退回补充调查


def tiers_for(product: Product, amount: Decimal) -> int:
    """How many tiers an amount passes: every tier up to and including the one whose range holds it."""
    last = product.approval_tiers.index(product.tier_for(amount))
    return last + 1


def months_later(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


async def decide(
    actor: Actor, application_id: int, verdict: Verdict, reason: str = "", *, expected_version: int | None = None
) -> CreditApplication:
    """The approver's decision at the tier the application waits at."""
    application, facts = await apps.find_application(actor, application_id)
    if expected_version is not None and expected_version != application.version:
        raise apps.stale()
    text = checked_text(
        reason, field="reason", what_zh="审批意见", what_en="reason", max_length=MAX_REASON_LENGTH,
        required=verdict != Verdict.APPROVE,
    )  # fmt: skip
    async with unit_of_work() as uow:
        if verdict == Verdict.REJECT:
            await _reject(uow, application, facts, actor, text)
        elif verdict == Verdict.RETURN:
            await _return(uow, application, facts, actor, text)
        else:
            await _approve(uow, application, facts, actor, text)
    return application


async def _approve(
    uow: UnitOfWork, application: CreditApplication, facts: ApplicationFacts, actor: Actor, text: str
) -> None:
    product = apps.product_of(application)
    limit = Decimal(application.recommended_limit or application.amount)
    tier = application.approval_tier or 0
    approvers = [*application.approver_ids, actor.staff_id]
    now = apps.now()
    if tier + 1 < tiers_for(product, limit):
        following = product.approval_tiers[tier + 1]
        await apps.move(
            uow, application, facts, Action.APPROVE, actor, ApplicationState.AWAITING_APPROVAL,
            reason=text, detail={"tier": tier, "next_tier": tier + 1},
            changes={"approval_tier": tier + 1, "tier_authority": following.authority.value, "approver_ids": approvers,
                     "reviewer_ids": _reviewers(application, actor),
                     "sla_due": now + product.stage(StageName.APPROVAL).sla},
        )  # fmt: skip
        await notify_tier(uow, application, facts.village_path)
        return
    await apps.move(
        uow, application, facts, Action.APPROVE, actor, ApplicationState.APPROVED,
        reason=text, detail={"tier": tier, "approved_limit": str(limit)},
        changes={"approver_ids": approvers, "reviewer_ids": _reviewers(application, actor), "approved_limit": limit,
                 "decided_at": now, "sla_due": None,
                 "tier_authority": None},
    )  # fmt: skip
    await grant_line(application, product, limit, now.date())
    await _tell_marketer(uow, application, "已批准", "approved", f"{limit:,.0f}")


def _reviewers(application: CreditApplication, actor: Actor) -> list[int]:
    return sorted({*application.reviewer_ids, actor.staff_id})


async def grant_line(application: CreditApplication, product: Product, limit: Decimal, today: date) -> CreditLine:
    """The credit line the approval grants, and the customer's credit figure as the sum of their active lines."""
    line = await CreditLine.create(
        application_id=application.id,
        customer_id=application.customer_id,  # type: ignore[attr-defined]
        product_code=product.code,
        product_version=product.version,
        amount=limit,
        revolving=product.line.revolving,
        valid_from=today,
        valid_until=months_later(today, product.line.validity_months),
        created_at=apps.now(),
    )
    await Guarantee.filter(application_id=application.id).update(status="ACTIVE")
    await project_lines(application.customer_id)  # type: ignore[attr-defined]
    return line


async def project_lines(customer_id: int) -> None:
    """Customer.credit_line is a projection of the customer's active lines (授信额度合计)."""
    total = (
        await CreditLine.filter(customer_id=customer_id, status="ACTIVE")
        .annotate(total=Sum("amount"))
        .first()
        .values_list("total", flat=True)
    )
    await Customer.filter(id=customer_id).update(credit_line=Decimal(str(total or 0)))


async def _reject(
    uow: UnitOfWork, application: CreditApplication, facts: ApplicationFacts, actor: Actor, text: str
) -> None:
    await apps.move(
        uow, application, facts, Action.REJECT, actor, ApplicationState.REJECTED,
        reason=text, detail={"tier": application.approval_tier},
        changes={"decided_at": apps.now(), "sla_due": None, "tier_authority": None,
                 "reviewer_ids": _reviewers(application, actor),
                 "refusal_reasons": [{"code": "REJECTED_AT_APPROVAL", "text": text}]},
    )  # fmt: skip
    await _tell_marketer(uow, application, "未获批准", "rejected", text)


async def _return(
    uow: UnitOfWork, application: CreditApplication, facts: ApplicationFacts, actor: Actor, text: str
) -> None:
    product = apps.product_of(application)
    await apps.move(
        uow, application, facts, Action.RETURN_FOR_INVESTIGATION, actor, ApplicationState.INVESTIGATING,
        reason=text, detail={"tier": application.approval_tier, "missing": text},
        changes={"approval_tier": None, "tier_authority": None, "reviewer_ids": _reviewers(application, actor),
                 "sla_due": apps.now() + product.stage(StageName.INVESTIGATION).sla},
    )  # fmt: skip
    if application.investigator_id is not None:  # type: ignore[attr-defined]
        await uow.notify(
            application.investigator_id,  # type: ignore[attr-defined]
            RETURNED_KIND,
            "授信申请退回补充调查 / an application was returned for more investigation",
            text,
            {"application_id": application.id},
        )


async def _tell_marketer(uow: UnitOfWork, application: CreditApplication, zh: str, en: str, detail: str) -> None:
    await uow.notify(
        application.marketer_id,  # type: ignore[attr-defined]
        DECIDED_KIND,
        f"授信申请{zh} / an application was {en}",
        detail,
        {"application_id": application.id, "state": application.state},
    )


async def withdraw(
    actor: Actor, application_id: int, reason: str, *, expected_version: int | None = None
) -> CreditApplication:
    """The customer withdraws (撤回), through the customer manager who took the application."""
    application, facts = await apps.find_application(actor, application_id)
    if expected_version is not None and expected_version != application.version:
        raise apps.stale()
    text = checked_text(
        reason, field="reason", what_zh="撤回原因", what_en="reason", max_length=MAX_REASON_LENGTH, required=True
    )
    async with unit_of_work() as uow:
        await apps.move(
            uow, application, facts, Action.WITHDRAW, actor, ApplicationState.WITHDRAWN, reason=text,
            changes={"decided_at": apps.now(), "sla_due": None, "tier_authority": None},
        )  # fmt: skip
    return application
