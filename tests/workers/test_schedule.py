"""Scheduled jobs: a kind's schedule becomes an arq cron job; a firing starts the job under a key naming its
scheduled minute, so a double firing starts it once, and finds a run already under way; the in-process
scheduler and the application's background do the same without Redis."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from arq.worker import Retry

from models import Job, JobStatus
from resolvers.kinds import KINDS
from resolvers.platform import jobs, outbox
from resolvers.platform.job_kinds import KindSchedule
from settings import SETTINGS
from tests.factories import World
from tests.workers.conftest import Queue, finished
from tests.workers.kinds import KIND, TEST_SUM, SumParams, start_sum, sum_params
from workers import schedule as scheduling
from workers.settings import WorkerSettings, start_background


def plan(when: datetime) -> SumParams:
    return sum_params([{"items": [when.hour]}, {"items": [100]}], label=f"{when:%Y-%m-%d}")


NIGHTLY = dataclasses.replace(TEST_SUM, schedule=KindSchedule(times={"hour": 2, "minute": 0}, params=plan))
ENTRY = scheduling.Schedule(NIGHTLY)


def test_the_product_s_schedules_are_arq_cron_jobs() -> None:
    fired = {(c.name, c.hour, c.minute, c.second) for c in WorkerSettings.cron_jobs}
    assert fired == {
        ("cron:kpi_rollup", 2, 0, 0),
        ("cron:geo_assign", None, 5, 0),
        ("cron:credit_assignment", None, 10, 0),
    }
    assert [entry.kind.name for entry in scheduling.schedules(KINDS)] == [
        "geo_assign",
        "kpi_rollup",
        "credit_assignment",
    ]
    assert ENTRY.next_after(datetime(2026, 11, 28, 1, 0, tzinfo=UTC)) == datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


async def test_a_double_firing_starts_the_run_once(world: World) -> None:
    (cron_job,) = scheduling.cron_jobs([NIGHTLY])
    when = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    ctx = {"job_id": f"{cron_job.name}:{int(when.timestamp() * 1000)}"}
    assert scheduling.scheduled_time(ctx) == when
    first = await cron_job.coroutine(ctx)
    second = await cron_job.coroutine(ctx)  # a second worker, or a retry
    assert first == second
    job = await Job.get(id=first)
    assert (job.dedup_key, job.params["label"], job.created_by_id) == (
        f"cron:{KIND}:2026-11-28T02:00Z",
        "2026-11-28",
        None,
    )
    assert await Job.all().count() == 1


async def test_a_firing_while_a_run_is_under_way_finds_it(world: World) -> None:
    started = await start_sum([{"items": [1]}], created_by=world.staff["head"].id)
    fired = await scheduling.fire_schedule(ENTRY, datetime(2026, 11, 28, 2, 0, tzinfo=UTC))
    assert fired.id == started.id
    assert await Job.all().count() == 1


async def test_a_firing_that_cannot_start_is_retried_by_arq(world: World) -> None:
    def broken(when: datetime) -> SumParams:
        raise RuntimeError("database away")

    failing = dataclasses.replace(TEST_SUM, schedule=KindSchedule(times={"hour": 3, "minute": 0}, params=broken))
    (cron_job,) = scheduling.cron_jobs([failing])
    with pytest.raises(Retry):
        await cron_job.coroutine({"job_id": f"{cron_job.name}:1764295200000"})
    assert cron_job.max_tries == 10
    assert await Job.all().count() == 0


async def test_a_scheduled_run_goes_through_the_worker(world: World, queue: Queue) -> None:
    job = await scheduling.fire_schedule(ENTRY, datetime(2026, 11, 28, 2, 0, tzinfo=UTC))
    await outbox.relay_once(queue.dispatcher)
    await queue.run_burst()
    done = await Job.get(id=job.id)
    assert (done.status, done.result) == (JobStatus.SUCCEEDED, {"total": 102, "items": 2})


async def test_the_app_background_runs_jobs_in_process_without_redis(world: World) -> None:
    background = await start_background(dataclasses.replace(SETTINGS, redis_url=None))
    try:
        assert background.scheduler is not None
        assert [s.kind.name for s in background.scheduler.schedules] == [
            "geo_assign",
            "kpi_rollup",
            "credit_assignment",
        ]
        job = await jobs.start(TEST_SUM, sum_params([{"items": [1, 2]}]), created_by=world.staff["head"].id)
        done = await finished(job.id)
    finally:
        await background.stop()
    assert (done.status, done.result) == (JobStatus.SUCCEEDED, {"total": 3, "items": 2})
