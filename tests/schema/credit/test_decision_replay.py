"""Every decision on an application can be explained and replayed years later: after the risk department has
edited a decision file, the stored evaluation replays on the file text it ran on (kept by its hash) to the same
result; without that text the replay says the file changed, never a wrong answer."""

from __future__ import annotations

import json

import pytest

from domain.credit.decisions import DECISIONS_DIRECTORY, DecisionBook
from models import DecisionFileVersion, DecisionRecord
from resolvers.credit import applications as apps
from tests.credit_flow import credit_world, to_approval
from tests.factories import Api, World

DECISIONS = """query($id: ID!) { creditApplication(id: $id) {
  decisions { decision version contentSha256 explanation replaysIdentically } } }"""


def edited_book() -> DecisionBook:
    """The shipped files with admission edited: a new version whose under-age rule now reads 20."""
    files = {p.name: p.read_bytes() for p in sorted(DECISIONS_DIRECTORY.glob("*.json"))}
    graph = json.loads(files["admission.json"])
    graph["metadata"]["version"] = int(graph["metadata"]["version"]) + 1
    for node in graph["nodes"]:
        for rule in node.get("content", {}).get("rules", []):
            if rule.get("_id") == "A01":
                rule["age"] = "< 20"
    files["admission.json"] = json.dumps(graph, ensure_ascii=False, indent=2).encode("utf-8")
    return DecisionBook(files)


@pytest.fixture
async def decided(api: Api, world: World) -> str:
    await credit_world(world)
    return str((await to_approval(api, world))["id"])


async def test_the_decisions_explain_and_replay_after_the_file_is_edited(
    api: Api, decided: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (await api.as_("head", DECISIONS, {"id": decided}))["data"]["creditApplication"]["decisions"]
    assert [d["decision"] for d in before] == ["admission", "rating", "limit"]
    assert all(d["replaysIdentically"] for d in before)
    book = edited_book()
    monkeypatch.setattr(apps, "decisions", lambda: book)
    assert book.file("admission").sha256 != before[0]["contentSha256"]
    after = (await api.as_("head", DECISIONS, {"id": decided}))["data"]["creditApplication"]["decisions"]
    assert after == before  # replayed on the text it ran on, explained in the same words
    assert any("A07" in line or "C01" in line for line in after[0]["explanation"])


async def test_without_the_recorded_text_the_replay_says_the_file_changed(
    api: Api, decided: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = await DecisionRecord.get(decision="admission")
    await DecisionFileVersion.filter(content_sha256=record.content_sha256).delete()
    book = edited_book()
    monkeypatch.setattr(apps, "decisions", lambda: book)
    body = await api.as_("head", "query($id: ID!) { creditApplication(id: $id) { decisions { replaysIdentically } } }",
                         {"id": decided})  # fmt: skip
    assert body["errors"][0]["extensions"]["code"] == "DECISION_CHANGED"
