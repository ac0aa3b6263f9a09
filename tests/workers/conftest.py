"""Fixtures for the worker tests: a real Redis (PALMCREDIT_TEST_REDIS, default db 15 on 127.0.0.1:6379) in
which every test works under a namespace of its own and deletes exactly the keys under it; arq workers run in
the test's event loop; helpers that wait by polling with short timeouts, never by sleeping long."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.worker import Worker
from redis.asyncio import Redis

import tests.workers.kinds as kinds
from models import AuditLog, Job, JobStatus
from resolvers.platform import job_kinds, jobs, outbox
from resolvers.platform.jobs import FINISHED
from workers.tasks import FUNCTIONS, by_name

REDIS_URL = os.environ.get("PALMCREDIT_TEST_REDIS", "redis://127.0.0.1:6379/15")
DEAD_REDIS_URL = "redis://127.0.0.1:6390/15"  # nothing listens there: Redis "down"
T = TypeVar("T")


@pytest.fixture(scope="session", autouse=True)
def test_kind() -> None:
    """The worker tests' job kind, runnable beside the product's."""
    job_kinds.register([kinds.TEST_SUM])


def short_lease(monkeypatch: pytest.MonkeyPatch, seconds: float) -> timedelta:
    """Leases of `seconds` in this process, renewed or not (SQLite cannot renew them)."""
    period = timedelta(seconds=seconds)
    monkeypatch.setattr(jobs.POLICY, "lease", period)
    monkeypatch.setattr(jobs.POLICY, "unrenewed_lease", period)
    return period


@pytest.fixture(scope="session")
async def redis_url() -> str:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as error:
        pytest.fail(
            f"Redis is part of the test environment and is not reachable at {REDIS_URL} ({error}). "
            "Start it (redis-server) or point PALMCREDIT_TEST_REDIS at one."
        )
    finally:
        await client.aclose()
    return REDIS_URL


@dataclass
class Queue:
    """One test's share of Redis: its arq queue and job-id namespace, and a dispatcher into them."""

    url: str
    namespace: str
    dispatcher: outbox.ArqDispatcher
    _arq: ArqRedis | None = None

    @property
    def name(self) -> str:
        return f"{self.namespace}queue"

    def worker(self, *, burst: bool = True, **options: Any) -> Worker:
        return Worker(
            functions=FUNCTIONS,
            queue_name=self.name,
            redis_settings=RedisSettings.from_dsn(self.url),
            burst=burst,
            handle_signals=False,
            poll_delay=0.02,
            ctx={"dispatcher": self.dispatcher},
            **options,
        )

    async def run_burst(self) -> Worker:
        """Run a burst worker until the queue is empty."""
        worker = self.worker()
        try:
            await worker.async_run()
        finally:
            await worker.pool.aclose()
        return worker

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Worker]:
        """A worker that keeps polling until the block ends (burst mode would wait forever for a job that a
        killed worker left marked in progress)."""
        worker = self.worker(burst=False)
        task = asyncio.get_running_loop().create_task(worker.async_run())
        try:
            yield worker
        finally:
            task.cancel()
            await asyncio.gather(task, *worker.tasks.values(), return_exceptions=True)
            if worker._pool is not None:
                await worker.pool.aclose()

    async def arq(self) -> ArqRedis:
        """A connection to enqueue into this queue directly, as a duplicate delivery would."""
        if self._arq is None:
            self._arq = await create_pool(RedisSettings.from_dsn(self.url), default_queue_name=self.name)
        return self._arq

    async def forget_everything(self) -> None:
        """Delete this test's keys, as a Redis restarted without its data would have."""
        client = await self.arq()
        keys = [key async for key in client.scan_iter(match=f"*{self.namespace}*")]
        if keys:
            await client.delete(*keys)


@pytest.fixture
async def queue(redis_url: str) -> AsyncIterator[Queue]:
    namespace = f"palmcredit-test-{uuid.uuid4().hex[:12]}:"
    dispatcher = outbox.ArqDispatcher(redis_url, tasks=by_name(), queue_name=f"{namespace}queue", namespace=namespace)
    queue = Queue(redis_url, namespace, dispatcher)
    yield queue
    await dispatcher.close()
    if queue._arq is not None:
        await queue._arq.aclose()
    client = Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"*{namespace}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
def gates() -> kinds.Gates:
    """Fresh hold/started events for this test's event loop."""
    kinds.GATES = kinds.Gates()
    return kinds.GATES


async def eventually(check: Callable[[], Awaitable[T]], within: float = 10.0, every: float = 0.02) -> T:
    """Poll until check() returns something truthy; fail after `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = await check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"still not true after {within}s: {check}")
        await asyncio.sleep(every)


async def finished(job_id: int, within: float = 10.0) -> Job:
    async def check() -> Job | None:
        job = await Job.get(id=job_id)
        return job if job.status in FINISHED else None

    return await eventually(check, within)


async def effects(job_id: int) -> list[str]:
    """The chunk effects of a job, one entry per audit row written."""
    rows = await AuditLog.filter(action="test.chunk", target_id__startswith=f"{job_id}:").values_list(
        "target_id", flat=True
    )
    return sorted(str(r) for r in rows)


def expected_effects(job_id: int, chunks: list[dict[str, Any]]) -> list[str]:
    return sorted(f"{job_id}:{n}:{item}" for n, chunk in enumerate(chunks) for item in chunk.get("items", []))


@asynccontextmanager
async def in_process(interval: float = 0.02) -> AsyncIterator[outbox.InProcessDispatcher]:
    """The no-Redis mode: a relay that runs the tasks in this event loop."""
    dispatcher = outbox.InProcessDispatcher(by_name())
    relay = outbox.Relay(dispatcher, interval=interval, housekeeping=[])
    relay.start()
    try:
        yield dispatcher
    finally:
        await relay.stop()
        await dispatcher.close(grace=5)


SUCCEEDED = JobStatus.SUCCEEDED
FAILED = JobStatus.FAILED


ROOT = Path(__file__).resolve().parents[2]


@asynccontextmanager
async def worker_process(
    queue: Queue, database_url: str, log_folder: Path, **env: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """A real `palmcredit worker` process on the test's queue and database (tests/workers/worker_process.py),
    running one task at a time unless env says otherwise, with env added to its environment; killed when the
    block ends if it still runs. Its output goes to worker-<pid>.log in log_folder."""
    environment = {
        **os.environ, "DATABASE_URL": database_url, "REDIS_URL": queue.url, "PYTHONPATH": str(ROOT),
        "PALMCREDIT_WORKER_CONCURRENCY": "1", **env,
    }  # fmt: skip
    with (log_folder / f"worker-{uuid.uuid4().hex[:8]}.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.workers.worker_process", queue.name, queue.namespace,
            cwd=ROOT, env=environment, stdout=log, stderr=log,
        )  # fmt: skip
        try:
            yield process
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def kill(process: asyncio.subprocess.Process) -> None:
    """SIGKILL: no handler runs, nothing is committed or given back."""
    process.send_signal(signal.SIGKILL)
    assert await process.wait() == -signal.SIGKILL
