"""The shared text rules: the invisible characters refused in names, addresses and notes."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from domain.text import first_invisible

INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def test_every_invisible_character_is_unprintable() -> None:
    """first_invisible answers printable text at once (str.isprintable, in C): that is right only if no character
    of the refused categories is printable, checked here over every code point."""
    printable = [
        hex(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) in INVISIBLE and chr(c).isprintable()
    ]
    assert printable == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("张庄村三组18号", None),
        ("Zhang San", None),
        ("王\u3000集镇", None),  # an ideographic space is a space, not hidden
        ("张\u200b三", "\u200b"),  # zero-width space
        ("abc\u202edef", "\u202e"),  # right-to-left override
        ("line\nbreak", "\n"),
        ("del\x7f", "\x7f"),
        ("para\u2029", "\u2029"),
        ("private\ue000", "\ue000"),
    ],
)
def test_the_first_invisible_character_is_found(text: str, found: str | None) -> None:
    assert first_invisible(text) == found
