"""The kernel's bulk writes (resolvers.platform.db.insert_rows, insert_rows_returning_ids, notify_many), on each
backend: COPY on PostgreSQL and multi-row INSERTs on SQLite store exactly what the ORM would (the screening
tests write the column named "limit", a reserved word, through it); a row the database refuses fails the whole
call with the ORM's own IntegrityError and leaves nothing behind in the caller's transaction; values the ORM
would refuse are refused the same way."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from tortoise.exceptions import IntegrityError, ValidationError
from tortoise.transactions import in_transaction

from models import AuditLog, CoreCustomerRecord, GridLevel, GridNode, Notification
from resolvers.platform.db import insert_rows, insert_rows_returning_ids
from resolvers.platform.notifications import notify_many
from tests.factories import World

AT = datetime(2026, 12, 2, 8, 30, tzinfo=UTC)
BEIJING = timezone(timedelta(hours=8))


def audit_row(n: int, **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "actor_id": None, "actor_username": "", "action": "bulk.test", "target_type": "Thing",
        "target_id": str(n), "changes": {"n": n, "名称": "张三"}, "request_id": "req-1", "created_at": AT,
    }  # fmt: skip
    row.update(overrides)
    return row


async def test_rows_are_stored_as_the_orm_would_store_them(world: World) -> None:
    await insert_rows(AuditLog, [audit_row(n) for n in range(2500)])
    stored = await AuditLog.filter(action="bulk.test").order_by("id")
    assert len(stored) == 2500
    assert [r.target_id for r in stored[:3]] == ["0", "1", "2"]
    assert stored[7].changes == {"n": 7, "名称": "张三"}
    assert stored[7].created_at == AT
    assert stored[7].actor_id is None


async def test_money_times_and_enums_are_stored_as_the_orm_would_store_them(world: World) -> None:
    """The fast paths (a Decimal, an aware time, an enum member, written as they are) and the ORM's own conversion
    (a number as text, an enum's value as text) store the same; a time in Beijing time is the same instant."""
    core = {"name": "张三", "phone": None, "address": "", "overdue_amount": Decimal("0.00"), "overdue_days": 0,
            "max_overdue_days": 0, "npl_history": False, "has_ebanking": True, "has_third_party_payment": False,
            "has_social_security_card": False, "as_of": date(2026, 11, 30)}  # fmt: skip
    await insert_rows(
        CoreCustomerRecord,
        [
            {**core, "id_number": "a", "deposit_balance": Decimal("1234.56"), "loan_balance": Decimal("0.10"),
             "updated_at": AT},
            {**core, "id_number": "b", "deposit_balance": "1234.56", "loan_balance": 0.1,
             "updated_at": AT.astimezone(BEIJING)},
        ],
    )  # fmt: skip
    a, b = await CoreCustomerRecord.filter(id_number__in=["a", "b"]).order_by("id_number")
    assert (a.deposit_balance, a.loan_balance, a.updated_at) == (Decimal("1234.56"), Decimal("0.10"), AT)
    assert (b.deposit_balance, b.loan_balance, b.updated_at) == (Decimal("1234.56"), Decimal("0.10"), AT)

    node = {"name": "村", "parent_id": None, "path": "/", "depth": 0, "polygon": None, "centroid_lon": None,
            "centroid_lat": None, "created_at": AT, "updated_at": AT}  # fmt: skip
    await insert_rows(
        GridNode,
        [
            {**node, "code": "v1", "level": GridLevel.VILLAGE, "centroid_lon": 117.93},
            {**node, "code": "t1", "level": "TOWNSHIP", "centroid_lon": 118},
        ],
    )
    stored = await GridNode.filter(code__in=["v1", "t1"]).values_list("code", "level", "centroid_lon")
    assert sorted(stored) == [("t1", GridLevel.TOWNSHIP, 118.0), ("v1", GridLevel.VILLAGE, 117.93)]
    with pytest.raises(ValueError, match="PROVINCE"):
        await insert_rows(GridNode, [{**node, "code": "x1", "level": "PROVINCE"}])
    assert not await GridNode.filter(code="x1").exists()


async def test_a_refused_row_fails_the_whole_call_and_the_transaction_keeps_nothing(world: World) -> None:
    notes = await notify_many([(world.staff["manager1a"].id, "bulk", "甲 / one", "", {})])
    taken = notes[0].id
    clash = {"id": taken, "recipient_id": 1, "kind": "bulk", "title": "t", "body": "", "payload": {}, "created_at": AT}

    async def audit_then_clash() -> None:
        async with in_transaction() as conn:
            await insert_rows(AuditLog, [audit_row(1)], conn)
            await insert_rows(Notification, [clash], conn)

    with pytest.raises(IntegrityError):
        await audit_then_clash()
    assert not await AuditLog.filter(action="bulk.test").exists()
    assert await Notification.all().count() == 1


async def test_a_value_the_orm_refuses_is_refused(world: World) -> None:
    with pytest.raises(ValidationError):
        await insert_rows(AuditLog, [audit_row(1, action="x" * 65)])
    assert not await AuditLog.filter(target_type="Thing").exists()


async def test_ids_come_back_in_the_order_of_the_rows(world: World) -> None:
    rows = [audit_row(n, target_id=f"t{n}") for n in range(1500)]
    ids = await insert_rows_returning_ids(AuditLog, rows)
    assert len(ids) == 1500
    assert ids == sorted(ids)
    by_id = dict(await AuditLog.filter(id__in=ids).values_list("id", "target_id"))
    assert [by_id[i] for i in ids] == [f"t{n}" for n in range(1500)]


async def test_notify_many_stores_each_and_returns_them_ready_to_push(world: World) -> None:
    recipients = [world.staff["manager1a"].id, world.staff["president1"].id]
    notes = await notify_many([(r, "bulk", f"新任务 / new task {r}", "正文 / body", {"ids": [r]}) for r in recipients])
    assert [n.recipient_id for n in notes] == recipients
    stored = {n.id: n for n in await Notification.filter(kind="bulk")}
    assert sorted(stored) == sorted(n.id for n in notes)
    for note in notes:
        assert (stored[note.id].title, stored[note.id].payload) == (note.title, note.payload)
        assert note.created_at is not None
