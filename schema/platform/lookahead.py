"""Looking ahead at what a client selected below a field, so that a resolver can fetch a whole answer at once
(a drill-down's tree with its counts, a page's total only when asked for) instead of leaving each nested field
to fetch its own part.

Fragments (named and inline) count as selected; so do fields under @include/@skip, whatever their condition:
a look-ahead may fetch a little more than is shown, never less.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from schema.platform.context import Info


def current_field(info: Info) -> SelectedField:
    """The field being resolved, with what the client selected under it (every alias of it merged)."""
    fields = [f for f in info.selected_fields if isinstance(f, SelectedField)]
    if len(fields) == 1:
        return fields[0]
    merged = [s for f in fields for s in f.selections]
    return SelectedField(name=info.field_name, directives={}, arguments={}, selections=merged)


def fields_named(selections: Sequence[Selection], name: str) -> Iterator[SelectedField]:
    """The selections of `name` directly under a field, through fragments, under any alias."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == name:
                yield selection
        elif isinstance(selection, (FragmentSpread, InlineFragment)):
            yield from fields_named(selection.selections, name)


def selects(selections: Sequence[Selection], name: str) -> bool:
    """Is `name` selected directly under a field?"""
    return next(fields_named(selections, name), None) is not None


def nesting(selections: Sequence[Selection], name: str) -> int:
    """How many levels deep `name` nests within itself below a field: 0 when it is not selected, 1 for
    `name { … }`, 2 for `name { name { … } }`, and so on (the deepest of every alias)."""
    return max((1 + nesting(f.selections, name) for f in fields_named(selections, name)), default=0)


def selects_anywhere(selections: Sequence[Selection], name: str, through: str) -> bool:
    """Is `name` selected under a field or under any nesting of `through` below it?"""
    if selects(selections, name):
        return True
    return any(selects_anywhere(f.selections, name, through) for f in fields_named(selections, through))
