"""While a user must change a reset password, their token answers only `viewer` and `changePassword`.

Checked on the operation's root fields before anything executes (fragments at the root included), so no
resolver has to remember it; `__typename` is harmless and allowed.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension

from domain.staff.errors import AuthErrorCode

ALLOWED_ROOT_FIELDS = frozenset({"viewer", "changePassword", "__typename"})


def _root_fields(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], seen: set[str]
) -> Iterator[str]:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            seen.add(selection.name.value)
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from _root_fields(fragment.selection_set, fragments, seen)


class PasswordChangeGate(SchemaExtension):
    def on_execute(self):  # type: ignore[no-untyped-def]
        context = self.execution_context
        actor = getattr(context.context, "actor", None)
        document = context.graphql_document
        if actor is not None and actor.must_change_password and document is not None:
            fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            chosen = [
                op
                for op in operations
                if context.operation_name is None or (op.name and op.name.value == context.operation_name)
            ]
            asked = {name for op in chosen for name in _root_fields(op.selection_set, fragments, set())}
            if asked - ALLOWED_ROOT_FIELDS:
                context.result = ExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(
                            "请先修改密码 / change your password first",
                            extensions={"code": AuthErrorCode.PASSWORD_CHANGE_REQUIRED.value},
                        )
                    ],
                )
        yield
