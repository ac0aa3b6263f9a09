"""Credit decisions (准入、评级、额度、定价、担保人准入) as GoRules JDM graphs run by zen-engine.

A DecisionBook reads the decision files once, compiles each into the engine's precompiled content and serves
every evaluation from it: the engine asks its loader for a decision by key and the loader hands back the compiled
content, so no evaluation parses or compiles anything. (Creating a decision from the JSON text on every call costs
the compilation each time; benchmarks/decision_chain.py measures both.) The engine's `evaluate` is synchronous
and finishes well within a millisecond, so use cases call it directly rather than through a thread or the engine's
`async_evaluate`, both of which cost more than the evaluation itself (the benchmark prints each way).

Every evaluation records what a loan officer or an auditor needs to trust it later: the decision, its file
version and content hash, the facts it read, what it answered, the table rules that fired and how long it took.
The rules that fired come from the file's explained form (decision_explain: the evaluation's own answer names its
rows, at about half the cost of the engine's trace), or from the trace where that form does not apply or a result
does not carry them. `replay` re-runs a recorded evaluation against the very content it ran on."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zen

from domain.credit.decision_explain import SENTINEL
from domain.credit.decision_files import DecisionFile, DecisionRule, engine_error_text, read_decision_file, sha256_of
from domain.credit.errors import (
    content_mismatch,
    decision_changed,
    evaluation_failed,
    input_missing,
    unknown_decision,
)

DECISIONS_DIRECTORY = Path(__file__).resolve().parents[2] / "rules" / "decisions"
_TRACE: zen.DecisionEvaluateOptions = {"trace": True}


@dataclass(frozen=True, slots=True)
class Evaluation:
    decision: str
    version: int
    content_sha256: str
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]
    fired_rules: tuple[DecisionRule, ...]  # empty when evaluated without them (trace=False)
    traced: bool  # whether the rules that fired were found
    elapsed_ms: float
    content: str = field(repr=False, compare=False)  # the exact file text evaluated (shared, not copied)

    def to_dict(self, *, include_content: bool = False) -> dict[str, Any]:
        """The JSON-ready record to store. It references its rules by content hash; with include_content it
        also carries the file text, so it can be replayed after the file has changed."""
        record: dict[str, Any] = {
            "decision": self.decision,
            "version": self.version,
            "content_sha256": self.content_sha256,
            "inputs": dict(self.inputs),
            "outputs": dict(self.outputs),
            "elapsed_ms": self.elapsed_ms,
        }
        if self.traced:
            record["fired_rules"] = [{"node_id": rule.node_id, "rule_id": rule.rule_id} for rule in self.fired_rules]
        if include_content:
            record["content"] = self.content
        return record


@dataclass(frozen=True, slots=True)
class Replay:
    evaluation: Evaluation
    matches: bool  # the same outputs and, if the record was traced, the same rules fired


class DecisionBook:
    """The bank's credit decisions, read and compiled once and shared by the whole process."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        """files: file name (`admission.json`) → content. Any invalid file stops the book from opening, naming
        the file: the platform must not start deciding on half of its rules."""
        self._files: dict[str, DecisionFile] = {}
        self._history: dict[str, DecisionFile] = {}
        self._compiled: dict[str, zen.ZenDecisionContent] = {}
        for file_name, data in sorted(files.items()):
            self._add(read_decision_file(file_name, data))
        self._engine = zen.ZenEngine({"loader": self._compiled.__getitem__})

    @classmethod
    def from_directory(cls, directory: Path = DECISIONS_DIRECTORY) -> DecisionBook:
        return cls({path.name: path.read_bytes() for path in sorted(directory.glob("*.json"))})

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._files)

    def file(self, name: str) -> DecisionFile:
        found = self._files.get(name)
        if found is None:
            raise unknown_decision(name)
        return found

    def evaluate(
        self, name: str, inputs: Mapping[str, Any], *, trace: bool = True, engine_trace: bool = False
    ) -> Evaluation:
        """Decide on `inputs` (extra keys are ignored: only the facts the decision reads are passed and
        recorded). Without trace, fired_rules is empty and the evaluation costs a little less. engine_trace
        finds the fired rules by the engine's trace even where the explained form applies (the tests compare
        the two; the benchmark measures both)."""
        return self._run(self.file(name), inputs, trace, engine_trace)

    def replay(self, stored: Mapping[str, Any], content: str | None = None) -> Replay:
        """Re-run a stored evaluation (Evaluation.to_dict) on its recorded inputs and the content it ran on:
        the current file if its hash is unchanged, else `content` or the content the record carries. Refuses
        with DECISION_CHANGED when the file has changed and no content is at hand, and with
        DECISION_CONTENT_MISMATCH when the content at hand is not the recorded one."""
        name = str(stored["decision"])
        recorded_sha256 = str(stored["content_sha256"])
        decision_file = self.file(name)
        if decision_file.sha256 != recorded_sha256:
            historical = content if content is not None else stored.get("content")
            if historical is None:
                raise decision_changed(name, recorded_sha256, decision_file.sha256)
            decision_file = self._historical(decision_file, str(historical), recorded_sha256)
        evaluation = self._run(decision_file, stored["inputs"], trace=True)
        matches = dict(evaluation.outputs) == dict(stored["outputs"])
        if "fired_rules" in stored:
            recorded = [(rule["node_id"], rule["rule_id"]) for rule in stored["fired_rules"]]
            matches = matches and recorded == [(rule.node_id, rule.rule_id) for rule in evaluation.fired_rules]
        return Replay(evaluation, matches)

    def _add(self, decision_file: DecisionFile) -> None:
        if decision_file.key == decision_file.name:
            self._files[decision_file.name] = decision_file
        self._compiled[decision_file.key] = decision_file.compiled
        if decision_file.explained is not None:
            self._compiled[_explained_key(decision_file)] = decision_file.explained.content

    def _historical(self, current: DecisionFile, text: str, recorded_sha256: str) -> DecisionFile:
        supplied_sha256 = sha256_of(text)
        if supplied_sha256 != recorded_sha256:
            raise content_mismatch(current.name, recorded_sha256, supplied_sha256)
        key = f"{current.name}@{supplied_sha256}"
        historical = self._history.get(key)
        if historical is None:
            historical = read_decision_file(current.file_name, text.encode("utf-8"), historical=True)
            self._history[key] = historical
            self._add(historical)
        return historical

    def _run(
        self, decision_file: DecisionFile, inputs: Mapping[str, Any], trace: bool, engine_trace: bool = False
    ) -> Evaluation:
        facts = {name: inputs[name] for name in decision_file.fields if name in inputs}
        for name in decision_file.required:
            if facts.get(name) is None:
                raise input_missing(decision_file.name, name)
        started = time.perf_counter_ns()
        fired: tuple[DecisionRule, ...] = ()
        outputs: dict[str, Any] | None = None
        explained = decision_file.explained
        if trace and not engine_trace and explained is not None:
            result = self._evaluate(decision_file, _explained_key(decision_file), {**facts, SENTINEL: {}}, None)
            answer = explained.read(result["result"])
            if answer is not None:
                outputs, rows = answer
                rules = decision_file.table_rules
                fired = tuple(rules[k][i] for k, i in rows)
        if outputs is None:
            response = self._evaluate(decision_file, decision_file.key, facts, _TRACE if trace else None)
            outputs = response["result"]
            if trace:
                fired = _fired_rules(decision_file, response.get("trace"))
        elapsed_ms = (time.perf_counter_ns() - started) / 1_000_000
        return Evaluation(
            decision=decision_file.name,
            version=decision_file.version,
            content_sha256=decision_file.sha256,
            inputs=facts,
            outputs=outputs,
            fired_rules=fired,
            traced=trace,
            elapsed_ms=elapsed_ms,
            content=decision_file.text,
        )

    def _evaluate(
        self,
        decision_file: DecisionFile,
        key: str,
        facts: dict[str, Any],
        options: zen.DecisionEvaluateOptions | None,
    ) -> zen.EvaluateResponse:
        try:
            return self._engine.evaluate(key, facts, options)
        except RuntimeError as exc:
            raise evaluation_failed(decision_file.name, decision_file.file_name, engine_error_text(exc)) from exc


def _explained_key(decision_file: DecisionFile) -> str:
    return f"{decision_file.key}#explained"


def _fired_rules(decision_file: DecisionFile, trace: Mapping[str, Any] | None) -> tuple[DecisionRule, ...]:
    """The table rules that fired, in the order the engine ran their tables, looked up in the file's rules.
    (A first-hit table traces its one hit as an object, a collect table its hits as a list.)"""
    if not trace:
        return ()
    rules = decision_file.rules
    fired: list[DecisionRule] = []
    for node_id in decision_file.table_nodes:
        node = trace.get(node_id)
        if node is None:
            continue
        data = node["traceData"]
        hits: Iterable[Mapping[str, Any]] = (data,) if type(data) is dict else (data or ())
        for hit in hits:
            rule = rules.get((node_id, hit["rule"]["_id"]))
            if rule is not None:
                fired.append(rule)
    return tuple(fired)


def explain(evaluation: Evaluation) -> list[str]:
    """The rules that fired, one line each, in the words of the decision tables (Chinese / English)."""
    return [
        f"{rule.node_name} · {rule.rule_id} {rule.description}"
        + (f" [{'; '.join(rule.conditions)}]" if rule.conditions else "")
        for rule in evaluation.fired_rules
    ]
