"""The arq worker (`palmcredit worker`): its functions, cron jobs and Redis, and what runs beside the tasks —
the outbox relay and the recovery of stalled jobs. start_background() is the same for an API process: relay
to arq when REDIS_URL is set, else run the tasks and the schedules in-process."""

from __future__ import annotations

import contextlib
import logging.config
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from arq.connections import RedisSettings
from arq.logs import default_log_config
from tortoise import Tortoise

from resolvers.kinds import KINDS
from resolvers.platform import job_kinds, jobs, notifications, outbox
from resolvers.platform.gc_tuning import tune_gc
from settings import SETTINGS, Settings, tortoise_config
from workers.schedule import InProcessScheduler, cron_jobs, schedules
from workers.tasks import FUNCTIONS, by_name

HOUSEKEEPING: list[outbox.Housekeeping] = [jobs.recover_stalled, outbox.purge_dispatched]


def register_kinds() -> None:
    """Make this process run the kinds of resolvers.kinds."""
    job_kinds.register(KINDS)


def configure_logging(verbose: bool = False) -> None:
    """arq's console logging, for the palmcredit loggers too."""
    config = default_log_config(verbose)
    config["loggers"]["palmcredit"] = {"handlers": ["arq.standard"], "level": "DEBUG" if verbose else "INFO"}
    logging.config.dictConfig(config)


def redis_settings(url: str | None) -> RedisSettings:
    return RedisSettings.from_dsn(url) if url else RedisSettings()


async def startup(ctx: dict[str, Any]) -> None:
    await Tortoise.init(config=tortoise_config(SETTINGS.database_url), _enable_global_fallback=True)
    register_kinds()
    dispatcher = outbox.ArqDispatcher(ctx["redis"], tasks=by_name(), namespace=ctx.get("namespace", ""))
    relay = outbox.Relay(dispatcher, housekeeping=HOUSEKEEPING)
    relay.start()
    ctx.update(dispatcher=dispatcher, relay=relay)
    tune_gc()  # a screening chunk builds a few hundred thousand objects: see resolvers/platform/gc_tuning.py


async def shutdown(ctx: dict[str, Any]) -> None:
    relay: outbox.Relay | None = ctx.get("relay")
    if relay is not None:
        await relay.stop()
    await _close_broadcaster()
    await Tortoise.close_connections()


async def _close_broadcaster() -> None:
    previous = notifications.use_broadcaster(None)
    if previous is not None:
        with contextlib.suppress(Exception):
            await previous.close()


class WorkerSettings:
    """arq's settings for `palmcredit worker` (or `arq workers.settings.WorkerSettings`)."""

    functions = FUNCTIONS
    cron_jobs = cron_jobs(KINDS)
    redis_settings = redis_settings(SETTINGS.redis_url)
    on_startup = startup
    on_shutdown = shutdown
    # longer than a chunk may run (jobs.POLICY.chunk_timeout), so a slow chunk fails as an attempt of its own
    job_timeout = jobs.POLICY.chunk_timeout + timedelta(minutes=1)
    # a worker takes only the chunks it can run now (arq reads at most max_jobs from the queue): the rest of a
    # run's chunks wait for the other workers instead of queueing behind this one
    max_jobs = SETTINGS.worker_concurrency


@dataclass
class Background:
    """What an API process runs beside the requests."""

    relay: outbox.Relay
    dispatcher: outbox.ArqDispatcher | outbox.InProcessDispatcher
    scheduler: InProcessScheduler | None

    async def stop(self) -> None:
        await self.relay.stop()
        if self.scheduler is not None:
            await self.scheduler.stop()
        await self.dispatcher.close()
        await _close_broadcaster()


async def start_background(settings: Settings) -> Background:
    """Relay the outbox to arq when REDIS_URL is set (the workers run the tasks and the schedules); else run
    the tasks and the schedules in this process."""
    register_kinds()
    dispatcher: outbox.ArqDispatcher | outbox.InProcessDispatcher
    scheduler = None
    if settings.redis_url:
        dispatcher = outbox.ArqDispatcher(settings.redis_url, tasks=by_name())
    else:
        dispatcher = outbox.InProcessDispatcher(by_name())
        scheduler = InProcessScheduler(schedules(KINDS))
        scheduler.start()
    relay = outbox.Relay(dispatcher, housekeeping=HOUSEKEEPING)
    relay.start()
    return Background(relay, dispatcher, scheduler)


__all__ = ["Background", "WorkerSettings", "register_kinds", "start_background"]
