"""The palmcredit command: migrate, generate demo data, serve, run the demo, run workers, list jobs."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Palm Credit (掌上信贷) — GraphQL API and task workers", no_args_is_help=True)
console = Console()


def _database_url() -> str:
    from settings import SETTINGS

    return SETTINGS.database_url


@app.command()
def migrate() -> None:
    """Apply the database migrations (DATABASE_URL)."""
    from resolvers.platform.migrate import run_migrations

    asyncio.run(run_migrations(_database_url(), progress=lambda line: console.print(f"  {line}")))
    console.print("[green]migrations applied[/green]")


@app.command()
def generate(
    seed: int = typer.Option(20261128, help="Random seed: the same seed gives the same county"),
    scale: float = typer.Option(1.0, help="1.0 ≈ 400 villages and 50,000 customers"),
) -> None:
    """Write the demo county (grid, outlets, staff, customers) into the configured database."""
    summary = asyncio.run(_generate(_database_url(), seed, scale))
    _print_summary(summary)


async def _generate(database_url: str, seed: int, scale: float) -> Any:
    from tortoise import Tortoise

    from demo import generate_demo
    from resolvers.grid.kpis import roll_up_kpis
    from settings import tortoise_config

    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    try:
        summary = await generate_demo(seed=seed, scale=scale, progress=console.print)
        report = await roll_up_kpis()
        console.print(f"KPIs {report.period}: {report.nodes} grid nodes rolled up")
        return summary
    finally:
        await Tortoise.close_connections()


def _print_summary(summary: Any) -> None:
    table = Table(title="Demo logins / 演示账号 (password: " + summary.password + ")")
    table.add_column("role / 岗位")
    table.add_column("login / 用户名")
    table.add_column("scope / 范围")
    for login in summary.logins:
        table.add_row(login.role, login.username, login.scope)
    console.print(table)
    console.print(summary.describe())


@app.command("print-schema")
def print_schema() -> None:
    """Print the GraphQL schema (SDL); schema.graphql in the repository is this output."""
    from schema import build_schema

    print(build_schema().as_str())


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port"),
    workers: int = typer.Option(1, help="Worker processes"),
) -> None:
    """Serve the GraphQL API (GraphiQL at /graphql outside production mode)."""
    import uvicorn

    uvicorn.run("app:app", host=host, port=port, workers=workers, log_level="info")


@app.command()
def worker(
    burst: bool = typer.Option(False, help="Stop once the queue is empty"),
    verbose: bool = typer.Option(False, help="Log at DEBUG level"),
) -> None:
    """Run a background worker (arq) on REDIS_URL: job chunks, scheduled runs and the outbox relay."""
    from settings import SETTINGS

    if not SETTINGS.redis_url:
        console.print(
            "[red]REDIS_URL is not set: the worker needs Redis, e.g. REDIS_URL=redis://127.0.0.1:6379/0. "
            "Without it the API process runs background jobs itself.\n"
            "未设置 REDIS_URL:后台任务进程需要 Redis(例如 REDIS_URL=redis://127.0.0.1:6379/0);"
            "未设置时,后台任务由 API 进程自行运行。[/red]"
        )
        raise typer.Exit(2)
    from arq.worker import run_worker

    from workers.settings import WorkerSettings, configure_logging

    configure_logging(verbose)
    run_worker(WorkerSettings, burst=burst)  # type: ignore[arg-type]


@app.command()
def jobs(limit: int = typer.Option(20, help="How many of the latest runs")) -> None:
    """Show the latest background runs and their progress."""
    rows = asyncio.run(_recent_jobs(_database_url(), limit))
    table = Table(title="Background runs / 后台任务")
    for column in (
        "id",
        "kind / 类型",
        "status / 状态",
        "progress / 进度",
        "created / 创建",
        "finished / 完成",
    ):
        table.add_column(column)
    table.add_column("error / 错误")
    for job in rows:
        done = job.status == "SUCCEEDED"
        share = job.chunks_done / job.chunks_total if job.chunks_total else float(done)
        table.add_row(
            str(job.id),
            job.kind,
            job.status,
            f"{job.chunks_done}/{job.chunks_total} ({share:.0%})",
            f"{job.created_at:%Y-%m-%d %H:%M:%S}",
            f"{job.finished_at:%Y-%m-%d %H:%M:%S}" if job.finished_at else "",
            job.error[:60],
        )
    console.print(table)


async def _recent_jobs(database_url: str, limit: int) -> Any:
    from tortoise import Tortoise

    from resolvers.platform.jobs import recent_jobs
    from settings import tortoise_config

    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    try:
        return await recent_jobs(limit)
    finally:
        await Tortoise.close_connections()


@asynccontextmanager
async def _database() -> AsyncIterator[None]:
    from tortoise import Tortoise

    from settings import tortoise_config
    from workers.settings import register_kinds

    await Tortoise.init(config=tortoise_config(_database_url()), _enable_global_fallback=True)
    register_kinds()
    try:
        yield
    finally:
        await Tortoise.close_connections()


async def _actor(username: str) -> Any:
    from models import Staff
    from resolvers.platform.auth import actor_for

    staff = await Staff.get_or_none(username=username, is_active=True).prefetch_related("scope")
    if staff is None:
        console.print(f"[red]没有该员工 / no active staff member {username!r}[/red]")
        raise typer.Exit(2)
    return actor_for(staff)


@app.command()
def assign(
    scope: str = typer.Option("PENDING", help="ALL customers, or PENDING: only new or moved ones"),
    max_distance: float = typer.Option(500.0, help="Metres within which a point outside goes to the nearest village"),
    as_user: str = typer.Option("admin", "--as", help="Whose run this is (head office or administrator)"),
    grid: str = typer.Option("", help="A grid node's code: only the customers in its villages; default the bank"),
) -> None:
    """Place customers in villages by location, in this process, with a progress bar; prints the report. While
    a run over the same part of the grid is under way, this follows that one instead of starting another."""
    asyncio.run(_assign(scope.upper(), max_distance, as_user, grid))


async def _assign(scope: str, max_distance: float, as_user: str, grid: str) -> None:
    from rich.progress import Progress

    from domain.errors import DomainError
    from models import GridNode, Job
    from resolvers.grid import assignment
    from resolvers.platform import jobs

    async with _database():
        node = await GridNode.get_or_none(code=grid) if grid else None
        if grid and node is None:
            console.print(f"[red]没有该网格 / no grid node with code {grid!r}[/red]")
            raise typer.Exit(2)
        try:
            job = await assignment.start_assignment(
                await _actor(as_user), assignment.AssignmentScope(scope), max_distance, node.id if node else None
            )
        except (DomainError, ValueError) as error:
            console.print(f"[red]{getattr(error, 'message', error)}[/red]")
            raise typer.Exit(2) from None
        with Progress(console=console) as progress:
            bar = progress.add_task(f"网格归属 / assignment run {job.id}", total=max(job.chunks_total, 1))
            # this process runs every chunk no worker has taken; those a worker holds, it waits for
            for number in range(job.chunks_total):
                await jobs.run_job_chunk(job.id, number)
                progress.update(bar, completed=(await Job.get(id=job.id)).chunks_done)
            if job.chunks_total == 0:
                await jobs.finish_job(job.id)
            while (done := await Job.get(id=job.id)).status not in jobs.FINISHED:
                progress.update(bar, completed=done.chunks_done)
                await asyncio.sleep(0.5)
            progress.update(bar, completed=max(done.chunks_done, 1))
    _print_report(f"Assignment run {done.id}: {done.status}", done.result)


def _print_report(title: str, result: dict[str, Any]) -> None:
    table = Table(title=title)
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in result.items():
        if key == "flagged":
            for flag in value:
                table.add_row(f"flagged {flag['flag']}", str(flag["customers"]))
        else:
            table.add_row(key, str(value))
    console.print(table)


@app.command()
def rollup(period: str = typer.Option("", help="YYYY-MM; default this month")) -> None:
    """Recompute the grid KPIs for a period, in this process."""
    asyncio.run(_rollup(_period_option(period)))


def _period_option(period: str) -> str | None:
    """A --period option checked as every period is (YYYY-MM, 2000-01 to next month), or None when not given."""
    from datetime import UTC, datetime

    from domain.errors import DomainError
    from domain.grid.kpi import parse_period

    if not period:
        return None
    try:
        return parse_period(period, today=datetime.now(UTC).date(), field="--period")
    except DomainError as error:
        console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(2) from None


async def _rollup(period: str | None) -> None:
    import time

    from resolvers.grid.kpis import roll_up_kpis

    async with _database():
        started = time.perf_counter()
        report = await roll_up_kpis(period)
    console.print(
        f"KPIs {report.period}: {report.nodes} nodes, {report.customers} customers in "
        f"{report.villages_with_customers} villages, {time.perf_counter() - started:.2f} s"
    )


@app.command("import-grid")
def import_grid(
    path: Path = typer.Argument(..., help="GeoJSON, GeoPackage or Shapefile (also zipped) of polygons, any CRS"),
    level: str = typer.Option("village", help="What the layer holds: village or township"),
    layer: str = typer.Option("", help="The layer, when the file has several"),
    code_field: str = typer.Option("code", help="Attribute with the code"),
    name_field: str = typer.Option("name", help="Attribute with the name"),
    parent_code_field: str = typer.Option(
        "", help="Attribute with the parent's code; default 'parent_code' for villages, the county for townships"
    ),
    parent_name_field: str = typer.Option("", help="Attribute with the parent's name, instead of its code"),
    as_user: str = typer.Option("admin", "--as", help="Who imports (administrator or head office)"),
) -> None:
    """Check a village or township layer and import it whole, or report every bad feature and import nothing."""
    asyncio.run(_import_grid(path, level, layer, code_field, name_field, parent_code_field, parent_name_field, as_user))


async def _import_grid(
    path: Path,
    level: str,
    layer: str,
    code_field: str,
    name_field: str,
    parent_code_field: str,
    parent_name_field: str,
    as_user: str,
) -> None:
    from domain.errors import DomainError
    from resolvers.grid import imports as grid_import

    try:
        chosen = grid_import.GridImportLevel(level.upper())
    except ValueError:
        console.print(f"[red]层级只能是 village 或 township / --level must be village or township, not {level!r}[/red]")
        raise typer.Exit(2) from None
    fields = grid_import.ImportFields(
        code_field, name_field, parent_code_field or None, parent_name_field or None, layer or None
    )
    async with _database():
        try:
            job = await grid_import.import_grid(await _actor(as_user), path, chosen, fields)
        except DomainError as error:
            console.print(f"[red]{error.message}[/red]")
            raise typer.Exit(2) from None
    problems = Table(title=f"Grid import {job.id} ({chosen.value.lower()}): {job.status}")
    for column in ("feature", "code", "severity", "kind", "message"):
        problems.add_column(column)
    for p in job.result.get("problems", []):
        problems.add_row(
            str(p["feature"]),
            str(p["code"]),
            p["severity"],
            p["kind"],
            f"{p['message_zh']} / {p['message_en']}",
        )
    console.print(problems)
    console.print({k: v for k, v in job.result.items() if k != "problems"})
    if job.status != "SUCCEEDED":
        raise typer.Exit(1)


@app.command("map")
def draw_map(
    code: str = typer.Argument(..., help="Grid node code, e.g. 320324 for the county"),
    metric: str = typer.Option("CUSTOMERS", help="A KPI, e.g. DEPOSIT_BALANCE or CREDIT_COVERAGE"),
    out: Path = typer.Option(Path("map.png"), help="Where to write the PNG"),
    period: str = typer.Option("", help="YYYY-MM; default the latest computed"),
    as_user: str = typer.Option("head", "--as", help="Whose view of the grid"),
) -> None:
    """Write a PNG choropleth of a KPI over a node's children."""
    asyncio.run(_draw_map(code, metric.upper(), out, _period_option(period), as_user))


async def _draw_map(code: str, metric: str, out: Path, period: str | None, as_user: str) -> None:
    from domain.errors import DomainError
    from domain.grid.kpi import KpiMetric
    from resolvers.grid import browse, kpis

    async with _database():
        actor = await _actor(as_user)
        chosen = period or await kpis.latest_period()
        if chosen is None:
            console.print("[red]尚未汇总指标,请先运行 palmcredit rollup / no KPIs yet: run palmcredit rollup[/red]")
            raise typer.Exit(2)
        try:
            node = await browse.get_node_by_code(actor, code)
            png = await kpis.children_map(actor, node.id, KpiMetric(metric), chosen)
        except DomainError as error:
            console.print(f"[red]{error.message}[/red]")
            raise typer.Exit(2) from None
    out.write_bytes(png)  # noqa: ASYNC240 — one small file at the end of a command
    console.print(f"wrote {out} ({len(png):,} bytes)")


@app.command()
def demo(
    database: Path = typer.Option(Path("var/demo.sqlite3"), help="The SQLite file to (re)create"),
    seed: int = typer.Option(20261128, help="Random seed"),
    scale: float = typer.Option(1.0, help="Size of the county"),
    port: int = typer.Option(8000, help="Port"),
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    fresh: bool = typer.Option(True, help="Start from an empty database"),
) -> None:
    """Migrate a fresh SQLite file, generate the demo county and serve it with GraphiQL."""
    database.parent.mkdir(parents=True, exist_ok=True)
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
    url = f"sqlite://{database}"
    os.environ["DATABASE_URL"] = url
    console.print(f"[bold]Palm Credit demo[/bold] — database {database}")
    from resolvers.platform.migrate import run_migrations

    asyncio.run(run_migrations(url))
    summary = asyncio.run(_generate(url, seed, scale))
    _print_summary(summary)
    console.print(f"GraphiQL: [link]http://{host}:{port}/graphql[/link]")
    import uvicorn

    uvicorn.run("app:app", host=host, port=port, log_level="info")


if __name__ == "__main__":
    app()
