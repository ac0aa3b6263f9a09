"""The transactional outbox: work is written to the database in the same transaction as the change that caused
it, and a relay hands it to the queue afterwards.

Nothing accepted is lost: a message stays undispatched until a dispatcher has taken it, so a crash before the
hand-over or Redis being down only delays it. A message may be handed over more than once (a relay that
crashes after enqueueing and before marking it), so every task is idempotent and arq is given the message key
as its job id, which it refuses while that job exists.

Two dispatchers: ArqDispatcher (REDIS_URL set: the arq workers run the tasks) and InProcessDispatcher (no
Redis: the same task functions run as asyncio tasks in this process, so the demo needs nothing installed).
Both are given the task functions' names (workers.tasks): a message for a task nobody can run stays in the
outbox, logged, until a release that knows it, instead of failing in a worker and being lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from arq.connections import ArqRedis, RedisSettings, create_pool
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models import OutboxMessage
from resolvers.platform.db import connection, dialect

log = logging.getLogger("palmcredit.outbox")

TaskFunction = Callable[..., Awaitable[Any]]  # arq's shape: function(ctx, *args)
Dispatch = Callable[[OutboxMessage], Awaitable[None]]
Housekeeping = Callable[[], Awaitable[Any]]

DISPATCH_TIMEOUT = 5.0  # seconds; a Redis that accepts connections but never answers is down too

_WAKEUPS: set[asyncio.Event] = set()


@dataclass(frozen=True)
class Message:
    task: str
    args: list[Any]
    key: str


async def enqueue(task: str, args: Sequence[Any], key: str, using_db: BaseDBAsyncClient | None = None) -> None:
    """Record a task to run once the surrounding transaction commits. A key that was already enqueued is a
    no-op, so a use case that is retried does not hand its work over twice."""
    await enqueue_many([Message(task, list(args), key)], using_db=using_db)


async def enqueue_many(messages: Iterable[Message], using_db: BaseDBAsyncClient | None = None) -> None:
    rows = [OutboxMessage(task=m.task, args=m.args, key=m.key) for m in messages]
    if rows:
        # ON CONFLICT DO NOTHING rather than catching the duplicate: a failed INSERT would abort the caller's
        # PostgreSQL transaction.
        await OutboxMessage.bulk_create(rows, ignore_conflicts=True, batch_size=500, using_db=using_db)


def wake() -> None:
    """Tell the relays in this process that there is something to hand over. Call it after the transaction
    that enqueued commits; before, the relay just finds nothing and comes back on its next tick."""
    for event in _WAKEUPS:
        event.set()


async def relay_once(dispatch: Dispatch, limit: int = 500) -> int:
    """Hand up to `limit` undispatched messages to `dispatch`, oldest first, and mark them dispatched.
    A message that failed before goes after the ones that did not, so one that cannot be dispatched (a task
    this process does not know) does not hold the others up.

    On PostgreSQL the batch is locked with FOR UPDATE SKIP LOCKED, so several relays share the work. A
    dispatch that fails (Redis down) records the attempt and the error on its message and ends the batch: the
    message stays undispatched and is tried again on the next round. Returns how many were dispatched.
    """
    if dialect() == "postgres":
        async with in_transaction() as conn:
            return await _relay_batch(dispatch, limit, conn, lock=True)
    return await _relay_batch(dispatch, limit, connection(), lock=False)


async def _relay_batch(dispatch: Dispatch, limit: int, conn: BaseDBAsyncClient, *, lock: bool) -> int:
    # oldest first, but a message that keeps failing sinks behind fresh ones instead of blocking them
    query = OutboxMessage.filter(dispatched_at__isnull=True).order_by("attempts", "id").limit(limit).using_db(conn)
    if lock:
        query = query.select_for_update(skip_locked=True)
    done: list[int] = []
    for message in await query:
        try:
            await dispatch(message)
        except Exception as error:  # any failure leaves the message for the next round
            log.warning("outbox: could not dispatch %s (%s): %s", message.key, message.task, error)
            await (
                OutboxMessage.filter(id=message.id)
                .using_db(conn)
                .update(attempts=F("attempts") + 1, last_error=f"{type(error).__name__}: {error}"[:2000])
            )
            break
        done.append(message.id)
    if done:
        await OutboxMessage.filter(id__in=done).using_db(conn).update(dispatched_at=datetime.now(UTC))
    return len(done)


async def purge_dispatched(older_than: timedelta = timedelta(days=7)) -> int:
    """Delete messages handed over long ago; the table holds work in flight, not history."""
    cutoff = datetime.now(UTC) - older_than
    return await OutboxMessage.filter(dispatched_at__lt=cutoff).delete()


class ArqDispatcher:
    """Enqueues a message as an arq job whose id is the message key (prefixed by `namespace`, which lets
    several environments or test runs share one Redis). arq refuses a job id it still holds: that is a
    duplicate hand-over, and fine."""

    def __init__(
        self,
        redis: str | ArqRedis,
        *,
        tasks: Collection[str] | None = None,
        queue_name: str | None = None,
        namespace: str = "",
    ) -> None:
        if isinstance(redis, str):
            # fail at once while Redis is down: the relay backs off and retries, nothing waits on it
            self._settings: RedisSettings | None = replace(
                RedisSettings.from_dsn(redis), conn_retries=0, conn_timeout=2
            )
            self._pool: ArqRedis | None = None
        else:
            self._settings, self._pool = None, redis
        self._owns_pool = self._pool is None
        self.tasks = frozenset(tasks) if tasks is not None else None
        self.queue_name = queue_name
        self.namespace = namespace

    async def __call__(self, message: OutboxMessage) -> None:
        if self.tasks is not None and message.task not in self.tasks:
            raise LookupError(f"no worker task named {message.task!r}")
        if self._pool is None:
            assert self._settings is not None
            self._pool = await create_pool(self._settings)
        job_id = self.namespace + message.key
        await asyncio.wait_for(
            self._pool.enqueue_job(message.task, *message.args, _job_id=job_id, _queue_name=self.queue_name),
            timeout=DISPATCH_TIMEOUT,
        )

    async def close(self) -> None:
        if self._pool is not None and self._owns_pool:
            await self._pool.aclose()
            self._pool = None


class InProcessDispatcher:
    """Runs each task as an asyncio task of this process, at most `concurrency` at a time, called as arq
    would: function(ctx, *args).

    The tasks run in the context this dispatcher was made in (the application's, outside any transaction):
    the relay dispatches from inside its own transaction, which the tasks must not inherit.
    """

    def __init__(
        self,
        functions: Mapping[str, TaskFunction],
        *,
        ctx: dict[str, Any] | None = None,
        concurrency: int = 4,
    ) -> None:
        self.functions = dict(functions)
        self.ctx = {"dispatcher": self, **(ctx or {})}
        self._context = contextvars.copy_context()
        self._slots = asyncio.Semaphore(concurrency)
        self._running: set[asyncio.Task[None]] = set()

    async def __call__(self, message: OutboxMessage) -> None:
        function = self.functions.get(message.task)
        if function is None:
            raise LookupError(f"no task named {message.task!r} in this process")
        task = asyncio.get_running_loop().create_task(
            self._run(message.key, function, list(message.args)), context=self._context.copy()
        )
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, key: str, function: TaskFunction, args: list[Any]) -> None:
        async with self._slots:
            try:
                await function(dict(self.ctx), *args)
            except Exception:
                log.exception("in-process task %s failed", key)

    async def idle(self) -> None:
        """Wait until every task handed over so far has finished."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    async def close(self, grace: float = 5.0) -> None:
        """Let running tasks finish for `grace` seconds, then cancel them (a cancelled chunk is released and
        runs again later)."""
        if not self._running:
            return
        _, pending = await asyncio.wait(list(self._running), timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


class Relay:
    """Runs relay_once in a loop: every `interval` seconds, at once when woken by wake(), and backing off up
    to `max_backoff` while dispatching fails. Between rounds it runs the housekeeping functions (recovering
    stalled jobs, purging old messages) every `housekeeping_interval` seconds. It never stops on an error."""

    def __init__(
        self,
        dispatch: Dispatch,
        *,
        interval: float = 1.0,
        max_backoff: float = 30.0,
        housekeeping: Sequence[Housekeeping] = (),
        housekeeping_interval: float = 30.0,
        batch: int = 500,
    ) -> None:
        self.dispatch = dispatch
        self.interval = interval
        self.max_backoff = max_backoff
        self.housekeeping = list(housekeeping)
        self.housekeeping_interval = housekeeping_interval
        self.batch = batch
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._failed = False
        self.rounds = 0  # completed rounds, for health checks and tests

    def start(self) -> None:
        _WAKEUPS.add(self._event)
        self._task = asyncio.get_running_loop().create_task(self._loop(), context=contextvars.copy_context())

    async def stop(self) -> None:
        self._stopping = True
        self._event.set()
        _WAKEUPS.discard(self._event)
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=10)
            except TimeoutError:
                log.warning("outbox relay did not stop in time; cancelled")
            self._task = None

    async def _dispatch(self, message: OutboxMessage) -> None:
        try:
            await self.dispatch(message)
        except Exception:
            self._failed = True
            raise

    async def _loop(self) -> None:
        delay = self.interval
        loop = asyncio.get_running_loop()
        last_housekeeping = float("-inf")  # the first round does it: recover at once after a restart
        while not self._stopping:
            self._failed = False
            self._event.clear()
            dispatched = 0
            try:
                dispatched = await relay_once(self._dispatch, self.batch)
                self.rounds += 1
            except Exception:  # the database is unreachable: log, back off, retry
                log.exception("outbox relay round failed")
                self._failed = True
            if loop.time() - last_housekeeping >= self.housekeeping_interval:
                last_housekeeping = loop.time()
                await self._run_housekeeping()
            delay = min(delay * 2, self.max_backoff) if self._failed else self.interval
            if dispatched >= self.batch and not self._failed:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), timeout=delay)

    async def _run_housekeeping(self) -> None:
        for chore in self.housekeeping:
            try:
                await chore()
            except Exception:  # a chore failing must not stop the relay
                log.exception("outbox housekeeping %s failed", getattr(chore, "__name__", chore))
