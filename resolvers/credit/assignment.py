"""Automatic assignment (自动分配) of admitted applications to credit investigators, as a job: every application
waiting for assignment goes to an eligible investigator (by outlet and grid, by product skill, never its
marketer), the least loaded first, by the rule in domain/credit/assignment.py; each assignment is a step of the
application's state machine, explained in words in its history. Intake queues a run once its application has
committed; a run every minute picks up what a run under way missed. A branch president reassigns, one or in
bulk, with a reason."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Subquery
from tortoise.functions import Count

from domain.access import Actor, Role
from domain.credit import assignment as rule
from domain.credit.process import StageName
from domain.credit.workflow import Action, ApplicationState
from domain.errors import DomainError, ErrorCode, not_found
from domain.text import checked_text
from models import ApplicationEvent, CreditApplication, GridNode, JobOutput, Staff
from resolvers.credit import applications as apps
from resolvers.platform import audit, jobs, outbox
from resolvers.platform.db import dialect, insert_rows, placeholders
from resolvers.platform.job_kinds import (
    ChunkRun,
    Described,
    Finishing,
    GridScope,
    JobKind,
    KindSchedule,
)
from resolvers.platform.notifications import notify_many
from resolvers.platform.unit_of_work import UnitOfWork, unit_of_work

KIND = "credit_assignment"
ASSIGNED = "assigned"  # job output: ref the application, amount the investigator
UNASSIGNED = "unassigned"  # job output: ref an application no eligible investigator could take
NOTICE_KIND = "credit.application_assigned"
MAX_BULK = 500
MAX_REASON_LENGTH = 200
# an open case whose SLA runs out within this long weighs on its investigator's load (see domain assignment)
AT_RISK_WITHIN = timedelta(minutes=30)


@dataclass(frozen=True)
class AssignmentParams:
    """Every application waiting for assignment in the run's scope."""


@dataclass(frozen=True)
class WaitingPart:
    """The run is one chunk: balancing needs every waiting application and every investigator at once."""

    part: int = 0


@dataclass(frozen=True)
class AssignmentCounts:
    assigned: int
    unassigned: int


@dataclass(frozen=True)
class CreditAssignmentReport:
    assigned: Annotated[int, Described("Applications given to an investigator")]
    unassigned: Annotated[int, Described("Applications no eligible investigator could take (still waiting)")]
    investigators_notified: Annotated[int, Described("Investigators told of their new cases")]


async def _still_waiting(params: AssignmentParams, scope: GridScope, conn: BaseDBAsyncClient) -> bool:
    return await CreditApplication.filter(state=ApplicationState.AWAITING_ASSIGNMENT).using_db(conn).exists()


async def _plan(params: AssignmentParams, scope: GridScope, conn: BaseDBAsyncClient) -> list[WaitingPart]:
    return [WaitingPart()]


async def investigators(conn: BaseDBAsyncClient, at: datetime) -> list[rule.Investigator]:
    """Every active credit investigator with their outlet, grid, product skills and open cases."""
    staff = [
        s
        for s in await Staff.filter(is_active=True).using_db(conn).prefetch_related("scope")
        if Role.CREDIT_INVESTIGATOR.value in s.roles
    ]
    open_cases = dict(
        await CreditApplication.filter(state=ApplicationState.INVESTIGATING, investigator_id__not_isnull=True)
        .using_db(conn)
        .annotate(n=Count("id"))
        .group_by("investigator_id")
        .values_list("investigator_id", "n")
    )
    at_risk = dict(
        await CreditApplication.filter(state=ApplicationState.INVESTIGATING, sla_due__lt=at + AT_RISK_WITHIN)
        .using_db(conn)
        .annotate(n=Count("id"))
        .group_by("investigator_id")
        .values_list("investigator_id", "n")
    )
    return [
        rule.Investigator(
            staff_id=s.id,
            outlet_id=s.outlet_id,  # type: ignore[attr-defined]
            scope_paths=tuple(sorted(n.path for n in s.scope)),
            product_skills=frozenset(s.product_skills or ()),
            open_cases=int(open_cases.get(s.id, 0)),
            at_risk_cases=int(at_risk.get(s.id, 0)),
            active=True,
        )
        for s in staff
    ]


async def waiting(conn: BaseDBAsyncClient, scope: GridScope) -> list[rule.WaitingApplication]:
    query = CreditApplication.filter(state=ApplicationState.AWAITING_ASSIGNMENT).using_db(conn)
    rows = await query.values("id", "product_code", "village_id", "outlet_id", "marketer_id", "state_since", "sla_due")
    paths = dict(
        await GridNode.filter(id__in={r["village_id"] for r in rows if r["village_id"]})
        .using_db(conn)
        .values_list("id", "path")
    )
    return [
        rule.WaitingApplication(
            application_id=r["id"],
            product_code=r["product_code"],
            village_path=paths.get(r["village_id"], "/"),
            outlet_id=r["outlet_id"],
            marketer_id=r["marketer_id"],
            waiting_since=r["state_since"],
            sla_due=r["sla_due"] or r["state_since"],
        )
        for r in rows
        if scope.is_bank or paths.get(r["village_id"], "/").startswith(scope.path)
    ]


async def _run_chunk(run: ChunkRun[AssignmentParams, WaitingPart]) -> AssignmentCounts:
    at = apps.now()
    names = {p.code: p.name_zh for p in apps.catalogue().on_sale(at.date())}
    plan = rule.assign(await waiting(run.conn, run.scope), await investigators(run.conn, at), now=at,
                       product_names_zh=names)  # fmt: skip
    written = await write_assignments(run.conn, plan.assignments, at)
    await run.write_outputs(ASSIGNED, ((a.application_id, a.staff_id) for a in written))
    await run.write_outputs(UNASSIGNED, ((u.application_id, 0) for u in plan.unassigned))
    return AssignmentCounts(assigned=len(written), unassigned=len(plan.unassigned))


WRITE_BATCH = 1000  # assignments written per statement


async def write_assignments(
    conn: BaseDBAsyncClient, assignments: Sequence[rule.Assignment], at: datetime
) -> list[rule.Assignment]:
    """Each assignment as the state machine's `assign` step by the system, only where the application still
    waits (one withdrawn meanwhile keeps its state): a thousand applications per statement, their history and
    audit rows by bulk insert, so that a morning's queue is assigned in moments."""
    written: list[rule.Assignment] = []
    slas: dict[tuple[str, int], timedelta] = {}
    for start in range(0, len(assignments), WRITE_BATCH):
        batch = {a.application_id: a for a in assignments[start : start + WRITE_BATCH]}
        rows = (
            await CreditApplication.filter(id__in=list(batch))
            .using_db(conn)
            .values("id", "product_code", "product_version")
        )
        due = {}
        for r in rows:
            key = (r["product_code"], r["product_version"])
            if key not in slas:
                slas[key] = apps.catalogue().get(*key).stage(StageName.INVESTIGATION).sla
            due[r["id"]] = at + slas[key]
        changed = await _assign_rows(conn, [(i, batch[i].staff_id, due[i]) for i in sorted(due)], at)
        done = [batch[i] for i in sorted(changed)]
        await insert_rows(
            ApplicationEvent,
            [
                {"application_id": a.application_id, "action": Action.ASSIGN.value,
                 "from_state": ApplicationState.AWAITING_ASSIGNMENT.value,
                 "to_state": ApplicationState.INVESTIGATING.value, "actor_id": None, "at": at,
                 "reason": f"{a.reason_zh} / {a.reason_en}",
                 "detail": {"investigator_id": a.staff_id, "open_cases_before": a.open_cases_before}}
                for a in done
            ],
            conn,
        )  # fmt: skip
        await audit.record_many(
            None, "credit_application.assign", "CreditApplication",
            [(a.application_id, {"investigator_id": a.staff_id, "reason": a.reason_en}) for a in done],
            using_db=conn,
        )  # fmt: skip
        written += done
    return written


async def _assign_rows(conn: BaseDBAsyncClient, rows: list[tuple[int, int, datetime]], at: datetime) -> set[int]:
    """One UPDATE … FROM (VALUES …) for the batch, portable to SQLite and PostgreSQL; the ids it changed."""
    if not rows:
        return set()
    to_db = CreditApplication._meta.fields_map["sla_due"].to_db_value
    postgres = dialect(conn) == "postgres"
    marks = placeholders(conn, 0, 3 * len(rows) + 1)
    casts = ("::int", "::int", "::timestamptz") if postgres else ("", "", "")
    values = ", ".join(
        f"({marks[3 * n]}{casts[0]}, {marks[3 * n + 1]}{casts[1]}, {marks[3 * n + 2]}{casts[2]})"
        for n in range(len(rows))
    )
    since = marks[-1] + ("::timestamptz" if postgres else "")
    sql = (
        f"WITH v(id, investigator_id, sla_due) AS (VALUES {values}) "
        f"UPDATE credit_application SET state = 'INVESTIGATING', investigator_id = v.investigator_id, "
        f"version = credit_application.version + 1, state_since = {since}, sla_due = v.sla_due "
        f"FROM v WHERE credit_application.id = v.id AND credit_application.state = 'AWAITING_ASSIGNMENT' "
        f"RETURNING credit_application.id"
    )
    params: list[Any] = [x for i, s, d in rows for x in (i, s, to_db(d, CreditApplication))]
    params.append(to_db(at, CreditApplication))
    return {int(r["id"]) for r in await conn.execute_query_dict(sql, params)}


async def _again_for_latecomers(finishing: Finishing[AssignmentParams]) -> None:
    """Applications admitted while this run was under way found it in flight and started none of their own: any
    still waiting that the run never read (neither assigned nor left unassigned by it) get the next run, queued
    with this one's result. One left unassigned for want of an eligible investigator waits for the hourly sweep,
    so that it cannot keep runs coming."""
    seen = JobOutput.filter(job_id=finishing.job_id, topic__in=[ASSIGNED, UNASSIGNED]).values("ref")
    waiting = CreditApplication.filter(state=ApplicationState.AWAITING_ASSIGNMENT).exclude(id__in=Subquery(seen))
    if await waiting.using_db(finishing.conn).exists():
        await jobs.start_later(
            CREDIT_ASSIGNMENT, AssignmentParams(), created_by=None, dedup_key=f"{KIND}:after:{finishing.job_id}",
            using_db=finishing.conn,
        )  # fmt: skip


async def _finish(
    finishing: Finishing[AssignmentParams], results: Sequence[AssignmentCounts]
) -> CreditAssignmentReport:
    per_investigator = await finishing.output_totals(ASSIGNED)  # application: investigator
    cases: dict[int, list[int]] = {}
    for application_id, staff_id in per_investigator.items():
        cases.setdefault(staff_id, []).append(application_id)
    notes = await notify_many(
        [
            (staff_id, NOTICE_KIND,
             f"新分配授信调查{len(ids)}件 / {len(ids)} new application{'s' if len(ids) > 1 else ''} to investigate",
             "请在时限内完成调查 / please investigate them within their time limit",
             {"application_ids": sorted(ids)[:100]})
            for staff_id, ids in sorted(cases.items())
        ],
        using_db=finishing.conn,
    )  # fmt: skip
    for note in notes:
        finishing.publish_after_commit(note)
    await _again_for_latecomers(finishing)
    return CreditAssignmentReport(
        assigned=sum(r.assigned for r in results),
        unassigned=sum(r.unassigned for r in results),
        investigators_notified=len(cases),
    )


CREDIT_ASSIGNMENT = JobKind(
    name=KIND,
    title_zh="授信调查分配",
    title_en="investigator assignment",
    params=AssignmentParams,
    chunk=WaitingPart,
    chunk_result=AssignmentCounts,
    report=CreditAssignmentReport,
    plan=_plan,
    run_chunk=_run_chunk,
    finish=_finish,
    bank_wide_only=True,
    still_needed=_still_waiting,
    # intake starts a run for each admitted application (one at a time: a run under way is joined, and queues
    # the next for what it missed); every hour a sweep, for applications that waited for an eligible investigator
    schedule=KindSchedule(times={"minute": 10}, params=lambda _when: AssignmentParams()),
)


async def start_assignment(uow: UnitOfWork) -> None:
    """Start a run with the application's intake, in its transaction, or join the run in flight: a run not yet
    started reads the new application when it starts, and a run under way queues the next for what it missed.
    So a burst of intakes makes one run, not one queued task each."""
    await jobs.start(CREDIT_ASSIGNMENT, AssignmentParams(), created_by=None, using_db=uow.conn)
    uow.on_commit(outbox.wake)


async def reassign(
    actor: Actor, application_ids: Sequence[int], investigator_id: int, reason: str
) -> list[CreditApplication]:
    """A branch president gives applications of their branch to another investigator, with a reason: all of
    them or none (an application out of reach, in the wrong state or not eligible for that investigator refuses
    the whole request)."""
    text = checked_text(
        reason, field="reason", what_zh="改派原因", what_en="reason", max_length=MAX_REASON_LENGTH, required=True
    )
    if not 1 <= len(application_ids) <= MAX_BULK or len(set(application_ids)) != len(application_ids):
        raise DomainError(
            ErrorCode.INVALID_VALUE,
            f"一次改派1至{MAX_BULK}件不重复的申请",
            f"reassign 1 to {MAX_BULK} distinct applications at a time",
            "applicationIds",
        )
    at = apps.now()
    async with unit_of_work() as uow:
        pool = {i.staff_id: i for i in await investigators(uow.conn, at)}
        chosen = pool.get(investigator_id)
        moved = []
        for application_id in application_ids:
            application, facts = await apps.find_application(actor, application_id, "applicationIds")
            waiting_one = rule.WaitingApplication(
                application_id=application.id,
                product_code=application.product_code,
                village_path=facts.village_path or "/",
                outlet_id=application.outlet_id,  # type: ignore[attr-defined]
                marketer_id=facts.marketer_id,
                waiting_since=application.state_since,
                sla_due=application.sla_due or application.state_since,
            )
            if chosen is None:
                raise not_found("授信经理", "credit investigator", "investigatorId")
            rule.check_reassignment(
                waiting_one,
                chosen,
                text,
                product_name_zh=apps.product_of(application).name_zh,
                current_investigator_id=facts.investigator_id,
            )
            sla = apps.product_of(application).stage(StageName.INVESTIGATION).sla
            moved.append(
                await apps.move(
                    uow, application, facts, Action.REASSIGN, actor, ApplicationState.INVESTIGATING,
                    reason=text,
                    detail={"from_investigator_id": facts.investigator_id, "investigator_id": investigator_id},
                    changes={"investigator_id": investigator_id, "sla_due": at + sla},
                )
            )  # fmt: skip
        await uow.notify(
            investigator_id,
            NOTICE_KIND,
            f"改派给您的授信调查{len(moved)}件 / {len(moved)} application(s) reassigned to you",
            text,
            {"application_ids": [a.id for a in moved]},
        )
    return moved
