"""Colleagues through the API: node(id:), colleagues, a customer's managing officer — each through the staff
policy, with login names only for the administrator and oneself."""

from __future__ import annotations

import pytest

from models import Customer
from tests.conftest import QueryCounter
from tests.factories import ROLES, Api, World, gid

NODE = "query($id: ID!) { node(id: $id) { ... on Staff { displayName username roles } } }"
COLLEAGUES = "{ colleagues(first: 50) { totalCount edges { node { displayName username } } } }"
CENTRAL = ["approver", "backoffice", "investigator"]


@pytest.mark.parametrize(
    ("user", "visible"),
    [
        ("head", True), ("admin", True), ("president1", True), ("president2", False), ("manager1a", False),
        ("manager1b", True), ("manager2a", False), ("investigator", True), ("approver", True), ("backoffice", True),
    ],
)  # fmt: skip
async def test_node_lookup_of_a_customer_manager_follows_the_policy(
    api: Api, world: World, user: str, visible: bool
) -> None:
    body = await api.as_(user, NODE, {"id": gid("Staff", world.staff["manager1b"].id)})

    if not visible:
        assert body == {"data": {"node": None}}
        return
    username = "manager1b" if user in ("admin", "manager1b") else None
    assert body == {"data": {"node": {"displayName": "Manager1B", "username": username, "roles": ["CUSTOMER_MANAGER"]}}}


@pytest.mark.parametrize(
    ("user", "names"),
    [
        ("head", sorted(ROLES)),
        ("admin", sorted(ROLES)),
        ("president1", sorted([*CENTRAL, "manager1a", "manager1b", "president1"])),
        ("president2", sorted([*CENTRAL, "manager2a", "president2"])),
        ("manager1a", sorted([*CENTRAL, "manager1a", "president1"])),
        ("manager1b", sorted([*CENTRAL, "manager1b", "president1"])),
        ("manager2a", sorted([*CENTRAL, "manager2a", "president2"])),
        ("investigator", sorted(r for r in ROLES if r not in ("head", "admin"))),
    ],
)
async def test_colleagues_per_role(api: Api, world: World, user: str, names: list[str]) -> None:
    body = await api.as_(user, COLLEAGUES)

    listed = body["data"]["colleagues"]
    assert listed["totalCount"] == len(names)
    assert [e["node"]["displayName"] for e in listed["edges"]] == [n.title() for n in names]
    shown = {e["node"]["displayName"]: e["node"]["username"] for e in listed["edges"]}
    if user == "admin":
        assert shown == {n.title(): n for n in names}
    else:
        assert shown == {n.title(): (n if n == user else None) for n in names}


async def test_a_customers_manager_is_shown_with_the_customer_even_outside_the_viewers_staff_scope(
    api: Api, world: World
) -> None:
    """president2 may see the customers of 王庄村; their manager comes with them, though manager1b's own scope
    (李庄村) is now outside president2's branch."""
    customer = world.customers["c2a"]
    await Customer.filter(id=customer.id).update(manager_id=world.staff["manager1b"].id)
    query = "query($id: ID!) { customer(id: $id) { name manager { displayName username } } }"

    body = await api.as_("president2", query, {"id": gid("Customer", customer.id)})
    direct = await api.as_("president2", NODE, {"id": gid("Staff", world.staff["manager1b"].id)})

    assert body["data"]["customer"] == {"name": "王三", "manager": {"displayName": "Manager1B", "username": None}}
    assert direct == {"data": {"node": None}}


async def test_the_customer_page_loads_managers_in_one_query(
    api: Api, world: World, count_queries: QueryCounter
) -> None:
    query = "query($n: ID!) { customers(nodeId: $n, first: 50) { edges { node { name manager { displayName } } } } }"
    await api.token("head")
    count_queries.statements.clear()

    body = await api.as_("head", query, {"n": gid("GridNode", world.county.id)})

    managers = sorted(e["node"]["manager"]["displayName"] for e in body["data"]["customers"]["edges"])
    assert managers == ["Manager1A", "Manager1B", "Manager2A"]
    staff_reads = [s for s in count_queries.statements if s.split(" FROM ")[-1].startswith('"staff" WHERE "id" IN')]
    assert len(staff_reads) == 1
