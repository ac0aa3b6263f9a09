"""The job kind the worker tests run: "test_sum". Each chunk writes one audit row per item (action
"test.chunk", target "<job>:<chunk>:<item>"), so that "exactly once" can be counted, timed as its phase
"items", and returns the sum.

Chunks steer it: fail_times=k raises on the first k attempts (after writing, so the rollback is seen),
hold=true waits for HOLD (in-process tests), steal=true takes its own claim away (the fence),
terminate_backend=true has PostgreSQL end the chunk's connection mid-query on its first attempt, and
PALMCREDIT_TEST_BLOCK_CHUNKS=1 in the environment blocks every chunk forever (the process to be killed).
Params: fail_finish=true makes the reduction fail; refuse_over=n makes a report whose total is over n a refusal.

PALMCREDIT_TEST_BLOCK_ASSIGNMENT=<file> does the same to the real assignment job: the first chunk a worker
runs writes its customers' villages, touches <file> (so the test knows the writes are made, uncommitted) and
blocks forever.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F

from models import AuditLog, Job, JobChunk
from resolvers.grid import assignment
from resolvers.platform import jobs
from resolvers.platform.job_kinds import BANK, ChunkRun, Finishing, GridScope, JobKind
from resolvers.platform.jobs import timed

KIND = "test_sum"
BLOCK_ENV = "PALMCREDIT_TEST_BLOCK_CHUNKS"
BLOCK_ASSIGNMENT_ENV = "PALMCREDIT_TEST_BLOCK_ASSIGNMENT"


class Gates:
    """Events for the in-process tests: `started` is set when a held chunk waits, `hold` lets it go."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.hold = asyncio.Event()


GATES = Gates()


@dataclass(frozen=True)
class SumChunk:
    items: tuple[int, ...]
    fail_times: int = 0
    hold: bool = False
    steal: bool = False
    terminate_backend: bool = False


@dataclass(frozen=True)
class SumParams:
    chunks: tuple[SumChunk, ...]
    label: str = ""
    fail_finish: bool = False
    refuse_over: int = 0


@dataclass(frozen=True)
class SumResult:
    sum: int
    count: int


@dataclass(frozen=True)
class SumReport:
    total: int
    items: int


async def plan(params: SumParams, scope: GridScope, conn: BaseDBAsyncClient) -> tuple[SumChunk, ...]:
    return params.chunks


async def run_chunk(run: ChunkRun[SumParams, SumChunk]) -> SumResult:
    chunk = run.chunk
    with timed("items"):
        for item in chunk.items:
            await AuditLog.create(
                action="test.chunk",
                target_type="Job",
                target_id=f"{run.job_id}:{run.number}:{item}",
                changes={"attempt": run.attempt},
                using_db=run.conn,
            )
    if os.environ.get(BLOCK_ENV):
        await asyncio.Event().wait()
    if chunk.hold:
        GATES.started.set()
        await GATES.hold.wait()
    if chunk.steal:
        await (
            JobChunk.filter(job_id=run.job_id, number=run.number).using_db(run.conn).update(attempts=F("attempts") + 1)
        )
    if chunk.terminate_backend and run.attempt == 1:
        await _terminated_mid_query(run.conn)
    if run.attempt <= chunk.fail_times:
        raise RuntimeError(f"planned failure on attempt {run.attempt}")
    return SumResult(sum=sum(chunk.items), count=len(chunk.items))


async def finish(finishing: Finishing[SumParams], results: Sequence[SumResult]) -> SumReport:
    if finishing.params.fail_finish:
        raise RuntimeError("planned failure of the reduction")
    return SumReport(total=sum(r.sum for r in results), items=sum(r.count for r in results))


def refusal(params: SumParams, report: SumReport) -> str | None:
    if not params.refuse_over or report.total <= params.refuse_over:
        return None
    return f"总和{report.total}超限 / total {report.total} is over {params.refuse_over}"


TEST_SUM = JobKind(
    name=KIND,
    title_zh="测试求和",
    title_en="test sum",
    params=SumParams,
    chunk=SumChunk,
    chunk_result=SumResult,
    report=SumReport,
    plan=plan,
    run_chunk=run_chunk,
    finish=finish,
    refusal=refusal,
)


def sum_params(chunks: Sequence[dict[str, Any]], **params: Any) -> SumParams:
    return SumParams(tuple(SumChunk(**{**c, "items": tuple(c.get("items", ()))}) for c in chunks), **params)


async def start_sum(
    chunks: Sequence[dict[str, Any]],
    *,
    created_by: int | None,
    scope: GridScope = BANK,
    dedup_key: str | None = None,
    using_db: BaseDBAsyncClient | None = None,
    **params: Any,
) -> Job:
    """Start a test_sum job with these chunks (dicts of SumChunk's fields)."""
    return await jobs.start(
        TEST_SUM,
        sum_params(chunks, **params),
        scope=scope,
        created_by=created_by,
        dedup_key=dedup_key,
        using_db=using_db,
    )


async def _terminate_soon(pid: int) -> None:
    await asyncio.sleep(0.2)
    await connections.get("default").execute_query(f"SELECT pg_terminate_backend({int(pid)})")


async def _terminated_mid_query(conn: BaseDBAsyncClient) -> None:
    """PostgreSQL ends this connection from another one while it waits in a query (an operator's
    pg_terminate_backend, a failover)."""
    (row,) = await conn.execute_query_dict("SELECT pg_backend_pid() AS pid")
    # a context of its own: outside this chunk's transaction, on a connection of the pool
    killer = asyncio.get_running_loop().create_task(_terminate_soon(row["pid"]), context=contextvars.Context())
    try:
        await conn.execute_query("SELECT pg_sleep(10)")
    finally:
        await killer


def _block_assignment_after_writing(marker: str) -> None:
    real = assignment.update_customer_villages

    async def write_then_block(conn: BaseDBAsyncClient, *args: Any, **kwargs: Any) -> int:
        written = await real(conn, *args, **kwargs)
        await asyncio.to_thread(Path(marker).touch)
        await asyncio.Event().wait()
        return written

    assignment.update_customer_villages = write_then_block  # type: ignore[assignment]


if os.environ.get(BLOCK_ASSIGNMENT_ENV):
    _block_assignment_after_writing(os.environ[BLOCK_ASSIGNMENT_ENV])
