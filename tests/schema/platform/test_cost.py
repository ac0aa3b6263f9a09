"""The cost budget, the deadline and a client going away: what a request may cost is decided before anything
runs, and measured here in work done (validation steps, resolver calls), never in seconds."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import httpx
import pytest
import strawberry.extensions.query_depth_limiter as depth_limiter
from graphql import parse

import resolvers.grid.browse
import schema.platform.extensions
from app import create_app
from schema import build_schema
from schema.platform.cost import CostModel, operation_cost, select_operation
from settings import SETTINGS
from tests.factories import Api, World

BUDGET = SETTINGS.max_query_cost


def fan_out(levels: int) -> str:
    """~40 bytes a level: each fragment spreads the one before it twice, 2^levels fields in all."""
    fragments = ["fragment F0 on Query { __typename }"]
    fragments += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels + 1)]
    return f"{{ ...F{levels} }} " + " ".join(fragments)


NESTED = """{ gridRoots { children { children { customers(first: 100) { edges { node { village { children {
  customers(first: 100) { totalCount edges { node { name } } } } } } } } } } } }"""
PAGED = """query($n: Int!) { gridRoots { children { children {
  customers(first: $n) { totalCount edges { node { name idNumber } } } } } } }"""


def too_costly(cost: int) -> dict[str, Any]:
    return {
        "data": None,
        "errors": [
            {
                "message": f"查询代价 {cost} 超过上限 {BUDGET},请减少每页条数或嵌套层级 / the query costs {cost}, "
                f"more than the {BUDGET} allowed; ask for smaller pages or fewer nested lists",
                "extensions": {"code": "QUERY_TOO_COSTLY", "cost": cost, "budget": BUDGET},
            }
        ],
    }


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts the depth limit's fragment walk (the validation step a fan-out blew up) and the grid's resolvers."""
    calls = {"depth": 0, "roots": 0}
    walk, roots = depth_limiter.determine_depth, resolvers.grid.browse.roots

    def counted_walk(*args: Any, **kwargs: Any) -> Any:
        calls["depth"] += 1
        return walk(*args, **kwargs)

    async def counted_roots(actor: Any) -> Any:
        calls["roots"] += 1
        return await roots(actor)

    monkeypatch.setattr(depth_limiter, "determine_depth", counted_walk)
    monkeypatch.setattr(resolvers.grid.browse, "roots", counted_roots)
    return calls


def cost_of(query: str, variables: dict[str, Any] | None = None) -> int:
    document = parse(query)
    operation = select_operation(document, None)
    assert operation is not None
    return operation_cost(build_schema()._schema, document, operation, variables, CostModel(page_cap=100))


def test_the_cost_multiplies_by_pages_and_lists_and_costs_each_fragment_once() -> None:
    # gridRoots 1 + 1 × (children 1 + 30 × (children 1 + 30 × (customers 1 + n × (totalCount 1 + edges 1
    # + node 1 + name 1 + idNumber 1))))
    assert cost_of(PAGED, {"n": 1}) == 1 + (1 + 30 * (1 + 30 * (1 + 1 * 5)))
    assert cost_of(PAGED, {"n": 100}) == 1 + (1 + 30 * (1 + 30 * (1 + 100 * 5)))
    assert cost_of(PAGED, {"n": 10_000}) == cost_of(PAGED, {"n": 100})  # never more than the page cap
    assert cost_of(PAGED.replace("$n", "$m").replace("($m: Int!)", "($m: Int = 2)")) == cost_of(PAGED, {"n": 2})
    assert cost_of('{ customers(nodeId: "x") { totalCount } }') == 1 + 20 * 1  # `first` defaults to 20
    assert cost_of(NESTED) == 1083060932
    assert cost_of(fan_out(60)) == 2**53 - 1  # saturates, computed in 61 steps


async def test_a_fragment_fan_out_is_refused_before_validation_walks_it(
    client: httpx.AsyncClient, work: dict[str, int]
) -> None:
    query = fan_out(20)
    assert len(query) < 1024

    response = await client.post("/graphql", json={"query": query})

    assert response.status_code == 200
    assert response.json() == too_costly(2**20)
    assert work == {"depth": 0, "roots": 0}


async def test_nested_connections_are_refused_before_any_resolver_runs(
    api: Api, world: World, work: dict[str, int]
) -> None:
    token = await api.token("head")
    work.update(depth=0, roots=0)  # signing in was validated like any request

    body = await api.raw(NESTED, token=token)

    assert body == too_costly(1083060932)
    assert work == {"depth": 0, "roots": 0}


async def test_the_same_document_is_costed_with_each_request_s_variables(
    api: Api, world: World, work: dict[str, int]
) -> None:
    small = await api.as_("head", PAGED, {"n": 1})
    large = await api.as_("head", PAGED, {"n": 100})

    assert "errors" not in small
    assert small["data"]["gridRoots"][0]["children"][0]["children"][0]["customers"]["totalCount"] >= 0
    assert large == too_costly(1 + (1 + 30 * (1 + 30 * (1 + 100 * 5))))
    assert work["roots"] == 1


async def test_the_validation_cache_keeps_hitting(api: Api, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    validated: list[object] = []
    original = schema.platform.extensions.validate

    def counted(*args: Any, **kwargs: Any) -> Any:
        validated.append(args[1])
        return original(*args, **kwargs)

    monkeypatch.setattr(schema.platform.extensions, "validate", counted)
    token = await api.token("head")
    validated.clear()

    for _ in range(3):
        assert await api.raw("{ viewer { staff { username } } }", token=token) == {
            "data": {"viewer": {"staff": {"username": "head"}}}
        }

    assert len(validated) == 1


async def test_a_request_past_its_deadline_is_stopped_with_a_typed_error(
    api: Api, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await api.token("head")
    stopped = asyncio.Event()

    async def stuck(actor: Any) -> Any:
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()

    monkeypatch.setattr(resolvers.grid.browse, "roots", stuck)
    app = create_app(replace(SETTINGS, request_timeout_seconds=0.05), manage_orm=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        body = await Api(http).raw("{ gridRoots { name } }", token=token)

    assert body == {
        "data": None,
        "errors": [
            {
                "message": "请求处理超过 0.05 秒,已被中止 / the request ran longer than 0.05 s and was stopped",
                "extensions": {"code": "REQUEST_TIMEOUT", "seconds": 0.05},
            }
        ],
    }
    assert stopped.is_set()


async def test_a_client_going_away_cancels_its_request(
    app: Any, api: Api, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await api.token("head")
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def slow(actor: Any) -> Any:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    monkeypatch.setattr(resolvers.grid.browse, "roots", slow)
    body = json.dumps({"query": "{ gridRoots { name } }"}).encode()
    incoming: list[dict[str, Any]] = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await started.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/graphql", "raw_path": b"/graphql", "root_path": "", "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
    }  # fmt: skip
    await asyncio.wait_for(app(scope, receive, send), timeout=10)

    assert cancelled.is_set()
    assert sent == []
