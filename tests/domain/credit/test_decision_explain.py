"""The rules that fired, read off the explained form of a decision file, are the rules the engine's trace names:
same outputs, same rows, same order, on every shipped file; and where that form cannot tell, the trace does."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
import zen

from domain.credit.decision_explain import explained_graph
from domain.credit.decisions import DECISIONS_DIRECTORY, DecisionBook
from domain.credit.errors import DecisionError
from tests.domain.credit.test_decisions import APPLICATION, DECISIONS, _cell, _files, _golden_rows


class CountingEngine:
    """The book's engine, counting the evaluations asked for with the trace and without."""

    def __init__(self, engine: zen.ZenEngine) -> None:
        self.engine = engine
        self.traced = 0
        self.untraced = 0

    def evaluate(self, key: str, facts: dict[str, Any], options: Any = None) -> zen.EvaluateResponse:
        if options and options.get("trace"):
            self.traced += 1
        else:
            self.untraced += 1
        return self.engine.evaluate(key, facts, options)


def _counted(book: DecisionBook) -> CountingEngine:
    counting = CountingEngine(book._engine)
    book._engine = counting  # type: ignore[assignment]
    return counting


def _facts_of(name: str, draws: int, seed: int) -> list[dict[str, Any]]:
    """The golden cases' inputs, then `draws` mixtures of them: each fact from a golden case drawn at random, so
    the rows meet in combinations nobody wrote down."""
    golden = [
        {key[3:]: _cell(value) for key, value in row.items() if key.startswith("in.") and value != ""}
        for row in _golden_rows(name)
    ]
    names = sorted({key for facts in golden for key in facts})
    rng = random.Random(seed)
    mixed = []
    for _ in range(draws):
        facts = {}
        for key in names:
            source = rng.choice(golden)
            if key in source:
                facts[key] = source[key]
        mixed.append({**rng.choice(golden), **facts})
    return golden + mixed


@pytest.mark.parametrize("name", DECISIONS)
def test_every_shipped_file_has_an_explained_form_naming_the_rows_the_trace_names(name: str) -> None:
    book = DecisionBook.from_directory()
    assert book.file(name).explained is not None
    counting = _counted(book)
    compared = 0
    for facts in _facts_of(name, 400, seed=len(name)):
        missing = [field for field in book.file(name).required if facts.get(field) is None]
        if missing:  # a mixture without a required fact is refused before either way runs
            with pytest.raises(DecisionError) as caught:
                book.evaluate(name, facts)
            assert caught.value.field == missing[0]
            continue
        by_trace = book.evaluate(name, facts, engine_trace=True)
        explained = book.evaluate(name, facts)
        assert explained.outputs == by_trace.outputs, facts
        assert explained.fired_rules == by_trace.fired_rules, facts
        assert explained.fired_rules, facts
        compared += 1
    assert compared >= 200
    # one traced evaluation per comparison (engine_trace), and every explained one answered without the trace
    assert (counting.traced, counting.untraced) == (compared, compared)


def test_the_explained_form_is_only_the_file_plus_named_additions() -> None:
    graph = json.loads((DECISIONS_DIRECTORY / "admission.json").read_text(encoding="utf-8"))
    book = DecisionBook.from_directory()
    explained = explained_graph(graph, book.file("admission").table_nodes)
    assert explained is not None
    added = {node["id"] for node in explained["nodes"]} - {node["id"] for node in graph["nodes"]}
    assert added == {"__collect-0", "__collect-1"}  # one for each collect table
    assert json.loads((DECISIONS_DIRECTORY / "admission.json").read_text(encoding="utf-8")) == graph  # untouched


def _pricing(change: str) -> bytes:
    graph = json.loads((DECISIONS_DIRECTORY / "pricing.json").read_text(encoding="utf-8"))
    nodes = {node["id"]: node for node in graph["nodes"]}
    if change == "no row within the bounds":
        # the floor-and-cap table passes nothing on; without its catch-all row a rate within bounds finds none
        bounds = nodes["bounds"]["content"]
        bounds["rules"] = [rule for rule in bounds["rules"] if rule["_id"] != "L03"]
    elif change == "a reserved name":
        nodes["calculation"]["content"]["expressions"].append({"id": "x", "key": "__note", "value": "1"})
    elif change == "an output schema":
        nodes["response"]["content"]["schema"] = json.dumps({"type": "object"})
    elif change == "an input schema refusing other facts":
        schema = json.loads(nodes["request"]["content"]["schema"])
        nodes["request"]["content"]["schema"] = json.dumps({**schema, "additionalProperties": False})
    return json.dumps(graph, ensure_ascii=False).encode("utf-8")


def test_a_result_that_lost_the_rows_on_the_way_is_explained_by_the_trace() -> None:
    book = DecisionBook(_files(**{"pricing.json": _pricing("no row within the bounds")}))
    assert book.file("pricing").explained is not None
    counting = _counted(book)
    evaluation = book.evaluate("pricing", {**APPLICATION, "grade": "A"})
    assert evaluation.outputs == {}  # what the file answers: no row of its last table matched
    assert [rule.rule_id for rule in evaluation.fired_rules] == ["K03", "Q03", "W03", "E01"]
    assert (counting.untraced, counting.traced) == (1, 1)  # asked explained, then the trace
    capped = book.evaluate("pricing", {**APPLICATION, "grade": "D"})
    assert evaluation.fired_rules != capped.fired_rules


@pytest.mark.parametrize("change", ["a reserved name", "an output schema", "an input schema refusing other facts"])
def test_a_file_the_explained_form_cannot_express_is_explained_by_the_trace(change: str) -> None:
    book = DecisionBook(_files(**{"pricing.json": _pricing(change)}))
    assert book.file("pricing").explained is None
    counting = _counted(book)
    evaluation = book.evaluate("pricing", {**APPLICATION, "grade": "A"})
    assert [rule.rule_id for rule in evaluation.fired_rules] == ["K03", "Q03", "W03", "E01", "L03"]
    assert evaluation.outputs["annual_rate"] == 0.054
    assert (counting.untraced, counting.traced) == (0, 1)


def test_a_collect_table_that_finds_no_row_answers_as_the_file_does() -> None:
    book = DecisionBook.from_directory()
    clean = book.evaluate("admission", APPLICATION)
    by_trace = book.evaluate("admission", APPLICATION, engine_trace=True)
    assert clean.outputs == by_trace.outputs == {"admitted": True, "reasons": [], "age_at_maturity": 43}
    assert [rule.rule_id for rule in clean.fired_rules] == [rule.rule_id for rule in by_trace.fired_rules] == ["C01"]


def test_replay_of_a_record_explained_by_the_trace_matches_the_explained_form() -> None:
    book = DecisionBook.from_directory()
    stored = json.loads(json.dumps(book.evaluate("rating", APPLICATION, engine_trace=True).to_dict()))
    replay = book.replay(stored)
    assert replay.matches is True
    assert [rule.rule_id for rule in replay.evaluation.fired_rules] == ["I03", "D01", "S02", "H03", "V03", "G03"]


def test_a_valid_file_whose_explained_form_the_engine_refuses_is_explained_by_the_trace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refused(graph: Any, table_nodes: Any) -> None:
        raise RuntimeError("the engine refuses the graph")

    monkeypatch.setattr("domain.credit.decision_files.explained_form", refused)
    book = DecisionBook(_files())
    assert book.file("pricing").explained is None
    evaluation = book.evaluate("pricing", {**APPLICATION, "grade": "A"})
    assert [rule.rule_id for rule in evaluation.fired_rules] == ["K03", "Q03", "W03", "E01", "L03"]
