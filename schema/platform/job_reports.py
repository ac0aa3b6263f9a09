"""Job reports in the graph, derived from the kinds' report dataclasses: a GraphQL type per report (and per
dataclass or enum inside one), named as the class and described by its docstring and its fields'
Described(...) annotations, plus one field per Listing that reads the job's output rows. A new kind needs no
hand-written GraphQL type."""

from __future__ import annotations

import dataclasses
import functools
import operator
import types
from collections.abc import Iterable
from enum import Enum
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

import strawberry
from strawberry import relay

from resolvers.platform import jobs as cases
from resolvers.platform.job_kinds import AnyRecorded, Described, Listing

_TYPES: dict[type, type] = {}
_SCALARS = (bool, int, float, str)


def graphql_enum(enum: type[Enum]) -> type[Enum]:
    """The enum registered with strawberry once, named as its class, described by its docstring."""
    if not hasattr(enum, "_enum_definition"):
        strawberry.enum(enum, name=enum.__name__, description=_doc(enum))
    return enum


def report_type(kind: AnyRecorded) -> type:
    """The GraphQL type of a kind's report."""
    return _graphql_type(kind.report, kind.listings)


def report_union(kinds: Iterable[AnyRecorded], name: str) -> Any:
    """The union of the kinds' report types."""
    members = [report_type(kind) for kind in kinds]
    return Annotated[functools.reduce(operator.or_, members), strawberry.union(name)]


def to_graphql(value: Any, job_pk: int) -> Any:
    """A report (or part of one) as the instance of its GraphQL type; job_pk is what its listings read."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        shown = _TYPES[type(value)]
        values = {f.name: to_graphql(getattr(value, f.name), job_pk) for f in dataclasses.fields(value)}
        if _LISTED_JOB in getattr(shown, "__annotations__", {}):
            values[_LISTED_JOB] = job_pk
        return shown(**values)
    if isinstance(value, tuple | list):
        return [to_graphql(item, job_pk) for item in value]
    return value


_LISTED_JOB = "listed_job_pk"


def _graphql_type(shape: type, listings: tuple[Listing, ...] = ()) -> type:
    if shape in _TYPES:
        return _TYPES[shape]
    hints = get_type_hints(shape, include_extras=True)
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {}
    for field in dataclasses.fields(shape):
        annotations[field.name] = _graphql_annotation(hints[field.name])
        namespace[field.name] = strawberry.field(description=_description(hints[field.name]))
    if listings:
        annotations[_LISTED_JOB] = strawberry.Private[int]
    for listing in listings:
        namespace[listing.field] = _listing_field(listing)
    namespace["__annotations__"] = annotations
    shown = strawberry.type(type(shape.__name__, (), namespace), name=shape.__name__, description=_doc(shape))
    _TYPES[shape] = shown
    return shown


def _graphql_annotation(hint: Any) -> Any:
    origin = get_origin(hint)
    if origin is Annotated:
        return _graphql_annotation(get_args(hint)[0])
    if origin in (Union, types.UnionType):
        present = [arg for arg in get_args(hint) if arg is not type(None)]
        (only,) = present
        return _graphql_annotation(only) | None
    if origin is tuple:
        item, _ = get_args(hint)
        return list[_graphql_annotation(item)]  # type: ignore[misc]
    if isinstance(hint, type) and issubclass(hint, Enum):
        return graphql_enum(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _graphql_type(hint)
    if hint in _SCALARS:
        return hint
    raise TypeError(f"a report field of type {hint!r} has no GraphQL type")


def _description(hint: Any) -> str | None:
    if get_origin(hint) is Annotated:
        for extra in get_args(hint)[1:]:
            if isinstance(extra, Described):
                return extra.text
    return None


def _doc(shape: type) -> str | None:
    doc = shape.__doc__
    # a dataclass without a docstring gets its signature as one: not a description
    if doc is None or doc.startswith(f"{shape.__name__}("):
        return None
    return " ".join(doc.split())


def _listing_field(listing: Listing) -> Any:
    async def resolve(root: Any) -> list[relay.GlobalID]:
        refs = await cases.listed_outputs(getattr(root, _LISTED_JOB), listing.topic, listing.limit)
        return [relay.GlobalID(listing.node_type, str(ref)) for ref in refs]

    return strawberry.field(resolver=resolve, description=listing.description)
