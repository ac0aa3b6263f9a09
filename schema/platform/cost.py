"""What a request may cost, decided before anything runs.

The cost of an operation is an estimate of the field resolutions it can cause: every field counts 1, and what
is selected under it counts once per item it can return — a connection's page (its `first`, default 20, never
more than the page cap; its edges are that page), a list its expected length (a grid node's children ~30), any
other field once. Fragments are expanded with memoisation, so each fragment is costed once however often it is
spread: a document of fragments that each spread the previous one twice costs 2^n but takes n steps to cost.
Every multiplier is at least 1, so the cost also bounds the work of the validation rules that walk fragments
without memoisation (the depth and alias limits): an operation over the budget is refused before validation,
and validation never sees it.

The cost depends on the variables (`first: $n`), which the validation cache does not key on, so it is computed
here, per request, beside the cached validation rather than as one of its rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
)

QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
COST_CEILING = 2**53 - 1  # costs saturate here: the largest integer a JavaScript client reads exactly

EXPECTED_LIST_SIZES: Mapping[tuple[str, str], int] = {
    ("Query", "gridRoots"): 1,  # the county
    ("GridNode", "children"): 30,  # townships under a county, villages under a township
    ("GridNode", "ancestors"): 4,
    ("GridNode", "childRanking"): 30,
    ("Viewer", "scope"): 10,
    ("Viewer", "home"): 10,
    # surveysSince is multiplied by its `first`, which the page cap clips; its page holds up to 500 surveys
    ("SurveySync", "surveys"): 5,
    ("HouseholdSurvey", "members"): 5,
    ("SurveyBatch", "results"): 50,  # a collector's offline batch, up to 500
    ("Loan", "instalments"): 36,  # a three-year loan's schedule (a mortgage's runs longer)
    ("VillageCreditFunnel", "steps"): 9,  # the funnel's steps (domain.village_credit.funnel.FunnelStep)
    ("VillageCreditFunnel", "managers"): 20,  # a campaign's collectors; a township's managers
    ("VillageCreditFunnel", "villages"): 30,  # a township's villages
}
DEFAULT_LIST_SIZE = 10


@dataclass(frozen=True)
class CostModel:
    """How much one item of each multiplying field is expected to fan out."""

    page_cap: int
    default_page: int = 20
    list_sizes: Mapping[tuple[str, str], int] = field(default_factory=lambda: dict(EXPECTED_LIST_SIZES))
    default_list_size: int = DEFAULT_LIST_SIZE


def ambiguous_operation_error(document: DocumentNode, operation_name: str | None) -> GraphQLError | None:
    """The spec's GetOperation: a document with several operations needs an operationName."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None and len(operations) > 1:
        return GraphQLError(
            "文档中有多个操作,须指定 operationName / "
            "Must provide operation name if query contains multiple operations.",
            extensions={"code": "OPERATION_NAME_REQUIRED"},
        )
    return None


def select_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            operation_name is None or (definition.name is not None and definition.name.value == operation_name)
        ):
            return definition
    return None


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
    model: CostModel,
) -> int:
    """The estimated cost of one operation of a parsed (not necessarily valid) document."""
    root = schema.get_root_type(operation.operation)
    return _Estimator(schema, document, operation, variables or {}, model).selection_set(root, operation.selection_set)


def too_costly_error(cost: int, budget: int) -> GraphQLError:
    return GraphQLError(
        f"查询代价 {cost} 超过上限 {budget},请减少每页条数或嵌套层级 / "
        f"the query costs {cost}, more than the {budget} allowed; ask for smaller pages or fewer nested lists",
        extensions={"code": QUERY_TOO_COSTLY, "cost": cost, "budget": budget},
    )


class _Estimator:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any],
        model: CostModel,
    ) -> None:
        self.schema = schema
        self.model = model
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.variables = dict(variables)
        for definition in operation.variable_definitions or ():
            name = definition.variable.name.value
            if name not in self.variables and isinstance(definition.default_value, IntValueNode):
                self.variables[name] = int(definition.default_value.value)
        self.fragment_costs: dict[str, int] = {}

    def selection_set(self, parent: GraphQLNamedType | None, node: SelectionSetNode | None) -> int:
        if node is None:
            return 0
        total = 0
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                total += self.field(parent, selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                narrowed = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection_set(narrowed, selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
        return min(total, COST_CEILING)

    def fragment(self, name: str) -> int:
        if name in self.fragment_costs:
            return self.fragment_costs[name]
        self.fragment_costs[name] = 0  # a cycle adds nothing here; validation refuses it
        definition = self.fragments.get(name)
        if definition is None:
            return 0
        on = self.schema.get_type(definition.type_condition.name.value)
        cost = self.selection_set(on, definition.selection_set)
        self.fragment_costs[name] = cost
        return cost

    def field(self, parent: GraphQLNamedType | None, node: FieldNode) -> int:
        definition = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent.fields.get(node.name.value)
        if definition is None or parent is None:  # __typename, introspection, or a field validation will refuse
            return min(1 + self.selection_set(None, node.selection_set), COST_CEILING)
        below = self.selection_set(get_named_type(definition.type), node.selection_set)
        return min(1 + self.multiplier(parent.name, node, definition) * below, COST_CEILING)

    def multiplier(self, parent: str, node: FieldNode, definition: GraphQLField) -> int:
        if "first" in definition.args:
            return self.page_size(node, definition)
        if isinstance(get_nullable_type(definition.type), GraphQLList):
            if node.name.value == "edges" and parent.endswith("Connection"):
                return 1  # the page: its connection field already multiplied by `first`
            return self.model.list_sizes.get((parent, node.name.value), self.model.default_list_size)
        return 1

    def page_size(self, node: FieldNode, definition: GraphQLField) -> int:
        declared = definition.args["first"].default_value
        size = declared if isinstance(declared, int) else self.model.default_page
        given = next((a.value for a in node.arguments or () if a.name.value == "first"), None)
        if isinstance(given, IntValueNode):
            size = int(given.value)
        elif isinstance(given, VariableNode):
            value = self.variables.get(given.name.value)
            if isinstance(value, int) and not isinstance(value, bool):
                size = value
        return max(1, min(size, self.model.page_cap))
