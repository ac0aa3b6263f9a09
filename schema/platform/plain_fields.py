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

Below those, graphql-core itself spends about 3 µs on every field: it builds a resolve-info object and walks
the completion steps even for a plain attribute whose value is a string or a number, which is what most of a
drill-down's 1,300 fields are. `PlainExecutionContext` answers such a leaf at once: a field without arguments
whose resolver needs no info (strawberry's own for a plain attribute, a direct one that takes no info, a
Relay id; or a `@plain` resolver, given an info that holds the request's context and nothing else) and returns
a scalar or enum value that serializes is answered with the serialized value, exactly what the full path
returns for it; an awaitable (a loader's answer) is completed as the full path completes it; anything else (no
value, an error, a middleware present) takes the full path, as every field did before (a `@plain` resolver is
then called again: they are free of side effects but for noting a disclosure, which is kept once).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLNonNull, GraphQLObjectType, GraphQLSchema, Undefined, get_nullable_type, is_leaf_type
from graphql.execution.executor import to_nodes
from graphql.pyutils import Path, gather_with_cancel
from strawberry import relay
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
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
        return _context_only(lambda source, info: function(source, info))
    return _info_free(lambda source, _info: function(source))


def _relay_id(type_name: str, attribute: str) -> Callable[[Any, Any], Any]:
    return _info_free(lambda source, _info: relay.GlobalID(type_name, str(getattr(source, attribute))))


_INFO_FREE = "__palmcredit_info_free__"
_CONTEXT_ONLY = "__palmcredit_context_only__"
_LEAF = "_palmcredit_leaf"  # set on a GraphQLField answered at once: (its scalar or enum type, wants info)


def _info_free(resolver: F) -> F:
    setattr(resolver, _INFO_FREE, True)
    return resolver


def _context_only(resolver: F) -> F:
    """A direct resolver of a `@plain` field that reads `info.context` and nothing else of info."""
    setattr(resolver, _CONTEXT_ONLY, True)
    return resolver


class _ContextOnlyInfo:
    """What a `@plain` resolver may read of info, for a leaf answered at once: the request's context."""

    __slots__ = ("context",)

    def __init__(self, context: Any) -> None:
        self.context = context


def _mark_leaves(schema: GraphQLSchema) -> int:
    """Mark each field PlainExecutionContext may answer at once; how many."""
    marked = 0
    for named in schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for field in named.fields.values():
            resolve = field.resolve
            info_free = getattr(resolve, "_is_default", False) or getattr(resolve, _INFO_FREE, False)
            context_only = getattr(resolve, _CONTEXT_ONLY, False)
            leaf = get_nullable_type(field.type)
            if resolve is not None and (info_free or context_only) and not field.args and is_leaf_type(leaf):
                setattr(field, _LEAF, (leaf, context_only))
                marked += 1
    return marked


class PlainExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's execution, with plain leaves answered at once (see the module's notes)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._context_info = _ContextOnlyInfo(self.context_value)
        # per selection (graphql-core keeps one grouped field set per selection and type for the request)
        self._plans: dict[int, tuple[Any, list[Any] | None]] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Any,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        """An object's fields in one loop: its plain leaves (a customer's name and balances, a village's id and
        name) answered at once, without a path or a completion step each, as execute_field answers one; its other
        fields (a customer's village) and any leaf that does not answer plainly the usual way, each in its place;
        awaitables gathered as graphql-core's own execute_fields gathers them."""
        kept = self._plans.get(id(grouped_field_set))
        if kept is None or kept[0] is not grouped_field_set:
            kept = (grouped_field_set, self._plan_of(parent_type, grouped_field_set))
            self._plans[id(grouped_field_set)] = kept
        plan = kept[1]
        if plan is None:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        context_info = self._context_info
        full_path = super().execute_field
        try:
            for response_name, field_details_list, field, leaf, wants_info, nullable in plan:
                result: Any = Undefined
                if field is not None:
                    try:
                        value = field.resolve(source_value, context_info if wants_info else None)
                    except Exception:  # the usual way below raises it again, as a field error
                        value = Undefined
                    if value is None:
                        result = None if nullable else Undefined
                    elif value is not Undefined:
                        if self.is_awaitable(value):  # a loader's answer: completed as the full path completes it
                            field_path = Path(path, response_name, parent_type.name)
                            info = self.build_resolve_info(field, to_nodes(field_details_list), parent_type, field_path)
                            result = self.complete_awaitable_value(
                                field.type, field_details_list, info, field_path, value, position_context
                            )
                        else:
                            serialized = leaf.coerce_output_value(value)
                            if serialized is not None:
                                result = serialized
                if result is Undefined:
                    result = full_path(
                        parent_type, source_value, field_details_list, Path(path, response_name, parent_type.name),
                        position_context,
                    )  # fmt: skip
                    if result is Undefined:
                        continue
                results[response_name] = result
                if self.is_awaitable(result):
                    awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[name] for name in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            awaited = await gather_with_cancel(*(results[name] for name in awaitable_fields))
            results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def _plan_of(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[Any] | None:
        """The selection's fields in order as (name, field details, field, leaf type, wants info, nullable),
        field None for one not answered at once; None when no field is a plain leaf (or a middleware is
        present): then graphql-core's own loop, nothing being gained."""
        manager = self.middleware_manager
        if manager is not None and manager.middlewares:
            return None
        plan: list[Any] = []
        leaves = 0
        for response_name, field_details_list in grouped_field_set.items():
            node = field_details_list[0].node
            field = parent_type.fields.get(node.name.value)
            spec = getattr(field, _LEAF, None) if field is not None else None
            if spec is None or node.arguments:
                plan.append((response_name, field_details_list, None, None, None, None))
                continue
            leaf, wants_info = spec
            nullable = not isinstance(field.type, GraphQLNonNull)
            plan.append((response_name, field_details_list, field, leaf, wants_info, nullable))
            leaves += 1
        return plan if leaves else None

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        manager = self.middleware_manager  # strawberry passes one without middleware, which wraps nothing
        if manager is None or not manager.middlewares:
            node = field_details_list[0].node
            field = parent_type.fields.get(node.name.value)
            spec = getattr(field, _LEAF, None) if field is not None else None
            if spec is not None and not node.arguments:
                leaf, wants_info = spec
                try:
                    value = field.resolve(source, self._context_info if wants_info else None)
                    if self.is_awaitable(value):  # a loader's answer: completed as the full path completes it
                        info = self.build_resolve_info(field, to_nodes(field_details_list), parent_type, path)
                        return self.complete_awaitable_value(
                            field.type, field_details_list, info, path, value, position_context
                        )
                    if value is not None:
                        serialized = leaf.coerce_output_value(value)
                        if serialized is not None and serialized is not Undefined:
                            return serialized
                except Exception:  # noqa: S110 - the full path below raises it again, as a field error
                    pass
        return super().execute_field(parent_type, source, field_details_list, path, position_context)


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
    _mark_leaves(schema._schema)
    return installed
