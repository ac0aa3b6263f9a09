"""Customer use cases through the API: validation with typed errors that change nothing, filters and ordering,
pagination, optimistic locking, and a constant number of SQL statements per page."""

from __future__ import annotations

from typing import Any

import pytest

from domain.customers.idcard import check_char
from models import AuditLog, Customer
from tests.conftest import QueryCounter
from tests.factories import Api, World, gid, make_customer, new_id_number
from tests.schema.test_authorization import CREATE, UPDATE, create_input


def valid_id(first17: str = "32032419900101001") -> str:
    return first17 + check_char(first17)


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"idNumber": "32032419900101001"}, "INVALID_ID_NUMBER", "idNumber"),
        ({"idNumber": "320324199002300011"}, "INVALID_ID_NUMBER", "idNumber"),
        ({"idNumber": "320324199001010011"}, "INVALID_ID_NUMBER", "idNumber"),
        ({"phone": "1381234"}, "INVALID_PHONE", "phone"),
        ({"name": "   "}, "INVALID_VALUE", "name"),
        ({"villageId": gid("GridNode", 999999)}, "UNKNOWN_GRID_NODE", "villageId"),
        ({"villageId": gid("Staff", 1)}, "INVALID_VALUE", "villageId"),
        ({"villageId": "not-a-global-id"}, "INVALID_VALUE", "villageId"),
        ({"lon": 34.0, "lat": 117.9}, "INVALID_COORDINATES", "lon"),  # swapped
        ({"lon": 117.9}, "INVALID_COORDINATES", "lon"),
        ({"tags": ["a,b"]}, "INVALID_VALUE", "tags"),
    ],
)
async def test_bad_input_gets_a_typed_error_and_changes_nothing(
    api: Api, world: World, overrides: dict[str, Any], code: str, field: str
) -> None:
    before = await Customer.all().count()
    body = await api.as_("head", CREATE, {"input": create_input(world, **{"idNumber": valid_id(), **overrides})})
    result = body["data"]["createCustomer"]
    assert (result["__typename"], result["code"], result["field"]) == ("CustomerError", code, field)
    assert result["messageZh"]
    assert result["messageEn"]
    assert await Customer.all().count() == before
    assert await AuditLog.filter(action="customer.create").count() == 0


async def test_a_township_is_not_a_village(api: Api, world: World) -> None:
    body = await api.as_(
        "head",
        CREATE,
        {"input": create_input(world, idNumber=valid_id(), villageId=gid("GridNode", world.township1.id))},
    )
    assert body["data"]["createCustomer"]["code"] == "NOT_A_VILLAGE"


async def test_duplicate_id_number_is_refused(api: Api, world: World) -> None:
    existing = world.customers["c1a"].id_number
    body = await api.as_("head", CREATE, {"input": create_input(world, idNumber=existing)})
    assert body["data"]["createCustomer"]["code"] == "DUPLICATE_ID_NUMBER"
    assert await Customer.filter(id_number=existing).count() == 1


async def test_head_office_names_a_manager_who_covers_the_village(api: Api, world: World) -> None:
    wrong = await api.as_(
        "head",
        CREATE,
        {"input": create_input(world, idNumber=valid_id(), managerId=gid("Staff", world.staff["manager2a"].id))},
    )
    assert (wrong["data"]["createCustomer"]["code"], wrong["data"]["createCustomer"]["field"]) == (
        "INVALID_VALUE",
        "managerId",
    )
    right = await api.as_(
        "head",
        CREATE,
        {"input": create_input(world, idNumber=valid_id(), managerId=gid("Staff", world.staff["manager1a"].id))},
    )
    assert right["data"]["createCustomer"]["manager"] == {"username": None}  # login names: the administrator's


async def test_stale_version_is_refused(api: Api, world: World) -> None:
    customer = world.customers["c1a"]
    first = await api.as_(
        "manager1a",
        UPDATE,
        {"input": {"id": gid("Customer", customer.id), "tags": ["甲"], "expectedVersion": 1}},
    )
    assert first["data"]["updateCustomer"]["version"] == 2
    stale = await api.as_(
        "manager1a",
        UPDATE,
        {"input": {"id": gid("Customer", customer.id), "tags": ["乙"], "expectedVersion": 1}},
    )
    assert stale["data"]["updateCustomer"] == {
        "__typename": "CustomerError",
        "code": "STALE_VERSION",
        "field": "expectedVersion",
    }
    assert (await Customer.get(id=customer.id)).tags == ",甲,"


async def test_invalid_update_changes_nothing(api: Api, world: World) -> None:
    customer = world.customers["c1a"]
    body = await api.as_(
        "manager1a", UPDATE, {"input": {"id": gid("Customer", customer.id), "tags": ["新"], "phone": "12345"}}
    )
    assert body["data"]["updateCustomer"] == {
        "__typename": "CustomerError",
        "code": "INVALID_PHONE",
        "field": "phone",
    }
    stored = await Customer.get(id=customer.id)
    assert (stored.tags, stored.phone, stored.version) == (",种植户,", "13812345678", 1)


LIST = """
query($n: ID!, $f: CustomerFilterInput, $o: CustomerOrderInput, $first: Int, $after: String) {
  customers(nodeId: $n, filter: $f, orderBy: $o, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { name } }
  }
}"""


async def list_names(api: Api, world: World, **variables: Any) -> list[str]:
    body = await api.as_("head", LIST, {"n": gid("GridNode", world.county.id), **variables})
    return [e["node"]["name"] for e in body["data"]["customers"]["edges"]]


async def test_filters(api: Api, world: World) -> None:
    c1a = world.customers["c1a"]
    assert await list_names(api, world, f={"name": "李"}) == ["李二"]
    assert await list_names(api, world, f={"idNumber": c1a.id_number}) == ["张一"]
    assert await list_names(api, world, f={"phone": "13900001111"}) == ["李二"]
    assert await list_names(api, world, f={"tags": ["种植户"]}) == ["张一"]
    assert await list_names(api, world, f={"hasEbanking": True}) == ["王三"]
    assert await list_names(api, world, f={"managerId": gid("Staff", world.staff["manager1b"].id)}) == ["李二"]
    assert await list_names(api, world, f={"hasLoan": True}) == []


async def test_ordering_and_pages(api: Api, world: World) -> None:
    for i in range(5):
        await make_customer(world.village2a, world.staff["manager2a"], f"孙{i}", deposit_balance=100 * i)
    by_deposit = await list_names(api, world, o={"field": "DEPOSIT_BALANCE", "descending": True}, first=3)
    assert by_deposit == ["张一", "李二", "王三"]  # 1000.00 each, then ties broken by id
    first = await api.as_(
        "head",
        LIST,
        {"n": gid("GridNode", world.village2a.id), "o": {"field": "DEPOSIT_BALANCE"}, "first": 2},
    )
    page1 = first["data"]["customers"]
    assert [e["node"]["name"] for e in page1["edges"]] == ["孙0", "孙1"]
    assert page1["totalCount"] == 6
    assert page1["pageInfo"]["hasNextPage"] is True
    second = await api.as_(
        "head",
        LIST,
        {
            "n": gid("GridNode", world.village2a.id),
            "o": {"field": "DEPOSIT_BALANCE"},
            "first": 2,
            "after": page1["pageInfo"]["endCursor"],
        },
    )
    assert [e["node"]["name"] for e in second["data"]["customers"]["edges"]] == ["孙2", "孙3"]


PAGE_WITH_RELATIONS = """
query($n: ID!, $first: Int) {
  customers(nodeId: $n, first: $first) {
    edges { node { name village { name parent { name } } manager { displayName } household { address } } }
  }
}"""


async def test_page_of_customers_costs_the_same_statements_for_10_or_100(
    api: Api, world: World, count_queries: QueryCounter
) -> None:
    for i in range(110):
        village, manager = [
            (world.village1a, "manager1a"),
            (world.village1b, "manager1b"),
            (world.village2a, "manager2a"),
        ][i % 3]
        await make_customer(village, world.staff[manager], f"客户{i}", id_number=new_id_number())
    await api.token("head")
    counts = {}
    for size in (10, 100):
        count_queries.statements.clear()
        body = await api.as_("head", PAGE_WITH_RELATIONS, {"n": gid("GridNode", world.county.id), "first": size})
        assert len(body["data"]["customers"]["edges"]) == size
        counts[size] = count_queries.count
    assert counts[10] == counts[100]
    assert counts[10] <= 10, count_queries.statements
