"""The credit factory's process metrics (流程指标), the case study's management view: how long the process takes
from submission to the money and stage by stage, where it runs over its time limits, what waits and with whom,
how often applications are approved, and the period's headline counts per grid node.

Who gets which figures — the applications the credit policy lets them see (resolvers.credit.policy.visible),
narrowed to their own work where the policy shows them more than that:

- Head office: every application in the bank.
- A branch president: the applications in their branch's subtrees.
- A customer manager: the applications they took. The others in their villages, which the policy shows them
  masked, are their colleagues' work and are left out.
- A credit investigator: the applications assigned to them.
- An approver: what waits for the approver tier (within their grid scope, when they have one) and what they
  decided on.
- The back office: the lending side of the approved applications the policy shows them — lines granted, the
  drawdowns' stages, backlog and disbursements. The application side (turnaround, the application stages and
  backlog, the rates, applications and investigations) is empty for them: approved applications alone would
  read as a 100 % approval rate.
- The administrator: nothing, as the policy shows them no application; every figure is zero or empty.

Someone holding several roles gets the union of their roles' reach. A grid node narrows it to the applications
whose village lies under the node; a node the actor may not see (resolvers.grid.policy), or that does not exist,
is NOT_FOUND. The headline counts are repeated for each child of the node the actor may see (without a node,
for each township), so a branch president sees their villages side by side.

What the period (`from`–`to`, UTC dates, both included) counts:

- turnaround: submission to the first disbursement on the application's line, for applications first disbursed
  in the period;
- per stage (domain.credit.metrics): the cases that left the stage in the period, with p50/p90, and those in it
  now that entered it by the period's end; time-limit breaches among both (a case still open measured to now);
- rates by product: final approvals and rejections in the period over the two together; admission refusals
  over the applications submitted in the period;
- headline: applications submitted, investigation reports submitted, lines granted (count, amount), drawdowns
  disbursed (count, amount).

The backlog is as of now, whatever the period: open applications per state, per investigator (INVESTIGATING)
and per tier authority (AWAITING_APPROVAL), open drawdowns per state.

Cost: a fixed number of statements whatever the number of applications and villages — the grid node, its
children and eight aggregations, each over the ORM's own query of the applications in reach (the policy's filter
included) as a derived table. Sums and counts are grouped in SQL; only the stage visits and the turnaround come
back one row per case, their timestamps only: the percentiles, and each product version's own time limit, are
computed here, as SQLite and PostgreSQL share no percentile function.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import reduce
from operator import add
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from domain.access import Actor, Role
from domain.credit.drawdown_workflow import OPEN_DRAWDOWN, DrawdownState
from domain.credit.metrics import (
    APPLICATION_STAGES,
    DRAWDOWN_STAGES,
    Durations,
    Period,
    StageFigures,
    Visit,
    minutes_between,
    period,
    stage_figures,
)
from domain.credit.process import StageName
from domain.credit.workflow import OPEN, Action, ApplicationState
from domain.errors import DomainError, not_found
from models import CreditApplication, CreditLine, Drawdown, GridLevel, GridNode
from resolvers.credit import applications as apps
from resolvers.credit import policy
from resolvers.customers.policy import living_under
from resolvers.grid import browse
from resolvers.grid import policy as grid_policy
from resolvers.platform.db import connection, dialect, fetch, statement

NOTHING = Q(id=-1)
# in the state machine's order, as the backlog lists them
OPEN_STATES = tuple(s for s in ApplicationState if s in OPEN)
OPEN_DRAWDOWN_STATES = tuple(s for s in DrawdownState if s in OPEN_DRAWDOWN)
FEN = Decimal("0.01")


def process_reach(actor: Actor) -> Q:
    """The applications whose process the actor's figures describe: the credit policy's filter for each of
    their roles but the customer manager's and the back office's, and the applications a customer manager took."""
    reach = _visible_as(actor, actor.roles - {Role.CUSTOMER_MANAGER, Role.BACK_OFFICE})
    if actor.has(Role.CUSTOMER_MANAGER):
        reach |= Q(marketer_id=actor.staff_id)
    return reach


def lending_reach(actor: Actor) -> Q:
    """The applications whose lines and drawdowns the actor's figures describe: the process reach, and for the
    back office the approved applications the policy shows them."""
    reach = process_reach(actor)
    if actor.has(Role.BACK_OFFICE):
        reach |= _visible_as(actor, frozenset({Role.BACK_OFFICE}))
    return reach


def _visible_as(actor: Actor, roles: frozenset[Role]) -> Q:
    return policy.visible(replace(actor, roles=roles)) if roles else NOTHING


@dataclass(frozen=True)
class Headline:
    """The case study's headline counts (业务概览) for a period."""

    applications: int = 0
    investigations: int = 0  # investigation reports submitted
    lines_granted: int = 0
    line_amount: Decimal = Decimal("0.00")
    drawdowns_disbursed: int = 0
    disbursed_amount: Decimal = Decimal("0.00")

    def __add__(self, other: Headline) -> Headline:
        return Headline(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})


@dataclass(frozen=True)
class NodeHeadline:
    node: GridNode
    headline: Headline


@dataclass(frozen=True)
class ProductRates:
    product_code: str
    submitted: int = 0
    admission_refused: int = 0
    approved: int = 0
    rejected: int = 0

    @property
    def decided(self) -> int:
        return self.approved + self.rejected


@dataclass(frozen=True)
class Backlog:
    applications: Mapping[ApplicationState, int]  # every open state, in the state machine's order
    by_investigator: Sequence[tuple[int, int]]  # (investigator id, applications INVESTIGATING), most first
    by_tier_authority: Sequence[tuple[Role, int]]  # (authority, applications AWAITING_APPROVAL at its tier)
    drawdowns: Mapping[DrawdownState, int]  # every open state


@dataclass(frozen=True)
class ProcessMetrics:
    period: Period
    node: browse.NodeRow | None
    product_code: str | None
    computed_at: datetime
    headline: Headline
    by_child: Sequence[NodeHeadline]
    turnaround: Durations
    stages: Sequence[StageFigures]
    backlog: Backlog
    products: Sequence[ProductRates]


async def process_metrics(
    actor: Actor, first_day: date, last_day: date, *, grid_code: str | None = None, product_code: str | None = None
) -> ProcessMetrics:
    """The process metrics of the applications in the actor's reach, under the grid node when given, of one
    product when given, for the period; typed refusals for a bad period and NOT_FOUND for a node out of sight."""
    chosen = period(first_day, last_day)
    node = await _node(actor, grid_code) if grid_code is not None else None
    children = await _children(actor, node)
    process = _applications(process_reach(actor), node, product_code)
    lending = _applications(lending_reach(actor), node, product_code)
    now = apps.now()
    events = await _run(EVENT_COUNTS, process, chosen, **EVENT_STATES)
    lines = await _run(LINES_GRANTED, lending, chosen)
    disbursed = await _run(DISBURSED, lending, chosen, disbursed=DrawdownState.DISBURSED.value)
    turnaround = await _run(TURNAROUND, process, chosen, disbursed=DrawdownState.DISBURSED.value)
    application_visits = await _run(APPLICATION_VISITS, process, chosen, **_states(APPLICATION_STAGES))
    drawdown_visits = await _run(DRAWDOWN_VISITS, lending, chosen, **_states(DRAWDOWN_STAGES))
    by_village = _headlines(events, lines, disbursed)
    return ProcessMetrics(
        period=chosen,
        node=node,
        product_code=product_code,
        computed_at=now,
        headline=reduce(add, by_village.values(), Headline()),
        by_child=[NodeHeadline(child, _under(child.path, by_village)) for child in children],
        turnaround=Durations.of(
            minutes_between(_instant(r["submitted_at"]), _instant(r["disbursed_at"])) for r in turnaround
        ),
        stages=stage_figures(
            [
                *_visits(application_visits, {s.value: stage for s, stage in APPLICATION_STAGES.items()}, now),
                *_visits(drawdown_visits, {s.value: stage for s, stage in DRAWDOWN_STAGES.items()}, now),
            ]
        ),
        backlog=await _backlog(process, lending),
        products=_rates(events),
    )


async def _node(actor: Actor, code: str) -> browse.NodeRow:
    try:
        return await browse.get_node_by_code(actor, code)
    except DomainError:
        raise not_found("网格节点", "grid node", "gridNodeCode") from None


async def _children(actor: Actor, node: browse.NodeRow | None) -> list[GridNode]:
    """The node's children the actor may see, or without a node every township they may see, by code."""
    if node is not None:
        return (await browse.children_of(actor, [node.id]))[0]
    return list(
        await GridNode.filter(grid_policy.visible(actor), level=GridLevel.TOWNSHIP)
        .order_by("code")
        .only(*browse.NODE_FIELDS)
    )


def _applications(reach: Q, node: browse.NodeRow | None, product_code: str | None) -> QuerySet[CreditApplication]:
    query = CreditApplication.filter(reach)
    if node is not None:
        query = query.filter(living_under([node.path]))
    if product_code is not None:
        query = query.filter(product_code=product_code)
    return query


# --- the statements -------------------------------------------------------------------------------------------
# `{applications}` is the derived table of the applications in reach (the columns below); every other `{name}`
# is a placeholder for a value. Amounts are summed in whole fen (分), exact on both databases.

APPLICATION_COLUMNS = ("id", "product_code", "product_version", "village_id", "submitted_at")
EVENT_STATES = {
    "refused": ApplicationState.ADMISSION_REFUSED.value,
    "investigated": Action.SUBMIT_INVESTIGATION.value,
    "approved": ApplicationState.APPROVED.value,
    "rejected": ApplicationState.REJECTED.value,
}

EVENT_COUNTS = """
    SELECT a.product_code AS product_code, g.path AS village_path,
           SUM(CASE WHEN e.from_state IS NULL THEN 1 ELSE 0 END) AS submitted,
           SUM(CASE WHEN e.to_state = {refused} THEN 1 ELSE 0 END) AS admission_refused,
           SUM(CASE WHEN e.action = {investigated} THEN 1 ELSE 0 END) AS investigations,
           SUM(CASE WHEN e.to_state = {approved} THEN 1 ELSE 0 END) AS approved,
           SUM(CASE WHEN e.to_state = {rejected} THEN 1 ELSE 0 END) AS rejected
    FROM {applications} a
    JOIN credit_application_event e ON e.application_id = a.id
    LEFT JOIN grid_node g ON g.id = a.village_id
    WHERE e.at >= {start} AND e.at < {end}
    GROUP BY a.product_code, g.path
"""
LINES_GRANTED = """
    SELECT g.path AS village_path, COUNT(*) AS lines_granted,
           SUM(CAST(ROUND(CAST(l.amount AS NUMERIC) * 100) AS BIGINT)) AS line_fen
    FROM {applications} a
    JOIN credit_line l ON l.application_id = a.id
    LEFT JOIN grid_node g ON g.id = a.village_id
    WHERE l.created_at >= {start} AND l.created_at < {end}
    GROUP BY g.path
"""
DISBURSED = """
    SELECT g.path AS village_path, COUNT(*) AS drawdowns_disbursed,
           SUM(CAST(ROUND(CAST(d.amount AS NUMERIC) * 100) AS BIGINT)) AS disbursed_fen
    FROM {applications} a
    JOIN credit_line l ON l.application_id = a.id
    JOIN credit_drawdown d ON d.line_id = l.id
    JOIN credit_drawdown_event de ON de.drawdown_id = d.id
    LEFT JOIN grid_node g ON g.id = a.village_id
    WHERE de.to_state = {disbursed} AND de.at >= {start} AND de.at < {end}
    GROUP BY g.path
"""
TURNAROUND = """
    SELECT a.submitted_at AS submitted_at, MIN(de.at) AS disbursed_at
    FROM {applications} a
    JOIN credit_line l ON l.application_id = a.id
    JOIN credit_drawdown d ON d.line_id = l.id
    JOIN credit_drawdown_event de ON de.drawdown_id = d.id
    WHERE de.to_state = {disbursed}
    GROUP BY a.id, a.submitted_at
    HAVING MIN(de.at) >= {start} AND MIN(de.at) < {end}
"""
# A visit of a state runs from the step that entered it to the next step of the same case; the last step's
# state is the one the case is in now. Visits come back when they ended in the period, or are still open and
# began before the period's end.
_VISITS = """
    SELECT v.product_code AS product_code, v.product_version AS product_version, v.state AS state,
           v.entered_at AS entered_at, v.left_at AS left_at
    FROM ({steps}) v
    WHERE v.state IN ({first}, {second}, {third})
      AND ((v.left_at >= {start} AND v.left_at < {end}) OR (v.left_at IS NULL AND v.entered_at < {end}))
"""
APPLICATION_VISITS = _VISITS.replace(
    "{steps}",
    """SELECT a.product_code AS product_code, a.product_version AS product_version, e.to_state AS state,
              e.at AS entered_at, LEAD(e.at) OVER (PARTITION BY e.application_id ORDER BY e.id) AS left_at
       FROM {applications} a JOIN credit_application_event e ON e.application_id = a.id""",
)
DRAWDOWN_VISITS = _VISITS.replace(
    "{steps}",
    """SELECT l.product_code AS product_code, l.product_version AS product_version, de.to_state AS state,
              de.at AS entered_at, LEAD(de.at) OVER (PARTITION BY de.drawdown_id ORDER BY de.id) AS left_at
       FROM {applications} a
       JOIN credit_line l ON l.application_id = a.id
       JOIN credit_drawdown d ON d.line_id = l.id
       JOIN credit_drawdown_event de ON de.drawdown_id = d.id""",
)
_SLOT = re.compile(r"\{(\w+)\}")


def _states(stages: Mapping[Any, StageName]) -> dict[str, str]:
    first, second, third = (state.value for state in stages)
    return {"first": first, "second": second, "third": third}


async def _run(
    template: str, applications: QuerySet[CreditApplication], chosen: Period, **values: Any
) -> list[dict[str, Any]]:
    """One statement over the applications in reach, with the period's bounds as `{start}` and `{end}`."""
    conn = connection()
    table_sql, table_params = statement(applications.values(*APPLICATION_COLUMNS))
    values = {**values, "start": chosen.start, "end": chosen.end}
    postgres = dialect(conn) == "postgres"
    in_text_order: list[Any] = []  # SQLite's ? are bound in the order they appear
    own: list[Any] = []  # PostgreSQL's $n are numbered after the derived table's

    def bind(slot: re.Match[str]) -> str:
        name = slot.group(1)
        if name == "applications":
            in_text_order.extend(table_params)
            return f"({table_sql})"
        own.append(values[name])
        in_text_order.append(values[name])
        return f"${len(table_params) + len(own)}" if postgres else "?"

    sql = _SLOT.sub(bind, template)
    return await fetch(sql, [*table_params, *own] if postgres else in_text_order, conn)


# --- from rows to figures -------------------------------------------------------------------------------------


def _instant(value: datetime | str) -> datetime:
    """A timestamp as the driver returns it: a datetime from PostgreSQL, ISO text from SQLite (UTC)."""
    instant = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def _yuan(fen: Any) -> Decimal:
    return (Decimal(int(fen or 0)) / 100).quantize(FEN)


def _headlines(
    events: Iterable[Mapping[str, Any]], lines: Iterable[Mapping[str, Any]], disbursed: Iterable[Mapping[str, Any]]
) -> dict[str | None, Headline]:
    """The headline counts per village path (None: applications without a village)."""
    found: dict[str | None, Headline] = {}

    def adding(path: str | None, headline: Headline) -> None:
        found[path] = found.get(path, Headline()) + headline

    for row in events:
        adding(
            row["village_path"], Headline(applications=int(row["submitted"]), investigations=int(row["investigations"]))
        )
    for row in lines:
        adding(
            row["village_path"], Headline(lines_granted=int(row["lines_granted"]), line_amount=_yuan(row["line_fen"]))
        )
    for row in disbursed:
        count, amount = int(row["drawdowns_disbursed"]), _yuan(row["disbursed_fen"])
        adding(row["village_path"], Headline(drawdowns_disbursed=count, disbursed_amount=amount))
    return found


def _under(node_path: str, by_village: Mapping[str | None, Headline]) -> Headline:
    return reduce(
        add, (h for path, h in by_village.items() if path is not None and path.startswith(node_path)), Headline()
    )


def _rates(events: Iterable[Mapping[str, Any]]) -> list[ProductRates]:
    by_product: dict[str, ProductRates] = {}
    for row in events:
        code = row["product_code"]
        earlier = by_product.get(code, ProductRates(code))
        by_product[code] = ProductRates(
            code,
            submitted=earlier.submitted + int(row["submitted"]),
            admission_refused=earlier.admission_refused + int(row["admission_refused"]),
            approved=earlier.approved + int(row["approved"]),
            rejected=earlier.rejected + int(row["rejected"]),
        )
    return [by_product[code] for code in sorted(by_product)]


def _visits(rows: Iterable[Mapping[str, Any]], stages: Mapping[str, StageName], now: datetime) -> list[Visit]:
    limits: dict[tuple[str, int, StageName], int | None] = {}
    visits = []
    for row in rows:
        stage = stages[row["state"]]
        key = (row["product_code"], int(row["product_version"]), stage)
        if key not in limits:
            limits[key] = _time_limit(*key)
        entered, left = _instant(row["entered_at"]), row["left_at"]
        end = now if left is None else _instant(left)
        visits.append(Visit(stage, minutes_between(entered, end), left is None, limits[key]))
    return visits


def _time_limit(product_code: str, version: int, stage: StageName) -> int | None:
    """The product version's time limit for the stage, in minutes; None where it has no such stage."""
    product = apps.catalogue().get(product_code, version)
    return product.stage(stage).sla_minutes if product.has_stage(stage) else None


async def _backlog(process: QuerySet[CreditApplication], lending: QuerySet[CreditApplication]) -> Backlog:
    waiting = (
        await process.filter(state__in=[s.value for s in OPEN_STATES])
        .annotate(count=Count("id"))
        .group_by("state", "investigator_id", "tier_authority")
        .values("state", "investigator_id", "tier_authority", "count")
    )
    lines = CreditLine.filter(application_id__in=Subquery(lending.values("id"))).values("id")
    drawdowns = (
        await Drawdown.filter(state__in=[s.value for s in OPEN_DRAWDOWN_STATES], line_id__in=Subquery(lines))
        .annotate(count=Count("id"))
        .group_by("state")
        .values("state", "count")
    )
    per_state = dict.fromkeys(OPEN_STATES, 0)
    per_investigator: dict[int, int] = {}
    per_authority: dict[Role, int] = {}
    for row in waiting:
        state, count = ApplicationState(row["state"]), int(row["count"])
        per_state[state] += count
        if state == ApplicationState.INVESTIGATING and row["investigator_id"] is not None:
            per_investigator[row["investigator_id"]] = per_investigator.get(row["investigator_id"], 0) + count
        if state == ApplicationState.AWAITING_APPROVAL and row["tier_authority"] is not None:
            authority = Role(row["tier_authority"])
            per_authority[authority] = per_authority.get(authority, 0) + count
    per_drawdown_state = dict.fromkeys(OPEN_DRAWDOWN_STATES, 0)
    for row in drawdowns:
        per_drawdown_state[DrawdownState(row["state"])] += int(row["count"])
    return Backlog(
        applications=per_state,
        by_investigator=sorted(per_investigator.items(), key=lambda item: (-item[1], item[0])),
        by_tier_authority=[(role, per_authority[role]) for role in Role if role in per_authority],
        drawdowns=per_drawdown_state,
    )


def product_names(code: str) -> tuple[str, str]:
    """The product's names in Chinese and English as its latest version gives them; the code for both where the
    catalogue no longer holds the product."""
    catalogue = apps.catalogue()
    if code not in catalogue.codes():
        return code, code
    latest = catalogue.versions(code)[-1]
    return latest.name_zh, latest.name_en
