"""The GraphQL endpoint: the typed context, signing a websocket in on connection_init, GraphQL-over-HTTP
content negotiation, file uploads, the request deadline and the IDE page.

strawberry answers application/json (UTF-8, Chinese as characters). A client that asks for
application/graphql-response+json gets that media type, and then a request that failed before execution
(syntax, validation, cost) is answered with 400 and no `data` entry, as the GraphQL-over-HTTP spec says.

File uploads (the GraphQL multipart request spec) are on. A form post needs no CORS preflight, so a form, plain
text or urlencoded POST must carry a header no form can set (see guards.py); mutations never run over GET. A
body longer than the upload limit (plus room for the operations) is refused with 413 before it is read, and a
multipart body must state its length (411 otherwise), so nothing beyond the limit is spooled to disk; the use
case then checks the file itself against the limit.

Every request runs under a deadline, and is cancelled when the client goes away. Whatever cannot be answered
as GraphQL (a body that does not decode, a subscription over a plain POST) is a typed error with a 4xx status.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UnsetType

from resolvers.platform.auth import AuthenticationError, actor_from_token
from schema.platform import ide
from schema.platform.context import Context
from schema.platform.guards import (
    UndecodableBodyError,
    body_refusal,
    cross_site_refusal,
    decode_request_json,
    graphql_error_response,
)

log = logging.getLogger("palmcredit.http")
GRAPHQL_RESPONSE = "application/graphql-response+json"
REQUEST_ERROR_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


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
    if context.actor.must_change_password:  # a reset password: nothing but changing it (schema/staff/password_gate)
        raise ConnectionRejectionError({"code": "PASSWORD_CHANGE_REQUIRED", "message": "change your password first"})


def timeout_error(seconds: float) -> GraphQLError:
    return GraphQLError(
        f"请求处理超过 {seconds:g} 秒,已被中止 / the request ran longer than {seconds:g} s and was stopped",
        extensions={"code": "REQUEST_TIMEOUT", "seconds": seconds},
    )


class PalmCreditGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        *args: Any,
        max_upload_bytes: int | None = None,
        request_timeout_seconds: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.max_upload_bytes = max_upload_bytes
        self.request_timeout_seconds = request_timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        refusal = cross_site_refusal(scope)
        if refusal is None and self.max_upload_bytes is not None:
            refusal = body_refusal(scope, self.max_upload_bytes)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.answer_unless_abandoned(scope, receive, send)

    async def answer_unless_abandoned(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request, but cancel the work as soon as the client disconnects: once the body has been
        read, nothing else listens to the connection, so a watcher waits for its http.disconnect."""
        body_read = asyncio.Event()

        async def receive_body() -> Message:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_read.set()
            return message

        async def disconnected() -> None:
            await body_read.wait()
            while (await receive())["type"] != "http.disconnect":
                pass

        answer = asyncio.ensure_future(self.answer(scope, receive_body, send))
        watcher = asyncio.ensure_future(disconnected())
        try:
            await asyncio.wait({answer, watcher}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            watcher.cancel()
            if not answer.done():
                answer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await answer
                log.info("client went away; request %s cancelled", scope.get("state", {}).get("request_id", ""))
        if not answer.cancelled():
            answer.result()

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope=scope, receive=receive)
        try:
            response = await self.run(request)
        except HTTPException as error:
            code = REQUEST_ERROR_CODES.get(error.status_code, "BAD_REQUEST")
            zh, _, en = error.reason.partition(" / ") if " / " in error.reason else ("请求无效", "", error.reason)
            response = graphql_error_response(error.status_code, zh, en, code)
        await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        return decode_request_json(data)

    def parse_json(self, data: str | bytes) -> Any:
        try:
            return decode_request_json(data)
        except UndecodableBodyError as error:
            raise HTTPException(400, f"{error.message_zh} / {error.message_en}") from None

    def encode_json(self, data: object) -> str:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(ide.page())

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """strawberry's, less subscriptions (they stream over the websocket, never as one POST answer), under
        the request deadline."""
        allowed = OperationType.from_http(request_adapter.method) - {OperationType.SUBSCRIPTION}
        try:
            async with asyncio.timeout(self.request_timeout_seconds):
                return await self.schema.execute(
                    request_data.query,
                    root_value=root_value,
                    variable_values=request_data.variables,
                    context_value=context,
                    operation_name=request_data.operation_name,
                    allowed_operation_types=allowed,
                    operation_extensions=request_data.extensions,
                )
        except TimeoutError:
            assert self.request_timeout_seconds is not None
            log.warning("request %s stopped at its deadline", context.request_id)
            return ExecutionResult(data=None, errors=[timeout_error(self.request_timeout_seconds)])
        except CannotGetOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason()) from error
        except InvalidOperationTypeError as error:
            if error.operation_type == OperationType.SUBSCRIPTION:
                raise HTTPException(
                    400, "订阅须通过 WebSocket（graphql-transport-ws） / subscriptions run over the websocket "
                    "(graphql-transport-ws), not a plain POST",
                ) from error  # fmt: skip
            raise HTTPException(400, error.as_http_error_reason(request_adapter.method)) from error
        except MissingQueryError as error:
            raise HTTPException(400, "No GraphQL query found in the request") from error

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """A request that never executed has no `data` entry when the client reads graphql-response+json."""
        processed = process_result(result)
        if isinstance(result, PreExecutionError):
            request.state.request_error = True
            if prefers_graphql_response(request.headers.get("accept", "")):
                processed.pop("data", None)
        return processed

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
                if response.status_code == 200 and getattr(request.state, "request_error", False):
                    response.status_code = 400
        return response
