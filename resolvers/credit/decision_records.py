"""Decisions as recorded on applications: stored with the exact file text they ran on (kept once per content
hash), so that each can be explained in words and replayed, years later, to the same result."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.credit.decisions import Evaluation, Replay, explain
from models import DecisionFileVersion, DecisionRecord
from resolvers.credit import applications as apps

_KEPT: set[str] = set()  # content hashes this process knows are stored


async def keep_files(evaluations: Iterable[Evaluation]) -> None:
    """Store the text of each decision file version the evaluations ran on, once."""
    for e in evaluations:
        if e.content_sha256 in _KEPT:
            continue
        await DecisionFileVersion.get_or_create(
            content_sha256=e.content_sha256,
            defaults={"decision": e.decision, "version": e.version, "content": e.content, "first_used_at": apps.now()},
        )
        _KEPT.add(e.content_sha256)


def forget_kept() -> None:
    """Tests empty the tables between tests; the process must not believe a row is still there."""
    _KEPT.clear()


def stored(record: DecisionRecord) -> dict[str, Any]:
    return {
        "decision": record.decision,
        "version": record.version,
        "content_sha256": record.content_sha256,
        "inputs": record.inputs,
        "outputs": record.outputs,
        "fired_rules": record.fired_rules,
    }


async def replay(record: DecisionRecord) -> Replay:
    """Evaluate the record's inputs again on the file text it was decided with."""
    book = apps.decisions()
    content = None
    if book.file(record.decision).sha256 != record.content_sha256:
        kept = await DecisionFileVersion.get_or_none(content_sha256=record.content_sha256)
        content = kept.content if kept else None
    return book.replay(stored(record), content)


async def explanation(record: DecisionRecord) -> list[str]:
    """The rules that fired, in the words of the decision tables."""
    return explain((await replay(record)).evaluation)
