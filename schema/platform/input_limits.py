"""Every text a client sends, checked once for the whole schema before any resolver runs.

Each String and ID argument and input field has a longest value: the one it declares with `@maxLength`
(a name 64, a code 32, a period 7, a cursor 1024 …) or DEFAULT_MAX_LENGTH, and a list argument or field
may declare its largest length with `@maxItems` (a batch of surveys 500). Every value is checked against it
wherever it sits — a literal in the query or a variable, inside nested input objects and lists — and must be
text the database can store: no lone surrogate (a JSON "\\ud800" escape), no NUL. A request breaking any of
this is answered with typed errors naming the field (VALUE_TOO_LONG, INVALID_VALUE) and nothing runs, instead
of an ORM failure deep inside a resolver or a 1 MB pattern handed to the database.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLScalarType,
    GraphQLSchema,
    IntValueNode,
    ListValueNode,
    Node,
    ObjectValueNode,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    ValueNode,
    VariableNode,
    Visitor,
    get_nullable_type,
    get_operation_ast,
    visit,
)
from graphql.language import ArgumentNode
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.schema_directive import Location

from domain.errors import DomainError, ErrorCode
from domain.text import has_lone_surrogate

DEFAULT_MAX_LENGTH = 255
MAX_ERRORS = 10
_TEXT_SCALARS = frozenset({"String", "ID"})


@strawberry.schema_directive(
    locations=[Location.ARGUMENT_DEFINITION, Location.INPUT_FIELD_DEFINITION],
    name="maxLength",
    description=f"The longest value in characters; longer is refused with VALUE_TOO_LONG before anything runs. "
    f"Text without it may be {DEFAULT_MAX_LENGTH} characters long",
)
class MaxLength:
    chars: int


def max_length(chars: int) -> list[object]:
    """The directives list declaring an argument's or input field's longest value."""
    return [MaxLength(chars=chars)]


@strawberry.schema_directive(
    locations=[Location.ARGUMENT_DEFINITION, Location.INPUT_FIELD_DEFINITION],
    name="maxItems",
    description="The most items a list may hold; more is refused with VALUE_TOO_LONG before anything runs",
)
class MaxItems:
    items: int


def max_items(items: int, chars: int | None = None) -> list[object]:
    """The directives list declaring a list argument's or input field's largest length (and, for a list of
    text, each item's longest value)."""
    return [MaxItems(items=items), *([MaxLength(chars=chars)] if chars is not None else [])]


def _declared(definition: GraphQLArgument | GraphQLInputField) -> int:
    strawberry_definition = (definition.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    for directive in getattr(strawberry_definition, "directives", None) or ():
        if isinstance(directive, MaxLength):
            return directive.chars
    return DEFAULT_MAX_LENGTH


def _declared_items(definition: GraphQLArgument | GraphQLInputField) -> int | None:
    strawberry_definition = (definition.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    for directive in getattr(strawberry_definition, "directives", None) or ():
        if isinstance(directive, MaxItems):
            return directive.items
    return None


def _too_many(field: str, count: int, limit: int) -> DomainError:
    return DomainError(
        ErrorCode.VALUE_TOO_LONG,
        f"{field}过长:最多{limit}项(收到{count}项)",
        f"{field} is too long: at most {limit} items ({count} sent)",
        field,
    )


def _refusal(value: str, field: str, limit: int) -> tuple[DomainError, dict[str, Any]] | None:
    if len(value) > limit:
        error = DomainError(
            ErrorCode.VALUE_TOO_LONG,
            f"{field}过长:最多{limit}个字符",
            f"{field} is too long: at most {limit} characters",
            field,
        )
        return error, {"maxLength": limit}
    if has_lone_surrogate(value):
        zh, en = "含有无效字符(孤立的代理码位)", "contains an invalid character (a lone surrogate)"
    elif "\x00" in value:
        zh, en = "含有空字符(NUL)", "contains a NUL character"
    else:
        return None
    return DomainError(ErrorCode.INVALID_VALUE, f"{field}{zh}", f"{field} {en}", field), {}


class _Checker:
    """Walks one argument's value, literal or variable, alongside its input type."""

    def __init__(self, variables: Mapping[str, Any], defaults: Mapping[str, ValueNode | None]) -> None:
        self.variables = variables
        self.defaults = defaults
        self.errors: list[GraphQLError] = []

    def literal(
        self, node: ValueNode, type_: GraphQLInputType, field: str, limit: int, most: int | None = None
    ) -> None:
        if isinstance(node, VariableNode):
            name = node.name.value
            if name in self.variables:
                self.value(self.variables[name], type_, field, limit, node, most)
            elif (default := self.defaults.get(name)) is not None:
                self.literal(default, type_, field, limit, most)
            return
        nullable = get_nullable_type(type_)
        if isinstance(nullable, GraphQLList):
            items = node.values if isinstance(node, ListValueNode) else (node,)
            if most is not None and len(items) > most:
                self.refuse(_too_many(field, len(items), most), {"maxItems": most}, node)
                return
            for index, item in enumerate(items):
                self.literal(item, nullable.of_type, _item(field, index, node), limit)
        elif isinstance(nullable, GraphQLInputObjectType) and isinstance(node, ObjectValueNode):
            for field_node in node.fields:
                definition = nullable.fields.get(field_node.name.value)
                if definition is not None:
                    path = f"{field}.{field_node.name.value}"
                    self.literal(
                        field_node.value, definition.type, path, _declared(definition), _declared_items(definition)
                    )
        elif _is_text(nullable) and isinstance(node, StringValueNode | IntValueNode):
            self.text(node.value, field, limit, node)

    def value(
        self, value: object, type_: GraphQLInputType, field: str, limit: int, node: Node, most: int | None = None
    ) -> None:
        nullable = get_nullable_type(type_)
        if isinstance(nullable, GraphQLList):
            items = value if isinstance(value, list) else [value]
            if most is not None and len(items) > most:
                self.refuse(_too_many(field, len(items), most), {"maxItems": most}, node)
                return
            for index, item in enumerate(items):
                self.value(item, nullable.of_type, _item(field, index, value), limit, node)
        elif isinstance(nullable, GraphQLInputObjectType) and isinstance(value, dict):
            for key, item in value.items():
                definition = nullable.fields.get(key)
                if definition is not None:
                    path = f"{field}.{key}"
                    self.value(item, definition.type, path, _declared(definition), node, _declared_items(definition))
        elif _is_text(nullable) and isinstance(value, str):
            self.text(value, field, limit, node)

    def text(self, value: str, field: str, limit: int, node: Node) -> None:
        refused = _refusal(value, field, limit)
        if refused is not None:
            self.refuse(*refused, node)

    def refuse(self, error: DomainError, extra: dict[str, Any], node: Node) -> None:
        if len(self.errors) >= MAX_ERRORS:
            return
        self.errors.append(
            GraphQLError(
                error.message,
                nodes=node,
                extensions={
                    "code": error.code.value,
                    "field": error.field,
                    **extra,
                    "messageZh": error.message_zh,
                    "messageEn": error.message_en,
                },
            )
        )


def _item(field: str, index: int, container: object) -> str:
    return f"{field}[{index}]" if isinstance(container, ListValueNode | list) else field


def _is_text(type_: object) -> bool:
    return isinstance(type_, GraphQLScalarType) and type_.name in _TEXT_SCALARS


_Site = tuple[ValueNode, GraphQLInputType, str, int, int | None]  # value, type, argument name, longest, most items


class _Arguments(Visitor):
    """Collects every argument of a document with its input type and declared limits."""

    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.sites: list[_Site] = []

    def enter_argument(self, node: ArgumentNode, *_: object) -> None:
        argument = self.type_info.get_argument()
        if argument is not None:
            self.sites.append(
                (node.value, argument.type, node.name.value, _declared(argument), _declared_items(argument))
            )


@lru_cache(maxsize=256)
def _arguments_of(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> tuple[dict[str, ValueNode | None], tuple[_Site, ...]] | None:
    """The variables' defaults and the arguments of the operation to run and of the fragments, found by one
    walk of the document with its types, kept per document (the parser cache hands back the same document for
    the same query text): a request's own part is checking its values."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    defaults: dict[str, ValueNode | None] = {
        d.variable.name.value: d.default_value for d in operation.variable_definitions or ()
    }
    type_info = TypeInfo(schema)
    arguments = _Arguments(type_info)
    fragments = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
    for definition in (operation, *fragments):
        visit(definition, TypeInfoVisitor(type_info, arguments))
    return defaults, tuple(arguments.sites)


def check_request(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None, variables: Mapping[str, Any]
) -> list[GraphQLError]:
    """The refusals for one (already validated) request: every argument of the operation to run and of the
    fragments, with the variables as the client sent them."""
    found = _arguments_of(schema, document, operation_name)
    if found is None:
        return []
    defaults, sites = found
    checker = _Checker(variables, defaults)
    for node, type_, name, limit, most in sites:
        checker.literal(node, type_, name, limit, most)
    return checker.errors


class InputLimits(SchemaExtension):
    """Runs check_request after validation; a refused request is answered with its errors and not executed."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and not context.result:
            errors = check_request(
                context.schema._schema, context.graphql_document, context.operation_name, context.variables or {}
            )
            if errors:
                context.result = ExecutionResult(data=None, errors=errors)
        yield
