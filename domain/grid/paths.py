"""Materialized grid paths ("/1/7/42/": the ids from the root down to the node) and the questions asked of
them: is a node inside a subtree, on the breadcrumb above one, which nodes lie above it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def path_ids(path: str) -> list[int]:
    """/1/7/42/ → [1, 7, 42]."""
    return [int(p) for p in path.split("/") if p]


def ancestor_paths(path: str) -> list[str]:
    """/1/7/42/ → ['/1/', '/1/7/']."""
    ids = [p for p in path.split("/") if p]
    return ["/" + "/".join(ids[:i]) + "/" for i in range(1, len(ids))]


def inside(path: str, subtrees: Iterable[str]) -> bool:
    """True when the node at `path` is one of the subtrees' roots or below one."""
    return any(path.startswith(p) for p in subtrees)


def on_breadcrumb(path: str, subtrees: Iterable[str]) -> bool:
    """True when the node at `path` is one of the subtrees' roots or above one."""
    return any(p.startswith(path) for p in subtrees)


def covering_paths(paths: Sequence[str]) -> list[str]:
    """The fewest paths whose subtrees hold all the given ones: ['/1/', '/1/7/', '/2/'] → ['/1/', '/2/']."""
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not kept or not path.startswith(kept[-1]):
            kept.append(path)
    return kept
