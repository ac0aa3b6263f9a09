"""Schema extensions: query limits built once (so the validation cache keeps hitting), the query cost budget,
parser and validation caches, masking of unexpected errors with a request id, introspection and "did you mean"
suggestions off in production, and the logging of errors: expected ones at info without a trace."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import strawberry
from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, validate
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.extensions.add_validation_rules import AddValidationRules
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types import ExecutionContext
from strawberry.utils.logging import StrawberryLogger

from domain.errors import DomainError
from resolvers.platform.audit import current_request_id, record_disclosures
from schema.platform import plain_fields
from schema.platform.cost import (
    CostModel,
    ambiguous_operation_error,
    operation_cost,
    select_operation,
    too_costly_error,
)
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


def error_code(error: GraphQLError) -> str:
    """The code an error is logged under: its own, a domain error's, or what it is (syntax, validation)."""
    original = error.original_error
    while isinstance(original, GraphQLError):
        original = original.original_error
    if isinstance(original, DomainError):
        return original.code.value
    code = (error.extensions or {}).get("code")
    if code:
        return str(code)
    return "GRAPHQL_VALIDATION_FAILED" if original is None else type(original).__name__


class PalmCreditSchema(strawberry.Schema):
    """Logs expected errors (not found, a page too large, a bad enum value, validation, sign in first) at info,
    one line without a trace; only unexpected ones keep their traceback. Once built, the hot screens' plain
    fields and Relay ids resolve straight from graphql-core (schema.platform.plain_fields)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("execution_context_class", plain_fields.PlainExecutionContext)
        super().__init__(*args, **kwargs)
        plain_fields.install(self)

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        for error in errors:
            if should_mask(error):
                StrawberryLogger.error(error, execution_context)
            else:
                log.info("%s: %s", error_code(error), error.message)


@dataclass(frozen=True)
class Validation:
    """What every request's validation shares: the cost budget and model, and one LRU-cached validate."""

    budget: int
    model: CostModel
    validate: Callable[[GraphQLSchema, DocumentNode, tuple[type[ASTValidationRule], ...]], list[GraphQLError]]


def cached_validation(settings: Settings, maxsize: int = 256) -> Validation:
    hide_suggestions = settings.production  # "did you mean …" would tell what fields exist

    def run(
        schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
    ) -> list[GraphQLError]:
        every = (*rules, MaybeNullValidationRule, OneOfInputValidationRule)
        return validate(schema, document, every, hide_suggestions=hide_suggestions)

    return Validation(
        budget=settings.max_query_cost,
        model=CostModel(page_cap=settings.page_cap),
        validate=lru_cache(maxsize=maxsize)(run),
    )


class CheckedValidation(SchemaExtension):
    """Validation in three steps: one operation chosen (several need an operationName), its cost within the
    budget given its variables (never cached: the variables change it), then the rules, cached by document.

    Made per request around a shared Validation, so the cache keeps hitting and no request reads another's
    execution context."""

    def __init__(self, shared: Validation) -> None:
        super().__init__()
        self.shared = shared

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        assert document is not None
        asked_for = context._provided_operation_name  # operation_name falls back to the first operation's
        refusal = ambiguous_operation_error(document, asked_for)
        operation = select_operation(document, asked_for)
        if refusal is None and operation is not None:
            schema = context.schema._schema
            cost = operation_cost(schema, document, operation, context.variables, self.shared.model)
            if cost > self.shared.budget:
                refusal = too_costly_error(cost, self.shared.budget)
        if refusal is not None:
            context.pre_execution_errors = [refusal]
        else:
            context.pre_execution_errors = self.shared.validate(
                context.schema._schema, document, context.validation_rules
            )
        yield


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
    validation = cached_validation(settings)
    extensions.append(lambda: CheckedValidation(validation))
    extensions.append(MaskUnexpectedErrors)
    extensions.append(AuditDisclosures)
    return extensions
