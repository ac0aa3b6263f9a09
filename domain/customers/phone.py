"""Mainland China mobile numbers (11 digits, 1[3-9]x)."""

from __future__ import annotations

import re

from domain.customers.errors import CustomerErrorCode
from domain.errors import DomainError
from domain.text import ascii_digits

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_SEPARATORS = re.compile(r"[\s\-()]")


def _canonical_phone(raw: str) -> str:
    """A phone number as typed, in its one spelling: full-width or other non-ASCII digits as ASCII digits,
    spaces, dashes and brackets dropped, a +86/0086 prefix removed. Not checked: a search compares with it."""
    phone = _SEPARATORS.sub("", ascii_digits(raw or ""))
    for prefix in ("+86", "0086"):
        if phone.startswith(prefix):
            return phone[len(prefix) :]
    return phone


def normalize_phone(raw: str, *, field: str = "phone") -> str:
    """The canonical phone number, which must be an 11-digit mobile number."""
    phone = _canonical_phone(raw)
    if not _MOBILE.fullmatch(phone):
        raise DomainError(
            CustomerErrorCode.INVALID_PHONE,
            "手机号码无效:应为以1开头的11位号码",
            "invalid phone: must be an 11-digit mobile number starting with 1",
            field,
        )
    return phone
