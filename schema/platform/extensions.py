"""Schema extensions: query limits built once (so the validation cache keeps hitting), parser and validation
caches, masking of unexpected errors with a request id, and introspection off in production."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.add_validation_rules import AddValidationRules

from domain.errors import DomainError
from resolvers.platform.audit import current_request_id, record_disclosures
from settings import Settings

log = logging.getLogger("palmcredit.graphql")

EXPECTED_CODES = {"UNAUTHENTICATED", "FORBIDDEN"}


def should_mask(error: GraphQLError) -> bool:
    """Mask only unexpected failures: validation and syntax errors (no original error), domain errors and
    permission refusals are for the client to read."""
    original = error.original_error
    while isinstance(original, GraphQLError):  # a resolver raised an already-shaped error
        original = original.original_error
    if original is None:
        return False
    if isinstance(original, DomainError):
        return False
    return (error.extensions or {}).get("code") not in EXPECTED_CODES


class MaskUnexpectedErrors(MaskErrors):
    """Replaces an unexpected error's message with a bilingual one carrying the request id, and logs it."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=should_mask, error_message="服务内部错误 / internal error")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request_id = current_request_id.get()
        log.error(
            "unexpected error in %s (request %s)",
            ".".join(str(p) for p in error.path or ()),
            request_id,
            exc_info=error.original_error,
        )
        return GraphQLError(
            message=f"服务内部错误,请联系管理员并提供请求号 {request_id} / internal error, request id {request_id}",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions={"code": "INTERNAL", "requestId": request_id},
        )


class AuditDisclosures(SchemaExtension):
    """No personal data leaves without its audit row: once an operation has run, the personal fields its
    response carries in clear (noted by the types as they resolve them) are written to the audit log, one row
    per record shown. If that write fails, the response carries no data, only the error."""

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        disclosed = getattr(context, "disclosed", None)
        actor = getattr(context, "actor", None)
        if not disclosed or actor is None:
            return
        try:
            await record_disclosures(actor, disclosed)
        except Exception:
            log.exception("could not audit a read of personal data; the response is withheld")
            request_id = current_request_id.get()
            result = self.execution_context.result
            if result is not None:  # graphql-core's result, or strawberry's: both hold data and errors
                result.data = None
                result.errors = [
                    GraphQLError(
                        f"服务内部错误,请联系管理员并提供请求号 {request_id} / internal error, request id {request_id}",
                        extensions={"code": "INTERNAL", "requestId": request_id},
                    )
                ]
        disclosed.clear()


def build_extensions(settings: Settings) -> list[Callable[[], SchemaExtension] | type[SchemaExtension]]:
    """Validation-rule extensions are instantiated once and handed out by factories: their rule classes stay
    the same objects, so the validation cache's key stays the same and it keeps hitting."""
    depth = QueryDepthLimiter(max_depth=settings.max_query_depth)
    tokens = MaxTokensLimiter(max_token_count=settings.max_query_tokens)
    aliases = MaxAliasesLimiter(max_alias_count=settings.max_query_aliases)
    extensions: list[Any] = [
        lambda: tokens,
        lambda: ParserCache(maxsize=256),
        lambda: depth,
        lambda: aliases,
    ]
    if settings.production:
        no_introspection = AddValidationRules([NoSchemaIntrospectionCustomRule])
        extensions.append(lambda: no_introspection)
    extensions.append(lambda: ValidationCache(maxsize=256))
    extensions.append(MaskUnexpectedErrors)
    extensions.append(AuditDisclosures)
    return extensions
