"""Drawdowns (用信) on an approved credit line, from the customer manager's request to money in the account:

- request: within the line's available amount and validity, on the line's product terms; the pricing decision
  (利率定价: the LPR in effect plus the spreads) sets the rate, the repayment schedule is computed to the fen
  and the e-contract PDF is issued, its bytes kept by their SHA-256; the amount is held on the line;
- sign: the customer signs the contract whose hash they were shown, the identity check (ID number and name
  against the customer file) and the audio-video recording (双录) recorded with it;
- check and disburse by the back office, two different people, neither the marketer; disbursement opens the loan
  account with its schedule, moves the amount from held to drawn, and the customer's loan figures follow.

Each step is one of the drawdown state machine's (domain/credit/drawdown_workflow.py), version-guarded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.functions import Sum

from domain.access import Actor
from domain.credit.classification import LoanClass
from domain.credit.contracts import Borrower, ContractProduct, ContractTerms, render_contract
from domain.credit.drawdown_workflow import DrawdownAction, DrawdownFacts, DrawdownState, check_drawdown
from domain.credit.enums import RepaymentMethod
from domain.credit.errors import CreditErrorCode
from domain.credit.investigation import yuan
from domain.credit.market import bank
from domain.credit.schedules import RepaymentSchedule, build_schedule
from domain.customers.idcard import normalize_id_number
from domain.errors import DomainError, ErrorCode, not_found
from domain.text import checked_text
from models import (
    ContractDocument,
    CreditApplication,
    CreditLine,
    Customer,
    Drawdown,
    DrawdownEvent,
    Loan,
    LoanInstalment,
    Outlet,
)
from resolvers.credit import applications as apps
from resolvers.credit.approval import project_lines
from resolvers.credit.intake import CLIENT_ID
from resolvers.platform.unit_of_work import UnitOfWork, unit_of_work

NOTICE_KIND = "credit.drawdown"
SHA256 = re.compile(r"[0-9a-f]{64}")
MIN_RECORDING_S, MAX_RECORDING_S = 10, 4 * 3600
LINE_ACTIVE = "ACTIVE"
SCHEDULE_FIELDS = {"repayment_day": "repaymentDay", "term_months": "termMonths", "principal": "amount"}


class SigningMethod(StrEnum):
    FACE_RECOGNITION = "FACE_RECOGNITION"  # 人脸识别 + 电子签名
    SMS_CODE = "SMS_CODE"  # 短信验证码
    HANDWRITTEN_ON_PAD = "HANDWRITTEN_ON_PAD"  # 手写板签名


@dataclass(frozen=True)
class DrawdownDraft:
    client_id: str
    line_id: int
    amount: Decimal
    term_months: int
    repayment_method: RepaymentMethod
    repayment_day: int | None = None


@dataclass(frozen=True)
class Recording:
    """The audio-video recording (双录) of the signing: the file is kept elsewhere, its facts here."""

    sha256: str
    duration_seconds: int
    recorded_at: datetime


@dataclass(frozen=True)
class Signature:
    contract_sha256: str  # the contract the customer was shown
    signer_name: str
    signer_id_number: str
    method: SigningMethod
    recording: Recording


def available(line: CreditLine) -> Decimal:
    return Decimal(line.amount) - Decimal(line.drawn) - Decimal(line.reserved)


def _check_line(line: CreditLine, amount: Decimal, today: date) -> None:
    if line.status != LINE_ACTIVE or today > line.valid_until:
        raise DomainError(
            CreditErrorCode.LINE_NOT_AVAILABLE,
            f"授信额度已于{line.valid_until}到期或已停用",
            f"the credit line expired on {line.valid_until} or is not active",
            "lineId",
        )
    if amount > available(line):
        raise DomainError(
            CreditErrorCode.ABOVE_AVAILABLE_LINE,
            f"用信金额超过可用额度{available(line):,.2f}元",
            f"the amount is above the ¥{available(line):,.2f} available on the line",
            "amount",
        )


def contract_terms(
    number: str, customer: Customer, outlet: str, product: Any, schedule: RepaymentSchedule, guarantee: Any
) -> ContractTerms:
    return ContractTerms(
        contract_number=number,
        bank_name=bank().lender_name,
        outlet=outlet,
        borrower=Borrower(customer.name, customer.id_number, customer.phone or "", customer.address),
        product=ContractProduct.of(product),
        principal=schedule.principal,
        annual_rate=schedule.annual_rate,
        term_months=schedule.term_months,
        repayment_method=schedule.method,
        guarantee_type=guarantee,
        disbursed_on=schedule.disbursed_on,
        schedule=schedule,
    )


async def _history(
    drawdown: Drawdown, action: DrawdownAction, source: DrawdownState | None, actor: Actor, reason: str = "",
    detail: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    await DrawdownEvent.create(
        drawdown_id=drawdown.id, action=action.value, from_state=source.value if source else None,
        to_state=drawdown.state, actor_id=actor.staff_id, at=apps.now(), reason=reason, detail=detail or {},
    )  # fmt: skip


async def request_drawdown(actor: Actor, draft: DrawdownDraft, *, today: date | None = None) -> Drawdown:
    """Price, contract and hold a drawdown; a resend of the same client id returns the first."""
    client_id = draft.client_id.strip()
    if not CLIENT_ID.fullmatch(client_id):
        raise DomainError(ErrorCode.INVALID_VALUE, "客户端编号无效", "the client id is not valid", "clientId")
    earlier = await Drawdown.get_or_none(requested_by_id=actor.staff_id, client_id=client_id)
    if earlier is not None:
        return earlier
    line, application, _facts = await apps.find_line(actor, draft.line_id)
    check_drawdown(DrawdownAction.REQUEST, actor, DrawdownFacts(None, application.marketer_id))  # type: ignore[attr-defined]
    product = apps.product_of(application)
    today = today or apps.now().date()
    amount = yuan(draft.amount, "amount", positive=True)
    if amount != amount.to_integral_value():
        raise DomainError(CreditErrorCode.AMOUNT_NOT_WHOLE_YUAN, "用信金额须为整数元", "draw whole yuan", "amount")
    product.check_term(draft.term_months, "termMonths")
    product.check_method(draft.repayment_method, "repaymentMethod")
    _check_line(line, amount, today)
    customer = await Customer.get(id=line.customer_id)  # type: ignore[attr-defined]
    pricing = apps.evaluate(
        product, "pricing",
        {"lpr_1y": float(bank().lpr_on(today)), "avg_deposit_balance_12m": float(customer.deposit_balance),
         "uses_e_banking": customer.has_ebanking,
         **({"grade": application.rating_grade} if application.rating_grade else {})},
    )  # fmt: skip
    if pricing.outputs.get("annual_rate") is None:  # e.g. no grade for a product priced on one
        raise DomainError(
            CreditErrorCode.DECISION_EVALUATION_FAILED,
            f"利率定价未得出利率({pricing.outputs.get('rate_bound')})",
            f"pricing gave no rate ({pricing.outputs.get('rate_bound')})",
            "lineId",
        )
    rate = Decimal(str(pricing.outputs["annual_rate"]))
    try:
        schedule = build_schedule(
            method=draft.repayment_method, principal=amount, annual_rate=rate, term_months=draft.term_months,
            disbursed_on=today, repayment_day=draft.repayment_day,
        )  # fmt: skip
    except DomainError as error:  # the schedule's checks name its own parameters; the API's are camelCase
        error.field = SCHEDULE_FIELDS.get(error.field or "", error.field)
        raise
    outlet = await Outlet.get_or_none(id=application.outlet_id) if application.outlet_id else None  # type: ignore[attr-defined]
    number = f"JK{today:%Y%m%d}{line.id:07d}{await Drawdown.filter(line_id=line.id).count() + 1:03d}"
    contract = render_contract(contract_terms(number, customer, outlet.name if outlet else bank().lender_name,
                                              product, schedule, application.guarantee_type))  # fmt: skip
    at = apps.now()
    try:
        async with unit_of_work() as uow:
            held = await CreditLine.filter(id=line.id, drawn=line.drawn, reserved=line.reserved).update(
                reserved=Decimal(line.reserved) + amount
            )
            if held != 1:
                raise apps.stale()
            await ContractDocument.get_or_create(
                content_sha256=contract.sha256,
                defaults={"pdf": contract.pdf, "pages": contract.pages, "created_at": at},
            )
            drawdown = await Drawdown.create(
                client_id=client_id, line_id=line.id, requested_by_id=actor.staff_id, amount=amount,
                term_months=draft.term_months, repayment_method=draft.repayment_method,
                repayment_day=schedule.repayment_day, annual_rate=rate, value_date=today, state=DrawdownState.PRICED,
                contract_number=number, contract_sha256=contract.sha256, contract_pages=contract.pages,
                requested_at=at, state_since=at,
            )  # fmt: skip
            await apps.record_decisions(application.id, "pricing", [pricing])
            await _history(drawdown, DrawdownAction.REQUEST, None, actor, detail={"annual_rate": str(rate)})
            terms = {"amount": str(amount), "annual_rate": str(rate), "contract_sha256": contract.sha256}
            await uow.audit(actor, "drawdown.request", "Drawdown", drawdown.id, terms)
    except IntegrityError:
        earlier = await Drawdown.get_or_none(requested_by_id=actor.staff_id, client_id=client_id)
        if earlier is None:
            raise
        return earlier
    return drawdown


async def _drawdown_for(actor: Actor, drawdown_id: int) -> tuple[Drawdown, CreditApplication, CreditLine]:
    drawdown = await Drawdown.get_or_none(id=drawdown_id)
    if drawdown is None:
        raise not_found("用信", "drawdown", "drawdownId")
    line = await CreditLine.get(id=drawdown.line_id)  # type: ignore[attr-defined]
    try:
        application, _facts = await apps.find_application(actor, line.application_id, "drawdownId")  # type: ignore[attr-defined]
    except DomainError:
        raise not_found("用信", "drawdown", "drawdownId") from None
    return drawdown, application, line


def _facts(drawdown: Drawdown, application: CreditApplication) -> DrawdownFacts:
    return DrawdownFacts(DrawdownState(drawdown.state), application.marketer_id, drawdown.checker_id)  # type: ignore[attr-defined]


async def _move(
    uow: UnitOfWork, drawdown: Drawdown, action: DrawdownAction, actor: Actor, target: DrawdownState,
    changes: dict[str, Any], *, reason: str = "", detail: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    source = DrawdownState(drawdown.state)
    values = {"state": target, "version": drawdown.version + 1, "state_since": apps.now(), **changes}
    if await Drawdown.filter(id=drawdown.id, version=drawdown.version, state=source).update(**values) != 1:
        raise apps.stale()
    for name, value in values.items():
        setattr(drawdown, name, value)
    await _history(drawdown, action, source, actor, reason, detail)
    await uow.audit(actor, f"drawdown.{action.value}", "Drawdown", drawdown.id,
                    {"from": source.value, "to": target.value, **({"reason": reason} if reason else {})})  # fmt: skip


def _identity(customer: Customer, signature: Signature) -> dict[str, Any]:
    """The customer's identity at signing (实名核验): the ID number and name given against the customer file."""
    number = normalize_id_number(signature.signer_id_number)
    name = signature.signer_name.strip()
    if number != customer.id_number or name != customer.name:
        raise DomainError(
            CreditErrorCode.IDENTITY_MISMATCH,
            "签约人身份证号码或姓名与客户档案不符",
            "the signer's ID number or name does not match the customer file",
            "signerIdNumber" if number != customer.id_number else "signerName",
        )
    return {"id_number_matches": True, "name_matches": True}


def _recording(recording: Recording, signed_at: datetime) -> dict[str, Any]:
    if not SHA256.fullmatch(recording.sha256):
        raise DomainError(ErrorCode.INVALID_VALUE, "双录文件的SHA-256无效", "the recording's SHA-256 is not valid",
                          "recording.sha256")  # fmt: skip
    if not MIN_RECORDING_S <= recording.duration_seconds <= MAX_RECORDING_S:
        raise DomainError(ErrorCode.INVALID_VALUE, "双录时长应在10秒到4小时之间",
                          "a recording lasts 10 seconds to 4 hours", "recording.durationSeconds")  # fmt: skip
    if recording.recorded_at > signed_at:
        raise DomainError(
            ErrorCode.INVALID_VALUE, "双录时间不能晚于签约时间", "the recording cannot postdate the signing",
            "recording.recordedAt",
        )  # fmt: skip
    return {"sha256": recording.sha256, "duration_seconds": recording.duration_seconds,
            "recorded_at": recording.recorded_at.isoformat()}  # fmt: skip


async def sign(actor: Actor, drawdown_id: int, signature: Signature) -> Drawdown:
    """The customer signs the contract in front of the customer manager."""
    drawdown, application, _line = await _drawdown_for(actor, drawdown_id)
    target = check_drawdown(DrawdownAction.SIGN, actor, _facts(drawdown, application))
    if signature.contract_sha256 != drawdown.contract_sha256:
        raise DomainError(
            CreditErrorCode.CONTRACT_CHANGED,
            "签署的合同与出具的合同不一致",
            "the contract signed is not the one issued",
            "contractSha256",
        )
    at = apps.now()
    customer = await Customer.get(id=application.customer_id)  # type: ignore[attr-defined]
    record = {
        "signer": signature.signer_name.strip(), "method": signature.method.value, "signed_at": at.isoformat(),
        "recorded_by": actor.staff_id, "identity_check": _identity(customer, signature),
        "recording": _recording(signature.recording, at),
    }  # fmt: skip
    async with unit_of_work() as uow:
        await _move(uow, drawdown, DrawdownAction.SIGN, actor, target, {"signed_at": at, "signature": record},
                    detail={"method": signature.method.value})  # fmt: skip
    return drawdown


async def check(actor: Actor, drawdown_id: int, approve: bool, reason: str = "") -> Drawdown:
    """The back office's check before disbursement (放款审核): passed, or refused with a reason (the hold on the
    line is released)."""
    drawdown, application, line = await _drawdown_for(actor, drawdown_id)
    text = checked_text(reason, field="reason", what_zh="审核意见", what_en="reason", max_length=500,
                        required=not approve)  # fmt: skip
    action = DrawdownAction.CHECK if approve else DrawdownAction.REFUSE
    target = check_drawdown(action, actor, _facts(drawdown, application))
    async with unit_of_work() as uow:
        changes = {"checker_id": actor.staff_id} if approve else {"reason": text}
        await _move(uow, drawdown, action, actor, target, changes, reason=text)
        if not approve:
            await _release(line, Decimal(drawdown.amount))
            await _tell_marketer(uow, application, "放款审核未通过", "was refused at the check", text)
    return drawdown


async def _release(line: CreditLine, amount: Decimal) -> None:
    fresh = await CreditLine.get(id=line.id)
    if (
        await CreditLine.filter(id=line.id, reserved=fresh.reserved).update(reserved=Decimal(fresh.reserved) - amount)
        != 1
    ):
        raise apps.stale()


async def cancel(actor: Actor, drawdown_id: int, reason: str) -> Drawdown:
    drawdown, application, line = await _drawdown_for(actor, drawdown_id)
    text = checked_text(reason, field="reason", what_zh="撤销原因", what_en="reason", max_length=500, required=True)
    target = check_drawdown(DrawdownAction.CANCEL, actor, _facts(drawdown, application))
    async with unit_of_work() as uow:
        await _move(uow, drawdown, DrawdownAction.CANCEL, actor, target, {"reason": text}, reason=text)
        await _release(line, Decimal(drawdown.amount))
    return drawdown


async def disburse(actor: Actor, drawdown_id: int) -> Loan:
    """Open the loan account with its schedule (放款), by a second back-office person."""
    drawdown, application, line = await _drawdown_for(actor, drawdown_id)
    target = check_drawdown(DrawdownAction.DISBURSE, actor, _facts(drawdown, application))
    amount = Decimal(drawdown.amount)
    schedule = build_schedule(
        method=RepaymentMethod(drawdown.repayment_method), principal=amount, annual_rate=Decimal(drawdown.annual_rate),
        term_months=drawdown.term_months, disbursed_on=drawdown.value_date, repayment_day=drawdown.repayment_day,
    )  # fmt: skip
    at = apps.now()
    async with unit_of_work() as uow:
        await _move(uow, drawdown, DrawdownAction.DISBURSE, actor, target, {"disbursed_by_id": actor.staff_id})
        fresh = await CreditLine.get(id=line.id)
        moved = await CreditLine.filter(id=line.id, drawn=fresh.drawn, reserved=fresh.reserved).update(
            drawn=Decimal(fresh.drawn) + amount, reserved=Decimal(fresh.reserved) - amount
        )
        if moved != 1:
            raise apps.stale()
        loan = await Loan.create(
            drawdown_id=drawdown.id, customer_id=line.customer_id, product_code=line.product_code,  # type: ignore[attr-defined]
            principal=amount, outstanding_principal=amount, annual_rate=drawdown.annual_rate,
            term_months=drawdown.term_months, repayment_method=drawdown.repayment_method,
            disbursed_on=drawdown.value_date, maturity_date=schedule.instalments[-1].due_date,
            loan_class=LoanClass.PASS, disbursed_at=at,
        )  # fmt: skip
        await LoanInstalment.bulk_create(
            [
                LoanInstalment(loan_id=loan.id, number=i.number, due_date=i.due_date, principal=i.principal,
                               interest=i.interest, total=i.total, closing_principal=i.closing_principal)
                for i in schedule.instalments
            ]
        )  # fmt: skip
        await project_loans(line.customer_id)  # type: ignore[attr-defined]
        await uow.audit(actor, "loan.open", "Loan", loan.id, {"principal": str(amount), "drawdown_id": drawdown.id})
        await _tell_marketer(uow, application, "已放款", "was disbursed", f"{amount:,.2f}")
    return loan


async def project_loans(customer_id: int) -> None:
    """The customer's loan figures are a projection of their loan records: outstanding principal and the worst
    classification (五级分类) of their open loans; their credit lines' total follows the lines."""
    rows = await Loan.filter(customer_id=customer_id, outstanding_principal__gt=0).values_list(
        "outstanding_principal", "loan_class"
    )
    order = list(LoanClass)
    worst = max((LoanClass(c) for _, c in rows), key=order.index, default=None)
    total = (
        await Loan.filter(customer_id=customer_id).annotate(total=Sum("outstanding_principal")).first()
        .values_list("total", flat=True)
    )  # fmt: skip
    await Customer.filter(id=customer_id).update(loan_balance=Decimal(str(total or 0)), loan_class=worst)
    await project_lines(customer_id)


async def _tell_marketer(uow: UnitOfWork, application: CreditApplication, zh: str, en: str, detail: str) -> None:
    await uow.notify(
        application.marketer_id,  # type: ignore[attr-defined]
        NOTICE_KIND,
        f"用信{zh} / a drawdown {en}",
        detail,
        {"application_id": application.id},
    )


@dataclass(frozen=True)
class DrawdownView:
    drawdown: Drawdown
    actions: tuple[DrawdownAction, ...]
    applicant_in_clear: bool  # the contract carries the borrower's personal data in full


async def get_drawdown(actor: Actor, drawdown_id: int) -> DrawdownView:
    from domain.credit.drawdown_workflow import allowed_drawdown_actions
    from resolvers.credit import policy

    drawdown, application, _line = await _drawdown_for(actor, drawdown_id)
    facts = await apps.facts_of(application)
    return DrawdownView(
        drawdown, allowed_drawdown_actions(actor, _facts(drawdown, application)), policy.shows_applicant(actor, facts)
    )


async def drawdowns_of_line(actor: Actor, line_id: int) -> list[DrawdownView]:
    ids: list[int] = list(await Drawdown.filter(line_id=line_id).order_by("id").values_list("id", flat=True))  # type: ignore[arg-type]
    return [await get_drawdown(actor, i) for i in ids]


def has_contract_pdf(drawdown: Drawdown) -> bool:
    """Whether the platform issued the contract, and so keeps its PDF: a contract signed on paper before the
    platform issued e-contracts (the demo book's, a migrated loan's) has no document and 0 pages."""
    return drawdown.contract_pages > 0


async def contract_pdf(drawdown: Drawdown) -> bytes:
    document = await ContractDocument.get(content_sha256=drawdown.contract_sha256)
    return bytes(document.pdf)


async def loan_of(drawdown_id: int) -> Loan | None:
    return await Loan.get_or_none(drawdown_id=drawdown_id)


async def instalments_of(loan_id: int) -> list[LoanInstalment]:
    return list(await LoanInstalment.filter(loan_id=loan_id).order_by("number"))


async def history_of(drawdown_id: int) -> list[DrawdownEvent]:
    return list(await DrawdownEvent.filter(drawdown_id=drawdown_id).order_by("id"))
