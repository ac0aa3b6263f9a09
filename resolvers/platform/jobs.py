"""Recorded background jobs cut into chunks that any number of workers share.

Invariants:
- A job, its chunks and the outbox messages that run them are written in one transaction (the caller's, when a
  use case starts a job together with its own change), so accepted work is never lost.
- One run of a kind over a scope at a time (single flight): while a job is unfinished it holds its
  in_flight_key, and a second start of the same kind over the same scope returns it instead.
- A chunk's effects, its output rows and its SUCCEEDED mark commit together. A crash mid-chunk rolls them all
  back; a chunk run again after success finds it done and does nothing. So every chunk's effect happens once.
- A worker claims a chunk with a conditional UPDATE that also counts the attempt; the attempt number fences
  its heartbeat and its final write, so a worker that lost its lease cannot mark a chunk another worker has
  reclaimed. While a chunk runs its worker renews the lease every lease/3; a renewal that finds the lease lost
  stops the chunk.
- A chunk whose worker died is reclaimed once its last heartbeat is a lease old (recover_stalled re-dispatches
  it); one that keeps failing is FAILED after its kind's max_attempts, and so is its job. A failed attempt is
  recorded on a fresh connection, retried, so a connection killed under the chunk does not leave it RUNNING.
- finish runs once: the job's RUNNING → SUCCEEDED update guards it, in the same transaction as its writes. A
  report its kind calls a refusal (JobKind.refusal) ends the job FAILED instead, in that transaction, report kept.
- A chunk's phase timings (timed) are stored with its SUCCEEDED mark, so they describe the attempt that
  counted; a failed or lost attempt leaves none.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from domain.access import Actor
from domain.errors import DomainError, ErrorCode, not_found
from models import Job, JobChunk, JobOutput, JobStatus, Notification, OutboxMessage
from resolvers.platform import job_policy, outbox
from resolvers.platform.db import connection, dialect, placeholders
from resolvers.platform.job_kinds import (
    BANK,
    AnyKind,
    ChunkRun,
    Finishing,
    GridScope,
    JobKind,
    RecordedKind,
    job_kind,
    recorded_kind,
)
from resolvers.platform.notifications import notify, publish
from resolvers.platform.pagination import Page, paginate
from resolvers.platform.unit_of_work import unit_of_work
from settings import SETTINGS

log = logging.getLogger("palmcredit.jobs")

P = TypeVar("P")
T = TypeVar("T")
W = TypeVar("W")

UNFINISHED = (JobStatus.PENDING, JobStatus.RUNNING)
FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED)
BOOKKEEPING_TRIES = 3


@dataclass
class JobPolicy:
    """How long a claimed chunk stays its worker's without a heartbeat (lease; the heartbeat renews it every
    lease/3), and how long a chunk may run (chunk_timeout).

    SQLite lets one connection write at a time, so a heartbeat cannot commit while a chunk's transaction is
    open: there a chunk keeps the lease it claimed, unrenewed_lease, which must outlast chunk_timeout."""

    lease: timedelta = timedelta(seconds=SETTINGS.job_lease_seconds)
    chunk_timeout: timedelta = timedelta(minutes=5)
    unrenewed_lease: timedelta = timedelta(minutes=10)

    @property
    def heartbeat_every(self) -> timedelta:
        return self.lease / 3


POLICY = JobPolicy()
# seconds per phase of the chunk attempt running in this task (see timed)
_CHUNK_TIMINGS: ContextVar[dict[str, float] | None] = ContextVar("palmcredit_chunk_timings", default=None)


def renews_leases(conn: BaseDBAsyncClient | None = None) -> bool:
    return dialect(conn) == "postgres"


def lease() -> timedelta:
    """How long a running chunk's last heartbeat (its claim, where leases are not renewed) holds it."""
    return POLICY.lease if renews_leases() else POLICY.unrenewed_lease


def _title(kind: str, zh: str, en: str) -> str:
    return recorded_kind(kind).titled(zh, en)


class ChunkOutcome(StrEnum):
    SUCCEEDED = "SUCCEEDED"  # ran and committed now
    FAILED = "FAILED"  # this attempt failed (retried later, or the chunk and its job are FAILED)
    BUSY = "BUSY"  # another worker holds it within its lease
    SKIPPED = "SKIPPED"  # already done, or its job is finished
    LOST = "LOST"  # its lease was lost and another worker may have reclaimed it; nothing was kept


def _now() -> datetime:
    return datetime.now(UTC)


def chunk_key(job_id: int, number: int) -> str:
    return f"job:{job_id}:chunk:{number}"


def in_flight_key(kind: str, scope: GridScope) -> str:
    return f"{kind}@{scope.path}"


# --- starting ---------------------------------------------------------------------------------------------


async def start(
    kind: JobKind[P, Any, Any, Any],
    params: P,
    *,
    scope: GridScope = BANK,
    created_by: int | None,
    dedup_key: str | None = None,
    using_db: BaseDBAsyncClient | None = None,
) -> Job:
    """Plan a run of kind over scope and record it, its chunks and the outbox messages that will run them, in
    one transaction: the caller's when using_db is given (then call outbox.wake() after it commits), else the
    open unit of work's or one of its own. Returns the job, or the one that makes this start unnecessary:

    - a job holding dedup_key (one piece of work: while it is unfinished or has succeeded, asking again
      returns it; a failed job gives its key up, so the work can be asked for again);
    - the unfinished job of the same kind over the same scope (single flight).
    """
    if kind.bank_wide_only and not scope.is_bank:
        raise DomainError(
            ErrorCode.INVALID_VALUE,
            f"{kind.title_zh}只能全行运行",
            f"a {kind.title_en} runs for the whole bank only",
            "scope",
        )
    if using_db is not None:
        return await _start(using_db, kind, params, scope, created_by, dedup_key)
    async with unit_of_work() as uow:
        job = await _start(uow.conn, kind, params, scope, created_by, dedup_key)
        uow.on_commit(outbox.wake)
    return job


async def _start(
    conn: BaseDBAsyncClient,
    kind: JobKind[P, Any, Any, Any],
    params: P,
    scope: GridScope,
    created_by: int | None,
    dedup_key: str | None,
) -> Job:
    flight = in_flight_key(kind.name, scope)
    existing = await _existing(conn, dedup_key, flight)
    if existing is not None:
        return existing
    chunks = [kind.chunk_codec.dump(chunk) for chunk in await kind.plan(params, scope, conn)]
    try:
        # a savepoint: losing the race for a key must not abort the caller's transaction
        async with in_transaction():
            job = await Job.create(
                kind=kind.name,
                params=kind.params_codec.dump(params),
                scope=scope.path,
                created_by_id=created_by,
                dedup_key=dedup_key,
                in_flight_key=flight,
                chunks_total=len(chunks),
                using_db=conn,
            )
    except IntegrityError:
        existing = await _existing(conn, dedup_key, flight)
        if existing is None:
            raise
        return existing
    await JobChunk.bulk_create(
        [JobChunk(job_id=job.id, number=n, params=p) for n, p in enumerate(chunks)],
        batch_size=500,
        using_db=conn,
    )
    messages = [outbox.Message("run_job_chunk", [job.id, n], chunk_key(job.id, n)) for n in range(len(chunks))]
    await outbox.enqueue_many(messages or [outbox.Message("finish_job", [job.id], f"job:{job.id}:finish")], conn)
    return job


async def _existing(conn: BaseDBAsyncClient, dedup_key: str | None, flight: str) -> Job | None:
    if dedup_key is not None:
        found = await Job.filter(dedup_key=dedup_key).using_db(conn).first()
        if found is not None:
            return found
    return await Job.filter(in_flight_key=flight).using_db(conn).first()


async def start_later(
    kind: JobKind[P, Any, Any, Any],
    params: P,
    *,
    scope: GridScope = BANK,
    created_by: int | None,
    dedup_key: str,
    using_db: BaseDBAsyncClient,
) -> None:
    """Chain a job from a change: queue its start in the caller's transaction (the outbox's start_job task
    plans and starts it once that has committed). dedup_key names it, so a second delivery finds it."""
    args = [kind.name, kind.params_codec.dump(params), scope.path, created_by, dedup_key]
    await outbox.enqueue("start_job", args, f"start:{dedup_key}", using_db=using_db)


async def start_queued(kind: str, params: Any, scope: str, created_by: int | None, dedup_key: str) -> Job | None:
    """The start queued by start_later; None when the kind says its work is already done (another run did it)."""
    registered = job_kind(kind)
    loaded = registered.params_codec.load(params)
    needed = registered.still_needed
    if needed is not None and not await needed(loaded, GridScope(scope), connection()):
        return None
    return await start(registered, loaded, scope=GridScope(scope), created_by=created_by, dedup_key=dedup_key)


async def record(
    kind: RecordedKind[P, T],
    params: P,
    report: T,
    *,
    status: JobStatus,
    created_by: int | None,
    started_at: datetime,
    error: str = "",
    using_db: BaseDBAsyncClient | None = None,
) -> Job:
    """Record a run done while its user waited (a grid import), finished, with its report."""
    return await Job.create(
        kind=kind.name,
        status=status,
        params=kind.params_codec.dump(params),
        created_by_id=created_by,
        started_at=started_at,
        finished_at=_now(),
        result=kind.report_codec.dump(report),
        error=error,
        using_db=using_db,
    )


# --- running ----------------------------------------------------------------------------------------------


async def run_job_chunk(job_id: int, number: int) -> ChunkOutcome:
    """Run one chunk if nobody else holds it. Safe to call any number of times, from any worker."""
    job = await Job.get_or_none(id=job_id)
    chunk = await JobChunk.get_or_none(job_id=job_id, number=number)
    if job is None or chunk is None or job.status in FINISHED or chunk.status in FINISHED:
        return ChunkOutcome.SKIPPED
    kind = job_kind(job.kind)
    now = _now()
    cutoff = now - lease()
    if chunk.status == JobStatus.RUNNING and chunk.heartbeat_at is not None and chunk.heartbeat_at >= cutoff:
        return ChunkOutcome.BUSY
    claimable = Q(status=JobStatus.PENDING) | Q(status=JobStatus.RUNNING, heartbeat_at__lt=cutoff)
    if chunk.attempts >= kind.max_attempts:
        reason = f"{chunk.attempts}次尝试均未完成 / {chunk.attempts} attempts did not finish (worker killed?)"
        await _chunk_failed(job, chunk, reason, JobChunk.filter(claimable, id=chunk.id, attempts=chunk.attempts))
        return ChunkOutcome.FAILED
    attempt = chunk.attempts + 1
    claimed = await JobChunk.filter(claimable, id=chunk.id, attempts=chunk.attempts).update(
        status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, attempts=attempt
    )
    if not claimed:
        return ChunkOutcome.BUSY
    await Job.filter(id=job.id, status=JobStatus.PENDING).update(status=JobStatus.RUNNING, started_at=now)
    chunk.status, chunk.started_at, chunk.heartbeat_at, chunk.attempts = JobStatus.RUNNING, now, now, attempt
    return await _run_claimed(job, chunk, kind, attempt)


@contextmanager
def timed(phase: str) -> Iterator[None]:
    """For a chunk runner: add the time the block takes to the running chunk's timings under phase (seconds,
    summed over the blocks of one phase). They are stored in job_chunk.timings with the chunk's success, so a
    run can be read back phase by phase; outside a chunk the block just runs."""
    timings = _CHUNK_TIMINGS.get()
    started = time.perf_counter()
    try:
        yield
    finally:
        if timings is not None:
            timings[phase] = timings.get(phase, 0.0) + time.perf_counter() - started


class _LeaseLostError(Exception):
    pass


@dataclass
class _Heartbeat:
    """Renews a claimed chunk's lease every POLICY.heartbeat_every, fenced by the attempt; once a renewal finds
    the lease lost it cancels the chunk's task. Runs outside the chunk's transaction, on a connection of its
    own, so each renewal commits at once."""

    mine: QuerySet[JobChunk]
    runner: asyncio.Task[Any]
    lost: bool = False
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    def start(self) -> None:
        if renews_leases():
            self._task = asyncio.get_running_loop().create_task(self._beat())

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(POLICY.heartbeat_every.total_seconds())
            try:
                renewed = await self.mine.update(heartbeat_at=_now())
            except Exception:  # the database away for a moment: the lease has two more beats to go
                log.warning("could not renew a chunk's lease", exc_info=True)
                continue
            if not renewed:
                self.lost = True
                self.runner.cancel()
                return

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def _run_claimed(job: Job, chunk: JobChunk, kind: AnyKind, attempt: int) -> ChunkOutcome:
    mine = JobChunk.filter(id=chunk.id, status=JobStatus.RUNNING, attempts=attempt)
    timings: dict[str, float] = {}
    token = _CHUNK_TIMINGS.set(timings)
    heartbeat = _Heartbeat(mine, asyncio.current_task())  # type: ignore[arg-type]
    heartbeat.start()
    try:
        async with in_transaction() as conn:
            run = ChunkRun(
                job_id=job.id,
                number=chunk.number,
                attempt=attempt,
                params=kind.params_codec.load(job.params),
                chunk=kind.chunk_codec.load(chunk.params),
                scope=GridScope(job.scope),
                conn=conn,
            )
            async with asyncio.timeout(POLICY.chunk_timeout.total_seconds()):
                result = kind.result_codec.dump(await kind.run_chunk(run))
            await heartbeat.stop()
            marked = await mine.using_db(conn).update(
                status=JobStatus.SUCCEEDED, result=result, finished_at=_now(), timings=timings
            )
            if not marked:
                raise _LeaseLostError
    except _LeaseLostError:
        return _lost(job, chunk)
    except asyncio.CancelledError:
        if heartbeat.lost:
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
            return _lost(job, chunk)
        # stopped, not failed: give the claim back uncounted so the retry can start at once
        await asyncio.shield(_release(mine, attempt))
        raise
    except Exception as error:  # any failure of the chunk's own code is an attempt that failed
        log.warning("job %s chunk %s attempt %s failed", job.id, chunk.number, attempt, exc_info=error)
        reason = f"{type(error).__name__}: {error}"[:2000]
        if attempt >= kind.max_attempts:
            await _chunk_failed(job, chunk, reason, mine)
        else:
            await _retry_later(job, chunk, reason, mine, attempt)
        return ChunkOutcome.FAILED
    finally:
        await heartbeat.stop()
        _CHUNK_TIMINGS.reset(token)
    await _record_progress(job)
    return ChunkOutcome.SUCCEEDED


def _lost(job: Job, chunk: JobChunk) -> ChunkOutcome:
    log.warning("job %s chunk %s lost its lease and may be reclaimed; its work was rolled back", job.id, chunk.number)
    return ChunkOutcome.LOST


async def _release(mine: QuerySet[JobChunk], attempt: int) -> None:
    try:
        await mine.update(status=JobStatus.PENDING, started_at=None, heartbeat_at=None, attempts=attempt - 1)
    except Exception:  # the lease brings the chunk back anyway
        log.exception("could not give a stopped chunk back")


async def _bookkeeping(write: Callable[[BaseDBAsyncClient], Awaitable[W]]) -> W:
    """Run write in a transaction of its own, trying again on a fresh connection when the database fails it:
    the chunk's failure may have been its connection being killed, and the pool may hand that one out once
    more."""
    for tries in range(1, BOOKKEEPING_TRIES + 1):
        try:
            async with in_transaction() as conn:
                return await write(conn)
        except Exception:
            if tries == BOOKKEEPING_TRIES:
                raise
            log.warning("recording a chunk's failure failed; trying again", exc_info=True)
            await asyncio.sleep(0.05 * tries)
    raise AssertionError("unreachable")


async def _retry_later(job: Job, chunk: JobChunk, reason: str, mine: QuerySet[JobChunk], attempt: int) -> None:
    async def write(conn: BaseDBAsyncClient) -> None:
        released = await mine.using_db(conn).update(
            status=JobStatus.PENDING, started_at=None, heartbeat_at=None, result={"error": reason}
        )
        if released:
            key = f"{chunk_key(job.id, chunk.number)}:attempt:{attempt + 1}"
            await outbox.enqueue("run_job_chunk", [job.id, chunk.number], key, using_db=conn)

    await _bookkeeping(write)
    outbox.wake()


async def _chunk_failed(job: Job, chunk: JobChunk, reason: str, mine: QuerySet[JobChunk]) -> None:
    async def write(conn: BaseDBAsyncClient) -> Notification | None:
        failed = await mine.using_db(conn).update(status=JobStatus.FAILED, result={"error": reason}, finished_at=_now())
        if not failed:
            return None
        return await _fail_job(job, f"第{chunk.number}块失败 / chunk {chunk.number} failed: {reason}", conn)

    note = await _bookkeeping(write)
    if note is not None:
        await publish(note)


async def _fail_job(
    job: Job, error: str, conn: BaseDBAsyncClient, unfinished: Sequence[JobStatus] = UNFINISHED
) -> Notification | None:
    """Mark the job FAILED (giving up its keys) and tell whoever started it. `unfinished`: the states it may be
    failed from (finish_job refusing a report fails the job it has just marked SUCCEEDED, in its transaction)."""
    failed = (
        await Job.filter(id=job.id, status__in=unfinished)
        .using_db(conn)
        .update(status=JobStatus.FAILED, error=error, finished_at=_now(), dedup_key=None, in_flight_key=None)
    )
    if not failed or job.created_by_id is None:
        return None
    return await notify(
        job.created_by_id,
        "job.failed",
        _title(job.kind, "运行失败", "failed"),
        error,
        {"job_id": job.id, "kind": job.kind, "status": JobStatus.FAILED.value},
        using_db=conn,
    )


async def _record_progress(job: Job) -> None:
    """Count the job's succeeded chunks into chunks_done (never backwards: a concurrent, older count may land
    later) and finish the job when they are all done. Runs after the chunk committed, so the last chunk to
    commit always sees every other one."""
    conn = connection()
    greatest = "GREATEST" if dialect(conn) == "postgres" else "MAX"
    job_id, status, same_job = placeholders(conn, 0, 3)
    sql = (
        f"UPDATE job SET chunks_done = {greatest}(chunks_done, "
        f"(SELECT count(*) FROM job_chunk WHERE job_id = {job_id} AND status = {status})) "
        f"WHERE id = {same_job}"
    )
    await conn.execute_query(sql, [job.id, JobStatus.SUCCEEDED.value, job.id])
    if await JobChunk.filter(job_id=job.id, status=JobStatus.SUCCEEDED).count() >= job.chunks_total:
        await finish_job(job.id)


async def finish_job(job_id: int) -> bool:
    """Reduce the chunk results to the job's report and mark it SUCCEEDED, once, then tell whoever started it.
    Does nothing unless every chunk has succeeded. Returns whether this call finished the job."""
    job = await Job.get_or_none(id=job_id)
    if job is None or job.status in FINISHED:
        return False
    kind = job_kind(job.kind)
    chunks = await JobChunk.filter(job_id=job_id).order_by("number")
    if len(chunks) != job.chunks_total or any(c.status != JobStatus.SUCCEEDED for c in chunks):
        return False
    note: Notification | None = None
    try:
        async with in_transaction() as conn:
            now = _now()
            won = (
                await Job.filter(id=job_id, status__in=UNFINISHED)
                .using_db(conn)
                .update(status=JobStatus.SUCCEEDED, finished_at=now, chunks_done=len(chunks), in_flight_key=None)
            )
            if not won:
                return False
            finishing = Finishing(
                job_id=job.id,
                created_by=job.created_by_id,
                params=kind.params_codec.load(job.params),
                scope=GridScope(job.scope),
                conn=conn,
            )
            report = await kind.finish(finishing, [kind.result_codec.load(c.result) for c in chunks])
            await (
                Job.filter(id=job_id)
                .using_db(conn)
                .update(result=kind.report_codec.dump(report), started_at=job.started_at or now)
            )
            refused = kind.refusal(finishing.params, report) if kind.refusal is not None else None
            if refused is not None:  # the run ended, and its report refuses its input: FAILED, the report kept
                note = await _fail_job(job, refused, conn, unfinished=(JobStatus.SUCCEEDED,))
            elif job.created_by_id is not None:
                note = await notify(
                    job.created_by_id,
                    "job.succeeded",
                    kind.titled("运行完成", "finished"),
                    f"{len(chunks)}块全部完成 / all {len(chunks)} chunks done",
                    {"job_id": job.id, "kind": job.kind, "status": JobStatus.SUCCEEDED.value},
                    using_db=conn,
                )
    except Exception as error:  # a failing reduction fails the job, it does not vanish
        log.exception("job %s: finishing failed", job_id)
        async with in_transaction() as conn:
            note = await _fail_job(job, f"汇总失败 / finishing failed: {type(error).__name__}: {error}"[:2000], conn)
        if note is not None:
            await publish(note)
        return False
    for pushed in [*finishing.after_commit, *([note] if note is not None else [])]:
        await publish(pushed)
    return True


# --- recovery ---------------------------------------------------------------------------------------------


@dataclass
class _Recovery:
    bucket: int
    messages: list[outbox.Message] = field(default_factory=list)

    def chunk(self, job_id: int, number: int) -> None:
        key = f"{chunk_key(job_id, number)}:recover:{self.bucket}"
        self.messages.append(outbox.Message("run_job_chunk", [job_id, number], key))

    def finish(self, job_id: int) -> None:
        self.messages.append(outbox.Message("finish_job", [job_id], f"job:{job_id}:finish:recover:{self.bucket}"))


async def recover_stalled(now: datetime | None = None) -> int:
    """Hand stalled work to the queue again; returns how many messages that took.

    - a RUNNING chunk whose last heartbeat is a lease old (its worker was killed);
    - the PENDING chunks of a job on which nothing has started or finished for a lease (their queue entries
      were lost, say Redis was wiped), or its finish when every chunk is done.
    Keys carry the lease period, so several processes recovering at once enqueue each message once (the count
    returned includes keys another process enqueued first). Running it too often costs only no-op tasks:
    every task is idempotent.
    """
    now = now or _now()
    period = lease()
    cutoff = now - period
    recovery = _Recovery(bucket=int(now.timestamp() / max(period.total_seconds(), 0.001)))
    candidates = await _ids(Job.filter(status__in=UNFINISHED, created_at__lt=cutoff), "id")
    if not candidates:
        return 0
    stale = JobChunk.filter(job_id__in=candidates, status=JobStatus.RUNNING, heartbeat_at__lt=cutoff)
    for job_id, number in await stale.values_list("job_id", "number"):
        recovery.chunk(job_id, number)
    busy = JobChunk.filter(Q(heartbeat_at__gte=cutoff) | Q(finished_at__gte=cutoff), job_id__in=candidates)
    idle = candidates - await _ids(busy, "job_id")
    # while the outbox has a backlog (Redis down, the relay behind) the queue has not lost anything yet:
    # re-dispatching idle jobs then would only pile copies behind it
    if idle and not await OutboxMessage.filter(dispatched_at__isnull=True).exists():
        for job_id, number in await JobChunk.filter(job_id__in=idle, status=JobStatus.PENDING).values_list(
            "job_id", "number"
        ):
            recovery.chunk(job_id, number)
        unfinished = JobChunk.filter(job_id__in=idle).exclude(status=JobStatus.SUCCEEDED)
        for job_id in idle - await _ids(unfinished, "job_id"):
            recovery.finish(job_id)
    if recovery.messages:
        await outbox.enqueue_many(recovery.messages)
        outbox.wake()
        log.info("re-dispatched %d stalled job messages", len(recovery.messages))
    return len(recovery.messages)


async def _ids(query: QuerySet[Any], column: str) -> set[int]:
    return {int(row[0]) for row in await query.distinct().values_list(column)}


# --- reading ----------------------------------------------------------------------------------------------


def visible_jobs(actor: Actor) -> QuerySet[Job]:
    """The jobs the actor may see (resolvers.platform.job_policy)."""
    return Job.filter(job_policy.visible(actor))


async def get_job(actor: Actor, job_id: int) -> Job:
    job = await visible_jobs(actor).get_or_none(id=job_id)
    if job is None:
        raise not_found("任务", "job", "id")
    return job


async def jobs_by_ids(actor: Actor, ids: Sequence[int]) -> list[Job | None]:
    found = {j.id: j for j in await visible_jobs(actor).filter(id__in=list(ids))}
    return [found.get(i) for i in ids]


async def list_jobs(
    actor: Actor, kind: str | None = None, first: int | None = None, after: str | None = None
) -> Page[Job]:
    """The jobs the actor may see, newest first."""
    query = visible_jobs(actor)
    if kind:
        query = query.filter(kind=kind)
    return await paginate(query, (("created_at", True), ("id", True)), first, after)


async def recent_jobs(limit: int = 20) -> list[Job]:
    """The latest jobs, for operators (the palmcredit jobs command)."""
    return await Job.all().order_by("-created_at", "-id").limit(limit)


async def listed_outputs(job_id: int, topic: str, limit: int) -> list[int]:
    """The refs a job's chunks wrote under topic, smallest first: the records its report lists."""
    rows: list[Any] = (
        await JobOutput.filter(job_id=job_id, topic=topic).order_by("ref").limit(limit).values_list("ref", flat=True)
    )
    return [int(ref) for ref in rows]
