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
    await api.as_("head", PAGE_WITH_RELATIONS, {"n": gid("GridNode", world.county.id), "first": 1})  # scope cached
    counts = {}
    for size in (10, 100):
        count_queries.statements.clear()
        body = await api.as_("head", PAGE_WITH_RELATIONS, {"n": gid("GridNode", world.county.id), "first": size})
        assert len(body["data"]["customers"]["edges"]) == size
        counts[size] = count_queries.count
    assert counts[10] == counts[100], count_queries.statements
    assert counts[10] <= 10, count_queries.statements


def full_width(text: str) -> str:
    """Digits and X as a Chinese input method types them in full-width mode."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


async def test_full_width_digits_are_filed_as_ascii_and_the_same_number_is_a_duplicate(api: Api, world: World) -> None:
    number = valid_id("32032419900101001")
    body = await api.as_(
        "head", CREATE, {"input": create_input(world, idNumber=full_width(number), phone="１３９ １２３４ ５６７８")}
    )
    assert body["data"]["createCustomer"]["idNumber"] == number
    stored = await Customer.get(name="赵四")
    assert (stored.id_number, stored.phone) == (number, "13912345678")
    again = await api.as_("head", CREATE, {"input": create_input(world, idNumber=number, name="赵四二")})
    assert (again["data"]["createCustomer"]["code"], again["data"]["createCustomer"]["field"]) == (
        "DUPLICATE_ID_NUMBER",
        "idNumber",
    )
    assert await Customer.filter(id_number__startswith="32032419900101").count() == 1


async def test_an_ascii_number_filed_again_in_full_width_digits_is_a_duplicate(api: Api, world: World) -> None:
    existing = world.customers["c1a"].id_number
    body = await api.as_("head", CREATE, {"input": create_input(world, idNumber=full_width(existing))})
    assert body["data"]["createCustomer"]["code"] == "DUPLICATE_ID_NUMBER"
    assert await Customer.all().count() == 3


async def test_filters_read_full_width_digits_as_ascii(api: Api, world: World) -> None:
    c1a = world.customers["c1a"]
    assert await list_names(api, world, f={"idNumber": full_width(c1a.id_number)}) == ["张一"]
    assert await list_names(api, world, f={"phone": full_width("139-0000-1111")}) == ["李二"]


async def test_an_update_stores_a_full_width_phone_as_ascii(api: Api, world: World) -> None:
    c1a = world.customers["c1a"]
    body = await api.as_(
        "head", UPDATE, {"input": {"id": gid("Customer", c1a.id), "phone": full_width("137-0000-2222")}}
    )
    assert body["data"]["updateCustomer"]["__typename"] == "Customer"
    assert (await Customer.get(id=c1a.id)).phone == "13700002222"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "赵\x1b[2J四"}, "name"),  # ESC: a terminal escape sequence
        ({"name": "\u202e四赵"}, "name"),  # right-to-left override
        ({"name": "\u200b\u200c\u200d"}, "name"),  # only zero-width characters
        ({"name": "赵\x9b四"}, "name"),  # C1 control
        ({"address": "睢宁县\x07王集镇"}, "address"),  # BEL
        ({"address": "王集镇\u202e号1组一"}, "address"),
    ],
)
async def test_control_and_invisible_characters_are_refused(
    api: Api, world: World, overrides: dict[str, str], field: str
) -> None:
    body = await api.as_("head", CREATE, {"input": create_input(world, idNumber=valid_id(), **overrides)})
    result = body["data"]["createCustomer"]
    assert (result["__typename"], result["code"], result["field"]) == ("CustomerError", "INVALID_VALUE", field)
    assert await Customer.all().count() == 3
    renamed = await api.as_("head", UPDATE, {"input": {"id": gid("Customer", world.customers["c1a"].id), **overrides}})
    assert (renamed["data"]["updateCustomer"]["code"], renamed["data"]["updateCustomer"]["field"]) == (
        "INVALID_VALUE",
        field,
    )
    assert (await Customer.get(id=world.customers["c1a"].id)).name == "张一"


@pytest.mark.parametrize(
    ("first17", "code"),
    [
        ("32032519850301001", None),  # 邳县, abolished in 1992: still on older cards
        ("32039919850301001", "INVALID_ID_NUMBER"),  # a county Xuzhou never had
        ("32990119850301001", "INVALID_ID_NUMBER"),  # no such prefecture
    ],
)
async def test_region_codes_are_checked_against_the_division_list(
    api: Api, world: World, first17: str, code: str | None
) -> None:
    body = await api.as_("head", CREATE, {"input": create_input(world, idNumber=valid_id(first17))})
    result = body["data"]["createCustomer"]
    assert result.get("code") == code
    assert result["__typename"] == ("Customer" if code is None else "CustomerError")


TIMES = """query($n: ID!) { customers(nodeId: $n, first: 5) { edges { node { name ...When } } } }
fragment When on Customer { createdAt updatedAt }"""
NO_TIMES = "query($n: ID!) { customers(nodeId: $n, first: 5) { edges { node { name } } } }"


async def test_a_page_reads_the_timestamps_only_when_they_are_selected(
    api: Api, world: World, count_queries: QueryCounter
) -> None:
    village = {"n": gid("GridNode", world.village1a.id)}
    await api.as_("head", NO_TIMES, village)  # signed in, scope cached
    count_queries.statements.clear()
    plain = await api.as_("head", NO_TIMES, village)
    assert plain["data"]["customers"]["edges"] == [{"node": {"name": "张一"}}]
    page_reads = [s for s in count_queries.statements if "deposit_balance" in s]
    assert page_reads, count_queries.statements
    assert all("created_at" not in s for s in page_reads)
    timed = await api.as_("head", TIMES, village)
    node = timed["data"]["customers"]["edges"][0]["node"]
    stored = await Customer.get(id=world.customers["c1a"].id)
    assert node["createdAt"] == stored.created_at.isoformat()
    assert node["updatedAt"] == stored.updated_at.isoformat()


NODE_PAGE = """query($code: String!, $filter: CustomerFilterInput) { gridNode(code: $code) { customerCount
  customers(first: 2, filter: $filter) { %s edges { node { name } } } } }"""


async def test_a_node_page_counts_its_customers_once_for_both_counts(
    api: Api, world: World, count_queries: QueryCounter
) -> None:
    """A village (or any node's) page asking its customerCount and its unfiltered totalCount reads the count
    once; a filtered total is its own count."""
    for i in range(5):
        await make_customer(world.village1a, world.staff["manager1a"], f"甄{i}", id_number=new_id_number())
    code = world.county.code
    await api.as_("manager1a", NODE_PAGE % "", {"code": code})  # the token and scope read once
    statements = {}
    for name, selection, variables in (
        ("without", "", {"code": code}),
        ("with", "totalCount", {"code": code}),
        ("filtered", "totalCount", {"code": code, "filter": {"name": "甄"}}),
    ):
        count_queries.statements.clear()
        body = await api.as_("manager1a", NODE_PAGE % selection, variables)
        assert "errors" not in body, body
        statements[name] = count_queries.count
        node = body["data"]["gridNode"]
        if name == "with":
            assert node["customers"]["totalCount"] == node["customerCount"]
            assert node["customerCount"] == await Customer.filter(village_id=world.village1a.id).count()
        if name == "filtered":
            assert node["customers"]["totalCount"] == 5
    assert statements["with"] == statements["without"], count_queries.statements
    assert statements["filtered"] == statements["without"] + 1
