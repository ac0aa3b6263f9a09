"""Recorded background jobs cut into chunks that any number of workers share.

Invariants:
- A job, its chunks and the outbox messages that run them are written in one transaction (the caller's, when a
  use case starts a job together with its own change), so accepted work is never lost.
- A chunk's effects and its SUCCEEDED mark commit together. A crash mid-chunk rolls both back; a chunk run
  again after success finds it done and does nothing. So every chunk's effect happens exactly once.
- A worker claims a chunk with a conditional UPDATE that also counts the attempt; the attempt number fences
  the final write, so a worker that overran its lease cannot mark a chunk another worker has reclaimed.
- A chunk whose worker died is reclaimed once its lease has passed (recover_stalled re-dispatches it); one
  that keeps failing is FAILED after its kind's max_attempts, and so is its job.
- finish runs once: the job's RUNNING → SUCCEEDED update guards it, in the same transaction as its writes.
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
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from domain.access import Actor
from domain.errors import not_found
from models import Job, JobChunk, JobStatus, Notification, OutboxMessage
from resolvers.platform import job_policy, outbox
from resolvers.platform.db import connection, dialect, placeholders
from resolvers.platform.notifications import notify, publish
from resolvers.platform.pagination import Page, paginate

log = logging.getLogger("palmcredit.jobs")

ChunkRunner = Callable[[Job, JobChunk, BaseDBAsyncClient], Awaitable[dict[str, Any] | None]]
Finisher = Callable[[Job, list[dict[str, Any]], BaseDBAsyncClient], Awaitable[dict[str, Any] | None]]

UNFINISHED = (JobStatus.PENDING, JobStatus.RUNNING)
FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED)


@dataclass(frozen=True)
class JobKind:
    name: str
    run_chunk: ChunkRunner
    finish: Finisher
    max_attempts: int = 3
    title_zh: str = ""  # what people call it, in notices: 网格归属
    title_en: str = ""  # assignment run

    def titled(self, zh: str, en: str) -> str:
        """A notice's title for a run of this kind: "网格归属运行完成 / assignment run finished"."""
        return f"{self.title_zh or self.name}{zh} / {self.title_en or self.name} {en}"


@dataclass
class JobPolicy:
    """How long a claimed chunk is its worker's (lease), and how long a chunk may run (chunk_timeout, kept
    below the lease so a chunk that is still running never loses it)."""

    lease: timedelta = timedelta(minutes=10)
    chunk_timeout: timedelta = timedelta(minutes=5)


POLICY = JobPolicy()
_KINDS: dict[str, JobKind] = {}
# notifications a finisher stored, pushed once its transaction has committed (see publish_after_finish)
_AFTER_COMMIT: ContextVar[list[Notification] | None] = ContextVar("palmcredit_job_after_commit", default=None)
# seconds per phase of the chunk attempt running in this task (see timed)
_CHUNK_TIMINGS: ContextVar[dict[str, float] | None] = ContextVar("palmcredit_chunk_timings", default=None)


class UnknownJobKindError(LookupError):
    """The job's kind is not registered in this process (its module was not imported)."""


class ChunkOutcome(StrEnum):
    SUCCEEDED = "SUCCEEDED"  # ran and committed now
    FAILED = "FAILED"  # this attempt failed (retried later, or the chunk and its job are FAILED)
    BUSY = "BUSY"  # another worker holds it within its lease
    SKIPPED = "SKIPPED"  # already done, or its job is finished
    LOST = "LOST"  # ran past its lease and another worker reclaimed it; nothing was kept


def register_kind(
    kind: str,
    run_chunk: ChunkRunner,
    finish: Finisher,
    *,
    max_attempts: int = 3,
    title: tuple[str, str] = ("", ""),
) -> JobKind:
    """Declare a kind of job: run_chunk(job, chunk, conn) does one chunk's writes on conn and returns its
    result; finish(job, chunk_results, conn) reduces them to the job's result. Both run inside a
    transaction, and must not commit anything elsewhere."""
    registered = JobKind(kind, run_chunk, finish, max_attempts, *title)
    _KINDS[kind] = registered
    return registered


def _title(kind: str, zh: str, en: str) -> str:
    registered = _KINDS.get(kind)
    return registered.titled(zh, en) if registered else f"{kind}{zh} / {kind} {en}"


def job_kind(kind: str) -> JobKind:
    try:
        return _KINDS[kind]
    except KeyError:
        raise UnknownJobKindError(f"job kind {kind!r} is not registered in this process") from None


def _now() -> datetime:
    return datetime.now(UTC)


def chunk_key(job_id: int, number: int) -> str:
    return f"job:{job_id}:chunk:{number}"


# --- starting ---------------------------------------------------------------------------------------------


async def start_job(
    kind: str,
    params: dict[str, Any],
    chunks: Sequence[dict[str, Any]],
    *,
    created_by: int | None,
    dedup_key: str | None = None,
    using_db: BaseDBAsyncClient | None = None,
) -> Job:
    """Record a job, its chunks and the outbox messages that will run them, in one transaction: the caller's
    when using_db is given (then call outbox.wake() after it commits), else its own.

    A dedup_key names one piece of work: while a job with that key is unfinished or has succeeded, asking
    again returns that job. A failed job gives its key up, so the work can be asked for again.
    """
    job_kind(kind)
    if using_db is not None:
        return await _start(using_db, kind, params, chunks, created_by, dedup_key)
    async with in_transaction() as conn:
        job = await _start(conn, kind, params, chunks, created_by, dedup_key)
    outbox.wake()
    return job


async def _start(
    conn: BaseDBAsyncClient,
    kind: str,
    params: dict[str, Any],
    chunks: Sequence[dict[str, Any]],
    created_by: int | None,
    dedup_key: str | None,
) -> Job:
    if dedup_key is not None:
        existing = await Job.filter(dedup_key=dedup_key).using_db(conn).first()
        if existing is not None:
            return existing
    try:
        # a savepoint: losing the race for the key must not abort the caller's transaction
        async with conn._in_transaction():
            job = await Job.create(
                kind=kind,
                params=params,
                created_by_id=created_by,
                dedup_key=dedup_key,
                chunks_total=len(chunks),
                using_db=conn,
            )
    except IntegrityError:
        existing = await Job.filter(dedup_key=dedup_key).using_db(conn).first()
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


# --- running ----------------------------------------------------------------------------------------------


async def run_job_chunk(job_id: int, number: int) -> ChunkOutcome:
    """Run one chunk if nobody else holds it. Safe to call any number of times, from any worker."""
    job = await Job.get_or_none(id=job_id)
    chunk = await JobChunk.get_or_none(job_id=job_id, number=number)
    if job is None or chunk is None or job.status in FINISHED or chunk.status in FINISHED:
        return ChunkOutcome.SKIPPED
    kind = job_kind(job.kind)
    now = _now()
    cutoff = now - POLICY.lease
    if chunk.status == JobStatus.RUNNING and chunk.started_at is not None and chunk.started_at >= cutoff:
        return ChunkOutcome.BUSY
    claimable = Q(status=JobStatus.PENDING) | Q(status=JobStatus.RUNNING, started_at__lt=cutoff)
    if chunk.attempts >= kind.max_attempts:
        reason = f"{chunk.attempts}次尝试均未完成 / {chunk.attempts} attempts did not finish (worker killed?)"
        await _chunk_failed(job, chunk, reason, JobChunk.filter(claimable, id=chunk.id, attempts=chunk.attempts))
        return ChunkOutcome.FAILED
    attempt = chunk.attempts + 1
    claimed = await JobChunk.filter(claimable, id=chunk.id, attempts=chunk.attempts).update(
        status=JobStatus.RUNNING, started_at=now, attempts=attempt
    )
    if not claimed:
        return ChunkOutcome.BUSY
    await Job.filter(id=job.id, status=JobStatus.PENDING).update(status=JobStatus.RUNNING, started_at=now)
    chunk.status, chunk.started_at, chunk.attempts = JobStatus.RUNNING, now, attempt
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


async def _run_claimed(job: Job, chunk: JobChunk, kind: JobKind, attempt: int) -> ChunkOutcome:
    mine = JobChunk.filter(id=chunk.id, status=JobStatus.RUNNING, attempts=attempt)
    timings: dict[str, float] = {}
    token = _CHUNK_TIMINGS.set(timings)
    try:
        async with in_transaction() as conn:
            async with asyncio.timeout(POLICY.chunk_timeout.total_seconds()):
                result = await kind.run_chunk(job, chunk, conn)
            marked = await mine.using_db(conn).update(
                status=JobStatus.SUCCEEDED, result=result or {}, finished_at=_now(), timings=timings
            )
            if not marked:
                raise _LeaseLostError
    except _LeaseLostError:
        log.warning(
            "job %s chunk %s ran past its lease and was reclaimed; its work was rolled back",
            job.id,
            chunk.number,
        )
        return ChunkOutcome.LOST
    except asyncio.CancelledError:
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
        _CHUNK_TIMINGS.reset(token)
    await _record_progress(job)
    return ChunkOutcome.SUCCEEDED


async def _release(mine: QuerySet[JobChunk], attempt: int) -> None:
    try:
        await mine.update(status=JobStatus.PENDING, started_at=None, attempts=attempt - 1)
    except Exception:  # the lease brings the chunk back anyway
        log.exception("could not give a stopped chunk back")


async def _retry_later(job: Job, chunk: JobChunk, reason: str, mine: QuerySet[JobChunk], attempt: int) -> None:
    async with in_transaction() as conn:
        released = await mine.using_db(conn).update(status=JobStatus.PENDING, started_at=None, result={"error": reason})
        if released:
            key = f"{chunk_key(job.id, chunk.number)}:attempt:{attempt + 1}"
            await outbox.enqueue("run_job_chunk", [job.id, chunk.number], key, using_db=conn)
    outbox.wake()


async def _chunk_failed(job: Job, chunk: JobChunk, reason: str, mine: QuerySet[JobChunk]) -> None:
    note: Notification | None = None
    async with in_transaction() as conn:
        failed = await mine.using_db(conn).update(status=JobStatus.FAILED, result={"error": reason}, finished_at=_now())
        if failed:
            note = await _fail_job(job, f"第{chunk.number}块失败 / chunk {chunk.number} failed: {reason}", conn)
    if note is not None:
        await publish(note)


async def _fail_job(job: Job, error: str, conn: BaseDBAsyncClient) -> Notification | None:
    """Mark the job FAILED (giving up its dedup key) and tell whoever started it."""
    failed = (
        await Job.filter(id=job.id, status__in=UNFINISHED)
        .using_db(conn)
        .update(status=JobStatus.FAILED, error=error, finished_at=_now(), dedup_key=None)
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
    """Reduce the chunk results to the job's result and mark it SUCCEEDED, once, then tell whoever started it.
    Does nothing unless every chunk has succeeded. Returns whether this call finished the job."""
    job = await Job.get_or_none(id=job_id)
    if job is None or job.status in FINISHED:
        return False
    kind = job_kind(job.kind)
    chunks = await JobChunk.filter(job_id=job_id).order_by("number")
    if len(chunks) != job.chunks_total or any(c.status != JobStatus.SUCCEEDED for c in chunks):
        return False
    note: Notification | None = None
    after_commit: list[Notification] = []
    token = _AFTER_COMMIT.set(after_commit)
    try:
        async with in_transaction() as conn:
            now = _now()
            won = (
                await Job.filter(id=job_id, status__in=UNFINISHED)
                .using_db(conn)
                .update(status=JobStatus.SUCCEEDED, finished_at=now, chunks_done=len(chunks))
            )
            if not won:
                return False
            job.status, job.finished_at, job.chunks_done = JobStatus.SUCCEEDED, now, len(chunks)
            result = await kind.finish(job, [c.result for c in chunks], conn)
            await Job.filter(id=job_id).using_db(conn).update(result=result or {}, started_at=job.started_at or now)
            if job.created_by_id is not None:
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
    finally:
        _AFTER_COMMIT.reset(token)
    for pushed in [*after_commit, *([note] if note is not None else [])]:
        await publish(pushed)
    return True


def publish_after_finish(notification: Notification) -> None:
    """For a finisher: push this notification (stored on the finisher's connection) once the job's result has
    committed; if finishing fails, it is rolled back with everything else and never pushed."""
    pending = _AFTER_COMMIT.get()
    if pending is None:
        raise RuntimeError("publish_after_finish is for a job kind's finisher")
    pending.append(notification)


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

    - a RUNNING chunk whose lease has passed (its worker was killed);
    - the PENDING chunks of a job on which nothing has started or finished for a lease (their queue entries
      were lost, say Redis was wiped), or its finish when every chunk is done.
    Keys carry the lease period, so several processes recovering at once enqueue each message once (the count
    returned includes keys another process enqueued first). Running it too often costs only no-op tasks:
    every task is idempotent.
    """
    now = now or _now()
    lease = POLICY.lease
    cutoff = now - lease
    recovery = _Recovery(bucket=int(now.timestamp() / max(lease.total_seconds(), 0.001)))
    candidates = await _ids(Job.filter(status__in=UNFINISHED, created_at__lt=cutoff), "id")
    if not candidates:
        return 0
    stale = JobChunk.filter(job_id__in=candidates, status=JobStatus.RUNNING, started_at__lt=cutoff)
    for job_id, number in await stale.values_list("job_id", "number"):
        recovery.chunk(job_id, number)
    busy = JobChunk.filter(Q(started_at__gte=cutoff) | Q(finished_at__gte=cutoff), job_id__in=candidates)
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
