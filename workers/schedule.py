"""Scheduled jobs. schedule(kind, params_factory, hour=2, minute=0) registers a job kind to start on a cron
schedule: in the arq workers (CRON_JOBS) when REDIS_URL is set, else in the API process (InProcessScheduler).

Each firing starts the job with dedup_key "cron:<kind>:<scheduled minute>", so two workers firing the same
run, or one firing twice, start it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from arq.cron import CronJob, cron, next_cron
from arq.worker import Retry

from models import Job
from resolvers.platform import jobs

log = logging.getLogger("palmcredit.schedule")

TIME_FIELDS = ("month", "day", "weekday", "hour", "minute", "second", "microsecond")
RETRY_DELAY = timedelta(minutes=1)


@dataclass(frozen=True)
class JobPlan:
    """What a scheduled firing starts: the job's parameters and its chunks."""

    params: dict[str, Any]
    chunks: list[dict[str, Any]]


PlanFactory = Callable[[datetime], "Awaitable[JobPlan] | JobPlan"]


@dataclass(frozen=True)
class Schedule:
    kind: str
    params_factory: PlanFactory
    times: dict[str, Any] = field(default_factory=dict)

    def next_after(self, moment: datetime) -> datetime:
        return next_cron(moment, **self.times)

    def dedup_key(self, when: datetime) -> str:
        return f"cron:{self.kind}:{when.astimezone(UTC):%Y-%m-%dT%H:%MZ}"


SCHEDULES: list[Schedule] = []
CRON_JOBS: list[CronJob] = []


def schedule(kind: str, params_factory: PlanFactory, **cron_kwargs: Any) -> Schedule:
    """Start a job of `kind` on a schedule given as arq.cron's fields (month, day, weekday, hour, minute,
    second); params_factory(scheduled_time) plans it. Call it at import time of the kind's module, which is
    listed in workers.settings.JOB_MODULES."""
    times = {k: v for k, v in cron_kwargs.items() if k in TIME_FIELDS}
    times.setdefault("second", 0)
    times.setdefault("microsecond", 0)
    entry = Schedule(kind, params_factory, times)

    async def fire(ctx: dict[str, Any]) -> int:
        try:
            return (await fire_schedule(entry, scheduled_time(ctx))).id
        except Exception as error:
            # arq retries a cron run only on Retry: the database being away at 02:00 must not skip the night
            log.warning("scheduled %s could not start (%s); retrying in a minute", kind, error)
            raise Retry(defer=RETRY_DELAY) from error

    fire.__qualname__ = f"fire_{kind}"
    SCHEDULES.append(entry)
    CRON_JOBS.append(cron(fire, **{"name": f"cron:{kind}", "max_tries": 10, **cron_kwargs, **times}))
    return entry


def scheduled_time(ctx: dict[str, Any]) -> datetime:
    """The time an arq cron run was scheduled for: arq names the run "<name>:<epoch ms>"."""
    _, _, millis = str(ctx.get("job_id", "")).rpartition(":")
    try:
        return datetime.fromtimestamp(int(millis) / 1000, UTC)
    except ValueError:
        return datetime.now(UTC)


async def fire_schedule(entry: Schedule, when: datetime) -> Job:
    planned = entry.params_factory(when)
    plan = await planned if inspect.isawaitable(planned) else planned
    return await jobs.start_job(entry.kind, plan.params, plan.chunks, created_by=None, dedup_key=entry.dedup_key(when))


class InProcessScheduler:
    """The schedules, fired by this process (no Redis: the demo). Keeps one asyncio task."""

    def __init__(self, schedules: Sequence[Schedule]) -> None:
        self.schedules = list(schedules)
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
                log.exception("scheduled %s failed", self.schedules[index].kind)
            upcoming[index] = self.schedules[index].next_after(when)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
