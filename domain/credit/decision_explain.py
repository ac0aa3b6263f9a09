"""Which rules of a decision fired, answered by the evaluation itself rather than by the engine's trace.

The engine's trace records every node's whole input and output, and handing that back to Python costs more than
the evaluation: a traced rating took 76 µs against 29 µs untraced (benchmarks/decision_chain.py prints both). The
loan officer's explanation needs only which table rows fired. So each decision file is also compiled once in an
explained form, derived from the file and never written back:

- the facts bring in an empty object, `__fired`; every decision table gets one more output column, `__fired.t<k>`
  (k: the table's place in running order), whose cell in each row is that row's index: a first-hit table's answer
  names its row, a collect table's rows each carry theirs (`__rule`), moved out of its rows by an expression node
  added after the table, which rebuilds the table's rows exactly as the file's table gives them under its output
  path;
- a node that does not pass its input on copies `__fired` first, so a result that still carries `__fired` carries
  every row that fired.

`ExplainedForm.read` reads those keys off the result and strips them, leaving the outputs the file itself gives.
A result without `__fired` (a table that passes nothing on found no row) is answered by the trace instead, and
so is any file this form cannot express exactly (`explained_graph` returns None): other node kinds, loops, input
fields, an input schema that refuses other facts, branches that meet again, output schemas, a first-hit table
under an output path, a collect table that does not pass its input on or whose fields are not plain names, or a
file that uses the reserved `__` names itself. tests/domain/credit/test_decision_explain.py compares both ways,
outputs and fired rules, on every shipped file's golden cases and hundreds of mixtures of them."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import zen

SENTINEL = "__fired"  # an object the facts bring in empty: table k's rows under "t<k>"
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_RESERVED = '"__'


def _fired_key(k: int) -> str:
    return f"t{k}"


def _fired_path(k: int) -> str:
    return f"{SENTINEL}.{_fired_key(k)}"


def _rows_key(k: int) -> str:
    return f"__rows_{k}"


def explained_graph(graph: Mapping[str, Any], table_nodes: Sequence[str]) -> dict[str, Any] | None:
    """The file's graph in its explained form, or None when that form could not give exactly its answers."""
    if _RESERVED in json.dumps(graph.get("nodes", []), ensure_ascii=False):
        return None
    explained = copy.deepcopy(dict(graph))
    nodes: dict[str, dict[str, Any]] = {node["id"]: node for node in explained["nodes"]}
    edges: list[dict[str, Any]] = explained["edges"]
    index = {node_id: k for k, node_id in enumerate(table_nodes)}
    targets = [edge["targetId"] for edge in edges]
    if len(set(targets)) != len(targets):
        return None  # branches that meet again: one branch's rows could hide the other's
    added: list[tuple[str, dict[str, Any]]] = []  # (the node it follows, the node)

    for node in nodes.values():
        kind, content = node.get("type"), node["content"]
        if kind == "inputNode":
            if '"additionalProperties"' in str(content.get("schema") or ""):
                return None  # the sentinel comes in with the facts
            continue
        if kind == "outputNode":
            if str(content.get("schema") or "").strip():
                return None
            continue
        if kind not in ("expressionNode", "decisionTableNode"):
            return None
        if content.get("inputField") or content.get("executionMode", "single") != "single":
            return None
        passes = bool(content.get("passThrough", False))
        carry = {"id": "__carry", "key": SENTINEL, "value": SENTINEL}  # first: the node's own rows go into it
        if kind == "expressionNode":
            if content.get("outputPath"):
                return None
            if not passes:
                content["expressions"] = [carry, *content.get("expressions", [])]
            continue
        k = index[node["id"]]
        rules = content.get("rules", [])
        outputs = content.setdefault("outputs", [])
        if content.get("hitPolicy") == "first":
            if content.get("outputPath"):
                return None
            outputs.append({"id": "__explain", "name": SENTINEL, "field": _fired_path(k)})
            if not passes:
                outputs.insert(0, {"id": "__carry", "name": SENTINEL, "field": SENTINEL})
            for i, rule in enumerate(rules):
                rule["__explain"] = str(i)
                if not passes:
                    rule["__carry"] = SENTINEL
        elif content.get("hitPolicy") == "collect":
            path = content.get("outputPath")
            fields = [column.get("field") for column in outputs]
            if not passes or not isinstance(path, str) or not _PLAIN_NAME.match(path):
                return None
            if not fields or not all(isinstance(name, str) and _PLAIN_NAME.match(name) for name in fields):
                return None
            content["outputPath"] = _rows_key(k)
            outputs.append({"id": "__explain", "name": "__rule", "field": "__rule"})
            for i, rule in enumerate(rules):
                rule["__explain"] = str(i)
            shape = "{" + ", ".join(f"{name}: #.{name}" for name in fields) + "}"
            rows = _rows_key(k)
            added.append(
                (
                    node["id"],
                    _expression_node(
                        f"__collect-{k}",
                        [(path, f"map({rows}, {shape})"), (_fired_path(k), f"map({rows}, #.__rule)"), (rows, "null")],
                    ),
                )
            )
        else:
            return None

    for after, node in added:
        for edge in edges:
            if edge["sourceId"] == after:
                edge["sourceId"] = node["id"]
        edges.append({"id": f"{node['id']}-in", "sourceId": after, "targetId": node["id"], "type": "edge"})
        explained["nodes"].append(node)
    return explained


@dataclass(frozen=True, slots=True)
class ExplainedForm:
    """A file's explained form, compiled, and the keys its results carry beside the file's own outputs."""

    content: zen.ZenDecisionContent
    fired_keys: tuple[str, ...]  # table k's rows under result[SENTINEL][fired_keys[k]]
    rows_keys: tuple[str, ...]  # the collect tables' rows, emptied on the way

    def read(self, result: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[int, int]]] | None:
        """The file's own outputs (the result, its added keys taken out) and the rows that fired, (table's place,
        row index) in the order the engine ran them; None when the result does not carry them (then ask the
        trace)."""
        rows = result.pop(SENTINEL, None)
        if type(rows) is not dict:
            return None
        for key in self.rows_keys:
            result.pop(key, None)
        fired: list[tuple[int, int]] = []
        for k, key in enumerate(self.fired_keys):
            hit = rows.get(key)
            if hit is None:
                continue
            if type(hit) is list:
                fired.extend((k, int(i)) for i in hit)
            else:
                fired.append((k, int(hit)))
        return result, fired


def explained_form(graph: Mapping[str, Any], table_nodes: Sequence[str]) -> ExplainedForm | None:
    """The compiled explained form of a checked file's graph, or None (see explained_graph)."""
    explained = explained_graph(graph, table_nodes)
    if explained is None:
        return None
    collected = {node["id"] for node in explained["nodes"] if node["id"].startswith("__collect-")}
    return ExplainedForm(
        content=zen.ZenDecisionContent(json.dumps(explained, ensure_ascii=False)),
        fired_keys=tuple(_fired_key(k) for k in range(len(table_nodes))),
        rows_keys=tuple(_rows_key(k) for k in range(len(table_nodes)) if f"__collect-{k}" in collected),
    )


def _expression_node(node_id: str, expressions: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "expressionNode",
        "name": node_id,
        "position": {"x": 0, "y": 0},
        "content": {
            "passThrough": True,
            "inputField": None,
            "outputPath": None,
            "executionMode": "single",
            "expressions": [
                {"id": f"{node_id}-{i}", "key": key, "value": value} for i, (key, value) in enumerate(expressions)
            ],
        },
    }
