"""The job kind the worker tests run: "test_sum". Each chunk writes one audit row per item (action
"test.chunk", target "<job>:<chunk>:<item>"), so that "exactly once" can be counted, timed as its phase
"items", and returns the sum.

Chunk params steer it: fail_times=k raises on the first k attempts (after writing, so the rollback is seen),
hold=true waits for HOLD (in-process tests), steal=true takes its own claim away (the fence), and
PALMCREDIT_TEST_BLOCK_CHUNKS=1 in the environment blocks every chunk forever (the process to be killed).
Job params: fail_finish=true makes the reduction fail.

PALMCREDIT_TEST_BLOCK_ASSIGNMENT=<file> does the same to the real assignment job: the first chunk a worker
runs writes its customers' villages, touches <file> (so the test knows the writes are made, uncommitted) and
blocks forever.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F

from models import AuditLog, Job, JobChunk
from resolvers.grid import assignment
from resolvers.platform.jobs import register_kind, timed

KIND = "test_sum"
BLOCK_ENV = "PALMCREDIT_TEST_BLOCK_CHUNKS"
BLOCK_ASSIGNMENT_ENV = "PALMCREDIT_TEST_BLOCK_ASSIGNMENT"


class Gates:
    """Events for the in-process tests: `started` is set when a held chunk waits, `hold` lets it go."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.hold = asyncio.Event()


GATES = Gates()


async def run_chunk(job: Job, chunk: JobChunk, conn: BaseDBAsyncClient) -> dict[str, Any]:
    items: list[int] = chunk.params.get("items", [])
    with timed("items"):
        for item in items:
            await AuditLog.create(
                action="test.chunk",
                target_type="Job",
                target_id=f"{job.id}:{chunk.number}:{item}",
                changes={"attempt": chunk.attempts},
                using_db=conn,
            )
    if os.environ.get(BLOCK_ENV):
        await asyncio.Event().wait()
    if chunk.params.get("hold"):
        GATES.started.set()
        await GATES.hold.wait()
    if chunk.params.get("steal"):
        await JobChunk.filter(id=chunk.id).using_db(conn).update(attempts=F("attempts") + 1)
    if chunk.attempts <= chunk.params.get("fail_times", 0):
        raise RuntimeError(f"planned failure on attempt {chunk.attempts}")
    return {"sum": sum(items), "count": len(items)}


async def finish(job: Job, results: list[dict[str, Any]], conn: BaseDBAsyncClient) -> dict[str, Any]:
    if job.params.get("fail_finish"):
        raise RuntimeError("planned failure of the reduction")
    return {"total": sum(r["sum"] for r in results), "items": sum(r["count"] for r in results)}


register_kind(KIND, run_chunk, finish, title=("测试求和", "test sum"))


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
