"""The credit decisions as the risk department wrote them: each file's golden cases, replay against the exact
content a decision ran on, the typed errors, the loan officer's explanation and the chain of decisions."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from domain.credit.decision_chain import chain
from domain.credit.decisions import DECISIONS_DIRECTORY, DecisionBook, explain
from domain.credit.errors import CreditErrorCode, DecisionError

CHAIN = ("admission", "rating", "limit", "pricing", "guarantor_admission")
DECISIONS = (*CHAIN, "village_screening", "village_limit")


def _cell(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _golden_rows(name: str) -> list[dict[str, str]]:
    with (DECISIONS_DIRECTORY / f"{name}.golden.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


GOLDEN = [(name, row) for name in DECISIONS for row in _golden_rows(name)]


@pytest.fixture(scope="module")
def book() -> DecisionBook:
    return DecisionBook.from_directory()


def _files(**changes: bytes) -> dict[str, bytes]:
    files = {path.name: path.read_bytes() for path in DECISIONS_DIRECTORY.glob("*.json")}
    files.update(changes)
    return files


APPLICATION: dict[str, Any] = {
    "product": "LIUSHUI",
    "age": 40,
    "term_months": 36,
    "on_blacklist": False,
    "current_overdue_amount": 0,
    "overdue_count_24m": 1,
    "max_consecutive_overdue_24m": 1,
    "loan_queries_3m": 2,
    "qr_turnover_months": 8,
    "qr_monthly_turnover_avg": 30000,
    "income_source": "BUSINESS",
    "income_years": 5,
    "total_assets": 800000,
    "total_debts": 200000,
    "avg_deposit_balance_12m": 60000,
    "relationship_years": 6,
    "credit_history_years": 4,
    "household_credit_rating": "GOOD",
    "credit_village": True,
    "verified_annual_income": 150000,
    "existing_debt": 50000,
    "guarantee_type": "GUARANTOR",
    "requested_amount": 300000,
    "lpr_1y": 0.031,
    "uses_e_banking": True,
    "guarantor": {
        "guarantor_grade": "A",
        "guarantees_count": 1,
        "guarantees_amount": 100000,
        "annual_income": 120000,
        "own_debt": 50000,
        "on_blacklist": False,
        "current_overdue_amount": 0,
    },
}


@pytest.mark.parametrize(("name", "row"), GOLDEN, ids=[f"{name}-{row['case']}" for name, row in GOLDEN])
def test_golden_case(book: DecisionBook, name: str, row: dict[str, str]) -> None:
    inputs = {key[3:]: _cell(value) for key, value in row.items() if key.startswith("in.") and value != ""}
    evaluation = book.evaluate(name, inputs)
    for key, expected in row.items():
        if not key.startswith("out."):
            continue
        actual = evaluation.outputs.get(key[4:])  # the engine leaves out an output that is null
        if key == "out.reasons":
            assert "|".join(reason["code"] for reason in actual) == expected
            assert all(reason["text"] for reason in actual)
        else:
            assert actual == _cell(expected), key
    assert "|".join(rule.rule_id for rule in evaluation.fired_rules) == row["rules"]


@pytest.mark.parametrize("name", DECISIONS)
def test_golden_cases_fire_every_rule_of_the_file(book: DecisionBook, name: str) -> None:
    fired = {rule_id for row in _golden_rows(name) for rule_id in row["rules"].split("|")}
    assert fired == {rule_id for _, rule_id in book.file(name).rules}
    assert len(_golden_rows(name)) >= 12


@pytest.mark.parametrize("name", DECISIONS)
def test_an_evaluation_names_its_file_version_and_content_hash(book: DecisionBook, name: str) -> None:
    row = _golden_rows(name)[0]
    inputs = {key[3:]: _cell(value) for key, value in row.items() if key.startswith("in.") and value != ""}
    evaluation = book.evaluate(name, inputs)
    data = (DECISIONS_DIRECTORY / f"{name}.json").read_bytes()
    assert (evaluation.decision, evaluation.version) == (name, json.loads(data)["metadata"]["version"])
    assert evaluation.content_sha256 == hashlib.sha256(data).hexdigest()
    assert evaluation.inputs == inputs
    assert evaluation.elapsed_ms > 0


def test_extra_inputs_are_neither_passed_nor_recorded(book: DecisionBook) -> None:
    evaluation = book.evaluate("pricing", {**APPLICATION, "grade": "A"})
    assert set(evaluation.inputs) == {"product", "grade", "lpr_1y", "avg_deposit_balance_12m", "uses_e_banking"}


def test_replay_gives_the_same_outputs(book: DecisionBook) -> None:
    for evaluation in chain(book, APPLICATION).evaluations:
        stored = json.loads(json.dumps(evaluation.to_dict()))
        replay = book.replay(stored)
        assert replay.matches is True
        assert replay.evaluation.outputs == evaluation.outputs
        assert replay.evaluation.fired_rules == evaluation.fired_rules
        assert replay.evaluation.content_sha256 == evaluation.content_sha256


def test_replay_of_an_untraced_record_compares_its_outputs(book: DecisionBook) -> None:
    stored = json.loads(json.dumps(book.evaluate("rating", APPLICATION, trace=False).to_dict()))
    assert "fired_rules" not in stored
    replay = book.replay(stored)
    assert replay.matches is True
    assert [rule.rule_id for rule in replay.evaluation.fired_rules] == ["I03", "D01", "S02", "H03", "V03", "G03"]


def test_replay_notices_outputs_that_differ_from_the_record(book: DecisionBook) -> None:
    stored = book.evaluate("pricing", {**APPLICATION, "grade": "A"}).to_dict()
    stored["outputs"] = {**stored["outputs"], "annual_rate": 0.05}
    assert book.replay(stored).matches is False


def test_replay_after_the_file_changed_needs_the_recorded_content() -> None:
    old_book = DecisionBook(_files())
    mortgage = {**APPLICATION, "grade": "AAA", "guarantee_type": "MORTGAGE", "requested_amount": 2000000}
    evaluation = old_book.evaluate("limit", mortgage)
    assert (evaluation.outputs["suggested_limit"], evaluation.outputs["binding_constraint"]) == (500000, "PRODUCT_MAX")
    old_text = (DECISIONS_DIRECTORY / "limit.json").read_text(encoding="utf-8")
    graph = json.loads(old_text)
    product_range = next(node for node in graph["nodes"] if node["id"] == "product")
    next(rule for rule in product_range["content"]["rules"] if rule["_id"] == "R03")["max"] = "800000"
    raised = json.dumps(graph, ensure_ascii=False, indent=2) + "\n"
    new_book = DecisionBook(_files(**{"limit.json": raised.encode("utf-8")}))
    assert new_book.evaluate("limit", mortgage).outputs["suggested_limit"] == 625000
    stored = json.loads(json.dumps(evaluation.to_dict()))

    with pytest.raises(DecisionError) as caught:
        new_book.replay(stored)
    assert (caught.value.code, caught.value.decision) == (CreditErrorCode.DECISION_CHANGED, "limit")

    replay = new_book.replay(stored, content=old_text)
    assert (replay.matches, replay.evaluation.content_sha256) == (True, evaluation.content_sha256)
    assert replay.evaluation.outputs["suggested_limit"] == 500000
    carried = json.loads(json.dumps(evaluation.to_dict(include_content=True)))
    assert new_book.replay(carried).matches is True

    with pytest.raises(DecisionError) as caught:
        new_book.replay(stored, content=raised)
    assert caught.value.code == CreditErrorCode.DECISION_CONTENT_MISMATCH


def test_a_file_that_is_not_json_is_refused_with_its_name() -> None:
    with pytest.raises(DecisionError) as caught:
        DecisionBook(_files(**{"broken.json": b'{"nodes": [\n  {"id": "request",'}))
    error = caught.value
    assert (error.code, error.file_name, error.decision) == (
        CreditErrorCode.DECISION_FILE_INVALID,
        "broken.json",
        "broken",
    )
    assert error.message_en == "decision file broken.json is invalid: not JSON (line 2, column 20)"
    assert error.message_zh == "决策文件broken.json无效:JSON格式错误(第2行第20列)"


def _broken(change: str) -> bytes:
    graph = json.loads((DECISIONS_DIRECTORY / "pricing.json").read_text(encoding="utf-8"))
    if change == "edge to nowhere":
        graph["edges"][0]["targetId"] = "nowhere"
    elif change == "cycle":
        graph["edges"].append({"id": "back", "sourceId": "bounds", "targetId": "risk", "type": "edge"})
    elif change == "no output node":
        graph["nodes"] = [node for node in graph["nodes"] if node["type"] != "outputNode"]
        graph["edges"] = [edge for edge in graph["edges"] if edge["targetId"] != "response"]
    elif change == "expression":
        graph["nodes"][5]["content"]["expressions"][1]["value"] = "lpr_1y + (risk_spread"
    elif change == "version":
        del graph["metadata"]["version"]
    elif change == "node type":
        graph["nodes"][1]["type"] = "spreadsheetNode"
    return json.dumps(graph, ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ("edge to nowhere", "an edge points to no node (nowhere)"),
        ("cycle", 'the decision graph is invalid: {"type":"cyclicGraph"}'),
        ("no output node", "needs exactly one outputNode, has 0"),
        ("expression", "node 利率计算 Rate has an expression that does not parse: lpr_1y + (risk_spread"),
        ("version", "metadata.version must be a positive whole number"),
        ("node type", "the decision graph is invalid: Failed to parse JSON"),
    ],
)
def test_a_broken_graph_is_refused_with_the_file_name(change: str, why: str) -> None:
    with pytest.raises(DecisionError) as caught:
        DecisionBook(_files(**{"pricing.json": _broken(change)}))
    assert (caught.value.code, caught.value.file_name) == (CreditErrorCode.DECISION_FILE_INVALID, "pricing.json")
    assert caught.value.message_en.startswith(f"decision file pricing.json is invalid: {why}")


def test_an_unknown_decision_is_refused(book: DecisionBook) -> None:
    with pytest.raises(DecisionError) as caught:
        book.evaluate("collateral", {})
    assert (caught.value.code, caught.value.decision) == (CreditErrorCode.UNKNOWN_DECISION, "collateral")
    assert caught.value.message == "没有名为collateral的决策 / no decision named collateral"
    with pytest.raises(DecisionError) as caught:
        book.replay({"decision": "collateral", "content_sha256": "0" * 64, "inputs": {}, "outputs": {}})
    assert caught.value.code == CreditErrorCode.UNKNOWN_DECISION


@pytest.mark.parametrize("missing", ["age", "on_blacklist"])
def test_a_missing_required_input_is_refused_with_its_field(book: DecisionBook, missing: str) -> None:
    inputs = {key: value for key, value in APPLICATION.items() if key != missing}
    with pytest.raises(DecisionError) as caught:
        book.evaluate("admission", inputs)
    assert (caught.value.code, caught.value.field) == (CreditErrorCode.DECISION_INPUT_MISSING, missing)
    assert caught.value.message_en == f"decision admission is missing the required input {missing}"
    with pytest.raises(DecisionError) as caught:
        book.evaluate("admission", {**APPLICATION, missing: None})
    assert caught.value.field == missing


def test_an_input_of_the_wrong_type_fails_the_evaluation(book: DecisionBook) -> None:
    with pytest.raises(DecisionError) as caught:
        book.evaluate("admission", {**APPLICATION, "age": "forty"})
    error = caught.value
    assert (error.code, error.decision, error.file_name) == (
        CreditErrorCode.DECISION_EVALUATION_FAILED,
        "admission",
        "admission.json",
    )
    assert "Stack backtrace" not in error.message_en
    assert '"nodeId":"request"' in error.message_en


def test_explain_lists_the_rules_that_fired(book: DecisionBook) -> None:
    refused = book.evaluate("admission", {**APPLICATION, "age": 17, "on_blacklist": True, "qr_turnover_months": 3})
    assert explain(refused) == [
        "基本准入 Basic admission · A01 申请时未满18周岁 / applicant under 18 at application "
        "[申请时年龄 Age at application: < 18]",
        "基本准入 Basic admission · A03 在我行黑名单内 / on the bank's blacklist [黑名单 On blacklist: true]",
        "产品准入 Product admission · P01 流水贷：二维码收款流水不足6个月 / "
        "QR-turnover loan: under 6 months of QR turnover "
        '[产品 Product: "LIUSHUI"; 产品条件 Product condition: (qr_turnover_months ?? 0) < 6]',
        "准入结论 Conclusion · C02 存在拒绝原因，不予准入 / refused for the reasons listed",
    ]
    priced = book.evaluate("pricing", {**APPLICATION, "grade": "A"})
    assert explain(priced) == [
        '风险溢价 Risk spread by grade · K03 A级加150个基点 / A: +1.50% [等级 Grade: "A"]',
        '产品加点 Product spread · Q03 流水贷加100个基点 / LIUSHUI: +1.00% [产品 Product: "LIUSHUI"]',
        "关系优惠 Relationship discount · W03 日均存款5万元及以上减15个基点 / ¥50,000 or more: −0.15% "
        "[近12月日均存款 Average deposit (12m): >= 50000]",
        "电子银行优惠 E-banking discount · E01 签约手机银行减5个基点 / uses mobile banking: −0.05% "
        "[签约手机银行 Uses mobile banking: true]",
        "利率上下限 Floor and cap · L03 在上下限之内 / within the floor and the cap",
    ]


def test_rules_are_listed_in_the_order_the_tables_ran_whatever_the_order_in_the_file() -> None:
    graph = json.loads((DECISIONS_DIRECTORY / "pricing.json").read_text(encoding="utf-8"))
    graph["nodes"].reverse()
    shuffled = DecisionBook(_files(**{"pricing.json": json.dumps(graph, ensure_ascii=False).encode("utf-8")}))
    evaluation = shuffled.evaluate("pricing", {**APPLICATION, "grade": "A"})
    assert [rule.rule_id for rule in evaluation.fired_rules] == ["K03", "Q03", "W03", "E01", "L03"]


def test_without_trace_the_outputs_are_the_same_and_no_rules_are_listed(book: DecisionBook) -> None:
    traced = book.evaluate("rating", APPLICATION)
    untraced = book.evaluate("rating", APPLICATION, trace=False)
    assert untraced.outputs == traced.outputs
    assert (untraced.fired_rules, explain(untraced)) == ((), [])


def test_the_chain_feeds_each_answer_forward(book: DecisionBook) -> None:
    """A 40-year-old shopkeeper asks for ¥300,000 of 流水贷 over three years, guaranteed by a grade-A neighbour.

    Rating: own business 5 years 20 + debts 25% of assets 20 + ¥60,000 average deposits 11 + overdue once 10 +
    good household in a credit village 11 = 72 → A. Limit: ¥150,000 × 2 (A) × 1.2 (guaranteed) − ¥50,000 debts
    = ¥310,000 of capacity; the ¥300,000 applied for is lower, so it binds. Price: LPR 3.10% + 1.50% (A) +
    1.00% (流水贷) − 0.15% (deposits) − 0.05% (mobile banking) = 5.40%. The guarantor then guarantees the
    ¥300,000: with ¥100,000 already guaranteed and ¥50,000 of own debts, ¥450,000 is 3.75 × the ¥120,000
    income, within the limit of 5."""
    result = chain(book, APPLICATION)
    assert [evaluation.decision for evaluation in result.evaluations] == list(CHAIN)
    assert result.admission.outputs == {"admitted": True, "reasons": [], "age_at_maturity": 43}
    assert result.rating is not None
    assert result.limit is not None
    assert result.pricing is not None
    assert result.guarantor_admission is not None
    assert result.rating.outputs == {
        "grade": "A",
        "score": 72,
        "income_points": 20,
        "asset_points": 20,
        "deposit_points": 11,
        "credit_points": 10,
        "grid_points": 11,
    }
    assert result.limit.inputs["grade"] == "A"
    assert result.limit.outputs == {
        "suggested_limit": 300000,
        "binding_constraint": "REQUESTED",
        "income_capacity": 310000,
        "income_multiple": 2,
        "guarantee_factor": 1.2,
    }
    assert result.pricing.inputs["grade"] == "A"
    assert (result.pricing.outputs["annual_rate"], result.pricing.outputs["rate_bound"]) == (0.054, "NONE")
    assert result.guarantor_admission.inputs["new_guarantee_amount"] == 300000
    assert result.guarantor_admission.outputs == {
        "admitted": True,
        "reasons": [],
        "total_guarantees": 400000,
        "total_exposure": 450000,
        "exposure_ratio": 3.75,
    }


def test_the_chain_stops_at_a_refusal_and_skips_an_absent_guarantor(book: DecisionBook) -> None:
    refused = chain(book, {**APPLICATION, "current_overdue_amount": 1200})
    assert [evaluation.decision for evaluation in refused.evaluations] == ["admission"]
    assert refused.admission.outputs["reasons"] == [{"code": "CURRENT_OVERDUE", "text": "申请人当前存在逾期未还款项"}]
    unguaranteed = {key: value for key, value in APPLICATION.items() if key != "guarantor"}
    alone = chain(book, {**unguaranteed, "guarantee_type": "CREDIT"})
    assert [evaluation.decision for evaluation in alone.evaluations] == ["admission", "rating", "limit", "pricing"]
    assert alone.limit is not None
    assert (alone.limit.outputs["suggested_limit"], alone.limit.outputs["binding_constraint"]) == (250000, "INCOME")


def test_the_shipped_directory_holds_exactly_the_seven_decisions(book: DecisionBook) -> None:
    assert sorted(book.names) == sorted(DECISIONS)
    assert {path.name for path in Path(DECISIONS_DIRECTORY).glob("*.golden.csv")} == {
        f"{n}.golden.csv" for n in DECISIONS
    }
