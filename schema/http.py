"""The GraphQL endpoint: the typed context, signing a websocket in on connection_init, and GraphQL-over-HTTP
content negotiation.

strawberry answers application/json. A client that asks for application/graphql-response+json gets that media
type, and then a request that failed before execution (syntax, validation) is answered with 400, as the
GraphQL-over-HTTP spec says.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UnsetType

from resolvers.auth import AuthenticationError, actor_from_token
from schema.context import Context

GRAPHQL_RESPONSE = "application/graphql-response+json"


def prefers_graphql_response(accept: str) -> bool:
    """True when the Accept header ranks application/graphql-response+json at least as high as JSON."""
    best: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        best[media.lower()] = max(quality, best.get(media.lower(), 0.0))
    ours = best.get(GRAPHQL_RESPONSE, 0.0)
    json_q = max(best.get("application/json", 0.0), best.get("*/*", 0.0) * 0.5)
    return ours > 0 and ours >= json_q


def is_request_error(body: Any) -> bool:
    """A response to a request that never executed: errors and no data entry (or null data and no error
    with a path)."""
    if not isinstance(body, dict) or not body.get("errors"):
        return False
    if "data" not in body:
        return True
    return body["data"] is None and all("path" not in e for e in body["errors"])


@dataclass
class SocketContext(Context):
    """A websocket's context: strawberry puts the connection_init payload in connection_params."""

    connection_params: dict[str, Any] | None = None


async def socket_actor(context: Context) -> None:
    """Sign a websocket in, or raise ConnectionRejectionError (closed with 4403).

    The connection_init payload's {"Authorization": "Bearer <token>"} wins; else the upgrade request's own
    Authorization header (already checked by the middleware). A connection without a valid one is refused:
    every subscription needs a signed-in user.
    """
    params = getattr(context, "connection_params", None) or {}
    given = params.get("Authorization", params.get("authorization"))
    if given is not None:
        scheme, _, token = str(given).partition(" ")
        context.actor = None
        if scheme.lower() == "bearer" and token.strip():
            try:
                context.actor = await actor_from_token(token.strip())
            except AuthenticationError as error:
                rejection: dict[str, object] = {"code": "UNAUTHENTICATED", "message": error.message_en}
                raise ConnectionRejectionError(rejection) from None
    if context.actor is None:
        raise ConnectionRejectionError({"code": "UNAUTHENTICATED", "message": "sign in first"})


class PalmCreditGraphQL(GraphQL[Context, None]):
    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        state = request.scope.get("state", {})
        client = request.client.host if request.client else ""
        kind = SocketContext if isinstance(request, WebSocket) else Context
        return kind(actor=state.get("actor"), request_id=state.get("request_id", ""), client_ip=client)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        await socket_actor(context)
        return UnsetType()  # the plain connection_ack

    async def run(self, request: Any, context: Any = None, root_value: Any = None) -> Any:  # type: ignore[override]
        if context is None and root_value is None:
            response = await super().run(request)
        else:
            response = await super().run(request, context, root_value)
        if isinstance(request, Request) and isinstance(response, Response):
            accept = request.headers.get("accept", "")
            media = response.media_type or response.headers.get("content-type", "")
            if media.startswith("application/json") and prefers_graphql_response(accept):
                response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
                if response.status_code == 200 and is_request_error(json.loads(bytes(response.body) or b"null")):
                    response.status_code = 400
        return response
