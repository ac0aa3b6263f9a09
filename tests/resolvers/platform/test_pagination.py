"""Keyset pagination: every ordering walked page by page gives each row once, in order, ties broken by id;
rows added while someone pages neither repeat nor push anyone out; a cursor is only good for its ordering."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from models import Customer
from resolvers.platform import notifications
from tests.factories import Api, World, gid, make_customer

PAGE = """
query($n: ID!, $o: CustomerOrderInput, $after: String) {
  customers(nodeId: $n, orderBy: $o, first: 2, after: $after) {
    totalCount
    edges { cursor node { id name } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""

# names and deposits with ties, so the id has to break them
PEOPLE = [("王五", "500.00"), ("赵六", "2500.00"), ("王五", "2500.00"), ("孙七", "10.00"), ("钱八", "2500.00")]


async def walk(api: Api, node: str, order: dict[str, Any]) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        body = await api.as_("head", PAGE, {"n": node, "o": order, "after": after})
        page = body["data"]["customers"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


async def people(world: World) -> None:
    for name, deposit in PEOPLE:
        await make_customer(world.village1a, world.staff["manager1a"], name, deposit_balance=Decimal(deposit))


@pytest.mark.parametrize(
    ("field", "descending"),
    [("NAME", False), ("NAME", True), ("DEPOSIT_BALANCE", True), ("DEPOSIT_BALANCE", False), ("CREATED_AT", False)],
)
async def test_every_ordering_walks_every_customer_once_in_order(
    api: Api, world: World, field: str, descending: bool
) -> None:
    await people(world)
    column = {"NAME": "name", "DEPOSIT_BALANCE": "deposit_balance", "CREATED_AT": "created_at"}[field]
    rows = await Customer.all().values("id", column)
    # the ordering asked for, then the id ascending: what the database is expected to give
    rows.sort(key=lambda r: r["id"])
    rows.sort(key=lambda r: r[column], reverse=descending)
    expected = [gid("Customer", r["id"]) for r in rows]

    walked = await walk(api, gid("GridNode", world.county.id), {"field": field, "descending": descending})

    assert len(expected) == 8  # the world's three and five more
    assert walked == expected


async def test_a_customer_added_while_paging_shifts_nobody(api: Api, world: World) -> None:
    await people(world)
    node = gid("GridNode", world.county.id)
    first = (await api.as_("head", PAGE, {"n": node}))["data"]["customers"]
    before = [e["node"]["name"] for e in first["edges"]]
    await make_customer(world.village1a, world.staff["manager1a"], "丁一")  # sorts before everyone
    rest = await walk_from(api, node, first["pageInfo"]["endCursor"])
    names = before + rest
    assert "丁一" not in names  # it sorts before the cursor: the next pages carry on where they were
    assert sorted(names) == sorted(["张一", "李二", "王三"] + [n for n, _ in PEOPLE])  # nobody twice, nobody lost


async def walk_from(api: Api, node: str, after: str) -> list[str]:
    names: list[str] = []
    cursor: str | None = after
    while cursor is not None:
        page = (await api.as_("head", PAGE, {"n": node, "after": cursor}))["data"]["customers"]
        names += [e["node"]["name"] for e in page["edges"]]
        cursor = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
    return names


async def test_a_cursor_is_only_good_for_its_own_ordering(api: Api, world: World) -> None:
    await people(world)
    node = gid("GridNode", world.county.id)
    by_name = (await api.as_("head", PAGE, {"n": node}))["data"]["customers"]["pageInfo"]["endCursor"]
    for order in ({"field": "DEPOSIT_BALANCE"}, {"field": "NAME", "descending": True}):
        body = await api.as_("head", PAGE, {"n": node, "o": order, "after": by_name})
        assert body["data"] is None
        assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [
            ("INVALID_CURSOR", "after")
        ]


async def test_notifications_page_newest_first(api: Api, world: World) -> None:
    manager = world.staff["manager1a"].id
    sent = [await notifications.notify(manager, "test", f"第{n}条") for n in range(5)]
    query = """query($after: String) { notifications(first: 2, after: $after) {
        edges { node { title } } pageInfo { hasNextPage endCursor } } }"""
    titles: list[str] = []
    after = None
    while True:
        page = (await api.as_("manager1a", query, {"after": after}))["data"]["notifications"]
        titles += [e["node"]["title"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert titles == [n.title for n in reversed(sent)]
