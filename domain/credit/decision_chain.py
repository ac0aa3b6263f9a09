"""The credit factory's decision chain for one application: admission → rating → limit → pricing, and guarantor
admission when a guarantor stands behind the loan.

Each step reads the application's facts and what the earlier steps answered: the rating's grade sets the limit
and the price, and the suggested limit is what the guarantor is asked to guarantee. A refused application is not
rated, limited or priced: the loan officer sees the refusal and its reasons, nothing that looks like an offer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.credit.decisions import DecisionBook, Evaluation


@dataclass(frozen=True, slots=True)
class ChainEvaluations:
    admission: Evaluation
    rating: Evaluation | None
    limit: Evaluation | None
    pricing: Evaluation | None
    guarantor_admission: Evaluation | None

    @property
    def evaluations(self) -> tuple[Evaluation, ...]:
        """The evaluations that ran, in the order they ran."""
        steps = (self.admission, self.rating, self.limit, self.pricing, self.guarantor_admission)
        return tuple(step for step in steps if step is not None)


def chain(
    book: DecisionBook, application: Mapping[str, Any], *, trace: bool = True, engine_trace: bool = False
) -> ChainEvaluations:
    """Run the chain on one application: its facts flat, and the guarantor's facts (if any) under "guarantor".
    engine_trace: find the fired rules by the engine's trace (DecisionBook.evaluate)."""

    def evaluate(name: str, facts: Mapping[str, Any]) -> Evaluation:
        return book.evaluate(name, facts, trace=trace, engine_trace=engine_trace)

    admission = evaluate("admission", application)
    if not admission.outputs["admitted"]:
        return ChainEvaluations(admission, None, None, None, None)
    rating = evaluate("rating", application)
    graded = {**application, "grade": rating.outputs["grade"]}
    limit = evaluate("limit", graded)
    pricing = evaluate("pricing", graded)
    guarantor = application.get("guarantor")
    guarantor_admission = None
    if guarantor is not None:
        guaranteed = {**guarantor, "new_guarantee_amount": limit.outputs["suggested_limit"]}
        guarantor_admission = evaluate("guarantor_admission", guaranteed)
    return ChainEvaluations(admission, rating, limit, pricing, guarantor_admission)
