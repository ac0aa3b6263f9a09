"""Notifications: stored, pushed live through Redis pub/sub to every API process (or in-process), listed and
acknowledged through GraphQL by their recipient only, and delivered by the GraphQL subscription over a
websocket signed in on connection_init."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from models import AuditLog, Notification, Staff
from resolvers.platform import notifications
from resolvers.platform.notifications import Broadcaster
from tests.factories import Api, World, gid
from tests.workers.conftest import eventually

LIST = """query($unread: Boolean) { notifications(unreadOnly: $unread) {
  totalCount edges { node { id kind title body payload readAt } } } }"""
ACK = """mutation($ids: [ID!]!) { acknowledgeNotifications(ids: $ids) { __typename
  ... on AcknowledgeNotificationsSuccess { acknowledged } ... on NotificationError { code field } } }"""
SUBSCRIBE = "subscription { notifications { id kind title body payload readAt } }"


@pytest.fixture
async def redis_broadcasters(redis_url: str) -> AsyncIterator[list[Broadcaster]]:
    """Three broadcasters as three API processes would have, on a channel prefix of this test's own."""
    prefix = f"palmcredit-test-{uuid.uuid4().hex[:12]}:notifications:"
    made = [Broadcaster(redis_url, channel_prefix=prefix) for _ in range(3)]
    yield made
    for broadcaster in made:
        await broadcaster.close()


async def next_of(stream: AsyncIterator[Notification]) -> Notification:
    return await asyncio.wait_for(anext(stream), timeout=5)


async def test_a_notification_reaches_every_process_through_redis(
    world: World, redis_broadcasters: list[Broadcaster]
) -> None:
    first, second, publisher = redis_broadcasters
    manager, other = world.staff["manager1a"].id, world.staff["manager1b"].id
    async with first.listen(manager) as one, second.listen(manager) as two, second.listen(other) as theirs:
        sent = await notifications.notify(manager, "job.succeeded", "运行完成 / run finished", "3块", {"job_id": 1})
        await publisher.publish(sent)
        later = await notifications.notify(other, "job.failed", "运行失败 / run failed")
        await publisher.publish(later)
        for stream in (one, two):
            got = await next_of(stream)
            assert (got.id, got.kind, got.title, got.body, got.payload) == (
                sent.id, "job.succeeded", "运行完成 / run finished", "3块", {"job_id": 1},
            )  # fmt: skip
            assert got.created_at == sent.created_at
        assert (await next_of(theirs)).id == later.id  # pub/sub keeps order: the first was not theirs
    assert (first.listeners(manager), second.listeners(manager)) == (0, 0)


async def test_the_in_process_broadcaster_delivers_without_redis(world: World) -> None:
    local = Broadcaster(None)
    manager = world.staff["manager1a"].id
    async with local.listen(manager) as stream:
        sent = await notifications.notify(manager, "test", "hello")
        await local.publish(sent)
        assert (await next_of(stream)).id == sent.id
    await local.close()


async def test_publishing_while_redis_is_down_keeps_the_notification(world: World) -> None:
    previous = notifications.use_broadcaster(Broadcaster("redis://127.0.0.1:6390/0"))
    try:
        sent = await notifications.notify(world.staff["manager1a"].id, "test", "stored first")
        await notifications.publish(sent)  # logged, not raised
    finally:
        down = notifications.use_broadcaster(previous)
        assert down is not None
        await down.close()
    assert await Notification.filter(id=sent.id, read_at__isnull=True).exists()


async def test_notifications_are_listed_and_acknowledged_by_their_recipient_only(api: Api, world: World) -> None:
    mine = [
        await notifications.notify(world.staff["manager1a"].id, "test", f"第{n}条", payload={"n": n}) for n in range(3)
    ]
    theirs = await notifications.notify(world.staff["manager1b"].id, "test", "not yours")

    listed = (await api.as_("manager1a", LIST))["data"]["notifications"]
    assert listed["totalCount"] == 3
    assert [e["node"]["title"] for e in listed["edges"]] == ["第2条", "第1条", "第0条"]
    assert listed["edges"][0]["node"]["payload"] == {"n": 2}

    ids = [gid("Notification", mine[0].id), gid("Notification", mine[1].id), gid("Notification", theirs.id)]
    result = (await api.as_("manager1a", ACK, {"ids": ids}))["data"]["acknowledgeNotifications"]
    assert result == {"__typename": "AcknowledgeNotificationsSuccess", "acknowledged": 2}
    assert (await Notification.get(id=theirs.id)).read_at is None
    audit = await AuditLog.get(action="notification.acknowledge")
    assert (audit.actor_username, audit.changes) == ("manager1a", {"ids": [mine[0].id, mine[1].id]})

    assert (await api.as_("manager1a", LIST))["data"]["notifications"]["totalCount"] == 1
    everything = (await api.as_("manager1a", LIST, {"unread": False}))["data"]["notifications"]
    assert everything["totalCount"] == 3
    assert everything["edges"][2]["node"]["readAt"] is not None
    again = (await api.as_("manager1a", ACK, {"ids": ids[:1]}))["data"]["acknowledgeNotifications"]
    assert again["acknowledged"] == 0


@pytest.mark.parametrize("user", ["manager1b", "head", "admin"])
async def test_acknowledging_someone_else_s_notification_changes_nothing(api: Api, world: World, user: str) -> None:
    theirs = await notifications.notify(world.staff["manager1a"].id, "test", "manager1a's")
    result = (await api.as_(user, ACK, {"ids": [gid("Notification", theirs.id)]}))["data"]
    assert result["acknowledgeNotifications"] == {
        "__typename": "AcknowledgeNotificationsSuccess",
        "acknowledged": 0,
    }
    assert (await Notification.get(id=theirs.id)).read_at is None
    assert await AuditLog.filter(action="notification.acknowledge").count() == 0
    listed = (await api.as_(user, LIST))["data"]["notifications"]
    assert listed["totalCount"] == 0
    node = await api.as_(user, "query($id: ID!) { node(id: $id) { id } }", {"id": gid("Notification", theirs.id)})
    assert node["data"]["node"] is None


async def test_a_malformed_id_is_a_typed_error(api: Api, world: World) -> None:
    result = (await api.as_("manager1a", ACK, {"ids": ["nonsense"]}))["data"]["acknowledgeNotifications"]
    assert result == {"__typename": "NotificationError", "code": "INVALID_VALUE", "field": "ids"}


async def test_notifications_need_a_signed_in_user(api: Api, world: World) -> None:
    body = await api.raw(LIST)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    body = await api.raw(ACK, {"ids": []})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# --- the subscription over a websocket -------------------------------------------------------------------


class Socket:
    """A websocket client that speaks ASGI to the app in this event loop (starlette's TestClient would run the
    app on a loop of its own, away from the test's database connections)."""

    def __init__(self, app: Any, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        scope = {
            "type": "websocket", "asgi": {"version": "3.0"}, "scheme": "ws", "http_version": "1.1",
            "path": "/graphql", "raw_path": b"/graphql", "root_path": "", "query_string": b"",
            "headers": [(b"host", b"testserver"), *(headers or [])], "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80), "subprotocols": ["graphql-transport-ws"], "state": {},
        }  # fmt: skip
        self.task = asyncio.get_running_loop().create_task(app(scope, self.to_app.get, self.from_app.put))

    async def receive(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.from_app.get(), timeout=5)

    async def open(self) -> None:
        await self.to_app.put({"type": "websocket.connect"})
        accepted = await self.receive()
        assert accepted["type"] == "websocket.accept"
        assert accepted["subprotocol"] == "graphql-transport-ws"

    async def send(self, message: dict[str, Any]) -> None:
        await self.to_app.put({"type": "websocket.receive", "text": json.dumps(message)})

    async def message(self) -> dict[str, Any]:
        event = await self.receive()
        assert event["type"] == "websocket.send", event
        return dict(json.loads(event["text"]))

    async def close(self) -> None:
        await self.to_app.put({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(self.task, timeout=5)


@pytest.fixture
async def live(redis_url: str) -> AsyncIterator[Broadcaster]:
    """The process's broadcaster on real Redis, under this test's channel prefix."""
    broadcaster = Broadcaster(redis_url, channel_prefix=f"palmcredit-test-{uuid.uuid4().hex[:12]}:notifications:")
    previous = notifications.use_broadcaster(broadcaster)
    yield broadcaster
    notifications.use_broadcaster(previous)
    await broadcaster.close()


async def subscribed(app: Any, api: Api, username: str, live: Broadcaster, staff_id: int) -> Socket:
    """A socket signed in as username with the notifications subscription open (id "1")."""
    socket = Socket(app)
    await socket.open()
    await socket.send({"type": "connection_init", "payload": {"Authorization": f"Bearer {await api.token(username)}"}})
    assert await socket.message() == {"type": "connection_ack"}
    await socket.send({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}})
    await eventually(lambda: _value(live.listeners(staff_id) == 1))
    return socket


async def test_the_subscription_delivers_new_notifications_live(
    app: Any, api: Api, world: World, live: Broadcaster
) -> None:
    manager = world.staff["manager1a"].id
    socket = await subscribed(app, api, "manager1a", live, manager)

    await notifications.publish(await notifications.notify(world.staff["manager1b"].id, "test", "not for you"))
    sent = await notifications.notify(manager, "job.succeeded", "运行完成 / run finished", payload={"job_id": 9})
    await notifications.publish(sent)
    message = await socket.message()
    assert message == {
        "id": "1",
        "type": "next",
        "payload": {"data": {"notifications": {
            "id": gid("Notification", sent.id), "kind": "job.succeeded", "title": "运行完成 / run finished",
            "body": "", "payload": {"job_id": 9}, "readAt": None,
        }}},
    }  # fmt: skip
    await socket.send({"id": "1", "type": "complete"})
    await eventually(lambda: _value(live.listeners(manager) == 0))
    await socket.close()


@pytest.mark.parametrize("how", ["revoked", "switched_off"])
async def test_a_subscription_ends_when_its_token_no_longer_signs_in(
    app: Any, api: Api, world: World, live: Broadcaster, how: str
) -> None:
    manager = world.staff["manager1a"]
    socket = await subscribed(app, api, "manager1a", live, manager.id)
    if how == "revoked":  # signed out everywhere (every token issued so far revoked)
        await Staff.filter(id=manager.id).update(token_version=manager.token_version + 1)
    else:  # the account is switched off
        await Staff.filter(id=manager.id).update(is_active=False)

    # the next notification is not delivered: the stream ends with a typed error instead
    await notifications.publish(await notifications.notify(manager.id, "test", "after revocation"))
    message = await socket.message()
    assert message["type"] == "next"
    assert message["payload"]["data"] is None
    (error,) = message["payload"]["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "revoked" in error["message"]
    assert await socket.message() == {"id": "1", "type": "complete"}
    await eventually(lambda: _value(live.listeners(manager.id) == 0))
    await socket.close()


async def test_a_quiet_subscription_is_checked_again_on_a_timer(
    app: Any, api: Api, world: World, live: Broadcaster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notifications, "RECHECK_SECONDS", 0.05)
    manager = world.staff["manager1a"]
    socket = await subscribed(app, api, "manager1a", live, manager.id)
    await Staff.filter(id=manager.id).update(is_active=False)  # nothing is sent to them after this
    message = await socket.message()
    assert message["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    await eventually(lambda: _value(live.listeners(manager.id) == 0))
    await socket.close()


async def test_the_upgrade_request_s_own_token_also_signs_in(app: Any, api: Api, world: World) -> None:
    token = await api.token("manager1a")
    socket = Socket(app, headers=[(b"authorization", f"Bearer {token}".encode())])
    await socket.open()
    await socket.send({"type": "connection_init"})
    assert await socket.message() == {"type": "connection_ack"}
    await socket.close()


@pytest.mark.parametrize(
    "payload",
    [
        {"Authorization": "Bearer forged.token.here"},
        {"Authorization": "Basic abc"},
        {"Authorization": ""},
        {},
    ],
)
async def test_a_connection_without_a_valid_token_is_refused(app: Any, world: World, payload: dict[str, str]) -> None:
    socket = Socket(app)
    await socket.open()
    await socket.send({"type": "connection_init", "payload": payload})
    closed = await socket.receive()
    assert (closed["type"], closed["code"]) == ("websocket.close", 4403)
    await asyncio.wait_for(socket.task, timeout=5)


async def _value(value: bool) -> bool:
    return value
