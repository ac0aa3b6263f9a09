"""Text as people and their devices type it: full-width digits from a Chinese input method, invisible
characters pasted from a chat app. The rules here are shared by every field that stores or compares text."""

from __future__ import annotations

import unicodedata

from domain.errors import DomainError, ErrorCode

# Unicode categories nobody means to put in a name or an address: controls (C0, DEL, C1), format characters
# (bidi overrides such as U+202E, zero-width spaces and joiners, the BOM), lone surrogates, private use,
# unassigned code points, and line or paragraph separators.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def ascii_digits(raw: str) -> str:
    """NFKC (full-width ３ and Ｘ become 3 and X), then every remaining decimal digit of any script as its ASCII
    digit, so that one number has one spelling however it was typed."""
    text = unicodedata.normalize("NFKC", raw)
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(c)) if unicodedata.decimal(c, None) is not None else c for c in text)


def first_invisible(text: str) -> str | None:
    """The first control, format or other invisible character in the text, or None."""
    if text.isprintable():  # every invisible category is unprintable: most text is answered here, in C
        return None
    for char in text:
        if unicodedata.category(char) in _INVISIBLE_CATEGORIES:
            return char
    return None


def has_lone_surrogate(text: str) -> bool:
    """True for text that cannot be encoded as UTF-8 (a JSON "\\ud800" escape decodes to such a string)."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def checked_text(raw: str, *, field: str, what_zh: str, what_en: str, max_length: int, required: bool = False) -> str:
    """A free-text field (a reason, a purpose, an investigator's note) as stored: trimmed, with no invisible
    characters, at most `max_length` characters, and not empty when `required`."""
    text = raw.strip()
    char = first_invisible(text)
    if char is not None:
        raise DomainError(
            ErrorCode.INVALID_VALUE,
            f"{what_zh}含有控制字符或不可见字符(U+{ord(char):04X})",
            f"{what_en} contains a control or invisible character (U+{ord(char):04X})",
            field,
        )
    if required and not text:
        raise DomainError(ErrorCode.INVALID_VALUE, f"请填写{what_zh}", f"give the {what_en}", field)
    if len(text) > max_length:
        raise DomainError(
            ErrorCode.VALUE_TOO_LONG,
            f"{what_zh}最多{max_length}个字",
            f"the {what_en} is at most {max_length} characters",
            field,
        )
    return text
