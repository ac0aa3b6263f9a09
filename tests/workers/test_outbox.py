"""The outbox itself: a duplicate key is a no-op even inside a caller's transaction, a message nobody can run
waits (logged) without holding the others up, and old dispatched messages are purged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from models import AuditLog, OutboxMessage
from resolvers.platform import outbox
from tests.workers.conftest import Queue


async def test_a_duplicate_key_is_a_no_op_inside_the_caller_s_transaction() -> None:
    async with in_transaction() as conn:
        await outbox.enqueue("finish_job", [1], "job:1:finish", using_db=conn)
        await outbox.enqueue("finish_job", [1], "job:1:finish", using_db=conn)
        await AuditLog.create(action="test.after", target_type="Test", using_db=conn)  # still usable
    assert await OutboxMessage.filter(key="job:1:finish").count() == 1
    assert await AuditLog.filter(action="test.after").count() == 1


async def test_a_task_nobody_can_run_waits_without_holding_the_others_up(queue: Queue) -> None:
    await outbox.enqueue("no_such_task", [1], "mystery:1")
    await outbox.enqueue("finish_job", [99], "job:99:finish")
    assert await outbox.relay_once(queue.dispatcher) == 0
    stuck = await OutboxMessage.get(key="mystery:1")
    assert stuck.attempts == 1
    assert "no worker task named 'no_such_task'" in stuck.last_error
    assert await outbox.relay_once(queue.dispatcher) == 1  # the failed one went to the back
    waiting = await OutboxMessage.filter(dispatched_at__isnull=True).values_list("key", flat=True)
    assert waiting == ["mystery:1"]


async def test_old_dispatched_messages_are_purged() -> None:
    await outbox.enqueue("finish_job", [1], "old")
    await outbox.enqueue("finish_job", [2], "recent")
    await outbox.enqueue("finish_job", [3], "waiting")
    await OutboxMessage.filter(key="old").update(dispatched_at=datetime.now(UTC) - timedelta(days=8))
    await OutboxMessage.filter(key="recent").update(dispatched_at=datetime.now(UTC))
    assert await outbox.purge_dispatched() == 1
    assert sorted(await OutboxMessage.all().values_list("key", flat=True)) == ["recent", "waiting"]
