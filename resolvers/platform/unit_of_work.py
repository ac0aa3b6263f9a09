"""The unit of work: one transaction per use case that writes, holding the change, its audit rows, the outbox
messages and jobs it queues and the notifications it stores; and what must wait until that has committed
(pushing a notification live, waking the outbox relay), run after it has.

    async with unit_of_work() as uow:
        await Customer.filter(id=...).update(...)       # ORM calls go to the transaction (Tortoise's context)
        await uow.audit(actor, "customer.update", "Customer", customer_id, diff)
        await uow.notify(manager_id, "grid.customers_assigned", title, body)   # pushed after commit

Rules: a use case that writes opens exactly one unit of work; everything inside it runs on its transaction
(Tortoise routes ORM calls and raw SQL through `resolvers.platform.db.connection()` to it by context, so no
`using_db` is passed); a unit opened while another is open joins it, so use cases compose into one
transaction. If anything raises inside, nothing of it stays — no change, no audit row, no message, no push.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from domain.access import Actor
from models import Notification
from resolvers.platform import audit, notifications, outbox

log = logging.getLogger("palmcredit.unit_of_work")

AfterCommit = Callable[[], Awaitable[object] | object]
_CURRENT: ContextVar[UnitOfWork | None] = ContextVar("palmcredit_unit_of_work", default=None)


class UnitOfWork:
    """The open transaction of one use case and what is to run once it commits."""

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self.conn = conn
        self._after_commit: list[AfterCommit] = []

    def on_commit(self, callback: AfterCommit) -> None:
        """Run callback (a function or a coroutine function) after the transaction commits; never if it
        rolls back."""
        self._after_commit.append(callback)

    async def audit(
        self,
        actor: Actor | None,
        action: str,
        target_type: str,
        target_id: object,
        changes: dict[str, Any] | None = None,
    ) -> None:
        """The audit row of this change, committed with it or not at all."""
        await audit.record(actor, action, target_type, target_id, changes, using_db=self.conn)

    async def enqueue(self, task: str, args: list[Any], key: str) -> None:
        """Work for the queue, handed over once the change has committed (the outbox)."""
        await outbox.enqueue(task, args, key, using_db=self.conn)
        self.on_commit(outbox.wake)

    async def notify(
        self, recipient_id: int, kind: str, title: str, body: str = "", payload: dict[str, Any] | None = None
    ) -> Notification:
        """Store a notification with the change; it is pushed live once the change has committed."""
        note = await notifications.notify(recipient_id, kind, title, body, payload, using_db=self.conn)
        self.on_commit(lambda: notifications.publish(note))
        return note

    async def _run_after_commit(self) -> None:
        for callback in self._after_commit:
            try:
                outcome = callback()
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:  # the change is committed: a failed push or wake-up must not undo the answer
                log.exception("after-commit step %s failed", getattr(callback, "__name__", callback))


def current() -> UnitOfWork | None:
    """The unit of work open in this context, if any."""
    return _CURRENT.get()


@asynccontextmanager
async def unit_of_work() -> AsyncIterator[UnitOfWork]:
    """Open the use case's transaction (or join the one already open in this context)."""
    enclosing = _CURRENT.get()
    if enclosing is not None:
        yield enclosing
        return
    async with in_transaction() as conn:
        unit = UnitOfWork(conn)
        token = _CURRENT.set(unit)
        try:
            yield unit
        finally:
            _CURRENT.reset(token)
    await unit._run_after_commit()
