"""Scheduled jobs: a kind that declares a schedule (KindSchedule: cron fields and the parameters of a firing)
starts on it, in the arq workers (cron_jobs) when REDIS_URL is set, else in the API process
(InProcessScheduler).

Each firing starts the job with dedup_key "cron:<kind>:<scheduled minute>", so two workers firing the same
run, or one firing twice, start it once; and while a run of the kind over the same scope is under way, a
firing finds that one (single flight).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from arq.cron import CronJob, cron, next_cron
from arq.worker import Retry

from models import Job
from resolvers.platform import jobs
from resolvers.platform.job_kinds import AnyKind, AnyRecorded, KindSchedule, runnable

log = logging.getLogger("palmcredit.schedule")

RETRY_DELAY = timedelta(minutes=1)


@dataclass(frozen=True)
class Schedule:
    """A kind's schedule, as the schedulers use it."""

    kind: AnyKind

    @property
    def spec(self) -> KindSchedule[Any]:
        assert self.kind.schedule is not None
        return self.kind.schedule

    @property
    def times(self) -> dict[str, Any]:
        return {"second": 0, "microsecond": 0, **self.spec.times}

    def next_after(self, moment: datetime) -> datetime:
        return next_cron(moment, **self.times)

    def dedup_key(self, when: datetime) -> str:
        return f"cron:{self.kind.name}:{when.astimezone(UTC):%Y-%m-%dT%H:%MZ}"


def schedules(kinds: Iterable[AnyRecorded]) -> list[Schedule]:
    return [Schedule(kind) for kind in runnable(kinds) if kind.schedule is not None]


def cron_jobs(kinds: Iterable[AnyRecorded]) -> list[CronJob]:
    """The arq cron jobs that fire the kinds' schedules."""
    return [_cron_job(entry) for entry in schedules(kinds)]


def _cron_job(entry: Schedule) -> CronJob:
    async def fire(ctx: dict[str, Any]) -> int:
        try:
            return (await fire_schedule(entry, scheduled_time(ctx))).id
        except Exception as error:
            # arq retries a cron run only on Retry: the database being away at 02:00 must not skip the night
            log.warning("scheduled %s could not start (%s); retrying in a minute", entry.kind.name, error)
            raise Retry(defer=RETRY_DELAY) from error

    fire.__qualname__ = f"fire_{entry.kind.name}"
    return cron(fire, name=f"cron:{entry.kind.name}", max_tries=10, **entry.times)


def scheduled_time(ctx: dict[str, Any]) -> datetime:
    """The time an arq cron run was scheduled for: arq names the run "<name>:<epoch ms>"."""
    _, _, millis = str(ctx.get("job_id", "")).rpartition(":")
    try:
        return datetime.fromtimestamp(int(millis) / 1000, UTC)
    except ValueError:
        return datetime.now(UTC)


async def fire_schedule(entry: Schedule, when: datetime) -> Job:
    return await jobs.start(
        entry.kind,
        entry.spec.params(when),
        scope=entry.spec.scope,
        created_by=None,
        dedup_key=entry.dedup_key(when),
    )


class InProcessScheduler:
    """The schedules, fired by this process (no Redis: the demo). Keeps one asyncio task."""

    def __init__(self, entries: Sequence[Schedule]) -> None:
        self.schedules = list(entries)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.schedules:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        now = datetime.now().astimezone()
        upcoming = {i: s.next_after(now) for i, s in enumerate(self.schedules)}
        while True:
            index, when = min(upcoming.items(), key=lambda item: item[1])
            await asyncio.sleep(max(0.0, (when - datetime.now().astimezone()).total_seconds()))
            try:
                await fire_schedule(self.schedules[index], when)
            except Exception:  # one failed firing must not stop the others
                log.exception("scheduled %s failed", self.schedules[index].kind.name)
            upcoming[index] = self.schedules[index].next_after(when)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
