"""What the endpoint refuses before it reads a request: cross-site simple requests, bodies too large or of
unstated length, and request bodies it cannot decode — each answered as a typed GraphQL error."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.types import Scope

from domain.errors import ErrorCode
from domain.sizes import size_text

FORM_OVERHEAD_BYTES = 256 * 1024  # room in a multipart body for the operations and map parts beside the file
MAX_JSON_DEPTH = 64  # far more than any real variables need; deeper bodies are refused, not recursed into
PREFLIGHT_HEADERS = ("x-palmcredit-request", "apollo-require-preflight", "x-apollo-operation-name")
SIMPLE_CONTENT_TYPES = {"multipart/form-data", "application/x-www-form-urlencoded", "text/plain", ""}


class UndecodableBodyError(ValueError):
    """A request body (or a JSON query parameter) that is not the JSON object a GraphQL request is."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en


def graphql_error_response(status: int, message_zh: str, message_en: str, code: str, **extra: Any) -> Response:
    extensions = {"code": code, **extra, "messageZh": message_zh, "messageEn": message_en}
    return JSONResponse({"errors": [{"message": f"{message_zh} / {message_en}", "extensions": extensions}]}, status)


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def cross_site_refusal(scope: Scope) -> Response | None:
    """400 for a POST a browser would send cross-site without asking first (a form's content types, or none)
    unless it carries a header no form can set; None to go ahead.

    A page on another site can post a form here, and the browser sends it without a CORS preflight: it could
    sign in, or lock accounts with wrong passwords, from the user's own address. A custom header forces the
    preflight, which this service never grants another origin. JSON posts always need one."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    headers = _headers(scope)
    essence = headers.get("content-type", "").split(";")[0].strip().lower()
    if essence not in SIMPLE_CONTENT_TYPES or any(headers.get(h, "").strip() for h in PREFLIGHT_HEADERS):
        return None
    return graphql_error_response(
        400,
        "表单或纯文本请求须带 X-Palmcredit-Request 头",
        "a form or plain-text request must carry the X-Palmcredit-Request header",
        "PREFLIGHT_REQUIRED",
    )


def body_refusal(scope: Scope, max_upload_bytes: int) -> Response | None:
    """413 for a body declared longer than an upload may make it, 411 for a multipart body that does not state
    its length; None to go ahead. The error is typed like any other: code, field and both messages."""
    if scope["type"] != "http":
        return None
    headers = _headers(scope)
    declared = headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > max_upload_bytes + FORM_OVERHEAD_BYTES:
        limit = size_text(max_upload_bytes)
        return _invalid_file(413, f"上传的文件超过 {limit} 的上限", f"the upload is larger than the {limit} limit")
    if not declared and headers.get("content-type", "").lower().startswith("multipart/"):
        return _invalid_file(411, "上传须注明长度（Content-Length）", "an upload must state its Content-Length")
    return None


def _invalid_file(status: int, message_zh: str, message_en: str) -> Response:
    return graphql_error_response(status, message_zh, message_en, ErrorCode.INVALID_VALUE.value, field="file")


def decode_request_json(data: str | bytes) -> dict[str, Any] | list[Any]:
    """A JSON object (or a list, for a batch), or UndecodableBodyError: not UTF-8, not JSON, nested too deep for
    anyone's variables (decoding or coercing such a body would exhaust the stack), or not an object."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise UndecodableBodyError("请求体不是 UTF-8 编码", "the request body is not UTF-8") from None
    too_deep = UndecodableBodyError(
        f"请求的 JSON 嵌套超过 {MAX_JSON_DEPTH} 层", f"the request's JSON is nested deeper than {MAX_JSON_DEPTH}"
    )
    try:
        decoded = json.loads(text)
    except RecursionError:
        raise too_deep from None
    except ValueError:
        raise UndecodableBodyError("请求体不是合法的 JSON", "the request body is not valid JSON") from None
    if not isinstance(decoded, dict | list):
        raise UndecodableBodyError("请求体须是 JSON 对象", "the request body must be a JSON object")
    if _nesting(decoded) > MAX_JSON_DEPTH:
        raise too_deep
    return decoded


def _nesting(value: object) -> int:
    """How deep lists and objects nest in a decoded value, walked without recursion."""
    deepest = 0
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in children)
    return deepest
