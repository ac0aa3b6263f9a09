"""The GraphQL endpoint: the typed context, signing a websocket in on connection_init, GraphQL-over-HTTP
content negotiation, and file uploads.

strawberry answers application/json. A client that asks for application/graphql-response+json gets that media
type, and then a request that failed before execution (syntax, validation) is answered with 400, as the
GraphQL-over-HTTP spec says.

File uploads (the GraphQL multipart request spec) are on: sign-in is a bearer token, never a cookie, so a
cross-site form post cannot act for anyone. A body longer than the upload limit (plus room for the operations)
is refused with 413 before it is read, and a multipart body must state its length (411 otherwise), so nothing
beyond the limit is spooled to disk; the use case then checks the file itself against the limit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UnsetType

from domain.errors import ErrorCode
from domain.sizes import size_text
from resolvers.platform.auth import AuthenticationError, actor_from_token
from schema.platform.context import Context

GRAPHQL_RESPONSE = "application/graphql-response+json"
FORM_OVERHEAD_BYTES = 256 * 1024  # room in a multipart body for the operations and map parts beside the file


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
                context.token = token.strip()
            except AuthenticationError as error:
                rejection: dict[str, object] = {"code": "UNAUTHENTICATED", "message": error.message_en}
                raise ConnectionRejectionError(rejection) from None
    if context.actor is None:
        raise ConnectionRejectionError({"code": "UNAUTHENTICATED", "message": "sign in first"})


def body_refusal(scope: Scope, max_upload_bytes: int) -> Response | None:
    """413 for a body declared longer than an upload may make it, 411 for a multipart body that does not state
    its length; None to go ahead. The error is typed like any other: code, field and both messages."""
    if scope["type"] != "http":
        return None
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    declared = headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > max_upload_bytes + FORM_OVERHEAD_BYTES:
        limit = size_text(max_upload_bytes)
        return _invalid_file(413, f"上传的文件超过 {limit} 的上限", f"the upload is larger than the {limit} limit")
    if not declared and headers.get("content-type", "").lower().startswith("multipart/"):
        return _invalid_file(411, "上传须注明长度（Content-Length）", "an upload must state its Content-Length")
    return None


def _invalid_file(status: int, message_zh: str, message_en: str) -> Response:
    extensions = {
        "code": ErrorCode.INVALID_VALUE.value,
        "field": "file",
        "messageZh": message_zh,
        "messageEn": message_en,
    }
    return JSONResponse({"errors": [{"message": f"{message_zh} / {message_en}", "extensions": extensions}]}, status)


class PalmCreditGraphQL(GraphQL[Context, None]):
    def __init__(self, *args: Any, max_upload_bytes: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = None if self.max_upload_bytes is None else body_refusal(scope, self.max_upload_bytes)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        state = request.scope.get("state", {})
        client = request.client.host if request.client else ""
        kind = SocketContext if isinstance(request, WebSocket) else Context
        return kind(
            actor=state.get("actor"), request_id=state.get("request_id", ""), client_ip=client,
            token=state.get("token", ""),
        )  # fmt: skip

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        await socket_actor(context)
        return UnsetType()  # the plain connection_ack

    async def run(self, request: Any, context: Any = None, root_value: Any = None) -> Any:
        try:
            if context is None and root_value is None:
                response = await super().run(request)
            else:
                response = await super().run(request, context, root_value)
        finally:
            if isinstance(request, Request):
                await request.close()  # the uploaded files, whether or not a resolver took them
        if isinstance(request, Request) and isinstance(response, Response):
            accept = request.headers.get("accept", "")
            media = response.media_type or response.headers.get("content-type", "")
            if media.startswith("application/json") and prefers_graphql_response(accept):
                response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
                if response.status_code == 200 and is_request_error(json.loads(bytes(response.body) or b"null")):
                    response.status_code = 400
        return response
