"""The HTTP surface: signing in, bearer tokens, query limits, GraphQL over HTTP, error masking, introspection
and the health endpoints — all through the ASGI app, as a client sees them."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from graphql.language import Lexer, Source, TokenKind
from tortoise import connections
from tortoise.exceptions import OperationalError

import resolvers.grid.browse
from app import create_app
from domain.errors import DomainError
from domain.staff.errors import AuthErrorCode
from models import AuditLog, Customer, LoginPairThrottle, LoginThrottle, Staff
from resolvers.platform import auth
from settings import SETTINGS, SettingsError, load_settings
from tests.factories import PASSWORD, Api, World, gid, new_id_number

LOGIN = (
    "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { __typename "
    "... on LoginSuccess { token expiresAt staff { username } } "
    "... on AuthError { code field message messageZh messageEn } } }"
)
VIEWER = "{ viewer { staff { username } } }"
GRAPHQL_RESPONSE = "application/graphql-response+json"
GENERATED_REQUEST_ID = re.compile(r"[0-9a-f]{32}")

BAD_CREDENTIALS = {
    "__typename": "AuthError",
    "code": "INVALID_CREDENTIALS",
    "field": "password",
    "message": "用户名或密码错误 / wrong login name or password",
    "messageZh": "用户名或密码错误",
    "messageEn": "wrong login name or password",
}
PAIR_REFUSED = {
    "__typename": "AuthError",
    "code": "TOO_MANY_ATTEMPTS",
    "field": "username",
    "message": "该登录名在此地址登录失败次数过多,请5分钟后再试 / "
    "too many failed sign-ins with this login name from this address; try again in 5 minutes",
    "messageZh": "该登录名在此地址登录失败次数过多,请5分钟后再试",
    "messageEn": "too many failed sign-ins with this login name from this address; try again in 5 minutes",
}
TOKEN_INVALID = "无效的登录凭证 / the token is not valid"
TOKEN_EXPIRED = "登录已过期,请重新登录 / the token has expired; sign in again"
TOKEN_REVOKED = "登录凭证已失效,请重新登录 / the token has been revoked; sign in again"
NOT_BEARER = "无效的登录凭证 / the Authorization header must be: Bearer <token>"


async def login(
    client: httpx.AsyncClient, username: str, password: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": LOGIN, "variables": {"u": username, "p": password}}, headers=headers or {}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["login"]  # type: ignore[no-any-return]


async def post(
    client: httpx.AsyncClient, query: str, token: str | None = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    sent = dict(headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    return await client.post("/graphql", json={"query": query}, headers=sent)


def claims(staff: Staff, *, issued: datetime, lifetime: timedelta) -> dict[str, Any]:
    return {
        "sub": str(staff.id),
        "ver": staff.token_version,
        "jti": "test-token",
        "iat": issued,
        "exp": issued + lifetime,
    }


def assert_unauthorized(response: httpx.Response, message: str) -> None:
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    request_id = response.headers["x-request-id"]
    assert response.json() == {
        "errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED", "requestId": request_id}}]
    }
    assert "Traceback" not in response.text


def deep_grid_query(depth: int) -> str:
    """gridRoots with fields nested under it until the deepest field sits at `depth` (gridRoots at 0),
    walking down and up the grid (children, parent, children, ...) so every level has data."""
    steps = [("children" if i % 2 == 0 else "parent") for i in range(depth - 1)]
    return "query Deep { gridRoots " + "".join("{ " + s + " " for s in steps) + "{ name }" + " }" * len(steps) + " }"


def token_count(query: str) -> int:
    lexer = Lexer(Source(query))
    count = 0
    while lexer.advance().kind != TokenKind.EOF:
        count += 1
    return count


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


# --- signing in -------------------------------------------------------------------------------------------


async def test_login_with_the_right_password_gives_a_working_token(world: World, client: httpx.AsyncClient) -> None:
    before = datetime.now(UTC)
    result = await login(client, "manager1a", PASSWORD)

    assert result["__typename"] == "LoginSuccess"
    assert result["staff"] == {"username": "manager1a"}
    expires_at = datetime.fromisoformat(result["expiresAt"])
    ttl = timedelta(seconds=SETTINGS.token_ttl_seconds)
    assert before + ttl <= expires_at <= datetime.now(UTC) + ttl
    response = await post(client, VIEWER, result["token"])
    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": {"staff": {"username": "manager1a"}}}}


async def test_login_with_a_wrong_password_is_invalid_credentials(world: World, client: httpx.AsyncClient) -> None:
    assert await login(client, "manager1a", "wrong password") == BAD_CREDENTIALS

    pair = await LoginPairThrottle.get(login_name="manager1a", address="127.0.0.1")
    assert (pair.failures, pair.blocked_until) == (1, None)


async def test_login_of_an_unknown_user_looks_like_a_wrong_password(world: World, client: httpx.AsyncClient) -> None:
    assert await login(client, "nobody", PASSWORD) == BAD_CREDENTIALS


async def test_login_of_inactive_staff_looks_like_a_wrong_password(world: World, client: httpx.AsyncClient) -> None:
    await Staff.filter(username="manager1a").update(is_active=False)

    assert await login(client, "manager1a", PASSWORD) == BAD_CREDENTIALS
    assert await AuditLog.filter(action="login").count() == 0


async def test_a_stranger_failing_on_an_account_is_refused_and_the_owner_signs_in_elsewhere(
    app: Any, world: World, client: httpx.AsyncClient
) -> None:
    before = datetime.now(UTC)
    for _ in range(SETTINGS.login_max_failures):
        assert await login(client, "manager1a", "wrong password") == BAD_CREDENTIALS

    assert await login(client, "manager1a", PASSWORD) == PAIR_REFUSED  # even the right password, from here
    assert await login(client, "manager1a", "wrong password") == PAIR_REFUSED
    pair = await LoginPairThrottle.get(login_name="manager1a", address="127.0.0.1")
    lockout = timedelta(seconds=SETTINGS.login_lockout_seconds)
    assert pair.blocked_until is not None
    assert before + lockout <= pair.blocked_until <= datetime.now(UTC) + lockout
    assert await AuditLog.filter(action="login").count() == 0

    # the owner, on their own device, is not locked out; nor is anyone else from the stranger's address
    own_device = httpx.ASGITransport(app=app, client=("10.9.8.7", 5000))
    async with httpx.AsyncClient(transport=own_device, base_url="http://testserver") as owner:
        assert (await login(owner, "manager1a", PASSWORD))["__typename"] == "LoginSuccess"
    assert (await login(client, "manager1b", PASSWORD))["__typename"] == "LoginSuccess"
    assert await AuditLog.filter(action="login").count() == 2


async def test_unknown_and_real_login_names_get_identical_answers(world: World, client: httpx.AsyncClient) -> None:
    real = [await login(client, "manager1a", "wrong password") for _ in range(SETTINGS.login_max_failures + 1)]
    made_up = [await login(client, "nosuchuser", "wrong password") for _ in range(SETTINGS.login_max_failures + 1)]

    assert real == made_up == [BAD_CREDENTIALS] * SETTINGS.login_max_failures + [PAIR_REFUSED]
    pairs = await LoginPairThrottle.all().order_by("login_name").values_list("login_name", "failures")
    assert pairs == [("manager1a", 0), ("nosuchuser", 0)]  # both refused for a while, counts started again
    failed = await AuditLog.filter(action="login.failed").order_by("id").values_list("target_type", "target_id")
    staff_id = str(world.staff["manager1a"].id)
    n = SETTINGS.login_max_failures
    assert failed == [("Staff", staff_id)] * n + [("Login", "nosuchuser")] * n


async def test_login_after_the_refusal_has_passed_succeeds_and_clears_it(
    world: World, client: httpx.AsyncClient
) -> None:
    await LoginPairThrottle.create(
        login_name="manager1a",
        address="127.0.0.1",
        failures=2,
        window_started=datetime.now(UTC) - timedelta(minutes=10),
        blocked_until=datetime.now(UTC) - timedelta(seconds=1),
    )

    result = await login(client, "manager1a", PASSWORD)

    assert result["__typename"] == "LoginSuccess"
    assert await LoginPairThrottle.all().count() == 0


async def test_an_address_failing_across_many_accounts_is_refused_for_a_while(
    app: Any, world: World, client: httpx.AsyncClient
) -> None:
    limit = SETTINGS.login_address_max_failures
    for n in range(limit - 1):  # guessing at accounts that do not exist, and one that does
        assert await login(client, f"guess{n}", "123456") == BAD_CREDENTIALS
    assert await login(client, "manager1b", "123456") == BAD_CREDENTIALS

    refused = await login(client, "manager1a", PASSWORD)  # even the right password: nothing is looked at
    assert (refused["code"], refused["field"]) == ("TOO_MANY_ATTEMPTS", None)
    assert refused["messageEn"] == "too many failed sign-ins from this address; try again in 15 minutes"
    assert not await LoginPairThrottle.exists(login_name="manager1a")
    assert await AuditLog.filter(action="login").count() == 0
    assert await AuditLog.filter(action="login.address_blocked", target_id="127.0.0.1").count() == 1

    # another address signs in as usual
    elsewhere = httpx.ASGITransport(app=app, client=("10.20.30.40", 5000))
    async with httpx.AsyncClient(transport=elsewhere, base_url="http://testserver") as other:
        assert (await login(other, "manager1a", PASSWORD))["__typename"] == "LoginSuccess"


async def test_an_address_is_let_in_again_once_its_window_has_passed(world: World) -> None:
    now = datetime.now(UTC)
    await LoginThrottle.create(
        address="10.1.1.1", failures=0, window_started=now, blocked_until=now + timedelta(minutes=15)
    )
    with pytest.raises(DomainError) as refused:
        await auth.login("manager1a", PASSWORD, client="10.1.1.1", now=now)
    assert refused.value.code == AuthErrorCode.TOO_MANY_ATTEMPTS
    later = now + timedelta(minutes=15, seconds=1)
    assert (await auth.login("manager1a", PASSWORD, client="10.1.1.1", now=later)).staff.username == "manager1a"
    # failures of an old window are forgotten: one more failure starts a new count at 1
    await LoginThrottle.filter(address="10.1.1.1").update(
        failures=SETTINGS.login_address_max_failures - 1, window_started=now - timedelta(hours=1)
    )
    with pytest.raises(DomainError):
        await auth.login("manager1a", "wrong", client="10.1.1.1", now=later)
    throttle = await LoginThrottle.get(address="10.1.1.1")
    assert throttle.failures == 1
    assert throttle.blocked_until is not None
    assert throttle.blocked_until <= later  # not blocked again


async def test_login_lockout_counts_concurrent_wrong_passwords(world: World, client: httpx.AsyncClient) -> None:
    """Guessing in parallel must cost the same as guessing one after another."""
    attempts = [login(client, "manager1a", "wrong password") for _ in range(SETTINGS.login_max_failures)]
    assert await asyncio.gather(*attempts) == [BAD_CREDENTIALS] * SETTINGS.login_max_failures

    assert await login(client, "manager1a", PASSWORD) == PAIR_REFUSED
    pair = await LoginPairThrottle.get(login_name="manager1a", address="127.0.0.1")
    assert pair.blocked_until is not None


async def test_successful_login_resets_the_failure_count(world: World, client: httpx.AsyncClient) -> None:
    for _ in range(SETTINGS.login_max_failures - 1):
        await login(client, "manager1a", "wrong password")
    pair = await LoginPairThrottle.get(login_name="manager1a", address="127.0.0.1")
    assert pair.failures == SETTINGS.login_max_failures - 1

    assert (await login(client, "manager1a", PASSWORD))["__typename"] == "LoginSuccess"

    assert await LoginPairThrottle.all().count() == 0
    # the count starts again from zero: one more wrong password does not lock
    assert await login(client, "manager1a", "wrong password") == BAD_CREDENTIALS
    assert (await login(client, "manager1a", PASSWORD))["__typename"] == "LoginSuccess"


async def test_login_is_audited_with_the_request_id(world: World, client: httpx.AsyncClient) -> None:
    staff = world.staff["manager1a"]
    await login(client, "manager1a", "wrong password", headers={"X-Request-ID": "failed-login-0001"})
    await login(client, "manager1a", PASSWORD, headers={"X-Request-ID": "good-login-0001"})

    rows = (
        await AuditLog.all()
        .order_by("id")
        .values("actor_id", "actor_username", "action", "target_type", "target_id", "request_id")
    )
    assert rows == [
        {
            "actor_id": staff.id,
            "actor_username": "manager1a",
            "action": "login.failed",
            "target_type": "Staff",
            "target_id": str(staff.id),
            "request_id": "failed-login-0001",
        },
        {
            "actor_id": staff.id,
            "actor_username": "manager1a",
            "action": "login",
            "target_type": "Staff",
            "target_id": str(staff.id),
            "request_id": "good-login-0001",
        },
    ]


# --- bearer tokens ----------------------------------------------------------------------------------------


async def test_no_token_is_unauthenticated_inside_graphql(world: World, client: httpx.AsyncClient) -> None:
    response = await post(client, VIEWER)

    assert response.status_code == 200
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": "请先登录 / sign in first",
                "locations": [{"line": 1, "column": 3}],
                "path": ["viewer"],
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ],
    }


async def test_forged_token_is_refused(world: World, client: httpx.AsyncClient) -> None:
    staff = await Staff.get(username="head")
    forged = jwt.encode(
        claims(staff, issued=datetime.now(UTC), lifetime=timedelta(hours=1)),
        "not-the-server-key-but-long-enough-for-hs256",
        algorithm="HS256",
    )

    assert_unauthorized(await post(client, VIEWER, forged), TOKEN_INVALID)


async def test_unsigned_token_is_refused(world: World, client: httpx.AsyncClient) -> None:
    staff = await Staff.get(username="head")
    unsigned = jwt.encode(claims(staff, issued=datetime.now(UTC), lifetime=timedelta(hours=1)), None, algorithm="none")

    assert_unauthorized(await post(client, VIEWER, unsigned), TOKEN_INVALID)


async def test_garbage_token_is_refused(world: World, client: httpx.AsyncClient) -> None:
    assert_unauthorized(await post(client, VIEWER, "this.is-not.a-jwt"), TOKEN_INVALID)


async def test_token_without_version_is_refused(world: World, client: httpx.AsyncClient) -> None:
    staff = await Staff.get(username="head")
    payload = claims(staff, issued=datetime.now(UTC), lifetime=timedelta(hours=1))
    del payload["ver"]
    token = jwt.encode(payload, SETTINGS.secret_key, algorithm="HS256")

    assert_unauthorized(await post(client, VIEWER, token), TOKEN_INVALID)


async def test_expired_token_is_refused(world: World, client: httpx.AsyncClient) -> None:
    staff = await Staff.get(username="head")
    payload = claims(staff, issued=datetime.now(UTC) - timedelta(hours=2), lifetime=timedelta(hours=1))
    expired = jwt.encode(payload, SETTINGS.secret_key, algorithm="HS256")

    assert_unauthorized(await post(client, VIEWER, expired), TOKEN_EXPIRED)


async def test_token_signed_with_the_server_key_is_accepted(world: World, client: httpx.AsyncClient) -> None:
    staff = await Staff.get(username="head")
    token = jwt.encode(
        claims(staff, issued=datetime.now(UTC), lifetime=timedelta(hours=1)),
        SETTINGS.secret_key,
        algorithm="HS256",
    )

    response = await post(client, VIEWER, token)

    assert response.json() == {"data": {"viewer": {"staff": {"username": "head"}}}}


async def test_revoked_token_is_refused_before_anything_runs(api: Api, world: World, client: httpx.AsyncClient) -> None:
    token = await api.token("manager1a")
    assert (await post(client, VIEWER, token)).status_code == 200
    staff = await Staff.get(username="manager1a")
    staff.token_version += 1
    await staff.save(update_fields=["token_version"])
    customers_before = await Customer.all().count()
    village = gid("GridNode", world.village1a.id)
    create = (
        f'mutation {{ createCustomer(input: {{idNumber: "{new_id_number()}", name: "赵四", '
        f'villageId: "{village}"}}) {{ __typename }} }}'
    )

    assert_unauthorized(await post(client, VIEWER, token), TOKEN_REVOKED)
    assert_unauthorized(await post(client, create, token), TOKEN_REVOKED)
    assert await Customer.all().count() == customers_before


async def test_token_of_deactivated_staff_is_refused(api: Api, world: World, client: httpx.AsyncClient) -> None:
    token = await api.token("manager1a")
    assert (await post(client, VIEWER, token)).status_code == 200
    await Staff.filter(username="manager1a").update(is_active=False)

    assert_unauthorized(await post(client, VIEWER, token), TOKEN_REVOKED)


async def test_authorization_header_must_be_bearer(api: Api, world: World, client: httpx.AsyncClient) -> None:
    token = await api.token("head")

    basic = await client.post("/graphql", json={"query": VIEWER}, headers={"Authorization": "Basic aGVhZDp4"})
    assert_unauthorized(basic, NOT_BEARER)
    empty = await client.post("/graphql", json={"query": VIEWER}, headers={"Authorization": "Bearer  "})
    assert_unauthorized(empty, NOT_BEARER)
    lower_case = await client.post("/graphql", json={"query": VIEWER}, headers={"Authorization": f"bearer {token}"})
    assert lower_case.json() == {"data": {"viewer": {"staff": {"username": "head"}}}}


# --- query limits -----------------------------------------------------------------------------------------


@pytest.fixture
async def uncapped(database: Any) -> AsyncIterator[Api]:
    """The API with no cost budget to speak of, to test the depth limit alone: walking down and up the grid
    to depth 10 costs far more than a request may."""
    app = create_app(replace(SETTINGS, max_query_cost=10**12), manage_orm=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield Api(http)


async def test_query_at_the_depth_limit_runs(uncapped: Api, world: World) -> None:
    body = await uncapped.as_("head", deep_grid_query(SETTINGS.max_query_depth))

    assert "errors" not in body
    level: Any = body["data"]["gridRoots"][0]
    steps = SETTINGS.max_query_depth - 1
    for i in range(steps):
        level = level["children"][0] if i % 2 == 0 else level["parent"]
    # down to the first township, back up to the county, and so on
    assert level == {"name": "王集镇" if steps % 2 else "睢宁县"}


async def test_query_deeper_than_the_limit_is_refused_unexecuted(
    uncapped: Api, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    called: list[object] = []
    original = resolvers.grid.browse.roots

    async def spy(actor: Any) -> Any:
        called.append(actor)
        return await original(actor)

    monkeypatch.setattr(resolvers.grid.browse, "roots", spy)

    body = await uncapped.as_("head", deep_grid_query(SETTINGS.max_query_depth + 1))

    assert body["data"] is None
    assert [e["message"] for e in body["errors"]] == [
        f"'Deep' exceeds maximum operation depth of {SETTINGS.max_query_depth}"
    ]
    assert called == []


async def test_aliases_up_to_the_limit_run(api: Api, world: World) -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(SETTINGS.max_query_aliases)) + " }"

    body = await api.as_("head", query)

    assert body == {"data": {f"a{i}": "Query" for i in range(SETTINGS.max_query_aliases)}}


async def test_too_many_aliases_are_refused(api: Api, world: World) -> None:
    count = SETTINGS.max_query_aliases + 1
    query = "{ " + " ".join(f"r{i}: gridRoots {{ name }}" for i in range(count)) + " }"

    body = await api.as_("head", query)

    assert body == {
        "data": None,
        "errors": [{"message": f"{count} aliases found. Allowed: {SETTINGS.max_query_aliases}"}],
    }


def query_of_tokens(total: int) -> str:
    """A valid query of exactly `total` tokens: fragment spreads (two tokens each), a field for an odd one."""
    frame = "query Padded {{ {} }} fragment F on Query {{ __typename }}"
    padding = total - token_count(frame.format(""))
    query = frame.format(" ".join(["...F"] * (padding // 2) + ["__typename"] * (padding % 2)))
    assert token_count(query) == total
    return query


async def test_query_at_the_token_limit_runs(api: Api, world: World) -> None:
    body = await api.as_("head", query_of_tokens(SETTINGS.max_query_tokens))

    assert body == {"data": {"__typename": "Query"}}


async def test_query_over_the_token_limit_is_refused(api: Api, world: World) -> None:
    body = await api.as_("head", query_of_tokens(SETTINGS.max_query_tokens + 1))

    assert body["data"] is None
    assert [e["message"] for e in body["errors"]] == [
        f"Syntax Error: Document contains more than {SETTINGS.max_query_tokens} tokens. Parsing aborted."
    ]


async def test_query_within_the_limits_cannot_exhaust_the_stack(api: Api, world: World) -> None:
    """The limits bound what one request may cost; a tag filter that fits in them must still be answered
    (no customer has that many tags, so nothing matches) or refused as invalid input — never fail."""
    node = gid("GridNode", world.county.id)
    tags = " ".join(f'"t{i}"' for i in range(SETTINGS.max_query_tokens // 2))
    query = f'{{ customers(nodeId: "{node}", filter: {{tags: [{tags}]}}) {{ totalCount }} }}'
    assert token_count(query) <= SETTINGS.max_query_tokens

    body = await api.as_("head", query)

    codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
    assert body == {"data": {"customers": {"totalCount": 0}}} or codes == ["INVALID_VALUE"], codes


async def test_page_larger_than_the_cap_is_refused(api: Api, world: World) -> None:
    node = gid("GridNode", world.county.id)

    too_large = await api.as_(
        "head", f'{{ customers(nodeId: "{node}", first: {SETTINGS.page_cap + 1}) {{ totalCount }} }}'
    )
    negative = await api.as_("head", f'{{ customers(nodeId: "{node}", first: -1) {{ totalCount }} }}')
    at_cap = await api.as_("head", f'{{ customers(nodeId: "{node}", first: {SETTINGS.page_cap}) {{ totalCount }} }}')

    for body in (too_large, negative):
        assert body["data"] is None
        assert [(e["path"], e["extensions"]) for e in body["errors"]] == [
            (
                ["customers"],
                {
                    "code": "PAGE_TOO_LARGE",
                    "field": "first",
                    "messageZh": f"每页条数须在0到{SETTINGS.page_cap}之间",
                    "messageEn": f"first must be between 0 and {SETTINGS.page_cap}",
                },
            )
        ]
    assert at_cap == {"data": {"customers": {"totalCount": 3}}}


async def test_cursor_from_a_page_reads_the_next_page(api: Api, world: World) -> None:
    node = gid("GridNode", world.county.id)
    selection = "{ edges { node { name } } pageInfo { hasNextPage endCursor } }"

    first = await api.as_("head", f'{{ customers(nodeId: "{node}", first: 1) {selection} }}')
    end = first["data"]["customers"]["pageInfo"]["endCursor"]
    second = await api.as_("head", f'{{ customers(nodeId: "{node}", first: 1, after: "{end}") {selection} }}')

    assert first["data"]["customers"]["edges"] == [{"node": {"name": "张一"}}]
    assert first["data"]["customers"]["pageInfo"]["hasNextPage"] is True
    assert second["data"]["customers"]["edges"] == [{"node": {"name": "李二"}}]
    assert second["data"]["customers"]["pageInfo"]["endCursor"] != end


async def test_garbage_cursor_is_invalid(api: Api, world: World) -> None:
    node = gid("GridNode", world.county.id)

    for after in ("garbage", cursor("o:-5"), cursor("x:1"), cursor("o:one")):
        body = await api.as_("head", f'{{ customers(nodeId: "{node}", after: "{after}") {{ totalCount }} }}')
        assert body["data"] is None
        assert [(e["path"], e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [
            (["customers"], "INVALID_CURSOR", "after")
        ]


@pytest.mark.parametrize(
    "key",
    [
        ["张一", "1"],  # an id that is not a number
        ["张一", 1, 2],  # more values than the ordering has
        [None, 1],  # a name that is not text
        ["张一", 10**30],  # an id beyond any integer column: refused, not sent to the database
    ],
)
async def test_a_cursor_with_a_key_we_never_issued_is_invalid(api: Api, world: World, key: list[object]) -> None:
    node = gid("GridNode", world.county.id)
    forged = cursor(json.dumps({"v": "k1", "o": ["name", "id"], "k": key}))

    body = await api.as_("head", f'{{ customers(nodeId: "{node}", after: "{forged}") {{ totalCount }} }}')

    assert body["data"] is None
    assert [(e["extensions"]["code"], e["extensions"].get("field")) for e in body["errors"]] == [
        ("INVALID_CURSOR", "after")
    ]


# --- GraphQL over HTTP ------------------------------------------------------------------------------------


async def test_graphql_response_media_type_is_negotiated(api: Api, world: World, client: httpx.AsyncClient) -> None:
    token = await api.token("head")

    response = await post(client, VIEWER, token, headers={"Accept": GRAPHQL_RESPONSE})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json() == {"data": {"viewer": {"staff": {"username": "head"}}}}


async def test_request_errors_are_400_with_graphql_response(world: World, client: httpx.AsyncClient) -> None:
    accept = {"Accept": GRAPHQL_RESPONSE}

    syntax = await post(client, "{ viewer { staff { username }", headers=accept)
    invalid = await post(client, "{ viewer { nope } }", headers=accept)

    assert syntax.status_code == 400
    assert syntax.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert [e["message"] for e in syntax.json()["errors"]] == ["Syntax Error: Expected Name, found <EOF>."]
    assert invalid.status_code == 400
    assert invalid.json() == {
        "errors": [
            {
                "message": "Cannot query field 'nope' on type 'Viewer'. Did you mean 'home' or 'scope'?",
                "locations": [{"line": 1, "column": 12}],
            }
        ]
    }
    assert "data" not in syntax.json()


async def test_execution_errors_stay_200_with_graphql_response(world: World, client: httpx.AsyncClient) -> None:
    response = await post(client, VIEWER, headers={"Accept": GRAPHQL_RESPONSE})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}


async def test_request_errors_are_200_with_plain_json(world: World, client: httpx.AsyncClient) -> None:
    for accept in ("application/json", f"application/json, {GRAPHQL_RESPONSE};q=0.5"):
        response = await post(client, "{ viewer { staff { username }", headers={"Accept": accept})

        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {
            "data": None,
            "errors": [
                {
                    "message": "Syntax Error: Expected Name, found <EOF>.",
                    "locations": [{"line": 1, "column": 30}],
                }
            ],
        }


async def test_query_over_get_runs(api: Api, world: World, client: httpx.AsyncClient) -> None:
    token = await api.token("head")

    anonymous = await client.get("/graphql", params={"query": "{ __typename }"})
    signed_in = await client.get("/graphql", params={"query": VIEWER}, headers={"Authorization": f"Bearer {token}"})

    assert anonymous.status_code == 200
    assert anonymous.json() == {"data": {"__typename": "Query"}}
    assert signed_in.status_code == 200
    assert signed_in.json() == {"data": {"viewer": {"staff": {"username": "head"}}}}


async def test_mutation_over_get_is_refused_and_not_run(world: World, client: httpx.AsyncClient) -> None:
    mutation = 'mutation { login(username: "manager1a", password: "wrong password") { __typename } }'

    response = await client.get("/graphql", params={"query": mutation})

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "errors": [
            {
                "message": "请求无效 / mutations are not allowed when using GET",
                "extensions": {
                    "code": "BAD_REQUEST",
                    "messageZh": "请求无效",
                    "messageEn": "mutations are not allowed when using GET",
                },
            }
        ]
    }
    assert await AuditLog.all().count() == 0
    assert await LoginPairThrottle.all().count() == 0


async def test_every_response_carries_a_request_id(api: Api, world: World, client: httpx.AsyncClient) -> None:
    token = await api.token("head")
    responses = [
        await client.get("/healthz"),
        await client.get("/graphql", params={"query": "{ __typename }"}),
        await post(client, VIEWER, token),
        await post(client, VIEWER, "garbage"),
        await client.get("/graphql", params={"query": "mutation { __typename }"}),
    ]

    ids = [r.headers["x-request-id"] for r in responses]
    assert [r.status_code for r in responses] == [200, 200, 200, 401, 400]
    assert all(GENERATED_REQUEST_ID.fullmatch(i) for i in ids), ids
    assert len(set(ids)) == len(ids)


async def test_a_sane_request_id_is_echoed_and_others_replaced(world: World, client: httpx.AsyncClient) -> None:
    echoed = await client.get("/healthz", headers={"X-Request-ID": "client-req_0001.a"})
    refused_401 = await post(client, VIEWER, "garbage", headers={"X-Request-ID": "client-req_0002"})

    assert echoed.headers["x-request-id"] == "client-req_0001.a"
    assert refused_401.headers["x-request-id"] == "client-req_0002"
    assert refused_401.json()["errors"][0]["extensions"]["requestId"] == "client-req_0002"
    for insane in ("short", "has space in it", "x" * 65, "semi;colon-0001"):
        replaced = await client.get("/healthz", headers={"X-Request-ID": insane})
        assert GENERATED_REQUEST_ID.fullmatch(replaced.headers["x-request-id"])


# --- masking unexpected errors ----------------------------------------------------------------------------


async def test_unexpected_error_is_masked_with_the_request_id(
    api: Api,
    world: World,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = await api.token("head")

    async def broken(actor: Any) -> Any:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(resolvers.grid.browse, "roots", broken)

    with caplog.at_level(logging.ERROR, logger="palmcredit.graphql"):
        response = await post(client, "{ gridRoots { name } }", token)

    assert response.status_code == 200
    assert "secret detail" not in response.text
    assert "Traceback" not in response.text
    request_id = response.headers["x-request-id"]
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": f"服务内部错误,请联系管理员并提供请求号 {request_id} / "
                f"internal error, request id {request_id}",
                "locations": [{"line": 1, "column": 3}],
                "path": ["gridRoots"],
                "extensions": {"code": "INTERNAL", "requestId": request_id},
            }
        ],
    }
    logged = [r for r in caplog.records if r.name == "palmcredit.graphql"]
    assert [r.getMessage() for r in logged] == [f"unexpected error in gridRoots (request {request_id})"]
    assert logged[0].exc_info is not None
    assert str(logged[0].exc_info[1]) == "secret detail"


async def test_validation_errors_are_not_masked(api: Api, world: World) -> None:
    body = await api.as_("head", "{ viewer { nope } }")

    assert body == {
        "data": None,
        "errors": [
            {
                "message": "Cannot query field 'nope' on type 'Viewer'. Did you mean 'home' or 'scope'?",
                "locations": [{"line": 1, "column": 12}],
            }
        ],
    }


# --- introspection and settings ---------------------------------------------------------------------------


async def test_introspection_and_graphiql_in_development(world: World, client: httpx.AsyncClient) -> None:
    response = await post(client, "{ __schema { queryType { name } } }")
    graphiql = await client.get("/graphql", headers={"Accept": "text/html"})

    assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert graphiql.status_code == 200
    assert graphiql.headers["content-type"] == "text/html; charset=utf-8"
    assert "GraphiQL" in graphiql.text


async def test_production_refuses_introspection_and_graphiql(world: World) -> None:
    settings = load_settings(
        {"PALMCREDIT_PRODUCTION": "1", "SECRET_KEY": "x" * 40, "DATABASE_URL": "sqlite://:memory:"}
    )
    production = create_app(settings, manage_orm=False)
    transport = httpx.ASGITransport(app=production)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        schema = await post(http, "{ __schema { queryType { name } } }")
        named_type = await post(http, '{ __type(name: "Query") { name } }')
        typename = await post(http, "{ __typename }")
        graphiql = await http.get("/graphql", headers={"Accept": "text/html"})

    assert schema.status_code == 200
    assert schema.json()["data"] is None
    assert [e["message"] for e in schema.json()["errors"]] == [
        "GraphQL introspection has been disabled, but the requested query contained the field '__schema'.",
        "GraphQL introspection has been disabled, but the requested query contained the field 'queryType'.",
    ]
    assert named_type.json()["data"] is None
    assert [e["message"] for e in named_type.json()["errors"]] == [
        "GraphQL introspection has been disabled, but the requested query contained the field '__type'."
    ]
    assert typename.json() == {"data": {"__typename": "Query"}}
    assert graphiql.status_code == 404
    assert "GraphiQL" not in graphiql.text


def test_production_settings_need_a_real_secret_key() -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY must be set"):
        load_settings({"PALMCREDIT_PRODUCTION": "1"})
    with pytest.raises(SettingsError, match="at least 32 characters"):
        load_settings({"PALMCREDIT_PRODUCTION": "1", "SECRET_KEY": "x" * 31})

    settings = load_settings({"PALMCREDIT_PRODUCTION": "1", "SECRET_KEY": "k" * 32})
    assert (settings.production, settings.secret_key) == (True, "k" * 32)
    assert load_settings({}).production is False


# --- health -----------------------------------------------------------------------------------------------


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_checks_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    expected = {"database": "ok"} | ({"queue": "ok"} if SETTINGS.redis_url else {})
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": expected}


async def test_readyz_is_503_when_the_database_is_unreachable(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def down(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection refused")

    monkeypatch.setattr(type(connections.get("default")), "execute_query", down)

    response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["status"] == "not ready"
    assert response.json()["checks"]["database"] == "unreachable: OperationalError"
    assert "Traceback" not in response.text


# --- bodies the server cannot decode, operations it cannot choose ----------------------------------------


def bad_request(message_zh: str, message_en: str) -> dict[str, Any]:
    return {
        "errors": [
            {
                "message": f"{message_zh} / {message_en}",
                "extensions": {"code": "BAD_REQUEST", "messageZh": message_zh, "messageEn": message_en},
            }
        ]
    }


TOO_DEEP = bad_request("请求的 JSON 嵌套超过 64 层", "the request's JSON is nested deeper than 64")


@pytest.mark.parametrize(("entry", "levels"), [("variables", 100_000), ("extensions", 50_000), ("variables", 65)])
async def test_json_nested_too_deep_is_a_400(client: httpx.AsyncClient, entry: str, levels: int) -> None:
    body = '{"query": "{ __typename }", "%s": {"a": %s}}' % (entry, "[" * levels + "]" * levels)  # noqa: UP031

    response = await client.post("/graphql", content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json() == TOO_DEEP


async def test_json_nested_within_the_limit_is_answered(client: httpx.AsyncClient) -> None:
    body = '{"query": "{ __typename }", "extensions": {"a": %s}}' % ("[" * 62 + "]" * 62)

    response = await client.post("/graphql", content=body, headers={"Content-Type": "application/json"})

    assert response.json() == {"data": {"__typename": "Query"}}


async def test_deep_variables_over_get_are_a_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "{ __typename }", "variables": "[" * 5_000})

    assert response.status_code == 400
    assert response.json() == TOO_DEEP


@pytest.mark.parametrize(
    ("body", "message_zh", "message_en"),
    [
        (b'{"query": "{ __typename }", "x": "\xff\xfe"}', "请求体不是 UTF-8 编码", "the request body is not UTF-8"),
        (b'{"query": ', "请求体不是合法的 JSON", "the request body is not valid JSON"),
        (b'"{ __typename }"', "请求体须是 JSON 对象", "the request body must be a JSON object"),
        (b"null", "请求体须是 JSON 对象", "the request body must be a JSON object"),
    ],
)
async def test_a_body_that_does_not_decode_is_a_400(
    client: httpx.AsyncClient, body: bytes, message_zh: str, message_en: str
) -> None:
    response = await client.post("/graphql", content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json() == bad_request(message_zh, message_en)


async def test_two_operations_need_an_operation_name(world: World, client: httpx.AsyncClient) -> None:
    document = 'query Mine { viewer { staff { username } } } mutation Guess { login(username: "manager1a", ' \
        'password: "wrong password") { __typename } }'  # fmt: skip

    unnamed = await client.post("/graphql", json={"query": document})
    strict = await client.post("/graphql", json={"query": document}, headers={"Accept": GRAPHQL_RESPONSE})
    named = await client.post("/graphql", json={"query": document, "operationName": "Guess"})

    error = {
        "message": "文档中有多个操作,须指定 operationName / "
        "Must provide operation name if query contains multiple operations.",
        "extensions": {"code": "OPERATION_NAME_REQUIRED"},
    }
    assert unnamed.json() == {"data": None, "errors": [error]}
    assert (strict.status_code, strict.json()) == (400, {"errors": [error]})
    assert named.json() == {"data": {"login": {"__typename": "AuthError"}}}
    assert [p.failures for p in await LoginPairThrottle.filter(login_name="manager1a")] == [1]  # only the named one ran


async def test_a_subscription_over_post_is_a_request_error(api: Api, world: World, client: httpx.AsyncClient) -> None:
    token = await api.token("manager1a")

    response = await post(client, "subscription { notifications { id } }", token)

    assert response.status_code == 400
    assert response.json() == bad_request(
        "订阅须通过 WebSocket（graphql-transport-ws）",
        "subscriptions run over the websocket (graphql-transport-ws), not a plain POST",
    )


async def test_expected_errors_are_logged_at_info_without_a_trace(
    api: Api, world: World, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    token = await api.token("head")
    node = gid("GridNode", world.county.id)
    requests = [
        ("{ viewer { staff { username } } }", None),
        ('{ gridNode(code: "nowhere") { name } }', None),
        (f'{{ customers(nodeId: "{node}", first: {SETTINGS.page_cap + 1}) {{ totalCount }} }}', None),
        ("query($m: KpiMetric!) { gridRoots { childRanking(metric: $m) { rank } } }", {"m": "NOPE"}),
        ("{ viewer { nope } }", None),
    ]
    with caplog.at_level(logging.INFO):
        for n, (query, variables) in enumerate(requests):
            headers = {"Authorization": f"Bearer {token}"} if n else {}
            sent = {"query": query, "variables": variables or {}}
            assert "errors" in (await client.post("/graphql", json=sent, headers=headers)).json()

    logged = [r for r in caplog.records if r.name in ("palmcredit.graphql", "strawberry.execution")]
    assert [(r.name, r.levelno, r.exc_info) for r in logged] == [("palmcredit.graphql", logging.INFO, None)] * 5
    assert [r.getMessage() for r in logged] == [
        "UNAUTHENTICATED: 请先登录 / sign in first",
        "NOT_FOUND: 网格节点不存在 / grid node not found",
        f"PAGE_TOO_LARGE: 每页条数须在0到{SETTINGS.page_cap}之间 / first must be between 0 and {SETTINGS.page_cap}",
        "GRAPHQL_VALIDATION_FAILED: Variable '$m' has invalid value: Value 'NOPE' does not exist in 'KpiMetric' enum.",
        "GRAPHQL_VALIDATION_FAILED: Cannot query field 'nope' on type 'Viewer'. Did you mean 'home' or 'scope'?",
    ]


# --- cross-site requests ----------------------------------------------------------------------------------

PREFLIGHT_REQUIRED = {
    "errors": [
        {
            "message": "表单或纯文本请求须带 X-Palmcredit-Request 头 / "
            "a form or plain-text request must carry the X-Palmcredit-Request header",
            "extensions": {
                "code": "PREFLIGHT_REQUIRED",
                "messageZh": "表单或纯文本请求须带 X-Palmcredit-Request 头",
                "messageEn": "a form or plain-text request must carry the X-Palmcredit-Request header",
            },
        }
    ]
}
WRONG_LOGIN = json.dumps(
    {"query": 'mutation { login(username: "manager1a", password: "wrong password") { __typename } }'}
)


async def test_a_cross_site_form_cannot_sign_in(world: World, client: httpx.AsyncClient) -> None:
    """What a page elsewhere can make a browser send without asking: a form (multipart or urlencoded) or text."""
    multipart = await client.post("/graphql", data={"operations": WRONG_LOGIN, "map": "{}"}, files={"x": b""})
    urlencoded = await client.post("/graphql", data={"operations": WRONG_LOGIN})
    text = await client.post("/graphql", content=WRONG_LOGIN, headers={"Content-Type": "text/plain"})
    untyped = await client.post("/graphql", content=WRONG_LOGIN)

    for response in (multipart, urlencoded, text, untyped):
        assert (response.status_code, response.json()) == (400, PREFLIGHT_REQUIRED)
    assert await AuditLog.all().count() == 0
    assert await LoginPairThrottle.filter(login_name="manager1a").count() == 0


@pytest.mark.parametrize("header", ["X-Palmcredit-Request", "Apollo-Require-Preflight", "X-Apollo-Operation-Name"])
async def test_a_multipart_request_with_a_preflight_header_runs(
    world: World, client: httpx.AsyncClient, header: str
) -> None:
    response = await client.post(
        "/graphql", data={"operations": WRONG_LOGIN, "map": "{}"}, files={"x": b""}, headers={header: "1"}
    )

    assert response.json() == {"data": {"login": {"__typename": "AuthError"}}}
    assert [p.failures for p in await LoginPairThrottle.filter(login_name="manager1a")] == [1]


# --- GraphQL over HTTP: UTF-8 and production messages -----------------------------------------------------


async def test_responses_carry_chinese_as_characters(world: World, client: httpx.AsyncClient) -> None:
    response = await post(client, VIEWER)

    assert "请先登录 / sign in first".encode() in response.content
    assert b"\\u" not in response.content


async def test_production_validation_suggests_no_field_names(world: World) -> None:
    settings = load_settings(
        {"PALMCREDIT_PRODUCTION": "1", "SECRET_KEY": "x" * 40, "DATABASE_URL": "sqlite://:memory:"}
    )
    transport = httpx.ASGITransport(app=create_app(settings, manage_orm=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        field = await post(http, "{ viewr { staff { username } } }")
        enum = await post(http, "{ gridRoots { childRanking(metric: CUSTOMER) { rank } } }")

    assert [e["message"] for e in field.json()["errors"]] == ["Cannot query field 'viewr' on type 'Query'."]
    assert [e["message"] for e in enum.json()["errors"]] == ["Value 'CUSTOMER' does not exist in 'KpiMetric' enum."]
