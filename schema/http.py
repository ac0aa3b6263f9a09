"""The GraphQL HTTP endpoint: the typed context, and GraphQL-over-HTTP content negotiation.

strawberry answers application/json. A client that asks for application/graphql-response+json gets that media
type, and then a request that failed before execution (syntax, validation) is answered with 400, as the
GraphQL-over-HTTP spec says.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

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


class PalmCreditGraphQL(GraphQL[Context, None]):
    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        state = request.scope.get("state", {})
        client = request.client.host if request.client else ""
        return Context(actor=state.get("actor"), request_id=state.get("request_id", ""), client_ip=client)

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
