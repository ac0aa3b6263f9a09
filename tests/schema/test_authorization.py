"""Every query and mutation, per role and grid scope: allowed, denied (and nothing changed), and out-of-scope
records invisible (NOT_FOUND, never a hint that they exist)."""

from __future__ import annotations

from typing import Any

import pytest

from models import AuditLog, Customer
from tests.factories import ROLES, Api, World, gid

NODE_FIELDS = "{ name code }"


async def county_children(api: Api, user: str, world: World) -> list[str]:
    body = await api.as_(
        user, "query($c: String!) { gridNode(code: $c) { children { name } } }", {"c": world.county.code}
    )
    return [n["name"] for n in body["data"]["gridNode"]["children"]]


@pytest.mark.parametrize("user", ROLES)
async def test_every_role_sees_the_county_as_its_root(api: Api, world: World, user: str) -> None:
    body = await api.as_(user, "{ gridRoots { name level } }")
    assert body["data"]["gridRoots"] == [{"name": "睢宁县", "level": "COUNTY"}]


@pytest.mark.parametrize(
    ("user", "children"),
    [
        ("head", ["王集镇", "双沟镇"]),
        ("admin", ["王集镇", "双沟镇"]),
        ("president1", ["王集镇"]),
        ("president2", ["双沟镇"]),
        ("manager1a", ["王集镇"]),
        ("manager2a", ["双沟镇"]),
        ("investigator", ["王集镇", "双沟镇"]),
    ],
)
async def test_children_are_limited_to_scope(api: Api, world: World, user: str, children: list[str]) -> None:
    assert await county_children(api, user, world) == children


@pytest.mark.parametrize(
    ("user", "visible"),
    [
        ("head", True), ("admin", True), ("president1", False), ("president2", True),
        ("manager1a", False), ("manager1b", False), ("manager2a", True), ("approver", True),
    ],
)  # fmt: skip
async def test_grid_node_by_code_outside_scope_is_not_found(api: Api, world: World, user: str, visible: bool) -> None:
    body = await api.as_(
        user, f"query($c: String!) {{ gridNode(code: $c) {NODE_FIELDS} }}", {"c": world.township2.code}
    )
    if visible:
        assert body["data"]["gridNode"] == {"name": "双沟镇", "code": world.township2.code}
    else:
        assert body["data"]["gridNode"] is None
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_manager_sees_breadcrumb_but_not_siblings(api: Api, world: World) -> None:
    body = await api.as_(
        "manager1a",
        "query($c: String!) { gridNode(code: $c) { ancestors { name } children { name } } }",
        {"c": world.township1.code},
    )
    assert body["data"]["gridNode"] == {"ancestors": [{"name": "睢宁县"}], "children": [{"name": "张庄村"}]}


@pytest.mark.parametrize(
    ("user", "names"),
    [
        ("head", ["张一", "李二", "王三"]),
        ("president1", ["张一", "李二"]),
        ("president2", ["王三"]),
        ("manager1a", ["张一"]),
        ("manager1b", ["李二"]),
        ("admin", []),
        ("investigator", []),
        ("approver", []),
        ("backoffice", []),
    ],
)
async def test_customers_under_county_per_role(api: Api, world: World, user: str, names: list[str]) -> None:
    body = await api.as_(
        user,
        "query($n: ID!) { customers(nodeId: $n, first: 50) { totalCount edges { node { name } } } "
        'gridNode(code: "320324") { customerCount } }',
        {"n": gid("GridNode", world.county.id)},
    )
    listed = [e["node"]["name"] for e in body["data"]["customers"]["edges"]]
    assert sorted(listed) == sorted(names)
    assert body["data"]["customers"]["totalCount"] == len(names)
    assert body["data"]["gridNode"]["customerCount"] == len(names)


async def test_customers_under_a_node_outside_scope_is_not_found(api: Api, world: World) -> None:
    body = await api.as_(
        "president1",
        "query($n: ID!) { customers(nodeId: $n) { totalCount } }",
        {"n": gid("GridNode", world.township2.id)},
    )
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


DETAIL = (
    "query($id: ID!) { customer(id: $id) { name idNumber phone address masked "
    "manager { displayName username } village { name } } }"
)


@pytest.mark.parametrize(
    ("user", "outcome"),
    [
        ("head", "clear"),
        ("manager1a", "clear"),
        ("president1", "masked"),
        ("manager1b", "hidden"),
        ("president2", "hidden"),
        ("manager2a", "hidden"),
        ("admin", "hidden"),
        ("investigator", "hidden"),
        ("approver", "hidden"),
        ("backoffice", "hidden"),
    ],
)
async def test_customer_detail_visibility_and_masking(api: Api, world: World, user: str, outcome: str) -> None:
    customer = world.customers["c1a"]
    body = await api.as_(user, DETAIL, {"id": gid("Customer", customer.id)})
    reads = await AuditLog.filter(action="customer.read", target_id=str(customer.id)).count()
    if outcome == "hidden":
        assert body["data"]["customer"] is None
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert reads == 0
        return
    detail = body["data"]["customer"]
    assert detail["name"] == "张一"
    # the managing officer comes with the customer; their login name only for themselves
    assert detail["manager"] == {"displayName": "Manager1A", "username": "manager1a" if user == "manager1a" else None}
    assert detail["village"] == {"name": "张庄村"}
    if outcome == "clear":
        assert detail["idNumber"] == customer.id_number
        assert detail["phone"] == "13812345678"
        assert detail["address"] == "睢宁县王集镇张庄村三组18号"
        assert detail["masked"] is False
    else:
        assert detail["idNumber"] == customer.id_number[:6] + "********" + customer.id_number[-4:]
        assert detail["phone"] == "138****5678"
        assert detail["address"] == "睢宁县王集镇****"
        assert detail["masked"] is True
    audit = await AuditLog.get(action="customer.read", target_id=str(customer.id))
    assert audit.actor_username == user
    assert audit.changes == {"unmasked": outcome == "clear"}


async def test_lists_mask_personal_data_for_the_branch_president(api: Api, world: World) -> None:
    body = await api.as_(
        "president1",
        "query($n: ID!) { customers(nodeId: $n, orderBy: {field: NAME}) { edges { node { name phone masked } } } }",
        {"n": gid("GridNode", world.township1.id)},
    )
    nodes = [e["node"] for e in body["data"]["customers"]["edges"]]
    assert nodes == [
        {"name": "张一", "phone": "138****5678", "masked": True},
        {"name": "李二", "phone": "139****1111", "masked": True},
    ]


@pytest.mark.parametrize(
    ("user", "visible"),
    [("head", True), ("manager1a", True), ("president1", True), ("manager1b", False), ("admin", False)],
)
async def test_node_lookup_of_a_customer_follows_scope(api: Api, world: World, user: str, visible: bool) -> None:
    body = await api.as_(
        user,
        "query($id: ID!) { node(id: $id) { id ... on Customer { name } } }",
        {"id": gid("Customer", world.customers["c1a"].id)},
    )
    assert (body["data"]["node"] is not None) is visible


async def test_node_lookup_of_a_grid_node_follows_scope(api: Api, world: World) -> None:
    query = "query($id: ID!) { node(id: $id) { ... on GridNode { name } } }"
    assert (await api.as_("manager1a", query, {"id": gid("GridNode", world.village1a.id)}))["data"]["node"] == {
        "name": "张庄村"
    }
    assert (await api.as_("manager1a", query, {"id": gid("GridNode", world.village1b.id)}))["data"]["node"] is None


CREATE = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) {
    __typename
    ... on Customer { name idNumber sex birthDate masked manager { username } village { name } }
    ... on CustomerError { code field messageZh messageEn }
  }
}"""


def create_input(world: World, **overrides: Any) -> dict[str, Any]:
    values = {
        "idNumber": "320324199001010010",
        "name": "赵四",
        "villageId": gid("GridNode", world.village1a.id),
        "phone": "13912345678",
        "address": "睢宁县王集镇张庄村一组1号",
        "tags": ["养殖户"],
    }
    values.update(overrides)
    return values


@pytest.mark.parametrize(
    ("user", "outcome"),
    [
        ("head", "Customer"),
        ("manager1a", "Customer"),
        ("manager1b", "UNKNOWN_GRID_NODE"),
        ("manager2a", "UNKNOWN_GRID_NODE"),
        ("president1", "FORBIDDEN"),
        ("admin", "FORBIDDEN"),
        ("investigator", "FORBIDDEN"),
        ("approver", "FORBIDDEN"),
        ("backoffice", "FORBIDDEN"),
    ],
)
async def test_create_customer_per_role(api: Api, world: World, user: str, outcome: str) -> None:
    from domain.customers.idcard import check_char

    id_number = "32032419900101001" + check_char("32032419900101001")
    before = await Customer.all().count()
    body = await api.as_(user, CREATE, {"input": create_input(world, idNumber=id_number)})
    result = body["data"]["createCustomer"]
    if outcome == "Customer":
        assert result["__typename"] == "Customer"
        assert (result["name"], result["idNumber"], result["sex"], result["birthDate"]) == (
            "赵四",
            id_number,
            "MALE",
            "1990-01-01",
        )
        assert result["masked"] is False
        assert result["village"] == {"name": "张庄村"}
        expected_manager = None if user == "head" else {"username": user}
        assert result["manager"] == expected_manager
        assert await Customer.all().count() == before + 1
        assert await AuditLog.filter(action="customer.create", actor_username=user).count() == 1
    else:
        assert result["__typename"] == "CustomerError"
        assert result["code"] == outcome
        assert await Customer.all().count() == before
        assert await AuditLog.filter(action="customer.create").count() == 0


UPDATE = """
mutation($input: UpdateCustomerInput!) {
  updateCustomer(input: $input) {
    __typename
    ... on Customer { phone tags version manager { displayName } }
    ... on CustomerError { code field }
  }
}"""


@pytest.mark.parametrize(
    ("user", "outcome"),
    [
        ("head", "Customer"),
        ("manager1a", "Customer"),
        ("president1", "FORBIDDEN"),  # may see the customer, not their personal data
        ("manager1b", "NOT_FOUND"),
        ("president2", "NOT_FOUND"),
        ("admin", "NOT_FOUND"),
        ("investigator", "NOT_FOUND"),
    ],
)
async def test_update_personal_data_per_role(api: Api, world: World, user: str, outcome: str) -> None:
    customer = world.customers["c1a"]
    body = await api.as_(user, UPDATE, {"input": {"id": gid("Customer", customer.id), "phone": "13700001111"}})
    result = body["data"]["updateCustomer"]
    stored = await Customer.get(id=customer.id)
    if outcome == "Customer":
        assert result["__typename"] == "Customer"
        assert result["phone"] == "13700001111"
        assert result["version"] == 2
        assert stored.phone == "13700001111"
        audit = await AuditLog.get(action="customer.update", target_id=str(customer.id))
        assert audit.changes == {"phone": {"changed": True}}
    else:
        assert result == {
            "__typename": "CustomerError",
            "code": outcome,
            "field": None if outcome == "FORBIDDEN" else "id",
        }
        assert stored.phone == "13812345678"
        assert stored.version == 1
        assert await AuditLog.filter(action="customer.update").count() == 0


async def test_branch_president_maintains_tags_and_reassigns_within_branch(api: Api, world: World) -> None:
    customer = world.customers["c1a"]
    body = await api.as_("president1", UPDATE, {"input": {"id": gid("Customer", customer.id), "tags": ["重点客户"]}})
    assert body["data"]["updateCustomer"]["tags"] == ["重点客户"]
    moved = await api.as_(
        "president1",
        UPDATE,
        {
            "input": {
                "id": gid("Customer", customer.id),
                "villageId": gid("GridNode", world.village1b.id),
                "managerId": gid("Staff", world.staff["manager1b"].id),
            }
        },
    )
    assert moved["data"]["updateCustomer"]["manager"] == {"displayName": "Manager1B"}
    stored = await Customer.get(id=customer.id)
    assert (stored.village_id, stored.manager_id) == (world.village1b.id, world.staff["manager1b"].id)  # type: ignore[attr-defined]


async def test_branch_president_cannot_move_a_customer_out_of_the_branch(api: Api, world: World) -> None:
    customer = world.customers["c1a"]
    body = await api.as_(
        "president1",
        UPDATE,
        {"input": {"id": gid("Customer", customer.id), "villageId": gid("GridNode", world.village2a.id)}},
    )
    assert body["data"]["updateCustomer"] == {
        "__typename": "CustomerError",
        "code": "UNKNOWN_GRID_NODE",
        "field": "villageId",
    }
    assert (await Customer.get(id=customer.id)).village_id == world.village1a.id  # type: ignore[attr-defined]


async def test_customer_manager_cannot_reassign_their_customer(api: Api, world: World) -> None:
    customer = world.customers["c1a"]
    body = await api.as_(
        "manager1a",
        UPDATE,
        {
            "input": {
                "id": gid("Customer", customer.id),
                "managerId": gid("Staff", world.staff["manager1b"].id),
            }
        },
    )
    assert body["data"]["updateCustomer"]["code"] == "FORBIDDEN"
    assert (await Customer.get(id=customer.id)).manager_id == world.staff["manager1a"].id  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "query",
    [
        "{ viewer { staff { username } } }",
        "{ gridRoots { name } }",
        '{ gridNode(code: "320324") { name } }',
        '{ customer(id: "Q3VzdG9tZXI6MQ==") { name } }',
        '{ customers(nodeId: "R3JpZE5vZGU6MQ==") { totalCount } }',
        '{ node(id: "R3JpZE5vZGU6MQ==") { id } }',
        'mutation { createCustomer(input: {idNumber: "x", name: "x", villageId: "R3JpZE5vZGU6MQ=="}) { __typename } }',
        'mutation { updateCustomer(input: {id: "Q3VzdG9tZXI6MQ==", name: "x"}) { __typename } }',
    ],
)
async def test_anonymous_callers_get_unauthenticated(api: Api, world: World, query: str) -> None:
    before = await Customer.all().values_list("id", "name", "version")
    body = await api.raw(query)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await Customer.all().values_list("id", "name", "version") == before
