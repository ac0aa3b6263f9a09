"""A chunk's phase timings (jobs.timed) are stored with its success, in the same transaction; an attempt that
failed stores none."""

from __future__ import annotations

from typing import Any

import pytest

from models import JobChunk, JobStatus
from resolvers.grid import assignment, bulk
from resolvers.grid.assignment import AssignmentScope
from resolvers.platform import jobs
from tests.factories import World
from tests.workers.kinds import start_sum
from tests.workers.test_grid_jobs import located_customers, with_polygons


async def test_a_chunk_s_timings_are_stored_with_its_success_and_a_failed_attempt_stores_none(world: World) -> None:
    job = await start_sum([{"items": [1, 2], "fail_times": 1}], created_by=None)
    assert await jobs.run_job_chunk(job.id, 0) == jobs.ChunkOutcome.FAILED
    failed = await JobChunk.get(job_id=job.id, number=0)
    assert (failed.status, failed.attempts, failed.timings) == (JobStatus.PENDING, 1, None)
    assert await jobs.run_job_chunk(job.id, 0) == jobs.ChunkOutcome.SUCCEEDED
    done = await JobChunk.get(job_id=job.id, number=0)
    assert (done.status, done.attempts) == (JobStatus.SUCCEEDED, 2)
    assert list(done.timings) == ["items"]
    assert 0 < done.timings["items"] < done.finished_at.timestamp() - done.started_at.timestamp()


def test_a_block_outside_a_chunk_is_timed_nowhere() -> None:
    with jobs.timed("anything"):
        total = sum(range(10))
    assert total == 45


async def test_an_assignment_chunk_records_its_four_phases(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    await with_polygons(world)
    await located_customers(world)
    job = await assignment.start_run(AssignmentScope.ALL, created_by=None, chunk_size=100)
    real = bulk.update_customer_villages
    crashes: list[int] = []

    async def write_then_crash(conn: Any, *args: Any, **kwargs: Any) -> int:
        written = await real(conn, *args, **kwargs)
        if not crashes:
            crashes.append(written)
            raise ConnectionResetError("worker killed after writing, before committing")
        return written

    monkeypatch.setattr("resolvers.grid.assignment.update_customer_villages", write_then_crash)
    assert await jobs.run_job_chunk(job.id, 0) == jobs.ChunkOutcome.FAILED
    assert (await JobChunk.get(job_id=job.id, number=0)).timings is None
    assert await jobs.run_job_chunk(job.id, 0) == jobs.ChunkOutcome.SUCCEEDED
    timings = (await JobChunk.get(job_id=job.id, number=0)).timings
    assert sorted(timings) == ["assign", "read", "villages", "write"]
    assert all(seconds > 0 for seconds in timings.values())
