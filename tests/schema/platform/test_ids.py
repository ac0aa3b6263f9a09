"""Global ids whose number no key column can hold (beyond int4 or int8, or not a plain ASCII number) are a
typed answer — null from node, NOT_FOUND or INVALID_VALUE from the other fields — never an overflow."""

from __future__ import annotations

import pytest
from strawberry.relay import to_base64

from models import Customer
from tests.factories import Api, World, gid
from tests.schema.test_authorization import CREATE, create_input

NODE = "query($id: ID!) { node(id: $id) { id } }"


@pytest.mark.parametrize(
    "node_id",
    [
        to_base64("GridNode", 2**31),  # beyond the int4 key
        to_base64("GridNode", 2**63),  # beyond 64 bits
        to_base64("GridNode", 10**40),
        to_base64("Customer", 2**64),
        to_base64("Staff", 2**70),
        to_base64("Job", 2**40),
        to_base64("Notification", 2**63),  # beyond its int8 key
        to_base64("GridNode", "-1"),
        to_base64("GridNode", "0"),
        to_base64("GridNode", "+1"),
        to_base64("GridNode", "1_0"),
    ],
)
async def test_node_with_a_number_no_row_can_have_is_null(api: Api, world: World, node_id: str) -> None:
    assert await api.as_("head", NODE, {"id": node_id}) == {"data": {"node": None}}


async def test_node_with_non_ascii_digits_does_not_name_an_existing_node(api: Api, world: World) -> None:
    arabic = "".join(chr(0x0660 + int(d)) for d in str(world.county.id))  # int() would read these as the id
    assert await api.as_("head", NODE, {"id": to_base64("GridNode", arabic)}) == {"data": {"node": None}}
    found = await api.as_("head", NODE, {"id": gid("GridNode", world.county.id)})
    assert found == {"data": {"node": {"id": gid("GridNode", world.county.id)}}}


@pytest.mark.parametrize("number", [2**31, 2**63, 2**64])
async def test_customer_by_an_id_beyond_the_key_is_not_found(api: Api, world: World, number: int) -> None:
    body = await api.as_("head", "query($id: ID!) { customer(id: $id) { id } }", {"id": gid("Customer", number)})
    assert body["data"] == {"customer": None}
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [("NOT_FOUND", "id")]


@pytest.mark.parametrize("number", [2**31, 2**64])
async def test_job_by_an_id_beyond_the_key_is_not_found(api: Api, world: World, number: int) -> None:
    body = await api.as_("head", "query($id: ID!) { job(id: $id) { id } }", {"id": gid("Job", number)})
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [("NOT_FOUND", "id")]


async def test_customers_under_a_node_beyond_the_key_is_an_unknown_node(api: Api, world: World) -> None:
    body = await api.as_(
        "head", "query($n: ID!) { customers(nodeId: $n) { totalCount } }", {"n": gid("GridNode", 2**64)}
    )
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [
        ("UNKNOWN_GRID_NODE", "nodeId")
    ]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"villageId": gid("GridNode", 2**63)}, "villageId"),
        ({"villageId": gid("GridNode", 2**31)}, "villageId"),
        ({"managerId": gid("Staff", 2**64)}, "managerId"),
    ],
)
async def test_filing_with_an_id_beyond_the_key_is_a_typed_error(
    api: Api, world: World, overrides: dict[str, str], field: str
) -> None:
    before = await Customer.all().count()
    body = await api.as_("head", CREATE, {"input": create_input(world, **overrides)})
    result = body["data"]["createCustomer"]
    assert (result["__typename"], result["code"], result["field"]) == ("CustomerError", "INVALID_VALUE", field)
    assert await Customer.all().count() == before


async def test_acknowledging_a_notification_beyond_the_key_is_a_typed_error(api: Api, world: World) -> None:
    body = await api.as_(
        "head",
        "mutation($ids: [ID!]!) { acknowledgeNotifications(ids: $ids) "
        "{ __typename ... on NotificationError { code field } } }",
        {"ids": [gid("Notification", 2**63)]},
    )
    assert body == {
        "data": {
            "acknowledgeNotifications": {"__typename": "NotificationError", "code": "INVALID_VALUE", "field": "ids"}
        }
    }
