"""The grid's scheduled work: the KPI roll-up nightly and the placement of new or moved customers hourly.
Importing this module registers both job kinds (their use cases do) and both schedules."""

from __future__ import annotations

from datetime import datetime

from resolvers.grid import assignment, kpis
from workers.schedule import JobPlan, schedule


def _rollup_plan(when: datetime) -> JobPlan:
    return JobPlan(params={"period": kpis.current_period(when)}, chunks=[{}])


async def _pending_assignment_plan(when: datetime) -> JobPlan:
    chunks = await assignment.plan_chunks(assignment.AssignmentScope.PENDING)
    return JobPlan(params={"scope": assignment.AssignmentScope.PENDING.value}, chunks=chunks)


NIGHTLY_ROLLUP = schedule(kpis.KIND, _rollup_plan, hour=2, minute=0)
HOURLY_ASSIGNMENT = schedule(assignment.KIND, _pending_assignment_plan, minute=5)
