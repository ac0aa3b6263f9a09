"""Changes to an approved credit line's amount (额度调整), maker-checker: one person proposes the new amount
with a reason, a second confirms or rejects it; the line keeps its amount until confirmed. Both must hold the
approval authority of the tier the new amount falls in, and neither may be the application's marketer or
investigator (三岗分离); the checker is not the maker. A line is never set below what is drawn or held on it."""

from __future__ import annotations

from decimal import Decimal

from domain.access import Actor, Role
from domain.credit.errors import CreditErrorCode
from domain.credit.investigation import yuan
from domain.credit.workflow import ApplicationFacts
from domain.errors import DomainError, ErrorCode, not_found
from domain.grid.paths import inside
from domain.text import checked_text
from models import CreditApplication, CreditLine, LimitChange
from resolvers.credit import applications as apps
from resolvers.credit.approval import project_lines
from resolvers.platform.unit_of_work import unit_of_work

PROPOSED, CONFIRMED, REJECTED = "PROPOSED", "CONFIRMED", "REJECTED"


def _authorised(actor: Actor, facts: ApplicationFacts, authority: Role) -> None:
    if not actor.has(authority) or (
        authority == Role.BRANCH_PRESIDENT
        and not (facts.village_path and inside(facts.village_path, actor.scope_paths))
    ):
        raise DomainError(
            CreditErrorCode.WRONG_ROLE,
            "新额度所在审批层级不属于您的审批权限",
            "the new amount's approval tier is not within your authority",
            "amount",
        )
    if actor.staff_id in {facts.marketer_id, facts.investigator_id}:
        raise DomainError(
            CreditErrorCode.SEPARATION_OF_DUTIES,
            "三岗分离:营销或调查该申请的人不能调整其额度",
            "separation of duties: whoever marketed or investigated the application may not change its limit",
        )


async def propose(actor: Actor, line_id: int, amount: Decimal, reason: str) -> LimitChange:
    line, application, facts = await apps.find_line(actor, line_id)
    text = checked_text(reason, field="reason", what_zh="调整原因", what_en="reason", max_length=500, required=True)
    new = yuan(amount, "amount", positive=True)
    product = apps.product_of(application)
    _authorised(actor, facts, product.tier_for(new).authority)  # tier_for checks the product's range
    if new < Decimal(line.drawn) + Decimal(line.reserved):
        raise DomainError(
            CreditErrorCode.LIMIT_BELOW_DRAWN,
            f"新额度不能低于已用及占用额度{Decimal(line.drawn) + Decimal(line.reserved):,.2f}元",
            f"the new limit cannot be below the ¥{Decimal(line.drawn) + Decimal(line.reserved):,.2f} drawn and held",
            "amount",
        )
    if await LimitChange.filter(line_id=line.id, status=PROPOSED).exists():
        raise DomainError(
            CreditErrorCode.WRONG_STATE,
            "该额度已有待复核的调整",
            "a change to this line already awaits checking",
            "lineId",
        )
    async with unit_of_work() as uow:
        change = await LimitChange.create(
            line_id=line.id, from_amount=line.amount, to_amount=new, reason=text, maker_id=actor.staff_id,
            created_at=apps.now(),
        )  # fmt: skip
        await uow.audit(actor, "credit_line.propose_change", "CreditLine", line.id,
                        {"from": str(line.amount), "to": str(new), "reason": text})  # fmt: skip
    return change


async def decide(actor: Actor, change_id: int, confirm: bool, reason: str = "") -> LimitChange:
    change = await LimitChange.get_or_none(id=change_id)
    if change is None:
        raise not_found("额度调整", "limit change", "changeId")
    # the checker may not see the application otherwise (it was approved by others): their authority over the
    # new amount's tier is what lets them see and check the change; anyone else is told it does not exist
    line = await CreditLine.get(id=change.line_id)  # type: ignore[attr-defined]
    application = await CreditApplication.get(id=line.application_id)  # type: ignore[attr-defined]
    facts = await apps.facts_of(application)
    try:
        _authorised(actor, facts, apps.product_of(application).tier_for(Decimal(change.to_amount)).authority)
    except DomainError as refused:
        if refused.code == CreditErrorCode.WRONG_ROLE:
            raise not_found("额度调整", "limit change", "changeId") from None
        raise
    if change.status != PROPOSED:
        raise DomainError(CreditErrorCode.WRONG_STATE, "该调整已复核", "this change has been decided", "changeId")
    if actor.staff_id == change.maker_id:  # type: ignore[attr-defined]
        raise DomainError(
            CreditErrorCode.SEPARATION_OF_DUTIES,
            "调整须由另一人复核",
            "a change is checked by someone other than its maker",
        )
    new = Decimal(change.to_amount)
    text = checked_text(reason, field="reason", what_zh="复核意见", what_en="reason", max_length=500,
                        required=not confirm)  # fmt: skip
    async with unit_of_work() as uow:
        status = CONFIRMED if confirm else REJECTED
        if (
            await LimitChange.filter(id=change.id, status=PROPOSED).update(
                status=status, checker_id=actor.staff_id, decided_at=apps.now()
            )
            != 1
        ):
            raise apps.stale()
        if confirm:
            held = Decimal(line.drawn) + Decimal(line.reserved)
            if (
                new < held
                or await CreditLine.filter(id=line.id, drawn=line.drawn, reserved=line.reserved).update(amount=new) != 1
            ):
                raise DomainError(ErrorCode.STALE_VERSION, "额度已变动,请重新提出调整",
                                  "the line has changed meanwhile; propose the change again", "changeId")  # fmt: skip
            await project_lines(line.customer_id)  # type: ignore[attr-defined]
        await uow.audit(actor, f"credit_line.{'confirm' if confirm else 'reject'}_change", "CreditLine", line.id,
                        {"change_id": change.id, "to": str(new), **({"reason": text} if text else {})})  # fmt: skip
    change.status, change.checker_id = status, actor.staff_id
    return change
