"""Factories: a small county with two townships, three villages and a member of staff for every role, and
helpers to call the API as one of them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher

from domain.customers.enums import CustomerSource
from domain.customers.idcard import make_id_number
from models import Customer, GridLevel, GridNode, Staff

PASSWORD = "correct horse battery"
_sequence = itertools.count(1)


@cache
def password_hash() -> str:
    """The test staff's password, hashed with argon2's cheapest parameters. A hash carries its parameters and
    the service verifies by them, so every login of the suite checks the password for real, in about 1.5 ms
    instead of the 170 ms the service's own parameters take (measured here): the suite signs in thousands of
    times. Passwords the service hashes itself (a password change, the demo's staff) keep its parameters."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


async def make_node(name: str, level: GridLevel, parent: GridNode | None = None, code: str | None = None) -> GridNode:
    node = await GridNode.create(
        name=name,
        level=level,
        code=code or f"T{next(_sequence):06d}",
        parent=parent,
        path="/",
        depth=(parent.depth + 1) if parent else 0,
    )
    node.path = f"{parent.path if parent else '/'}{node.id}/"
    await node.save(update_fields=["path"])
    return node


async def make_staff(username: str, roles: list[str], scope: list[GridNode] | None = None, **extra: Any) -> Staff:
    staff = await Staff.create(
        username=username, display_name=username.title(), roles=roles, password_hash=password_hash(), **extra
    )
    if scope:
        await staff.scope.add(*scope)
    return staff


def new_id_number(birth: date = date(1985, 6, 15), male: bool = True) -> str:
    seq = next(_sequence) % 500 * 2 + (1 if male else 0)
    return make_id_number("320324", birth.replace(day=1 + next(_sequence) % 28), seq % 1000)


async def make_customer(village: GridNode | None, manager: Staff | None, name: str = "张三", **extra: Any) -> Customer:
    id_number = extra.pop("id_number", None) or new_id_number()
    values: dict[str, Any] = {
        "id_number": id_number,
        "name": name,
        "birth_date": date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14])),
        "sex": "MALE" if int(id_number[16]) % 2 else "FEMALE",
        "phone": "13812345678",
        "address": "睢宁县王集镇张庄村三组18号",
        "village": village,
        "manager": manager,
        "source": CustomerSource.SURVEY,
        "deposit_balance": Decimal("1000.00"),
        "loan_balance": Decimal(0),
    }
    values.update(extra)
    return await Customer.create(**values)


@dataclass
class World:
    county: GridNode
    township1: GridNode
    township2: GridNode
    village1a: GridNode
    village1b: GridNode
    village2a: GridNode
    staff: dict[str, Staff]
    customers: dict[str, Customer] = field(default_factory=dict)


@pytest.fixture
async def world() -> World:
    county = await make_node("睢宁县", GridLevel.COUNTY, code="320324")
    t1 = await make_node("王集镇", GridLevel.TOWNSHIP, county, code="320324101")
    t2 = await make_node("双沟镇", GridLevel.TOWNSHIP, county, code="320324102")
    v1a = await make_node("张庄村", GridLevel.VILLAGE, t1, code="320324101001")
    v1b = await make_node("李庄村", GridLevel.VILLAGE, t1, code="320324101002")
    v2a = await make_node("王庄村", GridLevel.VILLAGE, t2, code="320324102001")
    staff = {
        "head": await make_staff("head", ["HEAD_OFFICE"]),
        "admin": await make_staff("admin", ["ADMIN"]),
        "president1": await make_staff("president1", ["BRANCH_PRESIDENT"], [t1]),
        "president2": await make_staff("president2", ["BRANCH_PRESIDENT"], [t2]),
        "manager1a": await make_staff("manager1a", ["CUSTOMER_MANAGER"], [v1a]),
        "manager1b": await make_staff("manager1b", ["CUSTOMER_MANAGER"], [v1b]),
        "manager2a": await make_staff("manager2a", ["CUSTOMER_MANAGER"], [v2a]),
        "investigator": await make_staff("investigator", ["CREDIT_INVESTIGATOR"], [county]),
        "approver": await make_staff("approver", ["APPROVER"], [county]),
        "backoffice": await make_staff("backoffice", ["BACK_OFFICE"], [county]),
    }
    w = World(county, t1, t2, v1a, v1b, v2a, staff)
    w.customers["c1a"] = await make_customer(v1a, staff["manager1a"], "张一", tags=",种植户,")
    w.customers["c1b"] = await make_customer(v1b, staff["manager1b"], "李二", phone="13900001111")
    w.customers["c2a"] = await make_customer(v2a, staff["manager2a"], "王三", has_ebanking=True)
    return w


ROLES = [
    "head",
    "admin",
    "president1",
    "president2",
    "manager1a",
    "manager1b",
    "manager2a",
    "investigator",
    "approver",
    "backoffice",
]


class Api:
    """Calls the GraphQL endpoint as a given user."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}

    async def token(self, username: str) -> str:
        if username not in self.tokens:
            body = await self.raw(
                "mutation($u: String!, $p: String!) { login(username: $u, password: $p) "
                "{ __typename ... on LoginSuccess { token } ... on AuthError { code } } }",
                {"u": username, "p": PASSWORD},
            )
            result = body["data"]["login"]
            assert result["__typename"] == "LoginSuccess", result
            self.tokens[username] = result["token"]
        return self.tokens[username]

    async def raw(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def as_(self, username: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        return await self.raw(query, variables, await self.token(username))


@pytest.fixture
def api(client: httpx.AsyncClient) -> Api:
    return Api(client)


def gid(type_name: str, pk: int) -> str:
    from strawberry.relay import to_base64

    return to_base64(type_name, pk)
