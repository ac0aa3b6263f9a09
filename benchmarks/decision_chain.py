"""The credit factory's decision chain per second on one core: admission → rating → limit → pricing (→ guarantor
admission) through zen-engine's precompiled path, against creating each decision from its JSON on every call.

Applications: 1,000 made up from a fixed seed and cycled — the nine products of the catalogue, each with one of its
guarantee types and an amount in its range, mostly admissible, about a quarter with a guarantor — so a chain runs
five, four or (when refused) one evaluation. The process is pinned to one CPU.

  ours      domain.credit.decision_chain.chain on a DecisionBook: the engine's loader hands back the compiled
            content (zen.ZenDecisionContent) and engine.evaluate runs it, every Evaluation built with its fired
            rules, read off the files' explained form (domain.credit.decision_explain); also with the fired rules
            from the engine's trace (as before the explained form), and untraced (outputs only)
  baseline  the same chain, facts and trace, each evaluation through engine.create_decision(json_text).evaluate
            — parsing and compiling the graph every time. Run over fewer chains (--baseline-chains, default
            N/20): its rate does not depend on how many

Before the chains, one decision (pricing) through each call the Python binding offers, to show which is fastest:
evaluate through the loader (synchronous), async_evaluate awaited one at a time, evaluate_batch, and a decision
object from create_decision; and the binding's cost per call for a graph that does nothing (input to output).
Then each decision alone, untraced, on the facts the chains give it: the engine's own time per evaluation and per
graph node, and a chain's time inside the engine alone — the most chains per second any wrapper could reach.
Prints chains/s, p50/p99 per chain, the ratio ours ÷ baseline, and ends with one JSON line.
Target: at least 20,000 chains/s and p99 under 1 ms on one core.

    python benchmarks/decision_chain.py            # 100,000 chains
    python benchmarks/decision_chain.py --small    # 5,000 chains
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import zen

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.credit.catalogue import load_catalogue
from domain.credit.decision_chain import chain
from domain.credit.decision_explain import SENTINEL
from domain.credit.decisions import DecisionBook
from domain.credit.enums import GuaranteeType

SEED = 20261202
PROFILES = 1_000
TRACE: zen.DecisionEvaluateOptions = {"trace": True}


def make_applications(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    products = load_catalogue().on_sale(date(2024, 1, 1))
    applications = []
    for _ in range(count):
        product = rng.choice(products)
        guarantee_type = rng.choice(product.guarantee_types)
        guaranteed = guarantee_type == GuaranteeType.GUARANTOR
        # the code the product file gives its admission decision
        code = next(
            ref.inputs["product"] for stage in product.stages for ref in stage.decisions if ref.name == "admission"
        )
        application: dict[str, Any] = {
            "product": code,
            "age": rng.randint(22, 60),
            "term_months": rng.choice([12, 24, 36]),
            "on_blacklist": rng.random() < 0.02,
            "current_overdue_amount": 0 if rng.random() < 0.97 else rng.randint(100, 5000),
            "overdue_count_24m": rng.choice([0, 0, 0, 0, 1, 2, 3]),
            "max_consecutive_overdue_24m": rng.choice([0, 0, 0, 1, 1, 2]),
            "loan_queries_3m": rng.randint(0, 5),
            "qr_turnover_months": rng.randint(4, 36),
            "qr_monthly_turnover_avg": rng.randint(3000, 80000),
            "car_loan_on_time_months": rng.randint(10, 60),
            "social_security_months": rng.randint(10, 120),
            "ecommerce_shop_months": rng.randint(6, 60),
            "ecommerce_monthly_sales_avg": rng.randint(10, 200) * 1000,
            "income_source": rng.choice(["SALARIED", "BUSINESS", "FARMING", "OTHER"]),
            "income_years": rng.randint(0, 20),
            "total_assets": rng.randint(50, 3000) * 1000,
            "total_debts": rng.randint(0, 800) * 1000,
            "avg_deposit_balance_12m": rng.randint(0, 600) * 1000,
            "relationship_years": rng.randint(0, 20),
            "credit_history_years": rng.randint(0, 15),
            "household_credit_rating": rng.choice(["EXCELLENT", "GOOD", "ORDINARY", "NONE"]),
            "credit_village": rng.random() < 0.4,
            "verified_annual_income": rng.randint(30, 400) * 1000,
            "existing_debt": rng.randint(0, 200) * 1000,
            "guarantee_type": guarantee_type.value,
            "requested_amount": rng.randint(product.amount.min // 1000, product.amount.max // 1000) * 1000,
            "collateral_value": rng.randint(product.amount.min // 1000, 2 * product.amount.max // 1000) * 1000,
            "lpr_1y": 0.031,
            "uses_e_banking": rng.random() < 0.7,
        }
        if guaranteed:
            application["guarantor"] = {
                "guarantor_grade": rng.choice(["AAA", "AA", "A", "A", "B"]),
                "guarantees_count": rng.randint(0, 3),
                "guarantees_amount": rng.randint(0, 300) * 1000,
                "annual_income": rng.randint(40, 300) * 1000,
                "own_debt": rng.randint(0, 200) * 1000,
                "on_blacklist": False,
                "current_overdue_amount": 0,
            }
        applications.append(application)
    return applications


def baseline_chain(engine: zen.ZenEngine, book: DecisionBook, application: Mapping[str, Any]) -> int:
    """The same chain with every decision created from its JSON text for the call. Returns the evaluations run."""

    def run(name: str, facts: Mapping[str, Any]) -> dict[str, Any]:
        decision_file = book.file(name)
        picked = {key: facts[key] for key in decision_file.fields if key in facts}
        result: dict[str, Any] = engine.create_decision(decision_file.text).evaluate(picked, TRACE)["result"]
        return result

    if not run("admission", application)["admitted"]:
        return 1
    graded = {**application, "grade": run("rating", application)["grade"]}
    limit = run("limit", graded)
    run("pricing", graded)
    guarantor = application.get("guarantor")
    if guarantor is None:
        return 4
    run("guarantor_admission", {**guarantor, "new_guarantee_amount": limit["suggested_limit"]})
    return 5


def timed(chains: int, applications: list[dict[str, Any]], one: Callable[[dict[str, Any]], object]) -> dict[str, float]:
    for application in applications[:500]:
        one(application)
    samples = []
    started = time.perf_counter()
    for i in range(chains):
        t0 = time.perf_counter_ns()
        one(applications[i % len(applications)])
        samples.append(time.perf_counter_ns() - t0)
    wall = time.perf_counter() - started
    samples.sort()
    return {
        "chains_per_s": chains / wall,
        "p50_ms": samples[len(samples) // 2] / 1e6,
        "p99_ms": samples[min(len(samples) - 1, int(len(samples) * 0.99))] / 1e6,
    }


def call_styles(book: DecisionBook, calls: int) -> dict[str, float]:
    """Microseconds per pricing evaluation for each way the binding offers to run it."""
    facts = {
        "product": "LIUSHUI",
        "grade": "A",
        "lpr_1y": 0.031,
        "avg_deposit_balance_12m": 60000,
        "uses_e_banking": True,
    }
    pricing = book.file("pricing")
    passthrough = {
        "nodes": [
            {"id": "in", "type": "inputNode", "name": "in", "position": {"x": 0, "y": 0}, "content": {"schema": ""}},
            {"id": "out", "type": "outputNode", "name": "out", "position": {"x": 1, "y": 0}, "content": {"schema": ""}},
        ],
        "edges": [{"id": "e", "sourceId": "in", "targetId": "out", "type": "edge"}],
    }
    compiled = {pricing.name: pricing.compiled, "passthrough": zen.ZenDecisionContent(json.dumps(passthrough))}
    loader_engine = zen.ZenEngine({"loader": compiled.__getitem__})
    decision = loader_engine.create_decision(pricing.compiled)
    pair: list[zen.EvaluateBatchRequest] = [{"key": "pricing", "context": facts}] * 2

    def per_call(fn: Callable[[], object], n: int, per: int = 1) -> float:
        for _ in range(min(n, 200)):
            fn()
        started = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - started) / (n * per) * 1e6

    async def awaited(n: int) -> float:
        for _ in range(min(n, 200)):
            await loader_engine.async_evaluate("pricing", facts, TRACE)
        started = time.perf_counter()
        for _ in range(n):
            await loader_engine.async_evaluate("pricing", facts, TRACE)
        return (time.perf_counter() - started) / n * 1e6

    return {
        "engine.evaluate, loader returns compiled content": per_call(
            lambda: loader_engine.evaluate("pricing", facts, TRACE), calls
        ),
        "engine.async_evaluate, awaited one at a time": asyncio.run(awaited(calls)),
        "engine.evaluate_batch of 2, per evaluation": per_call(
            lambda: loader_engine.evaluate_batch(pair, TRACE), calls // 2, per=2
        ),
        "create_decision(compiled) once, decision.evaluate": per_call(
            lambda: decision.evaluate(facts, TRACE), calls // 5
        ),
        "create_decision(json text) on every call": per_call(
            lambda: loader_engine.create_decision(pricing.text).evaluate(facts, TRACE), calls // 5
        ),
        "DecisionBook.evaluate (fired rules from the explained form)": per_call(
            lambda: book.evaluate("pricing", facts), calls
        ),
        "DecisionBook.evaluate (fired rules from the engine's trace)": per_call(
            lambda: book.evaluate("pricing", facts, engine_trace=True), calls
        ),
        "DecisionBook.evaluate, untraced": per_call(lambda: book.evaluate("pricing", facts, trace=False), calls),
        "floor: an input node wired to the output, untraced": per_call(
            lambda: loader_engine.evaluate("passthrough", facts), calls
        ),
        # where a traced call's time goes: the engine's own figure leaves out handing the answer (and the trace,
        # every node's input and output) back as Python objects
        "  of which inside the engine (its performance figure), traced": inside_engine(
            lambda: loader_engine.evaluate("pricing", facts, TRACE), calls
        ),
        "  of which inside the engine (its performance figure), untraced": inside_engine(
            lambda: loader_engine.evaluate("pricing", facts), calls
        ),
    }


_UNITS = {"ns": 1e-3, "µs": 1.0, "ms": 1e3, "s": 1e6}


def engine_floor(book: DecisionBook, applications: list[dict[str, Any]], rounds: int) -> dict[str, Any]:
    """Each decision on the facts the chains give it, untraced: the engine's own median time per evaluation and
    per graph node, and what a chain costs inside the engine alone (each decision weighted by how often the
    chains run it). No chain can run faster than that, whatever the binding and our code around it cost. The
    same for each file's explained form (decision_explain), and the wall time of one engine.evaluate call of
    it from Python: what a chain costs with its rules found, before our code around the call."""
    facts: dict[str, list[dict[str, Any]]] = {}
    for application in applications:
        for evaluation in chain(book, application, trace=False).evaluations:
            facts.setdefault(evaluation.decision, []).append(dict(evaluation.inputs))
    contents: dict[str, zen.ZenDecisionContent] = {}
    for name in facts:
        decision_file = book.file(name)
        contents[name] = decision_file.compiled
        if decision_file.explained is not None:
            contents[f"{name}#explained"] = decision_file.explained.content
    engine = zen.ZenEngine({"loader": contents.__getitem__})
    per_decision: dict[str, dict[str, float]] = {}
    chain_us = explained_chain_us = explained_call_chain_us = 0.0
    for name, inputs in facts.items():
        nodes = len(json.loads(book.file(name).text)["nodes"])
        micros = [_micros(engine.evaluate(name, f)["performance"]) for _ in range(rounds) for f in inputs]
        median = statistics.median(micros)
        explained_inputs = [{**f, SENTINEL: {}} for f in inputs]
        key = f"{name}#explained"
        explained = statistics.median(
            _micros(engine.evaluate(key, f)["performance"]) for _ in range(rounds) for f in explained_inputs
        )
        started = time.perf_counter()
        for _ in range(rounds):
            for f in explained_inputs:
                engine.evaluate(key, f)
        call = (time.perf_counter() - started) / (rounds * len(inputs)) * 1e6
        per_decision[name] = {
            "nodes": nodes,
            "us": median,
            "us_per_node": median / nodes,
            "explained_us": explained,
            "explained_call_us": call,
        }
        share = len(inputs) / len(applications)
        chain_us += median * share
        explained_chain_us += explained * share
        explained_call_chain_us += call * share
    return {
        "per_decision": per_decision,
        "chain_us": chain_us,
        "explained_chain_us": explained_chain_us,
        "explained_call_chain_us": explained_call_chain_us,
    }


def _micros(performance: str) -> float:
    unit = next(u for u in ("ns", "µs", "ms", "s") if performance.endswith(u))
    return float(performance[: -len(unit)]) * _UNITS[unit]


def inside_engine(fn: Callable[[], zen.EvaluateResponse], n: int) -> float:
    """The median of the engine's own `performance` figure (e.g. "14.9µs") over n calls, in µs."""
    return statistics.median(_micros(fn()["performance"]) for _ in range(n))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="5,000 chains instead of 100,000")
    parser.add_argument("--chains", type=int, default=None, help="how many chains (overrides --small)")
    parser.add_argument("--baseline-chains", type=int, default=None, help="chains for the baseline (default N/20)")
    args = parser.parse_args()
    chains = args.chains or (5_000 if args.small else 100_000)
    baseline_chains = args.baseline_chains or max(chains // 20, 500)

    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    started = time.perf_counter()
    book = DecisionBook.from_directory()
    print(
        f"pinned to CPU {cpu}; {len(book.names)} decisions read and compiled in {time.perf_counter() - started:.3f} s"
    )
    applications = make_applications(PROFILES, SEED)
    steps = [len(chain(book, application).evaluations) for application in applications]
    print(f"{PROFILES} applications, {statistics.mean(steps):.2f} evaluations per chain on average")

    print("one pricing evaluation (8 nodes), traced unless said, µs per call:")
    styles = call_styles(book, 2_000 if args.small else 10_000)
    for label, micros in styles.items():
        print(f"  {label:<64} {micros:8.1f}")

    floor = engine_floor(book, applications, 2 if args.small else 10)
    print("inside the engine, untraced, on the chains' own facts (the engine's performance figure, median):")
    for name, figure in floor["per_decision"].items():
        print(
            f"  {name:<22} {figure['nodes']:>3} nodes {figure['us']:7.1f} µs  {figure['us_per_node']:5.2f} µs a node"
            f"   explained {figure['explained_us']:5.1f} µs, {figure['explained_call_us']:5.1f} µs a call from Python"
        )
    bound = 1e6 / floor["chain_us"]
    print(f"  one chain inside the engine alone: {floor['chain_us']:.1f} µs, at most {bound:,.0f} chains/s on one core")
    calls_bound = 1e6 / floor["explained_call_chain_us"]
    print(
        f"  explained: {floor['explained_chain_us']:.1f} µs inside the engine, "
        f"{floor['explained_call_chain_us']:.1f} µs in engine.evaluate calls from Python "
        f"(at most {calls_bound:,.0f} chains/s)"
    )

    ours = timed(chains, applications, lambda application: chain(book, application))
    by_trace = timed(chains, applications, lambda application: chain(book, application, engine_trace=True))
    untraced = timed(chains, applications, lambda application: chain(book, application, trace=False))
    engine = zen.ZenEngine()
    baseline = timed(baseline_chains, applications, lambda application: baseline_chain(engine, book, application))
    ratio = ours["chains_per_s"] / baseline["chains_per_s"]
    for label, figures, count in (
        ("ours (precompiled, explained)", ours, chains),
        ("ours (precompiled, engine trace)", by_trace, chains),
        ("ours (precompiled, untraced)", untraced, chains),
        ("baseline (create_decision per call)", baseline, baseline_chains),
    ):
        print(
            f"{label:<38} {count:>7} chains {figures['chains_per_s']:>9,.0f} chains/s  "
            f"p50 {figures['p50_ms']:.3f} ms  p99 {figures['p99_ms']:.3f} ms"
        )
    print(f"ratio ours ÷ baseline: {ratio:.1f}×  (target: ≥ 20,000 chains/s and p99 < 1 ms on one core)")
    print(
        json.dumps(
            {
                "benchmark": "decision_chain",
                "chains": chains,
                "chains_per_s": round(ours["chains_per_s"], 1),
                "p50_ms": round(ours["p50_ms"], 4),
                "p99_ms": round(ours["p99_ms"], 4),
                "engine_trace_chains_per_s": round(by_trace["chains_per_s"], 1),
                "engine_trace_p99_ms": round(by_trace["p99_ms"], 4),
                "untraced_chains_per_s": round(untraced["chains_per_s"], 1),
                "untraced_p99_ms": round(untraced["p99_ms"], 4),
                "baseline_chains": baseline_chains,
                "baseline_chains_per_s": round(baseline["chains_per_s"], 1),
                "ratio": round(ratio, 2),
                "pricing_traced_us": round(styles["engine.evaluate, loader returns compiled content"], 1),
                "pricing_inside_engine_traced_us": round(
                    styles["  of which inside the engine (its performance figure), traced"], 1
                ),
                "pricing_inside_engine_untraced_us": round(
                    styles["  of which inside the engine (its performance figure), untraced"], 1
                ),
                "engine_chain_us": round(floor["chain_us"], 1),
                "engine_bound_chains_per_s": round(bound, 1),
                "engine_explained_chain_us": round(floor["explained_chain_us"], 1),
                "explained_calls_chain_us": round(floor["explained_call_chain_us"], 1),
            }
        )
    )


if __name__ == "__main__":
    main()
