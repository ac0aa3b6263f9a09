"""The unit of work: a change, its audit row, its outbox messages and its notifications commit together or not at
all, and what waits for the commit (pushes, wake-ups) runs only after it — never after a rollback. Then the
three use cases that used to write their audit row outside the change's transaction: a failure right after
the audit write leaves neither the change nor the row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from domain.access import Actor
from models import AuditLog, Customer, GridNode, Job, Notification, OutboxMessage
from resolvers.grid import assignment, imports, kpis
from resolvers.platform import audit
from resolvers.platform.auth import actor_for
from resolvers.platform.unit_of_work import current, unit_of_work
from tests.factories import World
from tests.grid_files import square, write_layer


class BoomError(Exception):
    """The failure a test provokes."""


async def as_user(world: World, username: str) -> Actor:
    staff = world.staff[username]
    await staff.fetch_related("scope")
    return actor_for(staff)


async def test_change_audit_message_and_notification_commit_together(world: World) -> None:
    actor = await as_user(world, "head")
    customer = world.customers["c1a"]
    after: list[str] = []
    async with unit_of_work() as uow:
        await Customer.filter(id=customer.id).update(name="张一一")
        await uow.audit(actor, "customer.update", "Customer", customer.id, {"name": {"changed": True}})
        await uow.enqueue("relay_outbox", [], "uow-test:1")
        note = await uow.notify(world.staff["manager1a"].id, "test", "标题 / title")
        uow.on_commit(lambda: after.append("pushed"))
        assert after == []  # nothing after-commit runs while the transaction is open
    assert after == ["pushed"]
    assert (await Customer.get(id=customer.id)).name == "张一一"
    assert await AuditLog.filter(action="customer.update", target_id=str(customer.id)).count() == 1
    assert await OutboxMessage.filter(key="uow-test:1").count() == 1
    assert await Notification.filter(id=note.id).count() == 1


async def test_a_failure_inside_leaves_nothing_and_runs_no_after_commit_step(world: World) -> None:
    actor = await as_user(world, "head")
    customer = world.customers["c1a"]
    after: list[str] = []

    async def change_then_fail() -> None:
        async with unit_of_work() as uow:
            await Customer.filter(id=customer.id).update(name="张一一")
            await uow.audit(actor, "customer.update", "Customer", customer.id)
            await uow.enqueue("relay_outbox", [], "uow-test:2")
            await uow.notify(world.staff["manager1a"].id, "test", "标题 / title")
            uow.on_commit(lambda: after.append("pushed"))
            raise BoomError

    with pytest.raises(BoomError):
        await change_then_fail()
    assert after == []
    assert (await Customer.get(id=customer.id)).name == "张一"
    assert await AuditLog.all().count() == 0
    assert await OutboxMessage.all().count() == 0
    assert await Notification.all().count() == 0
    assert current() is None


async def test_a_unit_opened_inside_another_joins_it(world: World) -> None:
    actor = await as_user(world, "head")
    joined: list[bool] = []

    async def nest_then_fail() -> None:
        async with unit_of_work() as outer:
            async with unit_of_work() as inner:
                joined.append(inner is outer)
                await inner.audit(actor, "inner", "Customer", 1)
            await outer.audit(actor, "outer", "Customer", 1)
            raise BoomError

    with pytest.raises(BoomError):
        await nest_then_fail()
    assert joined == [True]
    assert await AuditLog.all().count() == 0


@pytest.fixture
def audit_then_fail(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The audit row is written, then the use case fails right after it."""
    written: list[str] = []
    record = audit.record

    async def write_then_fail(*args: Any, **kwargs: Any) -> None:
        await record(*args, **kwargs)
        written.append(args[1])
        raise BoomError

    monkeypatch.setattr(audit, "record", write_then_fail)
    return written


async def test_starting_an_assignment_run_that_fails_after_its_audit_row_leaves_neither(
    world: World, audit_then_fail: list[str]
) -> None:
    with pytest.raises(BoomError):
        await assignment.start_assignment(await as_user(world, "admin"), assignment.AssignmentScope.ALL)
    assert audit_then_fail == ["assignment.start"]
    assert await Job.all().count() == 0
    assert await OutboxMessage.all().count() == 0
    assert await AuditLog.all().count() == 0


async def test_starting_a_kpi_rollup_that_fails_after_its_audit_row_leaves_neither(
    world: World, audit_then_fail: list[str]
) -> None:
    with pytest.raises(BoomError):
        await kpis.start_rollup(await as_user(world, "head"), "2026-11")
    assert audit_then_fail == ["kpi.rollup.start"]
    assert await Job.all().count() == 0
    assert await OutboxMessage.all().count() == 0
    assert await AuditLog.all().count() == 0


async def test_a_refused_grid_import_that_fails_after_its_audit_row_leaves_neither(
    world: World, tmp_path: Path, audit_then_fail: list[str]
) -> None:
    duplicate = [
        {"code": "320324199", "name": "甲镇", "geometry": square(117.96, 33.90)},
        {"code": "320324199", "name": "乙镇", "geometry": square(117.97, 33.90)},
    ]
    path = write_layer(tmp_path / "bad.geojson", duplicate)
    nodes = await GridNode.all().count()
    with pytest.raises(BoomError):
        await imports.import_townships(await as_user(world, "admin"), path)
    assert audit_then_fail == ["grid.import.refused"]
    assert await Job.all().count() == 0
    assert await AuditLog.all().count() == 0
    assert await GridNode.all().count() == nodes
