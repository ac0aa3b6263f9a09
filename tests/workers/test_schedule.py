"""Scheduled jobs: schedule() registers an arq cron job; a firing starts the job under a key naming its
scheduled minute, so a double firing starts it once; the in-process scheduler and the application's
background do the same without Redis."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from arq.worker import Retry

from models import Job, JobStatus
from settings import SETTINGS
from tests.factories import World
from tests.workers.conftest import Queue, finished
from tests.workers.kinds import KIND
from workers import schedule as scheduling
from workers.schedule import JobPlan
from workers.settings import WorkerSettings, start_background


def plan(when: datetime) -> JobPlan:
    return JobPlan({"day": f"{when:%Y-%m-%d}"}, [{"items": [when.hour]}, {"items": [100]}])


@pytest.fixture
def registered() -> Iterator[scheduling.Schedule]:
    entry = scheduling.schedule(KIND, plan, hour=2, minute=0)
    yield entry
    scheduling.SCHEDULES.remove(entry)
    scheduling.CRON_JOBS.pop()


def test_schedule_registers_an_arq_cron_job(registered: scheduling.Schedule) -> None:
    cron_job = scheduling.CRON_JOBS[-1]
    assert (cron_job.name, cron_job.hour, cron_job.minute, cron_job.second) == (f"cron:{KIND}", 2, 0, 0)
    assert WorkerSettings.cron_jobs is scheduling.CRON_JOBS
    assert registered.next_after(datetime(2026, 11, 28, 1, 0, tzinfo=UTC)) == datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


async def test_a_double_firing_starts_the_run_once(world: World, registered: scheduling.Schedule) -> None:
    cron_job = scheduling.CRON_JOBS[-1]
    when = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    ctx = {"job_id": f"{cron_job.name}:{int(when.timestamp() * 1000)}"}
    assert scheduling.scheduled_time(ctx) == when
    first = await cron_job.coroutine(ctx)
    second = await cron_job.coroutine(ctx)  # a second worker, or a retry
    assert first == second
    job = await Job.get(id=first)
    assert (job.dedup_key, job.params, job.created_by_id) == (
        f"cron:{KIND}:2026-11-28T02:00Z",
        {"day": "2026-11-28"},
        None,
    )
    assert await Job.all().count() == 1


async def test_a_firing_that_cannot_start_is_retried_by_arq(world: World) -> None:
    def broken(when: datetime) -> JobPlan:
        raise RuntimeError("database away")

    scheduling.schedule(KIND, broken, hour=3, minute=0)
    try:
        cron_job = scheduling.CRON_JOBS[-1]
        with pytest.raises(Retry):
            await cron_job.coroutine({"job_id": f"{cron_job.name}:1764295200000"})
        assert cron_job.max_tries == 10
    finally:
        scheduling.SCHEDULES.pop()
        scheduling.CRON_JOBS.pop()
    assert await Job.all().count() == 0


async def test_a_scheduled_run_goes_through_the_worker(
    world: World, registered: scheduling.Schedule, queue: Queue
) -> None:
    from resolvers.platform import outbox

    job = await scheduling.fire_schedule(registered, datetime(2026, 11, 28, 2, 0, tzinfo=UTC))
    await outbox.relay_once(queue.dispatcher)
    await queue.run_burst()
    done = await Job.get(id=job.id)
    assert (done.status, done.result) == (JobStatus.SUCCEEDED, {"total": 102, "items": 2})


async def test_the_app_background_runs_jobs_in_process_without_redis(world: World) -> None:
    from resolvers.platform import jobs

    background = await start_background(dataclasses.replace(SETTINGS, redis_url=None))
    try:
        assert background.scheduler is not None
        job = await jobs.start_job(KIND, {}, [{"items": [1, 2]}], created_by=world.staff["head"].id)
        done = await finished(job.id)
    finally:
        await background.stop()
    assert (done.status, done.result) == (JobStatus.SUCCEEDED, {"total": 3, "items": 2})
