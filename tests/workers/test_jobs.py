"""Jobs end to end: outbox → relay → arq → worker, with every chunk's effect exactly once, through a killed
worker, Redis being down or wiped, duplicate requests, retries and failures."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from tortoise.transactions import in_transaction

from models import AuditLog, Job, JobChunk, JobStatus, Notification, OutboxMessage
from resolvers.platform import jobs, outbox
from resolvers.platform.job_kinds import GridScope
from resolvers.platform.jobs import ChunkOutcome
from tests.conftest import Database
from tests.factories import World
from tests.workers.conftest import (
    DEAD_REDIS_URL,
    FAILED,
    SUCCEEDED,
    Queue,
    effects,
    eventually,
    expected_effects,
    finished,
    in_process,
    kill,
    short_lease,
    worker_process,
)
from tests.workers.kinds import BLOCK_ENV, KIND, Gates, start_sum

CHUNKS = [{"items": [1, 2, 3]}, {"items": [4, 5]}, {"items": [6]}]


async def start(world: World, chunks: list[dict[str, Any]] = CHUNKS, **options: Any) -> Job:
    return await start_sum(chunks, created_by=world.staff["manager1a"].id, label="test", **options)


async def drain(queue: Queue, job_id: int, rounds: int = 10) -> Job:
    """Relay and run burst workers until the job is finished (a retry goes round the outbox again)."""
    for _ in range(rounds):
        await outbox.relay_once(queue.dispatcher)
        await queue.run_burst()
        job = await Job.get(id=job_id)
        if job.status in (SUCCEEDED, FAILED):
            return job
    raise AssertionError(f"job {job_id} did not finish in {rounds} rounds")


async def test_a_job_runs_through_outbox_relay_and_arq_once(world: World, queue: Queue) -> None:
    job = await start(world)
    assert (job.status, job.chunks_total, job.chunks_done) == (JobStatus.PENDING, 3, 0)
    messages = await OutboxMessage.all().order_by("id").values_list("task", "args", "key")
    assert messages == [("run_job_chunk", [job.id, n], f"job:{job.id}:chunk:{n}") for n in range(3)]

    assert await outbox.relay_once(queue.dispatcher) == 3
    assert await OutboxMessage.filter(dispatched_at__isnull=True).count() == 0
    worker = await queue.run_burst()

    assert (worker.jobs_complete, worker.jobs_failed) == (3, 0)
    done = await Job.get(id=job.id)
    assert (done.status, done.chunks_done, done.result) == (SUCCEEDED, 3, {"total": 21, "items": 6})
    assert done.started_at is not None
    assert done.finished_at is not None
    assert await effects(job.id) == expected_effects(job.id, CHUNKS)
    assert (
        await JobChunk.filter(job_id=job.id).order_by("number").values_list("status", "attempts")
        == [(SUCCEEDED, 1)] * 3
    )
    note = await Notification.get(recipient_id=world.staff["manager1a"].id)
    assert (note.kind, note.payload) == (
        "job.succeeded",
        {"job_id": job.id, "kind": KIND, "status": "SUCCEEDED"},
    )
    assert note.title == "测试求和运行完成 / test sum finished"


async def test_relaying_again_hands_nothing_over_twice(world: World, queue: Queue) -> None:
    job = await start(world)
    assert await outbox.relay_once(queue.dispatcher) == 3
    # the relay crashed before marking the messages: they go again, and arq refuses the known job ids
    await OutboxMessage.all().update(dispatched_at=None)
    assert await outbox.relay_once(queue.dispatcher) == 3
    worker = await queue.run_burst()
    assert worker.jobs_complete == 3
    assert await effects(job.id) == expected_effects(job.id, CHUNKS)


async def test_a_chunk_run_again_after_success_does_nothing(world: World, queue: Queue) -> None:
    job = await drain(queue, (await start(world)).id)
    pool = await queue.arq()
    # a duplicate delivery under another job id (arq refuses the same one while it keeps the result)
    assert await pool.enqueue_job("run_job_chunk", job.id, 0, _job_id=f"{queue.namespace}duplicate") is not None
    await queue.run_burst()
    assert await jobs.run_job_chunk(job.id, 1) == ChunkOutcome.SKIPPED
    assert await jobs.finish_job(job.id) is False
    assert await effects(job.id) == expected_effects(job.id, CHUNKS)
    assert (await Job.get(id=job.id)).chunks_done == 3
    assert await Notification.all().count() == 1


async def test_redis_down_delays_the_work_and_loses_nothing(world: World, queue: Queue) -> None:
    down = outbox.ArqDispatcher(DEAD_REDIS_URL, queue_name=queue.name, namespace=queue.namespace)
    job = await start(world)
    assert await outbox.relay_once(down) == 0
    first = await OutboxMessage.all().order_by("id").first()
    assert first is not None
    assert first.dispatched_at is None
    assert first.attempts == 1
    assert "Connect" in first.last_error or "connect" in first.last_error
    assert await OutboxMessage.filter(dispatched_at__isnull=True).count() == 3
    assert await OutboxMessage.filter(attempts=0).count() == 2  # the batch stopped at the first failure

    assert await outbox.relay_once(queue.dispatcher) == 3
    await queue.run_burst()
    assert (await Job.get(id=job.id)).status == SUCCEEDED
    assert await effects(job.id) == expected_effects(job.id, CHUNKS)


async def test_the_relay_backs_off_while_redis_is_down_and_keeps_running(world: World, queue: Queue) -> None:
    relay = outbox.Relay(
        outbox.ArqDispatcher(DEAD_REDIS_URL, namespace=queue.namespace), interval=0.01, max_backoff=0.05
    )
    relay.start()
    try:
        job = await start(world)

        async def retried() -> bool:
            first = await OutboxMessage.filter(key=f"job:{job.id}:chunk:0").first()
            return first is not None and first.attempts >= 3

        await eventually(retried)
        assert relay._task is not None
        assert not relay._task.done()
    finally:
        await relay.stop()
    assert await OutboxMessage.filter(dispatched_at__isnull=True).count() == 3

    assert await outbox.relay_once(queue.dispatcher) == 3
    await queue.run_burst()
    assert (await Job.get(id=job.id)).status == SUCCEEDED
    assert await effects(job.id) == expected_effects(job.id, CHUNKS)


async def test_starting_a_job_wakes_the_relay(world: World, queue: Queue) -> None:
    relay = outbox.Relay(queue.dispatcher, interval=60.0)  # its next tick is a minute away
    relay.start()
    try:
        await eventually(lambda: _true(relay.rounds >= 1))
        await start(world)

        async def all_dispatched() -> bool:
            return await OutboxMessage.filter(dispatched_at__isnull=True).count() == 0

        await eventually(all_dispatched, within=5)
    finally:
        await relay.stop()


async def _true(value: bool) -> bool:
    return value


async def test_work_lost_from_redis_is_recovered_after_the_lease(
    world: World, queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = await start(world)
    assert await outbox.relay_once(queue.dispatcher) == 3
    await queue.forget_everything()  # Redis restarted empty
    await queue.run_burst()
    assert (await Job.get(id=job.id)).status == JobStatus.PENDING

    assert await jobs.recover_stalled() == 0  # within the lease nothing is stalled
    short_lease(monkeypatch, 0.2)
    assert await eventually(jobs.recover_stalled) == 3
    assert await jobs.recover_stalled() == 0  # while those wait in the outbox, nothing piles up behind them
    assert await outbox.relay_once(queue.dispatcher) == 3

    later = datetime.now(UTC) + timedelta(seconds=1)  # a lease period of its own
    assert await jobs.recover_stalled(later) == 3
    assert await OutboxMessage.filter(key__contains=":recover:").count() == 6
    done = await drain(queue, job.id)
    assert done.status == SUCCEEDED
    assert await effects(job.id) == expected_effects(job.id, CHUNKS)


async def test_processes_recovering_in_the_same_lease_period_enqueue_once(world: World) -> None:
    job = await start(world, [{"items": [1]}])
    await OutboxMessage.all().update(dispatched_at=datetime.now(UTC))
    now = datetime.now(UTC)
    await JobChunk.filter(job_id=job.id).update(status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, attempts=1)
    moment = datetime.now(UTC) + jobs.lease() + timedelta(seconds=1)
    assert await jobs.recover_stalled(moment) == 1
    assert await jobs.recover_stalled(moment) == 1
    keys = await OutboxMessage.filter(key__contains=":recover:").values_list("key", flat=True)
    bucket = int(moment.timestamp() / jobs.lease().total_seconds())
    assert keys == [f"job:{job.id}:chunk:0:recover:{bucket}"]


async def test_a_killed_worker_s_chunk_is_reclaimed_after_the_lease(
    world: World, queue: Queue, database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    job = await start(world)
    assert await outbox.relay_once(queue.dispatcher) == 3
    async with worker_process(queue, database.url, tmp_path, **{BLOCK_ENV: "1"}) as process:
        running = await eventually(lambda: JobChunk.filter(job_id=job.id, status=JobStatus.RUNNING).first(), 30)
        await kill(process)  # mid-chunk: its writes are made, not committed
    assert running.attempts == 1

    short_lease(monkeypatch, 1)
    assert await eventually(jobs.recover_stalled) >= 1
    async with queue.running():
        await outbox.relay_once(queue.dispatcher)
        done = await finished(job.id, within=20)

    assert (done.status, done.chunks_done, done.result) == (SUCCEEDED, 3, {"total": 21, "items": 6})
    assert await effects(job.id) == expected_effects(job.id, CHUNKS)
    attempts = dict(await JobChunk.filter(job_id=job.id).values_list("number", "attempts"))
    assert attempts == {n: 2 if n == running.number else 1 for n in range(3)}
    assert await Notification.filter(kind="job.succeeded").count() == 1


async def test_a_stopped_chunk_is_given_back_uncounted(world: World, gates: Gates) -> None:
    chunks = [{"items": [1], "hold": True}]
    job = await start(world, chunks)
    runner = asyncio.get_running_loop().create_task(jobs.run_job_chunk(job.id, 0))
    await asyncio.wait_for(gates.started.wait(), 10)
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner
    chunk = await JobChunk.get(job_id=job.id, number=0)
    assert (chunk.status, chunk.attempts, chunk.started_at, chunk.heartbeat_at) == (JobStatus.PENDING, 0, None, None)
    assert await effects(job.id) == []
    gates.hold.set()
    assert await jobs.run_job_chunk(job.id, 0) == ChunkOutcome.SUCCEEDED
    assert await effects(job.id) == [f"{job.id}:0:1"]


async def test_a_chunk_held_elsewhere_is_busy_until_its_lease_passes(world: World) -> None:
    job = await start(world, [{"items": [7]}])
    now = datetime.now(UTC)
    await JobChunk.filter(job_id=job.id).update(status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, attempts=1)
    assert await jobs.run_job_chunk(job.id, 0) == ChunkOutcome.BUSY
    await JobChunk.filter(job_id=job.id).update(heartbeat_at=now - jobs.lease() - timedelta(seconds=1))
    assert await jobs.run_job_chunk(job.id, 0) == ChunkOutcome.SUCCEEDED
    chunk = await JobChunk.get(job_id=job.id)
    assert (chunk.status, chunk.attempts) == (SUCCEEDED, 2)
    assert await effects(job.id) == [f"{job.id}:0:7"]


async def test_a_chunk_whose_workers_keep_dying_fails_its_job(world: World) -> None:
    job = await start(world, [{"items": [7]}, {"items": [8]}])
    stale = datetime.now(UTC) - jobs.lease() - timedelta(seconds=1)
    await JobChunk.filter(job_id=job.id, number=0).update(
        status=JobStatus.RUNNING, started_at=stale, heartbeat_at=stale, attempts=3
    )
    assert await jobs.run_job_chunk(job.id, 0) == ChunkOutcome.FAILED
    failed = await Job.get(id=job.id)
    assert failed.status == FAILED
    assert "attempts did not finish" in failed.error
    assert await jobs.run_job_chunk(job.id, 1) == ChunkOutcome.SKIPPED  # the job is over
    assert await effects(job.id) == []
    assert await Notification.filter(kind="job.failed").count() == 1


async def test_a_worker_that_lost_its_claim_commits_nothing(world: World) -> None:
    job = await start(world, [{"items": [1, 2], "steal": True}])
    assert await jobs.run_job_chunk(job.id, 0) == ChunkOutcome.LOST
    chunk = await JobChunk.get(job_id=job.id)
    assert (chunk.status, chunk.attempts) == (JobStatus.RUNNING, 1)
    assert await effects(job.id) == []


async def test_a_failing_chunk_is_retried_and_its_failed_attempt_leaves_no_trace(world: World) -> None:
    chunks = [{"items": [1, 2], "fail_times": 2}, {"items": [3]}]
    job = await start(world, chunks)
    async with in_process():
        done = await finished(job.id)
    assert done.status == SUCCEEDED
    assert await effects(job.id) == expected_effects(job.id, chunks)
    attempts = await JobChunk.filter(job_id=job.id).order_by("number").values_list("attempts", flat=True)
    assert list(attempts) == [3, 1]
    assert await OutboxMessage.filter(key__contains=":attempt:").count() == 2


async def test_a_chunk_that_keeps_failing_fails_the_job_and_tells_its_creator(world: World) -> None:
    job = await start(world, [{"items": [1], "fail_times": 9}, {"items": [2]}], dedup_key="fails")
    async with in_process():
        failed = await finished(job.id)
    assert failed.status == FAILED
    assert "chunk 0 failed" in failed.error
    assert "planned failure on attempt 3" in failed.error
    assert (failed.dedup_key, failed.in_flight_key) == (None, None)  # given up, so the work can be asked for again
    chunk = await JobChunk.get(job_id=job.id, number=0)
    assert (chunk.status, chunk.attempts) == (FAILED, 3)
    assert "planned failure" in chunk.result["error"]
    assert await effects(job.id) in ([], [f"{job.id}:1:2"])
    note = await Notification.get(kind="job.failed")
    assert note.recipient_id == world.staff["manager1a"].id
    assert note.title == "测试求和运行失败 / test sum failed"
    again = await start(world, [{"items": [1]}], dedup_key="fails")
    assert again.id != job.id


async def test_a_failing_reduction_fails_the_job(world: World) -> None:
    job = await start_sum([{"items": [1]}], created_by=None, fail_finish=True)
    async with in_process():
        failed = await finished(job.id)
    assert failed.status == FAILED
    assert "finishing failed" in failed.error
    assert await Notification.all().count() == 0  # nobody started it


async def test_a_report_that_refuses_its_input_fails_the_job_and_keeps_the_report(world: World) -> None:
    job = await start(world, dedup_key="refused", refuse_over=20)
    async with in_process():
        failed = await finished(job.id)
    assert (failed.status, failed.result) == (FAILED, {"total": 21, "items": 6})
    assert failed.error == "总和21超限 / total 21 is over 20"
    assert (failed.dedup_key, failed.in_flight_key) == (None, None)
    note = await Notification.get(recipient_id=world.staff["manager1a"].id)
    assert (note.kind, note.body, note.payload["status"]) == ("job.failed", failed.error, "FAILED")
    assert await jobs.finish_job(job.id) is False  # ended: finishing again changes nothing
    accepted = await start(world, dedup_key="refused", refuse_over=21)
    async with in_process():
        assert (await finished(accepted.id)).status == SUCCEEDED


async def test_the_same_dedup_key_gives_the_same_job(world: World) -> None:
    first = await start(world, dedup_key="geo_assign:village:1")
    second = await start(world, dedup_key="geo_assign:village:1")
    racing = await asyncio.gather(*(start(world, dedup_key="kpi:2026-11-28", scope=TOWNSHIP) for _ in range(3)))
    assert first.id == second.id
    assert len({j.id for j in racing}) == 1
    assert await Job.all().count() == 2
    assert await OutboxMessage.all().count() == 6
    async with in_process():
        await finished(first.id)
    assert (await start(world, dedup_key="geo_assign:village:1")).id == first.id  # succeeded: done already


TOWNSHIP = GridScope("/1/2/")


async def test_one_run_of_a_kind_over_a_scope_at_a_time(world: World) -> None:
    racing = await asyncio.gather(*(start(world) for _ in range(4)))
    (running,) = {job.id for job in racing}
    elsewhere = await start(world, scope=TOWNSHIP)  # another part of the grid runs beside it
    assert elsewhere.id != running
    assert await Job.filter(id=running).values_list("in_flight_key", flat=True) == [f"{KIND}@/"]
    assert await Job.all().count() == 2
    assert await OutboxMessage.all().count() == 6
    async with in_process():
        done = await finished(running)
    assert (done.status, done.in_flight_key) == (SUCCEEDED, None)
    again = await start(world)  # once it has finished, the next start is a run of its own
    assert again.id not in (running, elsewhere.id)


async def test_a_use_case_starts_a_job_in_the_same_transaction_as_its_change(world: World) -> None:
    async def change_then_fail() -> None:
        async with in_transaction() as conn:
            await AuditLog.create(action="test.change", target_type="Test", using_db=conn)
            await start(world, using_db=conn)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError, match="rolled back"):
        await change_then_fail()
    counts = (await Job.all().count(), await OutboxMessage.all().count(), await AuditLog.all().count())
    assert counts == (0, 0, 0)
    async with in_transaction() as conn:
        await AuditLog.create(action="test.change", target_type="Test", using_db=conn)
        job = await start(world, using_db=conn, dedup_key="with-change")
        assert (await start(world, using_db=conn, dedup_key="with-change")).id == job.id
    assert (await Job.all().count(), await OutboxMessage.all().count()) == (1, 3)


async def test_in_process_mode_runs_a_job_to_completion(world: World) -> None:
    async with in_process() as dispatcher:
        job = await start(world)
        done = await finished(job.id)
        await dispatcher.idle()
    assert (done.status, done.result) == (SUCCEEDED, {"total": 21, "items": 6})
    assert await effects(job.id) == expected_effects(job.id, CHUNKS)
    assert await Notification.filter(kind="job.succeeded").count() == 1


async def test_a_chunk_whose_connection_is_killed_is_retried_at_once(
    world: World, queue: Queue, database: Database
) -> None:
    if database.backend != "postgres":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    chunks = [{"items": [1, 2], "terminate_backend": True}, {"items": [3]}]
    job = await start(world, chunks)
    async with queue.running():
        await outbox.relay_once(queue.dispatcher)

        async def retried() -> bool:
            await outbox.relay_once(queue.dispatcher)
            return await JobChunk.filter(job_id=job.id, number=0, attempts=2).exists()

        # the failed attempt is recorded at once (no lease to wait out), on a connection that works
        await eventually(retried, within=10)
        done = await finished(job.id, within=10)
    assert (done.status, done.result) == (SUCCEEDED, {"total": 6, "items": 3})
    assert await effects(job.id) == expected_effects(job.id, chunks)
    chunk = await JobChunk.get(job_id=job.id, number=0)
    assert (chunk.status, chunk.attempts) == (SUCCEEDED, 2)
    assert await OutboxMessage.filter(key=f"job:{job.id}:chunk:0:attempt:2").count() == 1


async def test_a_job_without_chunks_is_finished_through_the_outbox(world: World) -> None:
    job = await start(world, [])
    assert await OutboxMessage.all().values_list("task", flat=True) == ["finish_job"]
    async with in_process():
        done = await finished(job.id)
    assert (done.status, done.result, done.chunks_total) == (SUCCEEDED, {"total": 0, "items": 0}, 0)


async def test_a_queued_start_of_an_unknown_kind_is_refused(world: World) -> None:
    with pytest.raises(LookupError):
        await jobs.start_queued("no_such_kind", {}, "/", None, "some:key")
    assert await Job.all().count() == 0


async def test_parameters_that_do_not_fit_the_kind_are_refused(world: World) -> None:
    with pytest.raises(ValidationError):
        await jobs.start_queued(KIND, {"chunks": [{"items": ["1"]}]}, "/", None, "some:key")
    assert await Job.all().count() == 0


async def test_a_killed_worker_s_chunk_is_reclaimed_at_its_next_heartbeat_expiry(
    world: World, queue: Queue, database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if database.backend != "postgres":
        pytest.skip("SQLite cannot renew a lease while a chunk's transaction is open")
    period = short_lease(monkeypatch, 1.5)
    chunks = [{"items": [1, 2]}]
    job = await start(world, chunks)
    assert await outbox.relay_once(queue.dispatcher) == 1
    lease_env = {BLOCK_ENV: "1", "PALMCREDIT_JOB_LEASE": str(period.total_seconds())}
    async with worker_process(queue, database.url, tmp_path, **lease_env) as process:
        claimed = await eventually(lambda: JobChunk.filter(job_id=job.id, status=JobStatus.RUNNING).first(), 30)

        async def renewed_past_two_leases() -> bool:
            chunk = await JobChunk.get(id=claimed.id)
            assert chunk.heartbeat_at is not None
            assert chunk.started_at is not None
            return chunk.heartbeat_at - chunk.started_at > 2 * period

        # a live worker keeps its chunk however long it runs: the heartbeat renews the lease
        await eventually(renewed_past_two_leases, within=15)
        assert await jobs.run_job_chunk(job.id, 0) == ChunkOutcome.BUSY
        await kill(process)
    last_beat = (await JobChunk.get(id=claimed.id)).heartbeat_at
    assert last_beat is not None

    async def reclaimed() -> bool:
        return await jobs.run_job_chunk(job.id, 0) == ChunkOutcome.SUCCEEDED

    await eventually(reclaimed, within=10)
    chunk = await JobChunk.get(id=claimed.id)
    assert (chunk.status, chunk.attempts) == (SUCCEEDED, 2)
    assert chunk.started_at is not None
    assert chunk.started_at >= last_beat + period  # reclaimed once the last heartbeat had expired, not before
    assert chunk.started_at < last_beat + 2 * period
    assert await effects(job.id) == expected_effects(job.id, chunks)


async def test_workers_share_a_run_each_taking_only_what_it_can_run(
    world: World, queue: Queue, database: Database, tmp_path: Path
) -> None:
    if database.backend != "postgres":
        pytest.skip("SQLite lets one worker write at a time")
    job = await start(world)
    assert await outbox.relay_once(queue.dispatcher) == 3
    one_at_a_time = {BLOCK_ENV: "1", "PALMCREDIT_WORKER_CONCURRENCY": "1"}
    async with (
        worker_process(queue, database.url, tmp_path, **one_at_a_time) as first,
        worker_process(queue, database.url, tmp_path, **one_at_a_time) as second,
    ):

        async def both_busy() -> bool:
            return await JobChunk.filter(job_id=job.id, status=JobStatus.RUNNING).count() == 2

        await eventually(both_busy, within=30)
        # neither took the third chunk from the queue while busy: it waits for whichever is free first
        for _ in range(20):
            assert await JobChunk.filter(job_id=job.id, status=JobStatus.PENDING, attempts=0).count() == 1
            await asyncio.sleep(0.05)
        await kill(first)
        await kill(second)
