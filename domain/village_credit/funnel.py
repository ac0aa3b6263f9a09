"""The whole-village credit funnel (整村授信漏斗): how many households reach each step, from the households living in
the campaigns' villages to those who drew a loan, with the conversion from each step to the next.

    households in the villages → surveyed → white list → limit proposed → reviewed → approved → called back
    → signed → drew a loan;  black and grey are the surveyed households screened off the white list.

A household counts at a step when it got there, whatever happened later (a household that signed was also
approved and called back); a survey merged into another as its duplicate is not a household of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


class FunnelStep(StrEnum):
    HOUSEHOLDS = "HOUSEHOLDS"
    SURVEYED = "SURVEYED"
    WHITE = "WHITE"
    LIMIT_PROPOSED = "LIMIT_PROPOSED"
    REVIEWED = "REVIEWED"
    APPROVED = "APPROVED"
    CALLED_BACK = "CALLED_BACK"
    SIGNED = "SIGNED"
    DREW = "DREW"


STEP_NAMES: Mapping[FunnelStep, tuple[str, str]] = {
    FunnelStep.HOUSEHOLDS: ("村内农户", "households in the villages"),
    FunnelStep.SURVEYED: ("已入户调查", "surveyed"),
    FunnelStep.WHITE: ("白名单", "white list"),
    FunnelStep.LIMIT_PROPOSED: ("已测算预授信额度", "limit proposed"),
    FunnelStep.REVIEWED: ("已复核", "reviewed"),
    FunnelStep.APPROVED: ("已审批公示", "approved"),
    FunnelStep.CALLED_BACK: ("已电话回访", "called back"),
    FunnelStep.SIGNED: ("已签约", "signed"),
    FunnelStep.DREW: ("已用信", "drew a loan"),
}


@dataclass(frozen=True)
class StepFigure:
    step: FunnelStep
    count: int
    conversion: float | None  # of the step before; None for the first, or when the step before has none

    @property
    def name_zh(self) -> str:
        return STEP_NAMES[self.step][0]

    @property
    def name_en(self) -> str:
        return STEP_NAMES[self.step][1]


def steps_of(counts: Mapping[FunnelStep, int]) -> tuple[StepFigure, ...]:
    """Each step's count and its conversion from the step before (0 when a step has no count)."""
    figures: list[StepFigure] = []
    before: int | None = None
    for step in FunnelStep:
        count = int(counts.get(step, 0))
        conversion = None if before is None or before == 0 else round(count / before, 4)
        figures.append(StepFigure(step, count, conversion))
        before = count
    return tuple(figures)


def coverage(surveyed: int, households: int) -> float | None:
    """Surveyed households over the households the village's file holds (None when it holds none)."""
    return None if households == 0 else round(surveyed / households, 4)


def overall(figures: Sequence[StepFigure], step: FunnelStep, of: FunnelStep = FunnelStep.SURVEYED) -> float | None:
    """One step's count over another's (by default: of the surveyed households)."""
    by_step = {f.step: f.count for f in figures}
    base = by_step.get(of, 0)
    return None if base == 0 else round(by_step.get(step, 0) / base, 4)
