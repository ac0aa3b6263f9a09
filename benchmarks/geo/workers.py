"""Our side: the assignment job as the product runs it, on worker processes started beforehand, its time
broken down by the phases its chunks recorded (job_chunk.timings, written by resolvers.platform.jobs.timed)."""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tortoise import Tortoise

from models import JobChunk, JobStatus, OutboxMessage
from resolvers.grid.assignment import AssignmentScope, start_run
from resolvers.platform import jobs
from settings import tortoise_config
from workers.settings import register_kinds

CHUNK_SIZE = 100_000
MAX_DISTANCE_M = 500.0
# the phases an assignment chunk records, and the Breakdown field each one's time goes to
PHASES = {"villages": "villages_s", "read": "read_s", "assign": "assign_s", "write": "write_s"}


@dataclass
class Breakdown:
    """Where our run's time went. plan is start_run (chunk bounds, job rows, outbox); villages, read, assign
    and write are the chunks' recorded phases, summed over chunks and so over workers: with several workers
    they add up to more than the wall-clock total."""

    plan_s: float = 0.0
    villages_s: float = 0.0
    read_s: float = 0.0
    assign_s: float = 0.0
    write_s: float = 0.0
    total_s: float = 0.0
    workers: int = 1
    worker_peak_mb: list[float] = field(default_factory=list)

    def add_chunk(self, number: int, timings: dict[str, float] | None) -> None:
        """One chunk's recorded phases; a chunk that recorded other phases than the assignment's (or none)
        means the job no longer times what this benchmark reports, which must not pass unnoticed."""
        if timings is None or set(timings) != set(PHASES):
            raise AssertionError(f"chunk {number} recorded {timings}, not the phases {sorted(PHASES)}")
        for phase, attribute in PHASES.items():
            setattr(self, attribute, getattr(self, attribute) + timings[phase])

    @property
    def working_s(self) -> float:
        """Time the workers spent inside the chunks' recorded phases, summed over workers."""
        return self.villages_s + self.read_s + self.assign_s + self.write_s


def worker_main(url: str, commands: Any, replies: Any) -> None:
    """A worker process, as `palmcredit worker` is one: connected and idle until given a job, then it runs
    jobs.run_job_chunk (the function the arq task calls) over the job's chunks. Every worker walks the chunks
    in order; a chunk another worker holds answers BUSY and is passed over, so the workers share the job."""
    asyncio.run(_worker_loop(url, commands, replies))


async def _worker_loop(url: str, commands: Any, replies: Any) -> None:
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
    register_kinds()
    loop = asyncio.get_running_loop()
    replies.put(("ready", {}))
    try:
        while (command := await loop.run_in_executor(None, commands.get)) is not None:
            job_id, chunks = command
            outcomes: dict[str, int] = {}
            for number in range(chunks):
                outcome = (await jobs.run_job_chunk(job_id, number)).value
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            replies.put(("done", {"peak_mb": peak_mb, "outcomes": outcomes}))
    finally:
        await Tortoise.close_connections()


class Workers:
    """N worker processes, started (imports, connections) before any timing, as a deployment's workers are
    running before a run is started."""

    def __init__(self, url: str, count: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.commands: Any = context.Queue()
        self.replies: Any = context.Queue()
        self.processes = [
            context.Process(target=worker_main, args=(url, self.commands, self.replies), daemon=True)
            for _ in range(count)
        ]

    async def _reply(self) -> tuple[str, dict[str, Any]]:
        reply: tuple[str, dict[str, Any]] = await asyncio.get_running_loop().run_in_executor(None, self.replies.get)
        return reply

    async def start(self) -> None:
        for process in self.processes:
            process.start()
        for _ in self.processes:
            kind, _detail = await self._reply()
            assert kind == "ready", kind

    async def run(self, job_id: int, chunks: int) -> list[dict[str, Any]]:
        for _ in self.processes:
            self.commands.put((job_id, chunks))
        return [(await self._reply())[1] for _ in self.processes]

    def stop(self) -> None:
        for _ in self.processes:
            self.commands.put(None)
        for process in self.processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()


async def run_ours(workers: Workers) -> tuple[Breakdown, dict[str, Any], int]:
    """The assignment job as the product runs it: start_run records the job and its chunks (plan in SQL,
    outbox messages), then the worker processes run the chunks, each in its own transaction, and the last
    one to finish reduces the chunks' counts into the job's result. The phases come from the chunks' rows."""
    breakdown = Breakdown(workers=len(workers.processes))
    started = time.perf_counter()
    job = await start_run(AssignmentScope.ALL, created_by=None, max_distance_m=MAX_DISTANCE_M, chunk_size=CHUNK_SIZE)
    breakdown.plan_s = time.perf_counter() - started
    replies = await workers.run(job.id, job.chunks_total)
    breakdown.total_s = time.perf_counter() - started
    breakdown.worker_peak_mb = [reply["peak_mb"] for reply in replies]
    await job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, (job.status, job.error, replies)
    for number, timings in await JobChunk.filter(job_id=job.id).order_by("number").values_list("number", "timings"):
        breakdown.add_chunk(number, timings)
    # the job's outbox messages were never relayed (the workers were handed the job directly): mark them
    await OutboxMessage.filter(dispatched_at=None).update(dispatched_at=datetime.now(UTC))
    return breakdown, job.result, job.chunks_total
