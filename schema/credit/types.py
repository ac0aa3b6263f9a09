"""Credit applications in the graph (授信申请): the application as its reader may see it, its history of steps,
the decisions evaluated on it (explained in words, replayable), its credit line, and the product catalogue."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from domain.access import Role as RoleModel
from domain.credit.enums import GuaranteeType as GuaranteeTypeModel
from domain.credit.enums import RepaymentMethod as RepaymentMethodModel
from domain.credit.products import Product
from domain.credit.workflow import ACTION_NAMES, STATE_NAMES_ZH
from domain.credit.workflow import Action as ActionModel
from domain.credit.workflow import ApplicationState as ApplicationStateModel
from domain.errors import DomainError
from models import ApplicationEvent, DecisionRecord
from models import CreditLine as CreditLineModel
from resolvers.credit import decision_records, views
from resolvers.credit.views import ApplicationView
from schema.credit.enums import ApplicationAction, ApplicationState, GuaranteeType, RepaymentMethod
from schema.platform.context import Info
from schema.platform.errors import query_error
from schema.staff.types import Role, Staff

if TYPE_CHECKING:
    from schema.credit.drawdowns import Drawdown


@strawberry.type(description="A band of amounts and who approves it (审批层级)")
class ApprovalTier:
    min_amount: int
    max_amount: int
    authority: Role  # type: ignore[valid-type]
    name_zh: str
    name_en: str


@strawberry.type(description="A credit product (信贷产品), one version of its configuration file")
class CreditProduct:
    code: str
    version: int
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    min_amount: int
    max_amount: int
    min_term_months: int
    max_term_months: int
    repayment_methods: list[RepaymentMethod]  # type: ignore[valid-type]
    guarantee_types: list[GuaranteeType]  # type: ignore[valid-type]
    approval_tiers: list[ApprovalTier]
    content_sha256: str = strawberry.field(description="SHA-256 of the product file this version was read from")

    @classmethod
    def of(cls, product: Product) -> CreditProduct:
        return cls(
            code=product.code, version=product.version, name_zh=product.name_zh, name_en=product.name_en,
            description_zh=product.description_zh, description_en=product.description_en,
            min_amount=product.amount.min, max_amount=product.amount.max,
            min_term_months=product.term.min_months, max_term_months=product.term.max_months,
            repayment_methods=list(product.repayment_methods), guarantee_types=list(product.guarantee_types),
            approval_tiers=[
                ApprovalTier(min_amount=t.min_amount, max_amount=t.max_amount, authority=RoleModel(t.authority),
                             name_zh=t.name_zh, name_en=t.name_en)
                for t in product.approval_tiers
            ],
            content_sha256=product.content_hash,
        )  # fmt: skip


@strawberry.type(description="The applicant (申请人); personal data masked unless you work on the application")
class Applicant:
    customer_pk: strawberry.Private[int]
    name: str
    masked: bool
    stored_id_number: strawberry.Private[str]
    stored_phone: strawberry.Private[str | None]
    stored_address: strawberry.Private[str]

    @strawberry.field(description="Resident ID number")
    def id_number(self, info: Info) -> str:
        self._disclosed(info, "idNumber")
        return self.stored_id_number

    @strawberry.field(description="Mobile number")
    def phone(self, info: Info) -> str | None:
        if self.stored_phone is not None:
            self._disclosed(info, "phone")
        return self.stored_phone

    @strawberry.field(description="Address")
    def address(self, info: Info) -> str:
        self._disclosed(info, "address")
        return self.stored_address

    def _disclosed(self, info: Info, field_name: str) -> None:
        """Shown in clear: noted for the audit row the response is not sent without."""
        if not self.masked:
            info.context.disclose("Customer", self.customer_pk, field_name)


@strawberry.type(description="A refusal reason, from a decision or an approver")
class Reason:
    code: str
    text: str


@strawberry.type(description="One step of the application's process: what was done, by whom, when")
class ApplicationStep:
    action: ApplicationAction  # type: ignore[valid-type]
    action_zh: str
    from_state: ApplicationState | None  # type: ignore[valid-type]
    to_state: ApplicationState  # type: ignore[valid-type]
    actor_pk: strawberry.Private[int | None]
    at: datetime.datetime
    reason: str
    detail: JSON

    @classmethod
    def of(cls, event: ApplicationEvent) -> ApplicationStep:
        action = ActionModel(event.action)
        return cls(
            action=action, action_zh=ACTION_NAMES[action][0],
            from_state=ApplicationStateModel(event.from_state) if event.from_state else None,
            to_state=ApplicationStateModel(event.to_state), actor_pk=event.actor_id,  # type: ignore[attr-defined]
            at=event.at, reason=event.reason, detail=event.detail,
        )  # fmt: skip

    @strawberry.field(description="Who did it; null for the system (automatic steps)")
    async def actor(self, info: Info) -> Staff | None:
        if self.actor_pk is None:
            return None
        found = await info.context.loaders.staff_by_id.load(self.actor_pk)
        return Staff.from_model(found, info.context.require_actor()) if found else None


@strawberry.type(description="A decision evaluated on the application, as evaluated (决策记录)")
class DecisionEvaluation:
    record: strawberry.Private[DecisionRecord]
    stage: str
    decision: str
    version: int
    content_sha256: str
    inputs: JSON
    outputs: JSON
    created_at: datetime.datetime

    @classmethod
    def of(cls, record: DecisionRecord) -> DecisionEvaluation:
        return cls(
            record=record, stage=record.stage, decision=record.decision, version=record.version,
            content_sha256=record.content_sha256, inputs=record.inputs, outputs=record.outputs,
            created_at=record.created_at,
        )  # fmt: skip

    @strawberry.field(description="The rules that fired, in words (中文 / English)")
    async def explanation(self) -> list[str]:
        try:
            return await decision_records.explanation(self.record)
        except DomainError as error:  # the file changed and its recorded text is not at hand
            raise query_error(error) from None

    @strawberry.field(
        description="Evaluate the stored inputs again on the decision file text it ran on: the same result?"
    )
    async def replays_identically(self) -> bool:
        try:
            return (await decision_records.replay(self.record)).matches
        except DomainError as error:
            raise query_error(error) from None


@strawberry.type(name="CreditLine", description="A credit line (授信额度) granted by an approved application")
class CreditLine(relay.Node):
    pk: relay.NodeID[int]
    amount: Decimal
    drawn: Decimal = strawberry.field(description="Drawn and not yet repaid")
    reserved: Decimal = strawberry.field(description="Held by drawdowns not yet disbursed")
    available: Decimal
    revolving: bool
    valid_from: datetime.date
    valid_until: datetime.date
    status: str

    @classmethod
    def of(cls, line: CreditLineModel) -> CreditLine:
        amount, drawn, reserved = Decimal(line.amount), Decimal(line.drawn), Decimal(line.reserved)
        return cls(pk=line.id, amount=amount, drawn=drawn, reserved=reserved, available=amount - drawn - reserved,
                   revolving=line.revolving, valid_from=line.valid_from, valid_until=line.valid_until,
                   status=line.status)  # fmt: skip

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[CreditLine | None]:
        actor = info.context.require_actor()
        return [cls.of(line) if line else None for line in await views.lines_seen(actor, [int(n) for n in node_ids])]

    @strawberry.field(description="The drawdowns on this line, oldest first")
    async def drawdowns(self, info: Info) -> list[Annotated[Drawdown, strawberry.lazy("schema.credit.drawdowns")]]:
        from resolvers.credit.drawdowns import drawdowns_of_line
        from schema.credit.drawdowns import Drawdown as DrawdownType

        return [DrawdownType.of(v) for v in await drawdowns_of_line(info.context.require_actor(), self.pk)]


@strawberry.type(name="CreditApplication", description="A credit application (授信申请)")
class CreditApplication(relay.Node):
    pk: relay.NodeID[int]
    view: strawberry.Private[ApplicationView]
    client_id: str
    state: ApplicationState  # type: ignore[valid-type]
    state_zh: str
    amount: Decimal = strawberry.field(description="Applied for, yuan")
    term_months: int
    repayment_method: RepaymentMethod  # type: ignore[valid-type]
    guarantee_type: GuaranteeType  # type: ignore[valid-type]
    purpose: str
    collateral_value: Decimal | None = strawberry.field(
        description="A pledge's deposit or a mortgage's appraised value"
    )
    rating_grade: str | None
    suggested_limit: Decimal | None = strawberry.field(description="The limit decision's suggestion (额度测算)")
    recommended_limit: Decimal | None = strawberry.field(description="The investigator's recommendation")
    approved_limit: Decimal | None
    refusal_reasons: list[Reason]
    version: int = strawberry.field(description="Pass back as expectedVersion")
    submitted_at: datetime.datetime
    state_since: datetime.datetime
    sla_due: datetime.datetime | None = strawberry.field(description="When the current stage's time limit runs out")
    available_actions: list[ApplicationAction] = strawberry.field(  # type: ignore[valid-type]
        description="What you may do with it now"
    )

    @classmethod
    def of(cls, view: ApplicationView) -> CreditApplication:
        a = view.application
        return cls(
            pk=a.id, view=view, client_id=a.client_id, state=view.state, state_zh=STATE_NAMES_ZH[view.state],
            amount=Decimal(a.amount), term_months=a.term_months,
            repayment_method=RepaymentMethodModel(a.repayment_method),
            guarantee_type=GuaranteeTypeModel(a.guarantee_type), purpose=a.purpose, collateral_value=a.collateral_value,
            rating_grade=a.rating_grade,
            suggested_limit=a.suggested_limit, recommended_limit=a.recommended_limit, approved_limit=a.approved_limit,
            refusal_reasons=[Reason(code=str(r.get("code", "")), text=str(r.get("text", "")))
                             for r in a.refusal_reasons],
            version=a.version, submitted_at=a.submitted_at, state_since=a.state_since, sla_due=a.sla_due,
            available_actions=list(view.actions),
        )  # fmt: skip

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[CreditApplication | None]:
        actor = info.context.require_actor()
        found = await views.get_applications(actor, [int(n) for n in node_ids])
        return [cls.of(v) if v else None for v in found]

    @strawberry.field(description="The product version the application started with")
    def product(self) -> CreditProduct:
        return CreditProduct.of(self.view.product)

    @strawberry.field(description="The applicant")
    def applicant(self) -> Applicant:
        a = self.view.applicant
        return Applicant(customer_pk=a.customer_id, name=a.name, masked=a.masked, stored_id_number=a.id_number,
                         stored_phone=a.phone, stored_address=a.address)  # fmt: skip

    @strawberry.field(description="The applicant's village")
    def village_name(self) -> str | None:
        return self.view.village_name

    @strawberry.field(description="The customer manager who took it (营销)")
    def marketer(self, info: Info) -> Staff | None:
        m = self.view.marketer
        return Staff.from_model(m, info.context.require_actor()) if m else None

    @strawberry.field(description="The credit investigator assigned to it (调查)")
    def investigator(self, info: Info) -> Staff | None:
        i = self.view.investigator
        return Staff.from_model(i, info.context.require_actor()) if i else None

    @strawberry.field(description="The approval tier it waits at")
    def waiting_tier(self) -> ApprovalTier | None:
        index = self.view.application.approval_tier
        if self.view.state != ApplicationStateModel.AWAITING_APPROVAL or index is None:
            return None
        t = self.view.product.approval_tiers[index]
        return ApprovalTier(min_amount=t.min_amount, max_amount=t.max_amount, authority=RoleModel(t.authority),
                            name_zh=t.name_zh, name_en=t.name_en)  # fmt: skip

    @strawberry.field(description="The investigation report; null where the applicant is masked for you")
    def investigation(self, info: Info) -> JSON | None:
        report = self.view.application.investigation
        if report is None or self.view.applicant.masked:
            return None
        info.context.disclose("CreditApplication", self.pk, "investigation")
        return report  # type: ignore[no-any-return]

    @strawberry.field(description="Every step so far, oldest first")
    async def history(self) -> list[ApplicationStep]:
        return [ApplicationStep.of(e) for e in await views.history_of(self.pk)]

    @strawberry.field(description="The decisions evaluated on it, in order")
    async def decisions(self) -> list[DecisionEvaluation]:
        return [DecisionEvaluation.of(r) for r in await views.decisions_of(self.pk)]

    @strawberry.field(description="The credit line its approval granted")
    async def line(self) -> CreditLine | None:
        found = await views.line_of(self.pk)
        return CreditLine.of(found) if found else None
