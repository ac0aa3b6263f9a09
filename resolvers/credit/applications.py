"""What every use case of the application process shares: the rule files (read once per process), finding an
application the actor may see, and moving it one step of its state machine — the step checked against the
transition table, written with the state and version it was read in (so that of two people acting at once
exactly one wins), its history row and audit row in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any

from domain.access import Actor, Role
from domain.credit import workflow
from domain.credit.catalogue import Catalogue, load_catalogue
from domain.credit.decisions import DecisionBook, Evaluation
from domain.credit.errors import CreditErrorCode
from domain.credit.products import Product
from domain.credit.workflow import Action, ApplicationFacts, ApplicationState
from domain.errors import DomainError, ErrorCode, not_found
from models import ApplicationEvent, CreditApplication, CreditLine, CreditReport, DecisionRecord, GridNode
from resolvers.credit import policy
from resolvers.platform.unit_of_work import UnitOfWork


@cache
def catalogue() -> Catalogue:
    """The product catalogue under rules/products, checked against the decisions under rules/decisions."""
    return load_catalogue()


@cache
def decisions() -> DecisionBook:
    return DecisionBook.from_directory()


def now() -> datetime:
    return datetime.now(UTC)


def fixed_inputs(product: Product, decision: str) -> dict[str, str]:
    """The inputs the product's file gives a decision it runs (`inputs = { product = "PUHUI" }`), whichever
    stage runs it."""
    for stage in product.stages:
        for ref in stage.decisions:
            if ref.name == decision:
                return dict(ref.inputs)
    return {}


def evaluate(product: Product, decision: str, facts: Mapping[str, Any]) -> Evaluation:
    """A decision on the application's facts and the inputs the product's file fixes for it."""
    return decisions().evaluate(decision, {**facts, **fixed_inputs(product, decision)})


def product_of(application: CreditApplication) -> Product:
    """The product version the application started with, whatever has taken effect since."""
    return catalogue().get(application.product_code, application.product_version)


async def facts_of(application: CreditApplication) -> ApplicationFacts:
    village_path = None
    if application.village_id is not None:  # type: ignore[attr-defined]
        village_path = await GridNode.filter(id=application.village_id).first().values_list("path", flat=True)  # type: ignore[attr-defined]
    return facts_with_path(application, village_path)  # type: ignore[arg-type]


def facts_with_path(application: CreditApplication, village_path: str | None) -> ApplicationFacts:
    return ApplicationFacts(
        state=ApplicationState(application.state),
        marketer_id=application.marketer_id,  # type: ignore[attr-defined]
        investigator_id=application.investigator_id,  # type: ignore[attr-defined]
        village_path=village_path,
        tier_authority=Role(application.tier_authority) if application.tier_authority else None,
        approver_ids=frozenset(application.approver_ids or ()),
        reviewer_ids=frozenset(application.reviewer_ids or ()),
    )


async def find_application(
    actor: Actor, application_id: int, field: str = "id"
) -> tuple[CreditApplication, ApplicationFacts]:
    """The application and its facts, if the actor may see it; NOT_FOUND otherwise (also when absent)."""
    application = await CreditApplication.get_or_none(id=application_id)
    if application is None:
        raise not_found("授信申请", "credit application", field)
    facts = await facts_of(application)
    if not policy.may_see(actor, facts):
        raise not_found("授信申请", "credit application", field)
    return application, facts


async def latest_report(customer_id: int) -> CreditReport:
    report = await CreditReport.filter(customer_id=customer_id).order_by("-reported_on", "-id").first()
    if report is None:
        raise DomainError(
            CreditErrorCode.CREDIT_REPORT_MISSING,
            "该客户没有征信报告,请先完成征信查询",
            "there is no credit-bureau report for this customer yet; run the enquiry first",
            "customerId",
        )
    return report


async def find_line(
    actor: Actor, line_id: int, field: str = "lineId"
) -> tuple[CreditLine, CreditApplication, ApplicationFacts]:
    """A credit line, seen by whoever sees the application that granted it; NOT_FOUND otherwise."""
    line = await CreditLine.get_or_none(id=line_id)
    if line is None:
        raise not_found("授信额度", "credit line", field)
    try:
        application, facts = await find_application(actor, line.application_id, field)  # type: ignore[attr-defined]
    except DomainError:
        raise not_found("授信额度", "credit line", field) from None
    return line, application, facts


def stale() -> DomainError:
    return DomainError(
        ErrorCode.STALE_VERSION,
        "该申请刚被他人处理,请刷新后再试",
        "someone has just acted on this application; reload it and try again",
        "id",
    )


async def move(
    uow: UnitOfWork,
    application: CreditApplication,
    facts: ApplicationFacts,
    action: Action,
    actor: Actor | None,
    target: ApplicationState,
    *,
    reason: str = "",
    detail: Mapping[str, Any] | None = None,
    changes: Mapping[str, Any] | None = None,
) -> CreditApplication:
    """One step of the state machine, inside the use case's unit of work. Refuses (typed, nothing written) when
    the table does not allow it; STALE_VERSION when someone else moved the application first."""
    workflow.check(action, actor, facts, target)
    at = now()
    values: dict[str, Any] = {"state": target, "version": application.version + 1, "state_since": at, **(changes or {})}
    written = await CreditApplication.filter(id=application.id, version=application.version, state=facts.state).update(
        **values
    )
    if written != 1:
        raise stale()
    for name, value in values.items():
        setattr(application, name, value)
    await _history(application, action, facts.state, target, actor, at, reason, detail)
    await uow.audit(
        actor,
        f"credit_application.{action.value}",
        "CreditApplication",
        application.id,
        {"from": facts.state.value, "to": target.value, **({"reason": reason} if reason else {})},
    )
    return application


async def _history(
    application: CreditApplication,
    action: Action,
    source: ApplicationState | None,
    target: ApplicationState,
    actor: Actor | None,
    at: datetime,
    reason: str,
    detail: Mapping[str, Any] | None,
) -> None:
    await ApplicationEvent.create(
        application_id=application.id,
        action=action.value,
        from_state=source.value if source else None,
        to_state=target.value,
        actor_id=actor.staff_id if actor else None,
        at=at,
        reason=reason,
        detail=dict(detail or {}),
    )


async def entered(
    uow: UnitOfWork, application: CreditApplication, action: Action, actor: Actor, detail: Mapping[str, Any]
) -> None:
    """The history and audit of an application just created by intake, admitted or refused."""
    target = ApplicationState(application.state)
    workflow.check(action, None, None, target)
    await _history(application, action, None, target, actor, application.submitted_at, "", detail)
    await uow.audit(actor, "credit_application.submit", "CreditApplication", application.id, dict(detail))


async def record_decisions(application_id: int, stage: str, evaluations: Iterable[Evaluation]) -> None:
    """Store each evaluation as evaluated (inputs, outputs, file version and hash, the rules that fired)."""
    from resolvers.credit.decision_records import keep_files

    evaluations = list(evaluations)
    await keep_files(evaluations)
    at = now()
    await DecisionRecord.bulk_create(
        [
            DecisionRecord(
                application_id=application_id,
                stage=stage,
                decision=e.decision,
                version=e.version,
                content_sha256=e.content_sha256,
                inputs=dict(e.inputs),
                outputs=dict(e.outputs),
                fired_rules=[{"node_id": r.node_id, "rule_id": r.rule_id} for r in e.fired_rules],
                created_at=at,
            )
            for e in evaluations
        ]
    )
