"""Drawdowns in the graph (用信): the drawdown with its contract and loan account, and one mutation per step —
request, sign, check, disburse, cancel — each by its own post."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from domain.credit.drawdown_workflow import DRAWDOWN_STATE_NAMES_ZH
from domain.credit.drawdown_workflow import DrawdownAction as DrawdownActionModel
from domain.credit.drawdown_workflow import DrawdownState as DrawdownStateModel
from domain.credit.enums import RepaymentMethod as RepaymentMethodModel
from domain.errors import DomainError
from models import DrawdownEvent
from models import Loan as LoanModel
from resolvers.credit import drawdowns
from resolvers.credit.drawdowns import DrawdownView, SigningMethod
from schema.credit.enums import DrawdownAction, DrawdownState
from schema.platform.context import Info
from schema.platform.errors import CreditError
from schema.platform.ids import decode_pk
from schema.platform.input_limits import max_length
from schema.staff.types import Staff

strawberry.enum(SigningMethod, name="SigningMethod", description="签约方式")


@strawberry.type(description="One instalment of a loan's repayment schedule (还款计划), exact to the fen")
class Instalment:
    number: int
    due_date: datetime.date
    principal: Decimal
    interest: Decimal
    total: Decimal
    closing_principal: Decimal


@strawberry.type(description="A loan account (贷款账户)")
class Loan:
    pk: strawberry.Private[int]
    principal: Decimal
    outstanding_principal: Decimal
    annual_rate: Decimal
    term_months: int
    repayment_method: RepaymentMethodModel
    disbursed_on: datetime.date
    maturity_date: datetime.date
    loan_class: str = strawberry.field(description="五级分类")

    @classmethod
    def of(cls, loan: LoanModel) -> Loan:
        return cls(
            pk=loan.id, principal=loan.principal, outstanding_principal=loan.outstanding_principal,
            annual_rate=loan.annual_rate, term_months=loan.term_months,
            repayment_method=RepaymentMethodModel(loan.repayment_method), disbursed_on=loan.disbursed_on,
            maturity_date=loan.maturity_date, loan_class=str(loan.loan_class),
        )  # fmt: skip

    @strawberry.field(description="The repayment schedule, first instalment first")
    async def instalments(self) -> list[Instalment]:
        return [
            Instalment(number=i.number, due_date=i.due_date, principal=i.principal, interest=i.interest,
                       total=i.total, closing_principal=i.closing_principal)
            for i in await drawdowns.instalments_of(self.pk)
        ]  # fmt: skip


@strawberry.type(description="One step of a drawdown")
class DrawdownStep:
    action: DrawdownAction  # type: ignore[valid-type]
    to_state: DrawdownState  # type: ignore[valid-type]
    actor_pk: strawberry.Private[int]
    at: datetime.datetime
    reason: str

    @classmethod
    def of(cls, event: DrawdownEvent) -> DrawdownStep:
        return cls(action=DrawdownActionModel(event.action), to_state=DrawdownStateModel(event.to_state),
                   actor_pk=event.actor_id, at=event.at, reason=event.reason)  # type: ignore[attr-defined]  # fmt: skip

    @strawberry.field(description="Who did it")
    async def actor(self, info: Info) -> Staff | None:
        found = await info.context.loaders.staff_by_id.load(self.actor_pk)
        return Staff.from_model(found, info.context.require_actor()) if found else None


@strawberry.type(name="Drawdown", description="A drawdown (用信) on a credit line")
class Drawdown(relay.Node):
    pk: relay.NodeID[int]
    view: strawberry.Private[DrawdownView]
    client_id: str
    state: DrawdownState  # type: ignore[valid-type]
    state_zh: str
    amount: Decimal
    term_months: int
    repayment_method: RepaymentMethodModel
    repayment_day: int
    annual_rate: Decimal = strawberry.field(description="From the pricing decision (利率定价)")
    value_date: datetime.date
    contract_number: str
    contract_sha256: str = strawberry.field(description="SHA-256 of the contract PDF as issued")
    contract_pages: int
    signed_at: datetime.datetime | None
    version: int
    available_actions: list[DrawdownAction]  # type: ignore[valid-type]

    @classmethod
    def of(cls, view: DrawdownView) -> Drawdown:
        d = view.drawdown
        state = DrawdownStateModel(d.state)
        return cls(
            pk=d.id, view=view, client_id=d.client_id, state=state, state_zh=DRAWDOWN_STATE_NAMES_ZH[state],
            amount=d.amount, term_months=d.term_months, repayment_method=RepaymentMethodModel(d.repayment_method),
            repayment_day=d.repayment_day, annual_rate=d.annual_rate, value_date=d.value_date,
            contract_number=d.contract_number, contract_sha256=d.contract_sha256, contract_pages=d.contract_pages,
            signed_at=d.signed_at, version=d.version, available_actions=list(view.actions),
        )  # fmt: skip

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Drawdown | None]:
        actor = info.context.require_actor()
        found: list[Drawdown | None] = []
        for raw in node_ids:
            try:
                found.append(cls.of(await drawdowns.get_drawdown(actor, int(raw))))
            except DomainError:
                found.append(None)
        return found

    @strawberry.field(description="The signing record: signer, method, time, identity check, the recording (双录)")
    def signature(self) -> JSON | None:
        return self.view.drawdown.signature if self.view.applicant_in_clear else None

    @strawberry.field(
        description="The contract PDF as a data: URL; null where the borrower is masked for you, and for a contract "
        "signed on paper before the platform issued e-contracts (it has 0 pages)"
    )
    async def contract_pdf(self, info: Info) -> str | None:
        if not self.view.applicant_in_clear or not drawdowns.has_contract_pdf(self.view.drawdown):
            return None
        info.context.disclose("Drawdown", self.pk, "contractPdf")
        pdf = await drawdowns.contract_pdf(self.view.drawdown)
        return "data:application/pdf;base64," + base64.b64encode(pdf).decode()

    @strawberry.field(description="The loan account its disbursement opened")
    async def loan(self) -> Loan | None:
        found = await drawdowns.loan_of(self.pk)
        return Loan.of(found) if found else None

    @strawberry.field(description="Every step so far, oldest first")
    async def history(self) -> list[DrawdownStep]:
        return [DrawdownStep.of(e) for e in await drawdowns.history_of(self.pk)]


DrawdownResult = Annotated[Drawdown | CreditError, strawberry.union("DrawdownResult")]


@strawberry.input(description="Draw on a credit line (用信申请)")
class RequestDrawdownInput:
    client_id: str = strawberry.field(description="The app's own id: a resend creates nothing twice",
                                      directives=max_length(64))  # fmt: skip
    line_id: strawberry.ID
    amount: Decimal
    term_months: int
    repayment_method: RepaymentMethodModel
    repayment_day: int | None = strawberry.field(default=None, description="1–28; the value date's day by default")


@strawberry.input(description="The audio-video recording of the signing (双录): the file's facts")
class RecordingInput:
    sha256: str = strawberry.field(directives=max_length(64))
    duration_seconds: int
    recorded_at: datetime.datetime


@strawberry.input(description="The customer's signature on the contract (签约)")
class SignContractInput:
    drawdown_id: strawberry.ID
    contract_sha256: str = strawberry.field(
        description="The contract the customer was shown", directives=max_length(64)
    )
    signer_name: str = strawberry.field(directives=max_length(64))
    signer_id_number: str = strawberry.field(directives=max_length(40))
    method: SigningMethod
    recording: RecordingInput


def _pk(gid: str, field: str = "drawdownId") -> int:
    return decode_pk(gid, "Drawdown", field)


async def _shown(info: Info, drawdown_id: int) -> Drawdown:
    return Drawdown.of(await drawdowns.get_drawdown(info.context.require_actor(), drawdown_id))


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Draw on an approved credit line: priced, and its e-contract issued (customer manager)"
    )
    async def request_drawdown(self, info: Info, input: RequestDrawdownInput) -> DrawdownResult:
        actor = info.context.require_actor()
        try:
            draft = drawdowns.DrawdownDraft(
                client_id=input.client_id, line_id=decode_pk(input.line_id, "CreditLine", "lineId"),
                amount=input.amount, term_months=input.term_months, repayment_method=input.repayment_method,
                repayment_day=input.repayment_day,
            )  # fmt: skip
            drawdown = await drawdowns.request_drawdown(actor, draft)
            return await _shown(info, drawdown.id)
        except DomainError as error:
            return CreditError.from_domain(error)  # type: ignore[no-any-return]

    @strawberry.mutation(description="Record the customer's signature, identity check and recording (customer manager)")
    async def sign_contract(self, info: Info, input: SignContractInput) -> DrawdownResult:
        actor = info.context.require_actor()
        try:
            r = input.recording
            signature = drawdowns.Signature(
                contract_sha256=input.contract_sha256, signer_name=input.signer_name,
                signer_id_number=input.signer_id_number, method=input.method,
                recording=drawdowns.Recording(r.sha256, r.duration_seconds, r.recorded_at),
            )  # fmt: skip
            pk = _pk(input.drawdown_id)
            await drawdowns.sign(actor, pk, signature)
            return await _shown(info, pk)
        except DomainError as error:
            return CreditError.from_domain(error)  # type: ignore[no-any-return]

    @strawberry.mutation(description="The back office's check before disbursement: pass, or refuse with a reason")
    async def check_drawdown(
        self, info: Info, drawdown_id: strawberry.ID, approve: bool,
        reason: Annotated[str, strawberry.argument(directives=max_length(500))] = "",
    ) -> DrawdownResult:  # fmt: skip
        actor = info.context.require_actor()
        try:
            pk = _pk(drawdown_id)
            await drawdowns.check(actor, pk, approve, reason)
            return await _shown(info, pk)
        except DomainError as error:
            return CreditError.from_domain(error)  # type: ignore[no-any-return]

    @strawberry.mutation(description="Disburse (放款): opens the loan account; not by the person who checked it")
    async def disburse_drawdown(self, info: Info, drawdown_id: strawberry.ID) -> DrawdownResult:
        actor = info.context.require_actor()
        try:
            pk = _pk(drawdown_id)
            await drawdowns.disburse(actor, pk)
            return await _shown(info, pk)
        except DomainError as error:
            return CreditError.from_domain(error)  # type: ignore[no-any-return]

    @strawberry.mutation(description="Cancel a drawdown before it is checked (the customer manager)")
    async def cancel_drawdown(
        self,
        info: Info,
        drawdown_id: strawberry.ID,
        reason: Annotated[str, strawberry.argument(directives=max_length(500))],
    ) -> DrawdownResult:
        actor = info.context.require_actor()
        try:
            pk = _pk(drawdown_id)
            await drawdowns.cancel(actor, pk, reason)
            return await _shown(info, pk)
        except DomainError as error:
            return CreditError.from_domain(error)  # type: ignore[no-any-return]
