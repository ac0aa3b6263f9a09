"""Grid KPIs: the roll-up that keeps them current, and reading them within the actor's scope.

The roll-up reads the customer table once (one GROUP BY per village) and writes one row per grid node for the
period, replacing that period's rows in one transaction. Requests only ever read the rolled-up rows, so a
query for a node and its children costs the same whether a county holds 50 thousand customers or a province a
million.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from domain.access import Actor
from domain.credit.classification import NON_PERFORMING
from domain.errors import forbidden
from domain.grid.kpi import (
    METRIC_NAMES,
    KpiFigures,
    KpiMetric,
    metric_value,
    parse_period,
    previous_period,
    rank,
    roll_up,
)
from geo.maps import choropleth_png, feature_collection
from models import GridKpi, GridNode, Job
from resolvers.grid import browse, policy
from resolvers.platform import jobs
from resolvers.platform.db import any_of, connection, dialect, fetch, placeholders, row_reader
from resolvers.platform.job_kinds import BANK, ChunkRun, Described, Finishing, GridScope, JobKind, KindSchedule
from resolvers.platform.unit_of_work import unit_of_work

N = TypeVar("N")

KPI_FIELDS = [
    "customers", "households", "households_with_credit", "deposit_balance", "loan_balance", "credit_line_total",
    "ebanking", "third_party_payment", "social_security_card", "borrowers", "npl_borrowers", "npl_balance",
]  # fmt: skip


def current_period(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m")


def _village_figures_sql(conn: BaseDBAsyncClient) -> str:
    # SQLite keeps decimals as text: compare and add them as numbers explicitly.
    def num(column: str) -> str:
        return f"CAST(c.{column} AS REAL)" if dialect(conn) == "sqlite" else f"c.{column}"

    npl = ", ".join(f"'{c.value}'" for c in sorted(NON_PERFORMING))
    return f"""
        SELECT c.village_id AS village_id,
               COUNT(*) AS customers,
               COUNT(DISTINCT c.household_id) AS households,
               COUNT(DISTINCT CASE WHEN {num("credit_line")} > 0 THEN c.household_id END) AS households_with_credit,
               SUM({num("deposit_balance")}) AS deposit_balance,
               SUM({num("loan_balance")}) AS loan_balance,
               SUM({num("credit_line")}) AS credit_line_total,
               SUM(CASE WHEN c.has_ebanking THEN 1 ELSE 0 END) AS ebanking,
               SUM(CASE WHEN c.has_third_party_payment THEN 1 ELSE 0 END) AS third_party_payment,
               SUM(CASE WHEN c.has_social_security_card THEN 1 ELSE 0 END) AS social_security_card,
               SUM(CASE WHEN {num("loan_balance")} > 0 THEN 1 ELSE 0 END) AS borrowers,
               SUM(CASE WHEN c.loan_class IN ({npl}) AND {num("loan_balance")} > 0 THEN 1 ELSE 0 END) AS npl_borrowers,
               SUM(CASE WHEN c.loan_class IN ({npl}) THEN {num("loan_balance")} ELSE 0 END) AS npl_balance
        FROM customer c
        WHERE c.village_id IS NOT NULL
        GROUP BY c.village_id
    """


@dataclass(frozen=True)
class RollupReport:
    """The report of a KPI roll-up (网格指标汇总)"""

    period: Annotated[str, Described("The period rolled up, YYYY-MM")]
    nodes: Annotated[int, Described("Grid nodes whose figures were written")]
    villages_with_customers: int
    customers: int


async def roll_up_kpis(
    period: str | None = None, *, now: datetime | None = None, using_db: BaseDBAsyncClient | None = None
) -> RollupReport:
    """Recompute every node's KPIs for the period (default: this month) and store them. Idempotent: running
    it twice leaves the same rows."""
    now = now or datetime.now(UTC)
    period = parse_period(period, today=now.date()) if period else current_period(now)
    if using_db is None:
        async with in_transaction() as conn:
            return await roll_up_kpis(period, now=now, using_db=conn)
    rows = await fetch(_village_figures_sql(using_db), (), using_db)
    villages = {int(r["village_id"]): KpiFigures.from_row(r) for r in rows}
    paths = {n["id"]: n["path"] for n in await GridNode.all().using_db(using_db).values("id", "path")}
    totals = roll_up(villages, paths)
    await GridKpi.filter(period=period).using_db(using_db).delete()
    await GridKpi.bulk_create(
        [
            GridKpi(node_id=node_id, period=period, computed_at=now, **{f: getattr(fig, f) for f in KPI_FIELDS})
            for node_id, fig in totals.items()
        ],
        batch_size=1000,
        using_db=using_db,
    )
    return RollupReport(
        period=period,
        nodes=len(totals),
        villages_with_customers=len(villages),
        customers=sum(f.customers for f in villages.values()),
    )


# --- the job --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RollupParams:
    period: str | None = None  # YYYY-MM; None: the month the run starts in


@dataclass(frozen=True)
class WholeGrid:
    """The roll-up's one chunk: a single GROUP BY over the customers is cheaper than cutting it up."""


async def _plan(params: RollupParams, scope: GridScope, conn: BaseDBAsyncClient) -> list[WholeGrid]:
    return [WholeGrid()]


async def _run_chunk(run: ChunkRun[RollupParams, WholeGrid]) -> RollupReport:
    return await roll_up_kpis(run.params.period, using_db=run.conn)


async def _finish(finishing: Finishing[RollupParams], results: Sequence[RollupReport]) -> RollupReport:
    (report,) = results
    return report


KPI_ROLLUP = JobKind(
    name="kpi_rollup",
    title_zh="网格指标汇总",
    title_en="KPI roll-up",
    params=RollupParams,
    chunk=WholeGrid,
    chunk_result=RollupReport,
    report=RollupReport,
    plan=_plan,
    run_chunk=_run_chunk,
    finish=_finish,
    bank_wide_only=True,  # every node's figures are rolled up from every village's
    schedule=KindSchedule(times={"hour": 2, "minute": 0}, params=lambda when: RollupParams(current_period(when))),
)


async def start_rollup(actor: Actor, period: str | None = None) -> Job:
    """Queue a roll-up of the whole grid; or, while one is under way, that one."""
    if not policy.may_run_batch_work(actor):
        raise forbidden("发起指标汇总", "start a KPI roll-up")
    if period is not None:
        period = parse_period(period, today=datetime.now(UTC).date())
    async with unit_of_work() as uow:
        job = await jobs.start(KPI_ROLLUP, RollupParams(period), scope=BANK, created_by=actor.staff_id)
        await uow.audit(actor, "kpi.rollup.start", "Job", job.id, {"period": period})
    return job


async def latest_period() -> str | None:
    rows = await fetch("SELECT MAX(period) AS period FROM grid_kpi")
    return str(rows[0]["period"]) if rows and rows[0]["period"] is not None else None


@dataclass(frozen=True, slots=True)
class KpiRow:
    """A node's rolled-up figures for one period, as read for a request (a grid_kpi row's values)."""

    node_id: int
    period: str
    computed_at: datetime
    customers: int
    households: int
    households_with_credit: int
    deposit_balance: Decimal
    loan_balance: Decimal
    credit_line_total: Decimal
    ebanking: int
    third_party_payment: int
    social_security_card: int
    borrowers: int
    npl_borrowers: int
    npl_balance: Decimal


_KPI_COLUMNS = ("node_id", "period", "computed_at", *KPI_FIELDS)


async def kpis_for(actor: Actor, nodes: Sequence[tuple[int, str]], period: str) -> list[KpiRow | None]:
    """Batch body: each (node id, path)'s KPI row for the period, None when absent or not the actor's to see.
    One statement of fixed text, its rows read as plain values: a dashboard's few dozen rows cost the
    statement, not the ORM's query building and models (measured at three times the statement on SQLite)."""
    allowed = [node_id for node_id, path in nodes if policy.may_see_kpis(actor, path)]
    found: dict[int, KpiRow] = {}
    if allowed:
        conn = connection()
        (mark,) = placeholders(conn, 0, 1)
        among, params = any_of(conn, "node_id", allowed, start=1)
        read = row_reader(GridKpi, _KPI_COLUMNS)
        sql = f"SELECT {', '.join(_KPI_COLUMNS)} FROM grid_kpi WHERE period = {mark} AND {among}"
        for raw in await fetch(sql, [period, *params], conn):
            row = KpiRow(**read(raw))
            found[row.node_id] = row
    return [found.get(node_id) for node_id, _ in nodes]


async def kpis_by_keys(actor: Actor, keys: Sequence[tuple[int, str, str]]) -> list[KpiRow | None]:
    """Batch body for (node id, path, period) keys, grouped by period."""
    by_period: dict[str, list[tuple[int, str]]] = {}
    for node_id, path, period in keys:
        by_period.setdefault(period, []).append((node_id, path))
    found: dict[tuple[int, str], KpiRow | None] = {}
    for period, nodes in by_period.items():
        for (node_id, _), row in zip(nodes, await kpis_for(actor, nodes, period), strict=True):
            found[(node_id, period)] = row
    return [found.get((node_id, period)) for node_id, _, period in keys]


async def period_or_latest(period: str | None) -> str | None:
    """The period asked for, checked as every period is, or else the latest one rolled up (None before the
    first roll-up)."""
    if period is None:
        return await latest_period()
    return parse_period(period, today=datetime.now(UTC).date())


@dataclass(frozen=True)
class ChildFigures:
    node: GridNode
    kpi: KpiRow | None  # None when not rolled up for the period, or not the actor's to see


async def children_figures(actor: Actor, node_id: int, period: str | None) -> tuple[str | None, list[ChildFigures]]:
    """A node's visible children with their KPIs for the period (default: the latest rolled up)."""
    chosen = await period_or_latest(period)
    children = (await browse.children_of(actor, [node_id]))[0]
    if chosen is None:
        return None, [ChildFigures(c, None) for c in children]
    rows = await kpis_for(actor, [(c.id, c.path) for c in children], chosen)
    return chosen, [ChildFigures(c, row) for c, row in zip(children, rows, strict=True)]


def ranked_by(
    children: Iterable[tuple[N, KpiRow | None]], metric: KpiMetric, *, descending: bool = True
) -> list[tuple[N, float, int]]:
    """The children ranked by a metric of their KPI rows (营销排名): equal values share a rank, ties listed by
    node id, children without figures left out. Children of any shape: GraphQL hands in the ones it built."""
    shown = [(child, kpi) for child, kpi in children if kpi is not None]
    by_id = {kpi.node_id: child for child, kpi in shown}
    values = [(kpi.node_id, metric_value(figures(kpi), metric)) for _, kpi in shown]
    return [(by_id[i], value, place) for i, value, place in rank(values, descending=descending)]


async def children_geojson(actor: Actor, node_id: int, metric: KpiMetric, period: str | None) -> dict[str, Any]:
    """The children as a GeoJSON FeatureCollection carrying the metric and every KPI, for a map."""
    _, children = await children_figures(actor, node_id, period)
    properties = []
    for child in children:
        props: dict[str, object] = {
            "id": child.node.id, "code": child.node.code, "name": child.node.name, "level": child.node.level.value,
        }  # fmt: skip
        if child.kpi is not None:
            shown = figures(child.kpi)
            props["value"] = metric_value(shown, metric)
            props.update({m.value: metric_value(shown, m) for m in KpiMetric})
        properties.append(props)
    shapes = await browse.polygons(actor, [c.node.id for c in children])
    return feature_collection(list(shapes), properties)


async def children_map(actor: Actor, node_id: int, metric: KpiMetric, period: str | None) -> bytes:
    """A PNG choropleth of a metric over a node's visible children — what GraphQL and the CLI both draw."""
    node = await browse.get_node(actor, node_id)
    chosen, children = await children_figures(actor, node_id, period)
    shapes = await browse.polygons(actor, [c.node.id for c in children])
    values = [metric_value(figures(c.kpi), metric) if c.kpi else 0.0 for c in children]
    zh, en = METRIC_NAMES[metric]
    return choropleth_png(
        list(shapes),
        values,
        [c.node.name for c in children],
        f"{node.name} {zh} {chosen or ''} / {en}",
        fallback_labels=[c.node.code[-3:] for c in children],
        fallback_title=f"{node.code} {en} {chosen or ''}",
    )


def figures(kpi: KpiRow | GridKpi) -> KpiFigures:
    return KpiFigures(**{f: getattr(kpi, f) for f in KPI_FIELDS})


__all__ = [
    "KPI_FIELDS",
    "KPI_ROLLUP",
    "KpiFigures",
    "KpiRow",
    "RollupParams",
    "RollupReport",
    "children_map",
    "current_period",
    "figures",
    "kpis_by_keys",
    "kpis_for",
    "latest_period",
    "previous_period",
    "roll_up_kpis",
    "start_rollup",
]  # fmt: skip
