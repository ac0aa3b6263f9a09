"""The credit factory's process metrics (流程指标) as pure rules: the period a report covers, the stage each
waiting state belongs to, percentiles of durations and the SLA breaches among them.

- A period is two dates, both included, in UTC: from 00:00 of the first day to 24:00 of the last, at most
  MAX_PERIOD_DAYS apart, the first not after the last.
- A stage is timed from the step that entered its state to the step that left it. A step that leaves a state
  for the same state (a reassignment, a tier's approval) starts the stage's clock again, as it starts its time
  limit (sla_due) again.
- Percentiles are nearest-rank: p50 of 1, 2, 3, 4 minutes is 2, p90 is 4 — always a duration that happened.
- A case breaches its stage's time limit when it spent more than the product's `sla_minutes` in it; a case still
  in the stage is measured up to now.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from domain.credit.drawdown_workflow import DrawdownState
from domain.credit.errors import CreditErrorCode
from domain.credit.process import StageName
from domain.credit.workflow import ApplicationState
from domain.errors import DomainError

MAX_PERIOD_DAYS = 400

# The states an application or a drawdown waits in, and the product stage whose time limit each one runs on.
APPLICATION_STAGES: Mapping[ApplicationState, StageName] = {
    ApplicationState.AWAITING_ASSIGNMENT: StageName.ASSIGNMENT,
    ApplicationState.INVESTIGATING: StageName.INVESTIGATION,
    ApplicationState.AWAITING_APPROVAL: StageName.APPROVAL,
}
DRAWDOWN_STAGES: Mapping[DrawdownState, StageName] = {
    DrawdownState.PRICED: StageName.CONTRACT,
    DrawdownState.SIGNED: StageName.BACK_OFFICE_CHECK,
    DrawdownState.CHECKED: StageName.DISBURSEMENT,
}
TIMED_STAGES: tuple[StageName, ...] = (*APPLICATION_STAGES.values(), *DRAWDOWN_STAGES.values())


@dataclass(frozen=True)
class Period:
    first_day: date
    last_day: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(), UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.last_day + timedelta(days=1), time(), UTC)


def period(first_day: date, last_day: date) -> Period:
    """The period from `first_day` to `last_day`, both included; a typed refusal when reversed or too long."""
    if first_day > last_day:
        raise DomainError(
            CreditErrorCode.PERIOD_REVERSED,
            f"起始日期 {first_day} 晚于截止日期 {last_day}",
            f"the period starts on {first_day}, after it ends on {last_day}",
            "from",
        )
    if (last_day - first_day).days > MAX_PERIOD_DAYS:
        raise DomainError(
            CreditErrorCode.PERIOD_TOO_LONG,
            f"统计期间最长 {MAX_PERIOD_DAYS} 天",
            f"a period spans at most {MAX_PERIOD_DAYS} days",
            "to",
        )
    return Period(first_day, last_day)


def percentile(ordered: Sequence[float], share: int) -> float | None:
    """The nearest-rank percentile (0 < share ≤ 100) of values sorted ascending; None of no values."""
    if not ordered:
        return None
    return ordered[max(math.ceil(share / 100 * len(ordered)), 1) - 1]


@dataclass(frozen=True)
class Durations:
    """How long a number of cases took, in minutes."""

    cases: int
    p50_minutes: float | None
    p90_minutes: float | None

    @classmethod
    def of(cls, minutes: Iterable[float]) -> Durations:
        ordered = sorted(minutes)
        return cls(len(ordered), percentile(ordered, 50), percentile(ordered, 90))


@dataclass(frozen=True)
class Visit:
    """One case's time in one stage: finished (it left the stage) or still open (measured up to now)."""

    stage: StageName
    minutes: float
    still_open: bool
    sla_minutes: int | None  # None where the product has no such stage

    @property
    def breached(self) -> bool:
        return self.sla_minutes is not None and self.minutes > self.sla_minutes


@dataclass(frozen=True)
class StageFigures:
    stage: StageName
    finished: Durations  # the cases that left the stage
    still_open: int  # the cases in it now
    breached_finished: int
    breached_open: int

    @property
    def breaches(self) -> int:
        return self.breached_finished + self.breached_open


def stage_figures(visits: Iterable[Visit], stages: Sequence[StageName] = TIMED_STAGES) -> list[StageFigures]:
    """Each stage's durations and breaches, in the order of `stages`."""
    by_stage: dict[StageName, list[Visit]] = {stage: [] for stage in stages}
    for visit in visits:
        by_stage[visit.stage].append(visit)
    figures = []
    for stage, found in by_stage.items():
        finished = [v for v in found if not v.still_open]
        still_open = [v for v in found if v.still_open]
        figures.append(
            StageFigures(
                stage=stage,
                finished=Durations.of(v.minutes for v in finished),
                still_open=len(still_open),
                breached_finished=sum(v.breached for v in finished),
                breached_open=sum(v.breached for v in still_open),
            )
        )
    return figures


def minutes_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60


def rate(part: int, whole: int) -> float | None:
    """part ÷ whole; None when there is no whole to divide by."""
    return part / whole if whole else None
