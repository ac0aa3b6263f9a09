"""The composition root: the Starlette app, its lifespan (Tortoise, queue), the GraphQL mount and health."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise import Tortoise, connections

from resolvers.platform.audit import current_request_id
from resolvers.platform.auth import AuthenticationError, actor_from_token
from resolvers.platform.gc_tuning import tune_gc
from schema import build_schema
from schema.platform import ide
from schema.platform.http import PalmCreditGraphQL
from settings import SETTINGS, Settings, tortoise_config
from workers.settings import start_background

log = logging.getLogger("palmcredit")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestContextMiddleware:
    """Gives every request an id (echoed in X-Request-ID) and recognises the bearer token.

    A request without a token goes on anonymously (only login answers it); a token that is forged, expired
    or revoked gets 401 at once, before any GraphQL runs.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        given = headers.get("x-request-id", "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["actor"] = None
        state["token"] = ""
        token_reset = current_request_id.set(request_id)
        try:
            auth = headers.get("authorization", "")
            if auth:
                scheme, _, token = auth.partition(" ")
                try:
                    if scheme.lower() != "bearer" or not token.strip():
                        raise AuthenticationError("无效的登录凭证", "the Authorization header must be: Bearer <token>")
                    state["actor"] = await actor_from_token(token.strip())
                    state["token"] = token.strip()
                except AuthenticationError as error:
                    if scope["type"] == "http":
                        await _unauthorized(error, request_id, send)
                        return
            await self.app(scope, receive, _with_request_id(send, request_id))
        finally:
            current_request_id.reset(token_reset)


def _with_request_id(send: Send, request_id: str) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message.setdefault("headers", [])
            message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
        await send(message)

    return wrapped


async def _unauthorized(error: AuthenticationError, request_id: str, send: Send) -> None:
    body = json.dumps(
        {
            "errors": [
                {
                    "message": f"{error.message_zh} / {error.message_en}",
                    "extensions": {"code": "UNAUTHENTICATED", "requestId": request_id},
                }
            ]
        },
        ensure_ascii=False,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"www-authenticate", b'Bearer error="invalid_token"'),
                (b"x-request-id", request_id.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    checks: dict[str, str] = {}
    try:
        await connections.get("default").execute_query("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:
        checks["database"] = f"unreachable: {type(error).__name__}"
    if settings.redis_url:
        checks["queue"] = await _ping_redis(settings.redis_url)
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
    )


async def _ping_redis(url: str) -> str:
    from redis.asyncio import Redis

    client: Any = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.ping()
        return "ok"
    except Exception as error:
        return f"unreachable: {type(error).__name__}"
    finally:
        await client.aclose()


async def root(request: Request) -> RedirectResponse:
    return RedirectResponse("/graphql")


def create_app(settings: Settings = SETTINGS, *, manage_orm: bool = True) -> Starlette:
    """Build the service. With manage_orm the lifespan opens and closes the database; tests that manage
    Tortoise themselves pass False."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_orm:
            await Tortoise.init(config=tortoise_config(settings.database_url), _enable_global_fallback=True)
        # the outbox relay (to arq, or running the tasks in-process when REDIS_URL is unset)
        background = await start_background(settings)
        if manage_orm:
            tune_gc()
        try:
            yield
        finally:
            await background.stop()
            if manage_orm:
                await Tortoise.close_connections()

    graphql = PalmCreditGraphQL(
        build_schema(settings),
        graphql_ide=None if settings.production else "graphiql",
        multipart_uploads_enabled=True,  # the grid import's file; see schema/platform/http.py
        max_upload_bytes=settings.max_upload_bytes,
        request_timeout_seconds=settings.request_timeout_seconds,
    )
    routes: list[BaseRoute] = [
        Route("/", root),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/graphql", graphql),
        WebSocketRoute("/graphql", graphql),
    ]
    if not settings.production:  # GraphiQL's own files, served here: the IDE needs no internet
        routes.append(Mount(ide.ASSETS_URL, StaticFiles(directory=ide.ASSETS_DIR, check_dir=False)))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.settings = settings
    app.add_middleware(RequestContextMiddleware)
    return app


app = create_app()
