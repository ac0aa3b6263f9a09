"""One credit decision file: a GoRules JDM graph the risk department edits in the visual editor, read, checked and
compiled once.

A file is `rules/decisions/<name>.json` with `metadata.version` (a whole number the editors raise on every
change), an input node whose JSON Schema names the facts the decision reads and which of them are required,
decision tables whose rules carry an `_id` and a bilingual `_description`, and an output node. It is identified
by the sha256 of its bytes, so a recorded evaluation can later be replayed against exactly the rules it ran.

Everything that can be checked before a customer is decided is checked here: the JSON, the graph (one input, one
output, edges between known nodes, no cycle), the schema, and every expression the engine would compile."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import zen

from domain.credit.decision_explain import ExplainedForm, explained_form
from domain.credit.errors import invalid_file

_GRAPH_CHECKER = zen.ZenEngine()


@dataclass(frozen=True, slots=True)
class DecisionRule:
    """A rule of a decision table, in the words the loan officer reads."""

    node_id: str
    node_name: str
    rule_id: str
    description: str
    conditions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DecisionFile:
    name: str
    file_name: str
    version: int
    title: str
    sha256: str
    text: str = field(repr=False)
    key: str  # what the engine's loader is asked for: the name, or name@sha256 for a historical version
    fields: tuple[str, ...]  # the facts the decision reads (the input schema's properties)
    required: tuple[str, ...]
    table_nodes: tuple[str, ...]  # in the order the engine runs them
    table_rules: tuple[tuple[DecisionRule, ...], ...]  # each table's rules, in its rows' order
    rules: Mapping[tuple[str, str], DecisionRule] = field(repr=False)
    compiled: zen.ZenDecisionContent = field(repr=False, compare=False)
    # the same graph answering which rows fired (decision_explain), or None: then only the trace tells
    explained: ExplainedForm | None = field(repr=False, compare=False)


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_decision_file(file_name: str, data: bytes, *, historical: bool = False) -> DecisionFile:
    """Check and compile one file; raises DecisionError(DECISION_FILE_INVALID) naming the file."""
    text, graph = _graph(file_name, data)
    name = file_name.removesuffix(".json")
    sha256 = hashlib.sha256(data).hexdigest()
    version, title = _metadata(file_name, graph)
    nodes = _nodes(file_name, graph)
    fields, required = _input_schema(file_name, nodes)
    rules: dict[tuple[str, str], DecisionRule] = {}
    table_nodes: list[str] = []
    table_rules: list[tuple[DecisionRule, ...]] = []
    for node in _in_running_order(nodes, graph["edges"]):
        if node["type"] == "decisionTableNode":
            table_nodes.append(node["id"])
            in_table = _table_rules(file_name, node)
            rules.update(in_table)
            table_rules.append(tuple(in_table.values()))
        elif node["type"] == "expressionNode":
            for expression in node["content"].get("expressions", []):
                _check_expression(file_name, node, str(expression.get("value", "")))
    return DecisionFile(
        name=name,
        file_name=file_name,
        version=version,
        title=title,
        sha256=sha256,
        text=text,
        key=f"{name}@{sha256}" if historical else name,
        fields=fields,
        required=required,
        table_nodes=tuple(table_nodes),
        table_rules=tuple(table_rules),
        rules=rules,
        compiled=_compile(file_name, text),
        explained=_compile_explained(graph, table_nodes),
    )


def declared_inputs(file_name: str, data: bytes) -> tuple[str, ...]:
    """The facts a decision file reads (its input schema's properties), found without compiling the file: the
    inputs a product file may give the decision. Refuses a file it cannot read as read_decision_file does."""
    _, graph = _graph(file_name, data)
    fields, _ = _input_schema(file_name, _nodes(file_name, graph))
    return fields


def _graph(file_name: str, data: bytes) -> tuple[str, dict[str, Any]]:
    """The file's text and its JSON graph, an object with a list of nodes and a list of edges."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise invalid_file(file_name, "不是UTF-8文本", "not UTF-8 text") from exc
    try:
        graph = json.loads(text)
    except json.JSONDecodeError as exc:
        raise invalid_file(
            file_name,
            f"JSON格式错误(第{exc.lineno}行第{exc.colno}列)",
            f"not JSON (line {exc.lineno}, column {exc.colno})",
        ) from exc
    if (
        not isinstance(graph, dict)
        or not isinstance(graph.get("nodes"), list)
        or not isinstance(graph.get("edges"), list)
    ):
        raise invalid_file(file_name, "缺少nodes或edges列表", "no list of nodes or edges")
    return text, graph


def _metadata(file_name: str, graph: dict[str, Any]) -> tuple[int, str]:
    metadata = graph.get("metadata")
    version = metadata.get("version") if isinstance(metadata, dict) else None
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise invalid_file(file_name, "metadata.version须为正整数", "metadata.version must be a positive whole number")
    assert isinstance(metadata, dict)
    return version, str(metadata.get("title", file_name))


def _nodes(file_name: str, graph: dict[str, Any]) -> dict[str, dict[str, Any]]:
    nodes: dict[str, dict[str, Any]] = {}
    for node in graph["nodes"]:
        if (
            not isinstance(node, dict)
            or not isinstance(node.get("id"), str)
            or not isinstance(node.get("content"), dict)
        ):
            raise invalid_file(file_name, "节点缺少id或content", "a node has no id or content")
        if node["id"] in nodes:
            raise invalid_file(file_name, f"节点id重复:{node['id']}", f"duplicate node id {node['id']}")
        nodes[node["id"]] = node
    for kind in ("inputNode", "outputNode"):
        count = sum(1 for node in nodes.values() if node.get("type") == kind)
        if count != 1:
            raise invalid_file(
                file_name, f"须有且仅有一个{kind}(现有{count}个)", f"needs exactly one {kind}, has {count}"
            )
    for edge in graph["edges"]:
        ends = (edge.get("sourceId"), edge.get("targetId")) if isinstance(edge, dict) else (None, None)
        for end in ends:
            if end not in nodes:
                raise invalid_file(file_name, f"连线指向不存在的节点{end}", f"an edge points to no node ({end})")
    return nodes


def _in_running_order(nodes: Mapping[str, dict[str, Any]], edges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The nodes in the order the engine runs them: each after every node with an edge into it (ties in file
    order). Nodes on a cycle come last; the engine's own check then refuses the graph."""
    waiting = dict.fromkeys(nodes, 0)
    for edge in edges:
        waiting[edge["targetId"]] += 1
    ready = [node_id for node_id, count in waiting.items() if count == 0]
    ordered: list[dict[str, Any]] = []
    while ready:
        node_id = ready.pop(0)
        ordered.append(nodes[node_id])
        for edge in edges:
            if edge["sourceId"] == node_id:
                waiting[edge["targetId"]] -= 1
                if waiting[edge["targetId"]] == 0:
                    ready.append(edge["targetId"])
    placed = {node["id"] for node in ordered}
    return ordered + [node for node_id, node in nodes.items() if node_id not in placed]


def _input_schema(file_name: str, nodes: Mapping[str, dict[str, Any]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    node = next(node for node in nodes.values() if node["type"] == "inputNode")
    try:
        schema = json.loads(node["content"].get("schema") or "{}")
    except json.JSONDecodeError as exc:
        raise invalid_file(
            file_name, "输入节点的JSON Schema格式错误", "the input node's JSON Schema is not JSON"
        ) from exc
    properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
    required = schema.get("required", []) if isinstance(schema, dict) else []
    if not properties or not isinstance(properties, dict) or not isinstance(required, list):
        raise invalid_file(
            file_name, "输入节点须以JSON Schema列明输入项", "the input node must list its inputs in a JSON Schema"
        )
    unknown = [name for name in required if name not in properties]
    if unknown:
        raise invalid_file(file_name, f"必填项未定义:{unknown[0]}", f"required input {unknown[0]} is not a property")
    return tuple(properties), tuple(required)


def _table_rules(file_name: str, node: dict[str, Any]) -> dict[tuple[str, str], DecisionRule]:
    content = node["content"]
    inputs = content.get("inputs", [])
    outputs = content.get("outputs", [])
    rules: dict[tuple[str, str], DecisionRule] = {}
    for rule in content.get("rules", []):
        rule_id = rule.get("_id")
        if not isinstance(rule_id, str) or (node["id"], rule_id) in rules:
            raise invalid_file(
                file_name,
                f"{node['name']}的规则缺少_id或_id重复",
                f"a rule of {node['name']} has no or a duplicate _id",
            )
        conditions = []
        for column in inputs:
            cell = str(rule.get(column["id"], "")).strip()
            if cell:
                if not column.get("field"):
                    _check_expression(file_name, node, cell)
                conditions.append(f"{column['name']}: {cell}")
        for column in outputs:
            _check_expression(file_name, node, str(rule.get(column["id"], "")))
        description = str(rule.get("_description") or rule_id)
        rules[(node["id"], rule_id)] = DecisionRule(node["id"], node["name"], rule_id, description, tuple(conditions))
    return rules


def _check_expression(file_name: str, node: Mapping[str, Any], expression: str) -> None:
    problem = zen.validate_expression(expression) if expression.strip() else None
    if problem is not None:
        raise invalid_file(
            file_name,
            f"节点{node['name']}的表达式无法解析:{expression}",
            f"node {node['name']} has an expression that does not parse: {expression} ({problem['source']})",
        )


def _compile(file_name: str, text: str) -> zen.ZenDecisionContent:
    """The engine's own parse and graph check, then the compiled content every evaluation reuses."""
    try:
        compiled = zen.ZenDecisionContent(text)
        _GRAPH_CHECKER.create_decision(compiled).validate()
    except RuntimeError as exc:
        detail = engine_error_text(exc)
        raise invalid_file(file_name, f"决策图无效:{detail}", f"the decision graph is invalid: {detail}") from exc
    return compiled


def _compile_explained(graph: dict[str, Any], table_nodes: list[str]) -> ExplainedForm | None:
    """The explained form (decision_explain), if the engine accepts it; a file it would not accept is still
    a valid file, explained by the trace."""
    try:
        form = explained_form(graph, table_nodes)
        if form is not None:
            _GRAPH_CHECKER.create_decision(form.content).validate()
    except RuntimeError:
        return None
    return form


def engine_error_text(exc: BaseException) -> str:
    """The engine's message without the native stack trace it appends."""
    return str(exc).split("\n\nStack backtrace:", 1)[0].strip()
