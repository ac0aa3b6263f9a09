"""The tasks: thin adapters that take ids and call the use cases. Every one may run more than once (arq's
own words: "jobs may be called more than once"), and every one is idempotent. Their names are the outbox's
task names; FUNCTIONS is what the arq workers and the in-process dispatcher run — add new tasks there."""

from __future__ import annotations

from typing import Any

from resolvers.platform import jobs, outbox

Context = dict[str, Any]


async def run_job_chunk(ctx: Context, job_id: int, number: int) -> str:
    """Run one chunk of a job unless it is done or another worker holds it."""
    return (await jobs.run_job_chunk(job_id, number)).value


async def finish_job(ctx: Context, job_id: int) -> bool:
    """Finish a job whose chunks are all done (a job without chunks, or one whose finisher was lost)."""
    return await jobs.finish_job(job_id)


async def start_job(
    ctx: Context, kind: str, params: Any, scope: str, created_by: int | None, dedup_key: str
) -> int | None:  # fmt: skip
    """Start a job chained from a change (jobs.start_later, in the transaction that made the change); the key
    makes a second delivery find the first run. None: the work was done by another run meanwhile."""
    job = await jobs.start_queued(kind, params, scope, created_by, dedup_key)
    return job.id if job is not None else None


async def relay_outbox(ctx: Context) -> int:
    """Hand the undispatched outbox messages to the queue (the worker's relay does this every second)."""
    return await outbox.relay_once(ctx["dispatcher"])


FUNCTIONS: list[outbox.TaskFunction] = [run_job_chunk, finish_job, start_job, relay_outbox]


def by_name() -> dict[str, outbox.TaskFunction]:
    return {getattr(f, "__name__", str(f)): f for f in FUNCTIONS}
