"""Resolvers on the hot screens called straight from graphql-core, without strawberry's per-field wrapping.

Strawberry resolves a field that has a resolver through several layers (its own info object, argument
conversion, field extensions, the result's await check): about 12 µs a field on this machine, against about
1 µs for graphql-core calling a function. A drill-down resolves ~860 such fields and a page of customers ~700,
so those layers were half of what the request cost (profiles in `benchmarks/graphql_api.py --profile`).

Two kinds of field take the short way once the schema is built (`install`):
- a resolver marked `@plain`, which takes no GraphQL arguments and reads nothing of `info` but
  `info.context` (graphql-core's info carries the same context object), so calling it directly changes
  nothing of what it returns or raises;
- the Relay `id` of every node type that keeps strawberry's own way of making it (`resolve_id`,
  `resolve_typename` not overridden): the same GlobalID from the type's name and its NodeID attribute.
A field with arguments or field extensions is never taken the short way; `install` refuses a marked one.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLObjectType
from strawberry import relay
from strawberry.types.base import StrawberryObjectDefinition

F = TypeVar("F", bound=Callable[..., Any])
_MARK = "__palmcredit_plain__"


def plain(resolver: F) -> F:
    """Mark a resolver (under `@strawberry.field`) to be called straight from graphql-core: it must take no
    GraphQL arguments and use nothing of `info` but `info.context`."""
    setattr(resolver, _MARK, True)
    return resolver


def _direct(function: Callable[..., Any]) -> Callable[[Any, Any], Any]:
    takes_info = "info" in inspect.signature(function).parameters
    if takes_info:
        return lambda source, info: function(source, info)
    return lambda source, _info: function(source)


def _relay_id(type_name: str, attribute: str) -> Callable[[Any, Any], Any]:
    return lambda source, _info: relay.GlobalID(type_name, str(getattr(source, attribute)))


def _keeps_relay_defaults(origin: type) -> bool:
    return (
        isinstance(origin, type)
        and issubclass(origin, relay.Node)
        and origin.resolve_id.__func__ is relay.Node.resolve_id.__func__  # type: ignore[attr-defined]
        and origin.resolve_typename.__func__ is relay.Node.resolve_typename.__func__  # type: ignore[attr-defined]
    )


def install(schema: strawberry.Schema) -> int:
    """Point the marked fields and the default Relay ids at direct resolvers; how many were."""
    converter = schema.schema_converter
    installed = 0
    for concrete in converter.type_map.values():
        definition = concrete.definition
        implementation = concrete.implementation
        if not isinstance(definition, StrawberryObjectDefinition) or not isinstance(implementation, GraphQLObjectType):
            continue
        if definition.is_interface:
            continue
        for field in definition.fields:
            resolver = field.base_resolver
            if resolver is None or not getattr(resolver.wrapped_func, _MARK, False):
                continue
            name = converter.config.name_converter.from_field(field)
            if field.arguments or field.extensions:
                raise TypeError(f"{definition.name}.{name} takes arguments or extensions: it cannot be plain")
            function = resolver.wrapped_func
            assert callable(function), f"{definition.name}.{name} is not a plain function"
            implementation.fields[name].resolve = _direct(function)
            installed += 1
        if _keeps_relay_defaults(definition.origin) and "id" in implementation.fields:
            attribute = definition.origin.resolve_id_attr()
            implementation.fields["id"].resolve = _relay_id(definition.name, attribute)
            installed += 1
    return installed
