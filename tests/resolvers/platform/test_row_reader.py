"""The kernel's plain reads (resolvers.platform.db.row_reader): a raw row read through it holds exactly what the
ORM's own values() gives for the same columns, on each backend — whole numbers, text, money, dates, aware times,
flags, enums and nulls."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from models import Customer, GridKpi, GridLevel, GridNode
from resolvers.customers.views import VIEW_COLUMNS
from resolvers.grid.browse import NODE_FIELDS
from resolvers.platform.db import fetch, row_reader, statement
from tests.factories import World, make_customer


async def _both(model: type, columns: tuple[str, ...], **filters: object) -> tuple[list[dict], list[dict]]:
    query = model.filter(**filters).order_by("id").values(*columns)  # type: ignore[attr-defined]
    sql, params = statement(query)
    read = row_reader(model, columns)  # type: ignore[arg-type]
    return [read(row) for row in await fetch(sql, params)], list(await query)


async def test_customer_rows_read_plainly_equal_the_orms(world: World) -> None:
    one = await make_customer(world.village1a, world.staff["manager1a"], "张三")
    one.deposit_balance = Decimal("1234.56")
    one.birth_date = date(1980, 2, 29)
    one.has_ebanking = True
    one.tags = ",种植大户,信用户,"
    await one.save()
    await make_customer(None, None, "李四")  # no village, no manager: nulls
    plain, orm = await _both(Customer, VIEW_COLUMNS)
    assert len(plain) >= 2
    assert plain == orm
    row = next(r for r in plain if r["id"] == one.id)
    assert type(row["deposit_balance"]) is Decimal
    assert row["deposit_balance"] == Decimal("1234.56")
    assert row["birth_date"] == date(1980, 2, 29)
    assert row["has_ebanking"] is True
    assert row["tags"] == ",种植大户,信用户,"
    assert row["created_at"].tzinfo is not None


async def test_grid_and_kpi_rows_read_plainly_equal_the_orms(world: World) -> None:
    node = world.village1a
    at = datetime(2026, 12, 4, 8, 30, 15, 123456, tzinfo=UTC)
    await GridKpi.create(node_id=node.id, period="2026-12", computed_at=at, customers=7,
                         deposit_balance=Decimal("3508599.00"), npl_balance=Decimal("0.10"))  # fmt: skip
    plain, orm = await _both(GridNode, NODE_FIELDS)
    assert plain == orm
    assert all(isinstance(r["level"], GridLevel) for r in plain)
    columns = ("id", "node_id", "period", "computed_at", "customers", "deposit_balance", "npl_balance")
    plain, orm = await _both(GridKpi, columns, node_id=node.id)
    assert plain == orm
    assert plain[0]["computed_at"] == at
    assert plain[0]["npl_balance"] == Decimal("0.10")
