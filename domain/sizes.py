"""Sizes for people to read."""

from __future__ import annotations


def size_text(size: int) -> str:
    """A size in bytes as people write it: 50 MB, 512 KB."""
    return f"{size / 1024 / 1024:g} MB" if size >= 1024 * 1024 else f"{size / 1024:g} KB"
