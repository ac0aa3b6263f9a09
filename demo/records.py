"""The rows of the book's applications as they are planned: the applications, their history, the decisions
evaluated on them, the credit lines and guarantees; and what the loans need of each line granted."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from demo.writer import Table
from domain.credit.decisions import Evaluation
from domain.credit.products import Product
from domain.credit.workflow import Action, ApplicationState

APPLICATION_COLUMNS = (
    "client_id", "customer_id", "village_id", "outlet_id", "marketer_id", "investigator_id", "product_code",
    "product_version", "product_sha256", "amount", "term_months", "repayment_method", "guarantee_type", "purpose",
    "collateral_value", "state", "approval_tier", "tier_authority", "approver_ids", "reviewer_ids", "refusal_reasons",
    "rating_grade", "suggested_limit", "recommended_limit", "approved_limit", "investigation", "version",
    "submitted_at", "state_since", "sla_due", "decided_at",
)  # fmt: skip


@dataclass(frozen=True)
class Granted:
    """An approved application's credit line, as the loans need it."""

    line_id: int
    application_id: int
    customer: int  # index
    product: Product
    amount: int  # yuan
    valid_from: date
    valid_until: date
    granted_at: datetime
    marketer: int
    grade: str | None
    guarantees: tuple[int, ...]  # ids of the guarantees standing behind it


@dataclass
class Decided:
    """The rows of the book's applications and what the loans need of them."""

    applications: Table = field(default_factory=lambda: Table(*APPLICATION_COLUMNS))
    events: Table = field(default_factory=lambda: Table(
        "application_id", "action", "from_state", "to_state", "actor_id", "at", "reason", "detail"))  # fmt: skip
    decisions: Table = field(default_factory=lambda: Table(
        "application_id", "stage", "decision", "version", "content_sha256", "inputs", "outputs", "fired_rules",
        "created_at"))  # fmt: skip
    lines: Table = field(default_factory=lambda: Table(
        "application_id", "customer_id", "product_code", "product_version", "amount", "drawn", "reserved",
        "revolving", "valid_from", "valid_until", "status", "created_at"))  # fmt: skip
    guarantees: Table = field(default_factory=lambda: Table(
        "application_id", "guarantor_id", "borrower_id", "amount", "status", "created_at"))  # fmt: skip
    granted: list[Granted] = field(default_factory=list)
    files: dict[str, tuple[Evaluation, datetime]] = field(default_factory=dict)  # by content hash: first use

    def record(self, application_id: int, stage: str, evaluations: list[Evaluation], at: datetime) -> None:
        for e in evaluations:
            self.decisions.add(
                application_id=application_id, stage=stage, decision=e.decision, version=e.version,
                content_sha256=e.content_sha256, inputs=dict(e.inputs), outputs=dict(e.outputs),
                fired_rules=[{"node_id": r.node_id, "rule_id": r.rule_id} for r in e.fired_rules], created_at=at,
            )  # fmt: skip
            if e.content_sha256 not in self.files or at < self.files[e.content_sha256][1]:
                self.files[e.content_sha256] = (e, at)

    def event(
        self, application_id: int, action: Action, source: ApplicationState | None, target: ApplicationState,
        actor: int | None, at: datetime, reason: str = "", detail: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        self.events.add(
            application_id=application_id, action=action.value, from_state=source.value if source else None,
            to_state=target.value, actor_id=actor, at=at, reason=reason, detail=detail or {},
        )  # fmt: skip
