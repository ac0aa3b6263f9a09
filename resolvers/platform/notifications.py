"""Notifications to staff: stored first, then pushed live, then read and acknowledged.

notify() stores the row (in the caller's transaction when one is given); publish() pushes it once that has
committed. Live delivery goes through a Broadcaster: Redis pub/sub when REDIS_URL is set, so a member of staff
connected to any API process gets it, else in-process queues. Live delivery is best effort; the stored row is
the record, and a client that reconnects reads what it missed with list_notifications.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from tortoise.backends.base.client import BaseDBAsyncClient

from models import Notification
from settings import SETTINGS

log = logging.getLogger("palmcredit.notifications")

CHANNEL_PREFIX = "palmcredit:notifications:"
QUEUE_SIZE = 100


async def notify(
    recipient_id: int,
    kind: str,
    title: str,
    body: str = "",
    payload: dict[str, Any] | None = None,
    using_db: BaseDBAsyncClient | None = None,
) -> Notification:
    """Store a notification. Call publish() with it after the transaction commits."""
    return await Notification.create(
        recipient_id=recipient_id,
        kind=kind,
        title=title[:200],
        body=body,
        payload=payload or {},
        using_db=using_db,
    )


async def notify_many(
    notes: Sequence[tuple[int, str, str, str, dict[str, Any]]], using_db: BaseDBAsyncClient | None = None
) -> list[Notification]:
    """Store many notifications at once, (recipient id, kind, title, body, payload) each: a batch run's, one per
    member of staff it concerns, in multi-row inserts rather than a statement each. Publish each one returned
    after the transaction commits, as with notify()."""
    from resolvers.platform.db import insert_rows_returning_ids

    now = datetime.now(UTC)
    rows = [
        {"recipient_id": recipient_id, "kind": kind, "title": title[:200], "body": body, "payload": payload,
         "created_at": now}
        for recipient_id, kind, title, body, payload in notes
    ]  # fmt: skip
    ids = await insert_rows_returning_ids(Notification, rows, using_db)
    return [Notification(id=pk, **row) for pk, row in zip(ids, rows, strict=True)]


async def publish(notification: Notification) -> None:
    """Push a stored notification to its recipient's live subscriptions. Never raises: a push that cannot be
    made is logged, and the notification waits in the list."""
    try:
        await broadcaster().publish(notification)
    except Exception as error:  # live delivery is best effort
        log.warning("could not push notification %s: %s", notification.id, error)


@asynccontextmanager
async def listen(recipient_id: int) -> AsyncIterator[AsyncIterator[Notification]]:
    """New notifications for one member of staff, live, for as long as the context is open."""
    async with broadcaster().listen(recipient_id) as stream:
        yield stream


RECHECK_SECONDS = 60.0


async def live(
    recipient_id: int, still_allowed: Callable[[], Awaitable[object]], recheck_every: float | None = None
) -> AsyncIterator[Notification]:
    """New notifications for one member of staff, for as long as still_allowed() says they may have them: it
    is awaited before each delivery and every recheck_every seconds in between, and whatever it raises ends
    the stream (a revoked or expired token, an account switched off: a socket opened before that hears
    nothing more)."""
    every = RECHECK_SECONDS if recheck_every is None else recheck_every
    async with listen(recipient_id) as stream:
        incoming = aiter(stream)
        pending: asyncio.Future[Notification] = asyncio.ensure_future(anext(incoming))
        try:
            while True:
                done, _ = await asyncio.wait({pending}, timeout=every)
                await still_allowed()
                if not done:
                    continue
                try:
                    notification = pending.result()
                except StopAsyncIteration:
                    return
                yield notification
                pending = asyncio.ensure_future(anext(incoming))
        finally:
            pending.cancel()


# --- live delivery --------------------------------------------------------------------------------------


def encode(notification: Notification) -> str:
    return json.dumps(
        {
            "id": notification.id,
            "recipient_id": notification.recipient_id,
            "kind": notification.kind,
            "title": notification.title,
            "body": notification.body,
            "payload": notification.payload,
            "created_at": notification.created_at.isoformat(),
        },
        ensure_ascii=False,
    )


def decode(data: str | bytes) -> Notification:
    fields = json.loads(data)
    fields["created_at"] = datetime.fromisoformat(fields["created_at"])
    return Notification(**fields)


class Broadcaster:
    """Fans notifications out to the live subscriptions of this process.

    With a Redis URL, publish() goes to the channel `<prefix><recipient id>` and one pattern subscription per
    process (one connection, however many subscribers) feeds the local queues; it reconnects by itself when
    Redis comes back. Without one, publish() feeds the local queues directly.
    """

    def __init__(self, redis_url: str | None, *, channel_prefix: str = CHANNEL_PREFIX) -> None:
        self.redis_url = redis_url
        self.channel_prefix = channel_prefix
        self._queues: dict[int, set[asyncio.Queue[Notification]]] = defaultdict(set)
        self._redis: Redis | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    def channel(self, recipient_id: int) -> str:
        return f"{self.channel_prefix}{recipient_id}"

    def _client(self) -> Redis:
        if self._redis is None:
            assert self.redis_url is not None
            self._redis = Redis.from_url(self.redis_url, socket_connect_timeout=2, socket_timeout=5)
        return self._redis

    async def publish(self, notification: Notification) -> None:
        if self.redis_url is None:
            self._deliver(notification)
        else:
            await self._client().publish(self.channel(notification.recipient_id), encode(notification))

    @asynccontextmanager
    async def listen(self, recipient_id: int) -> AsyncIterator[AsyncIterator[Notification]]:
        if self.redis_url is not None:
            await self._ensure_reader()
        queue: asyncio.Queue[Notification] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._queues[recipient_id].add(queue)
        try:
            yield _drain(queue)
        finally:
            subscribers = self._queues.get(recipient_id)
            if subscribers is not None:
                subscribers.discard(queue)
                if not subscribers:
                    del self._queues[recipient_id]

    def listeners(self, recipient_id: int) -> int:
        """How many live subscriptions this process holds for one member of staff."""
        return len(self._queues.get(recipient_id, ()))

    def _deliver(self, notification: Notification) -> None:
        for queue in list(self._queues.get(notification.recipient_id, ())):
            try:
                queue.put_nowait(notification)
            except asyncio.QueueFull:
                log.warning(
                    "a subscriber of staff %s is too slow; notification %s dropped from its live feed",
                    notification.recipient_id,
                    notification.id,
                )

    async def _ensure_reader(self) -> None:
        if self._reader is None or self._reader.done():
            self._ready.clear()
            self._reader = asyncio.get_running_loop().create_task(self._read())
        try:
            await asyncio.wait_for(self._ready.wait(), timeout=2)
        except TimeoutError:
            log.warning("notifications: Redis pub/sub is not ready; live delivery resumes when it is")

    async def _read(self) -> None:
        delay = 0.5
        while True:
            pubsub: PubSub = self._client().pubsub()
            try:
                await pubsub.psubscribe(f"{self.channel_prefix}*")
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "psubscribe":
                        self._ready.set()
                        delay = 0.5
                    elif message["type"] == "pmessage":
                        self._deliver(decode(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Redis went away: retry, never give up
                self._ready.clear()
                log.warning("notifications: Redis pub/sub failed (%s); retrying in %.1fs", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None


async def _drain(queue: asyncio.Queue[Notification]) -> AsyncIterator[Notification]:
    while True:
        yield await queue.get()


_broadcaster: Broadcaster | None = None


def broadcaster() -> Broadcaster:
    """This process's broadcaster, made from SETTINGS on first use."""
    global _broadcaster
    if _broadcaster is None:
        _broadcaster = Broadcaster(SETTINGS.redis_url)
    return _broadcaster


def use_broadcaster(replacement: Broadcaster | None) -> Broadcaster | None:
    """Install another broadcaster (or None to make a fresh one from SETTINGS on next use); returns the one
    it replaced, which the caller closes."""
    global _broadcaster
    previous, _broadcaster = _broadcaster, replacement
    return previous
