"""The palmcredit command: migrate, generate demo data, serve, run the demo, run workers, list jobs."""

from __future__ import annotations

import asyncio
import os
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


async def run_migrations(database_url: str, *, quiet: bool = False) -> None:
    """Apply every migration to the database, creating the SQLite file if needed."""
    from tortoise import Tortoise
    from tortoise.migrations.api import migrate

    from settings import tortoise_config

    def progress(*parts: str) -> None:
        if not quiet:
            console.print("  " + " ".join(str(p) for p in parts if p))

    try:
        await migrate(config=tortoise_config(database_url), progress=progress if not quiet else None)
    finally:
        await Tortoise.close_connections()


@app.command()
def migrate() -> None:
    """Apply the database migrations (DATABASE_URL)."""
    asyncio.run(run_migrations(_database_url()))
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

    from resolvers.demo import generate_demo
    from settings import tortoise_config

    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    try:
        return await generate_demo(seed=seed, scale=scale, progress=console.print)
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

    from workers.settings import WorkerSettings, configure_logging, load_job_modules

    configure_logging(verbose)
    load_job_modules()
    run_worker(WorkerSettings, burst=burst)  # type: ignore[arg-type]


@app.command()
def jobs(limit: int = typer.Option(20, help="How many of the latest runs")) -> None:
    """Show the latest background runs and their progress."""
    rows = asyncio.run(_recent_jobs(_database_url(), limit))
    table = Table(title="Background runs / 后台任务")
    for column in ("id", "kind / 类型", "status / 状态", "progress / 进度", "created / 创建", "finished / 完成"):
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

    from resolvers.jobs import recent_jobs
    from settings import tortoise_config

    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    try:
        return await recent_jobs(limit)
    finally:
        await Tortoise.close_connections()


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
    asyncio.run(run_migrations(url, quiet=True))
    summary = asyncio.run(_generate(url, seed, scale))
    _print_summary(summary)
    console.print(f"GraphiQL: [link]http://{host}:{port}/graphql[/link]")
    import uvicorn

    uvicorn.run("app:app", host=host, port=port, log_level="info")


if __name__ == "__main__":
    app()
