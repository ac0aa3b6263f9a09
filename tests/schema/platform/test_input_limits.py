"""Text arguments and input fields through the API: too long, a lone surrogate or a NUL is refused before any
resolver runs, with one typed error naming the field, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from models import AuditLog, Customer, Job
from tests.factories import Api, World, gid, make_customer
from tests.schema.test_authorization import CREATE, create_input

GRID_NODE = "query($c: String!) { gridNode(code: $c) { name } }"
CUSTOMERS = """query($c: String!, $f: CustomerFilterInput, $after: String) {
  gridNode(code: $c) { customers(filter: $f, after: $after, orderBy: {field: NAME}) {
    totalCount edges { cursor node { name } } } } }"""
ROLL_UP = "mutation($p: String) { rollUpKpis(period: $p) { __typename ... on JobError { code field } } }"


def too_long(field: str, limit: int) -> dict[str, Any]:
    return {
        "code": "VALUE_TOO_LONG",
        "field": field,
        "maxLength": limit,
        "messageZh": f"{field}过长:最多{limit}个字符",
        "messageEn": f"{field} is too long: at most {limit} characters",
    }


@pytest.mark.parametrize(
    ("query", "variables", "field", "limit"),
    [
        (GRID_NODE, {"c": "3" * 33}, "code", 32),
        ("query($k: String) { jobs(kind: $k) { totalCount } }", {"k": "k" * 33}, "kind", 32),
        (CUSTOMERS, {"c": "320324", "f": {"name": "张" * 65}}, "filter.name", 64),
        (CUSTOMERS, {"c": "320324", "f": {"name": "张" * 1_000_000}}, "filter.name", 64),
        (CUSTOMERS, {"c": "320324", "f": {"idNumber": "3" * 33}}, "filter.idNumber", 32),
        (CUSTOMERS, {"c": "320324", "f": {"tags": ["种植户", "户" * 21]}}, "filter.tags[1]", 20),
        (CUSTOMERS, {"c": "320324", "after": "a" * 1025}, "after", 1024),
        ("query($p: String) { gridRoots { kpi(period: $p) { period } } }", {"p": "2026-011"}, "period", 7),
        (ROLL_UP, {"p": "2026-01\n"}, "period", 7),
        ("query($id: ID!) { node(id: $id) { id } }", {"id": "x" * 256}, "id", 255),  # the default limit
        (
            "mutation($o: String!, $n: String!) { changePassword(oldPassword: $o, newPassword: $n) { __typename } }",
            {"o": "x", "n": "n" * 257},
            "newPassword",
            256,
        ),
        (
            "query($f: AuditFilterInput) { auditLog(filter: $f) { totalCount } }",
            {"f": {"targetType": "Customer" * 5}},
            "filter.targetType",
            32,
        ),
    ],
)
async def test_a_too_long_variable_is_refused_naming_the_field(
    api: Api, world: World, query: str, variables: dict[str, Any], field: str, limit: int
) -> None:
    body = await api.as_("head", query, variables)
    assert body["data"] is None
    assert [e["extensions"] for e in body["errors"]] == [too_long(field, limit)]
    assert (
        body["errors"][0]["message"]
        == f"{field}过长:最多{limit}个字符 / {field} is too long: at most {limit} characters"
    )
    assert await Job.all().count() == 0


async def test_the_same_query_is_checked_anew_for_each_requests_values(api: Api, world: World) -> None:
    """The walk over a query's arguments is kept per query text; the values are checked on every request: a
    query answered once is refused when sent again with a too long value, and answered again after."""
    fine = await api.as_("head", CUSTOMERS, {"c": "320324", "f": {"name": "张"}})
    assert "errors" not in fine, fine
    refused = await api.as_("head", CUSTOMERS, {"c": "320324", "f": {"name": "张" * 65}})
    assert refused["data"] is None
    assert [e["extensions"] for e in refused["errors"]] == [too_long("filter.name", 64)]
    again = await api.as_("head", CUSTOMERS, {"c": "320324", "f": {"name": "张"}})
    assert again == fine


async def test_too_long_literals_in_nested_inputs_and_lists_are_refused(api: Api, world: World) -> None:
    long_tag = "户" * 21
    query = (
        'query { gridNode(code: "320324") { customers(filter: {tags: ["种植户", "'
        + long_tag
        + '"]}) { totalCount } } }'
    )
    body = await api.as_("head", query)
    assert body["data"] is None
    assert [e["extensions"] for e in body["errors"]] == [too_long("filter.tags[1]", 20)]
    assert body["errors"][0]["locations"] == [{"line": 1, "column": query.index('"户') + 1}]


async def test_a_refused_mutation_runs_nothing(api: Api, world: World) -> None:
    before = await Customer.all().count()
    body = await api.as_("head", CREATE, {"input": create_input(world, name="张" * 65, idNumber="3" * 40)})
    assert body["data"] is None
    assert [e["extensions"] for e in body["errors"]] == [too_long("input.idNumber", 32), too_long("input.name", 64)]
    assert await Customer.all().count() == before
    assert await AuditLog.filter(action="customer.create").count() == 0


async def test_login_names_and_passwords_have_a_limit(api: Api, world: World) -> None:
    query = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { __typename } }"
    body = await api.raw(query, {"u": "u" * 65, "p": "p" * 257})
    assert [e["extensions"] for e in body["errors"]] == [too_long("username", 64), too_long("password", 256)]


async def test_a_default_limit_applies_to_every_text_argument(api: Api, world: World) -> None:
    body = await api.as_(
        "head",
        "mutation($ids: [ID!]!) { acknowledgeNotifications(ids: $ids) { __typename } }",
        {"ids": [gid("Notification", 1), "n" * 256]},
    )
    assert [e["extensions"] for e in body["errors"]] == [too_long("ids[1]", 255)]


async def test_values_at_the_limit_reach_the_resolver(api: Api, world: World) -> None:
    body = await api.as_("head", GRID_NODE, {"c": "3" * 32})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]
    body = await api.as_("head", CUSTOMERS, {"c": "320324", "f": {"name": "张" * 64, "tags": ["户" * 20]}})
    assert body == {"data": {"gridNode": {"customers": {"totalCount": 0, "edges": []}}}}


@pytest.mark.parametrize(
    ("condition", "code", "field"),
    [
        ({"idNumber": "3" * 32}, "INVALID_ID_NUMBER", "filter.idNumber"),
        ({"idNumber": "32032419850615001"}, "INVALID_ID_NUMBER", "filter.idNumber"),
        ({"phone": "1" * 32}, "INVALID_PHONE", "filter.phone"),
    ],
)
async def test_a_filter_value_that_cannot_be_stored_is_a_typed_error(
    api: Api, world: World, condition: dict[str, str], code: str, field: str
) -> None:
    body = await api.as_("head", CUSTOMERS, {"c": "320324", "f": condition})
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [(code, field)]


async def test_a_cursor_after_the_longest_name_fits_the_limit(api: Api, world: World) -> None:
    await make_customer(world.village1a, world.staff["manager1a"], "欧" * 64)
    first = await api.as_("head", CUSTOMERS, {"c": "320324"})
    edges = first["data"]["gridNode"]["customers"]["edges"]
    longest = next(e["cursor"] for e in edges if e["node"]["name"] == "欧" * 64)
    assert 512 < len(longest) <= 1024
    after = await api.as_("head", CUSTOMERS, {"c": "320324", "after": longest})
    assert "errors" not in after


async def _post_raw(client: httpx.AsyncClient, api: Api, query: str, variables: str) -> Any:
    """Variables sent as JSON text, for values httpx would refuse to encode (a lone surrogate escape)."""
    body = '{"query": ' + json.dumps(query) + ', "variables": ' + variables + "}"
    response = await client.post(
        "/graphql",
        content=body.encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {await api.token('head')}"},
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        (GRID_NODE, '{"c": "\\ud800"}', "code"),
        (GRID_NODE, '{"c": "320\\udfff324"}', "code"),
        (CUSTOMERS, '{"c": "320324", "f": {"name": "\\ud83d"}}', "filter.name"),
        (CUSTOMERS, '{"c": "320324", "f": {"tags": ["ok", "\\udc00"]}}', "filter.tags[1]"),
    ],
)
async def test_a_lone_surrogate_is_refused(
    client: httpx.AsyncClient, api: Api, world: World, query: str, variables: str, field: str
) -> None:
    body = await _post_raw(client, api, query, variables)
    assert body["data"] is None
    assert [e["extensions"] for e in body["errors"]] == [
        {
            "code": "INVALID_VALUE",
            "field": field,
            "messageZh": f"{field}含有无效字符(孤立的代理码位)",
            "messageEn": f"{field} contains an invalid character (a lone surrogate)",
        }
    ]


async def test_a_surrogate_pair_is_an_ordinary_character(client: httpx.AsyncClient, api: Api, world: World) -> None:
    body = await _post_raw(client, api, GRID_NODE, '{"c": "\\ud83d\\ude00"}')
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        (GRID_NODE, {"c": "320324\x00"}, "code"),
        (CUSTOMERS, {"c": "320324", "f": {"name": "张\x00"}}, "filter.name"),
    ],
)
async def test_a_nul_character_is_refused(
    api: Api, world: World, query: str, variables: dict[str, Any], field: str
) -> None:
    body = await api.as_("head", query, variables)
    assert body["data"] is None
    assert [e["extensions"] for e in body["errors"]] == [
        {
            "code": "INVALID_VALUE",
            "field": field,
            "messageZh": f"{field}含有空字符(NUL)",
            "messageEn": f"{field} contains a NUL character",
        }
    ]


async def test_a_name_with_a_nul_is_refused_before_filing(api: Api, world: World) -> None:
    body = await api.as_("head", CREATE, {"input": create_input(world, name="赵\x00四")})
    assert [e["extensions"]["field"] for e in body["errors"]] == ["input.name"]
    assert await Customer.filter(name__startswith="赵").count() == 0
